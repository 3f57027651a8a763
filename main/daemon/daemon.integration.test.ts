/**
 * The Daemon (the engine both windows drive) against RGW: folders added and removed while it
 * runs — a removed folder stops at once, nothing queued for it runs afterwards and its journal
 * rows stay gone — one engine per config, and a browser drop staged, backed up and cleaned away.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { EngineEvent } from '../../app/contract.js';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, listKeys, readObject, requireServices, uniqueName, type Services } from '../../test/support/services.js';
import { untilEvent } from '../../test/support/wait.js';
import { Session } from '../engine/session.js';
import { exportRecoveryKit, generateKey } from '../keys/key-admin.js';
import { readKit } from '../secrets/recovery-kit.js';
import { Daemon } from './daemon.js';

const work = useWorkDir('daemon');
let services: Services;
let bucket: string;
const running: Daemon[] = [];

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-daemon');
});

afterEach(async () => {
  for (const daemon of running.splice(0)) await daemon.stop(0);
});

function sessionFor(configDir: string): Session {
  const sink = { write: () => true };
  return new Session({
    io: {
      stdout: sink,
      stderr: sink,
      stdin: process.stdin,
      env: { ...process.env, COSYNC_CONFIG_DIR: configDir, COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey },
    },
  });
}

async function openDaemon(configDir: string): Promise<Daemon> {
  const daemon = await Daemon.open(sessionFor(configDir), { kind: 'serve', version: 'test', partConcurrency: 2, stabilityMs: 100 });
  running.push(daemon);
  return daemon;
}

/** Resolves once `condition` holds, checked after every event of the daemon. */
const untilDaemon = (daemon: Daemon, condition: () => boolean): Promise<void> => untilEvent((listener) => daemon.subscribe(listener), condition);
const jobState = (daemon: Daemon, id: string) => daemon.jobs().find((candidate) => candidate.id === id)?.state;
/** Synced files of a folder (0 while the folder is not in the engine, as during a key rotation). */
function synced(daemon: Daemon, folderId: string, path?: string): number {
  if (!daemon.overview().folders.some((candidate) => candidate.id === folderId)) return 0;
  return daemon.files(folderId).filter((file) => file.status.state === 'synced' && (path === undefined || file.path === path)).length;
}

const location = (prefix: string) => ({ endpoint: services.httpsEndpoint, region: undefined, bucket, prefix, pathStyle: true, account: undefined });

it('removing a folder while it uploads stops it: nothing queued runs afterwards, and its journal rows stay gone', async () => {
  const configDir = join(work(), 'config-remove');
  const root = join(work(), 'many');
  await mkdir(root, { recursive: true });
  for (let index = 0; index < 400; index++) await writeFile(join(root, `f${index}.txt`), `file ${index}\n`);
  const daemon = await openDaemon(configDir);
  await daemon.start();
  // Slow enough that the removal lands in the middle.
  await daemon.setBandwidth(4096);
  const events: EngineEvent[] = [];
  const stop = daemon.subscribe((event) => events.push(event));
  const folder = await daemon.addFolder({ ...location('many/'), localPath: root, sse: 'none', keyName: undefined, kmsKeyId: undefined, policy: 'keep' });
  await untilDaemon(daemon, () => synced(daemon, folder.id) > 0);
  await daemon.removeFolder(folder.id);
  const afterRemoval = (await listKeys(services, bucket, 'many/')).length;
  expect(afterRemoval).toBeGreaterThan(0);
  expect(afterRemoval).toBeLessThan(400);
  await daemon.setBandwidth(null);
  // A barrier instead of a pause: another folder's file goes through the same file queue, behind
  // anything the removed folder had queued; once it is synced, that work had its chance to run.
  const later = join(work(), 'after-removal');
  await mkdir(later, { recursive: true });
  await writeFile(join(later, 'barrier.txt'), 'barrier\n');
  const other = await daemon.addFolder({ ...location('after-removal/'), localPath: later, sse: 'none', keyName: undefined, kmsKeyId: undefined, policy: 'keep' });
  await untilDaemon(daemon, () => synced(daemon, other.id, 'barrier.txt') === 1);
  expect((await listKeys(services, bucket, 'many/')).length).toBe(afterRemoval);
  expect(daemon.journal.loadSyncFolder(folder.id).local.size).toBe(0);
  expect(daemon.overview().folders.map((candidate) => candidate.id)).toEqual([other.id]);
  expect(() => daemon.files(folder.id)).toThrow(/no folder with id/);
  stop();
  expect(events.some((event) => event.type === 'status')).toBe(true);
});

