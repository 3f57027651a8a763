// The rooms of main/, floor by floor from the ground up: the one table that eslint.config.js turns
// into no-restricted-imports rules, test/layering.test.ts checks case by case and against the real
// imports, and docs/architecture.md describes.
//
// The rule: a room may import app/ and the rooms on the floors below its own. It never imports
// another room on its own floor, nor anything on a floor above. Tests (*.test.ts) are not bound
// by it: an integration test of transfer/ may drive the CLI end to end.

/** @type {ReadonlyArray<import('./rooms.js').Floor>} */
export const FLOORS = [
  {
    name: 'tools',
    why: 'file and process helpers and the log, which every room may use and which know no other room',
    rooms: {
      fs: 'atomic writes, cross-process file locks, is-this-process-alive',
      log: 'the structured, redacting log file',
    },
  },
  {
    name: 'values',
    why: 'the settings and the secrets, as typed values and the local stores that keep them',
    rooms: {
      config: 'config.json (folders, keys, settings) and where the app keeps its files',
      secrets: 'secret values (SSE-C keys, credentials), the keychain, the secret stores, recovery kits',
    },
  },
  {
    name: 'stores',
    why: 'the two places state lives: the bucket and the local journal',
    rooms: {
      remote: 'the RemoteStore port, the S3/COS client and dialects, error classes and request retries',
      journal: 'the SQLite journal: uploads, the three trees of each sync folder, rotations',
    },
  },
  {
    name: 'transfer',
    why: 'moving bytes between files and objects, journaled so a restart resumes',
    rooms: {
      transfer: 'uploads (single and multipart), downloads, server-side copies, backup, restore, bandwidth',
    },
  },
  {
    name: 'use cases',
    why: 'what users ask for, built from transfers, the journal and the stores',
    rooms: {
      sync: 'watching, scanning, planning and running each sync folder; the status tracker',
      keys: 'key admin (generate, import, export a kit), key rotation, key verification, recorded fingerprints',
    },
  },
  {
    name: 'engine',
    why: 'the composition root: builds the store, the pool and the tracker once for every front end',
    rooms: {
      engine: 'openEngine() and what it wires together, the per-run session, the engine lock',
    },
  },
  {
    name: 'daemon',
    why: 'the running engine behind the contract: use cases as jobs, the HTTP/WebSocket bridge',
    rooms: {
      daemon: 'the daemon, its API handlers and folder admin',
    },
  },
  {
    name: 'front ends',
    why: 'the two ways a person drives cosync; neither knows the other',
    rooms: {
      cli: 'the command line: commands, help, completion, output',
      electron: 'the desktop shell: windows, tray, preload, IPC (the only room that imports electron)',
    },
  },
];

/** Every room, from the ground floor up. */
export const ROOMS = FLOORS.flatMap((floor) => Object.keys(floor.rooms));

/** The floor a room is on (its index in FLOORS), or undefined for a folder that is not a room. */
export function floorOf(room) {
  const index = FLOORS.findIndex((floor) => Object.hasOwn(floor.rooms, room));
  return index === -1 ? undefined : index;
}

/** The rooms a room may import: every room on a lower floor. */
export function roomsBelow(room) {
  const floor = floorOf(room);
  if (floor === undefined) throw new Error(`main/${room}/ is not a room: add it to FLOORS in main/rooms.js`);
  return FLOORS.slice(0, floor).flatMap((below) => Object.keys(below.rooms));
}

/** The rooms a room must not import: the others on its floor and every room above. */
export function roomsNotBelow(room) {
  const floor = floorOf(room);
  if (floor === undefined) throw new Error(`main/${room}/ is not a room: add it to FLOORS in main/rooms.js`);
  return FLOORS.slice(floor).flatMap((level) => Object.keys(level.rooms)).filter((other) => other !== room);
}