it('one engine per config: a second one refuses, naming the first', async () => {
  const configDir = join(work(), 'config-lock');
  const first = await openDaemon(configDir);
  await first.advertise('http://127.0.0.1:1234/?token=secret-token', 'secret-token');
  await expect(openDaemon(configDir)).rejects.toThrow(new RegExp(`\`cosync serve\` is already syncing these folders \\(pid ${process.pid}, http://127\\.0\\.0\\.1:1234/\\)`));
  // Another config is another engine.
  await expect(openDaemon(join(work(), 'config-other'))).resolves.toBeDefined();
});

it('a browser drop is staged, backed up with the folder key, and its staged copy removed', async () => {
  const configDir = join(work(), 'config-drop');
  const root = join(work(), 'dropfolder');
  await mkdir(root, { recursive: true });
  const daemon = await openDaemon(configDir);
  await daemon.start();
  const folder = await daemon.addFolder({ ...location('dropfolder/'), localPath: root, sse: 'none', keyName: undefined, kmsKeyId: undefined, policy: 'keep' });
  const drop = await daemon.newDropFolder();
  await writeFile(join(drop, 'dropped.bin'), randomBytes(1000));
  expect(daemon.isStaged(join(drop, 'dropped.bin'))).toBe(true);
  expect(daemon.isStaged(join(work(), 'elsewhere.bin'))).toBe(false);
  expect(daemon.dropFolder('../../etc')).toBeUndefined();
  await expect(daemon.backup(folder.id, [join(drop, 'dropped.bin')], 'dropfolder/')).rejects.toThrow(/overlaps sync folder/);
  const job = await daemon.backup(folder.id, [join(drop, 'dropped.bin')], 'drops/');
  await untilDaemon(daemon, () => jobState(daemon, job.id) !== 'running');
  expect(daemon.jobs().find((candidate) => candidate.id === job.id)).toMatchObject({ state: 'finished', filesDone: 1, bytesDone: 1000 });
  expect(await listKeys(services, bucket, 'drops/')).toEqual(['drops/dropped.bin']);
  expect(await readdir(daemon.stagingDir)).toEqual([]);
});

it('transfer settings from the window are applied at once and kept for the next start; command-line flags win', async () => {
  const configDir = join(work(), 'config-settings');
  const first = await openDaemon(configDir);
  expect(first.overview()).toMatchObject({ bandwidthLimit: null, concurrency: { parts: 2 } });
  await first.setConcurrency({ files: 3, parts: 5 });
  await first.setBandwidth(2 * 1024 * 1024);
  expect(first.overview()).toMatchObject({ bandwidthLimit: 2 * 1024 * 1024, concurrency: { files: 3, parts: 5 } });
  await first.stop(0);
  running.splice(running.indexOf(first), 1);
  const again = await Daemon.open(sessionFor(configDir), { kind: 'serve', version: 'test' });
  running.push(again);
  expect(again.overview()).toMatchObject({ bandwidthLimit: 2 * 1024 * 1024, concurrency: { files: 3, parts: 5 } });
  await again.stop(0);
  running.splice(running.indexOf(again), 1);
  const flagged = await Daemon.open(sessionFor(configDir), { kind: 'serve', version: 'test', partConcurrency: 12, bandwidthBytesPerSecond: 1024 * 1024 });
  running.push(flagged);
  expect(flagged.overview()).toMatchObject({ bandwidthLimit: 1024 * 1024, concurrency: { files: 8, parts: 12 } });
});

it('rotates a folder key from the window: a job, the folder paused meanwhile and back afterwards, syncing with the new key', async () => {
  const configDir = join(work(), 'config-rotate');
  const root = join(work(), 'rotating');
  await mkdir(root, { recursive: true });
  for (let index = 0; index < 5; index++) await writeFile(join(root, `f${index}.txt`), `file ${index}\n`);
  const session = sessionFor(configDir);
  const keyName = uniqueName('uirotate');
  try {
    await generateKey(session, keyName);
    await exportRecoveryKit(session, keyName, join(work(), 'old.kit.json'), {}, { force: false });
    const daemon = await openDaemon(configDir);
    await daemon.start();
    const folder = await daemon.addFolder({ ...location('rotating/'), localPath: root, sse: 'c', keyName, kmsKeyId: undefined, policy: 'keep' });
    await untilDaemon(daemon, () => synced(daemon, folder.id) === 5 && daemon.overview().folders[0]?.activity === 'idle');
    const oldKey = (await readKit(join(work(), 'old.kit.json'))).key;

    await expect(daemon.rotateKey(folder.id, 'relative.kit.json')).rejects.toThrow(/absolute file path/);
    const job = await daemon.rotateKey(folder.id, join(work(), 'new.kit.json'));
    expect(job).toMatchObject({ kind: 'rotate', state: 'running' });
    await untilDaemon(daemon, () => jobState(daemon, job.id) !== 'running');
    expect(daemon.jobs().find((candidate) => candidate.id === job.id)).toMatchObject({ state: 'finished', filesDone: 5 });

    const newKey = (await readKit(join(work(), 'new.kit.json'))).key;
    expect(newKey.fingerprint).not.toBe(oldKey.fingerprint);
    expect((await daemon.keySummary(keyName)).fingerprint).toBe(newKey.fingerprint);
    const newBytes = Buffer.from(newKey.revealBase64(), 'base64');
    expect((await readObject(services, bucket, 'rotating/f0.txt', newBytes)).toString()).toBe('file 0\n');
    await expect(readObject(services, bucket, 'rotating/f0.txt', Buffer.from(oldKey.revealBase64(), 'base64'))).rejects.toThrow();
    // The folder is back in the engine, and a new file goes up under the new key.
    expect(daemon.overview().folders.map((candidate) => candidate.id)).toEqual([folder.id]);
    await writeFile(join(root, 'after.txt'), 'after rotation\n');
    await untilDaemon(daemon, () => synced(daemon, folder.id, 'after.txt') === 1);
    expect((await readObject(services, bucket, 'rotating/after.txt', newBytes)).toString()).toBe('after rotation\n');
  } finally {
    await session.keychain.deleteKey(keyName);
  }
}, 90_000);

it('a folder paused when the engine started syncs once it is resumed', async () => {
  const configDir = join(work(), 'config-paused');
  const root = join(work(), 'paused-at-start');
  await mkdir(root, { recursive: true });
  const first = await openDaemon(configDir);
  await first.start();
  const folder = await first.addFolder({ ...location('paused-at-start/'), localPath: root, sse: 'none', keyName: undefined, kmsKeyId: undefined, policy: 'keep' });
  await first.setPaused(folder.id, true);
  await first.stop(0);
  running.splice(running.indexOf(first), 1);

  await writeFile(join(root, 'waiting.txt'), 'waiting\n');
  const second = await openDaemon(configDir);
  await second.start();
  expect(second.overview().folders[0]?.activity).toBe('paused');
  // A barrier instead of a pause: another folder, added now, syncs its file; the paused one meanwhile uploads nothing.
  const other = join(work(), 'running-beside');
  await mkdir(other, { recursive: true });
  await writeFile(join(other, 'beside.txt'), 'beside\n');
  const beside = await second.addFolder({ ...location('running-beside/'), localPath: other, sse: 'none', keyName: undefined, kmsKeyId: undefined, policy: 'keep' });
  await untilDaemon(second, () => synced(second, beside.id, 'beside.txt') === 1);
  expect(await listKeys(services, bucket, 'paused-at-start/')).toEqual([]);
  await second.setPaused(folder.id, false);
  await untilDaemon(second, () => synced(second, folder.id, 'waiting.txt') === 1);
  expect(await listKeys(services, bucket, 'paused-at-start/')).toEqual(['paused-at-start/waiting.txt']);
});
