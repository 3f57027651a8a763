/**
 * Rotating the SSE-C key of a sync folder: a new key from the CSPRNG, and every object under the
 * folder's prefix (conflict copies and the trash included) re-encrypted in place — copied onto
 * itself with the old key as copy source and the new key as destination, streamed through the
 * client where the server cannot copy SSE-C objects (RGW).
 *
 * Nothing can be lost on the way, whatever stops it (kill -9, a lost connection, Ctrl-C):
 *  - before the first object is touched, the new key is in the keychain under its own name
 *    (`NAME.rotating`) and its recovery kit is written; the old key stays under NAME;
 *  - each object is replaced atomically (one PUT or one CompleteMultipartUpload), so at every
 *    moment it is readable with the old key or with the new one, and both are kept;
 *  - the journal records the rotation and each finished object, so running the same command
 *    again resumes it (objects that already answer to the new key are not copied again);
 *  - only when a listing finds no object left under the old key does the new key replace the old
 *    one under NAME; then the pending entry is removed.
 *
 * The sync trees are carried over object by object (journal.recordRotatedObject): a copy may
 * give an object a new ETag, and the sync planner would otherwise take every re-encrypted object
 * for one someone else changed and keep conflict copies of them all.
 */
import { stat } from 'node:fs/promises';
import PQueue from 'p-queue';
import { validateKeyName } from '../../app/keys.js';
import type { MultipartLimits, TransferSizing } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import type { ConfigStore } from '../config/config-store.js';
import type { Journal, KeyRotationRecord, RotationObjectRecord } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { ObjectEncryption, RemoteObjectDetails, RemoteObjectInfo, RemoteStore } from '../remote/remote-store.js';
import { copyObjectWithFallback, type CopyMethod } from '../transfer/copy-object.js';
import type { Keychain } from '../secrets/keychain.js';
import { recordedKeyFingerprints } from './recorded-fingerprints.js';
import { checkKitStyle, formatKitAs, readKitFingerprint, writeKit, type KitStyle } from '../secrets/recovery-kit.js';
import { SseCustomerKey } from '../secrets/secret-values.js';

/** The new key waits under `NAME.rotating` until every object answers to it. */
export const PENDING_KEY_SUFFIX = '.rotating';

/** A listing that still finds objects under the old key this many times running means someone keeps writing them. */
const MAX_PASSES = 5;

/** The keychain name of the new key while the rotation of `keyName` runs. */
export function pendingKeyName(keyName: string): string {
  const pending = `${keyName}${PENDING_KEY_SUFFIX}`;
  try {
    return validateKeyName(pending);
  } catch {
    throw new CosyncError('usage', `key name ${JSON.stringify(keyName)} is too long to rotate: the new key is kept as "${pending}" meanwhile, and key names have at most 64 characters`);
  }
}

/** What to rotate. */
export interface KeyRotationRequest {
  readonly folder: SyncFolderConfig;
  readonly keyName: string;
  /** Where the new key's recovery kit goes: required to start a rotation, optional when resuming one. */
  readonly kitOut: string | undefined;
  /** Replace a file at `kitOut` that holds something other than the new key's kit. */
  readonly forceKit: boolean;
  /** How the kit is written: the CLI seals it unless told otherwise, as `key export` can. */
  readonly kit: KitStyle;
  /** Every configured folder: a key another folder also uses cannot be rotated for one of them. */
  readonly allFolders: ReadonlyArray<SyncFolderConfig>;
}

/** What the rotation works with. */
export interface KeyRotationServices {
  /** The folder's bucket. */
  readonly store: RemoteStore;
  readonly journal: Journal;
  readonly keychain: Keychain;
  readonly config: ConfigStore;
  readonly logger: Logger;
  /** Sizing of the copies streamed through the client (multipart above the threshold). */
  readonly limits: MultipartLimits;
  readonly sizing: TransferSizing;
  /** Objects re-encrypted at once. */
  readonly concurrency: number;
  /** The engine's part queue (its transfer pool), shared with everything else it transfers. */
  readonly partQueue: PQueue;
  readonly signal?: AbortSignal | undefined;
  readonly now?: () => number;
  readonly onEvent?: (event: KeyRotationEvent) => void;
}

/** Progress, for the CLI (`--json` prints these as they are). Fingerprints only, never keys. */
export type KeyRotationEvent =
  | {
      readonly type: 'rotation-started';
      readonly folder: string;
      readonly keyName: string;
      readonly pendingKeyName: string;
      readonly oldFingerprint: string;
      readonly newFingerprint: string;
      /** True when an interrupted rotation is picked up again. */
      readonly resumed: boolean;
      readonly objects: number;
      readonly toReEncrypt: number;
      readonly bytesToReEncrypt: number;
      readonly alreadyDone: number;
      readonly notSseC: number;
    }
  | { readonly type: 'kit-written'; readonly file: string; readonly fingerprint: string; readonly alreadyThere: boolean; readonly sealed: boolean }
  | { readonly type: 'object-re-encrypted'; readonly key: string; readonly bytes: number; readonly method: CopyMethod; readonly done: number; readonly total: number }
  | { readonly type: 'warning'; readonly message: string }
  | {
      readonly type: 'rotation-finished';
      readonly folder: string;
      readonly keyName: string;
      readonly oldFingerprint: string;
      readonly newFingerprint: string;
      readonly reEncrypted: number;
      readonly alreadyDone: number;
      readonly notSseC: number;
      readonly seconds: number;
    };

/** The outcome of a finished rotation. */
export interface KeyRotationResult {
  readonly oldFingerprint: string;
  readonly newFingerprint: string;
  /** Objects this run re-encrypted. */
  readonly reEncrypted: number;
  /** Objects an earlier, interrupted run had already re-encrypted. */
  readonly alreadyDone: number;
  /** Objects under the prefix that are not SSE-C at all: no key reads or protects them; left as they are. */
  readonly notSseC: ReadonlyArray<string>;
}

/** What one object says about the two keys. */
type ObjectState = 'old' | 'new' | 'not-sse-c' | 'unreadable' | 'gone';

interface ClassifiedObject {
  readonly object: RemoteObjectInfo;
  readonly state: ObjectState;
}

/** Rotates the folder's key, or resumes (and finishes) its interrupted rotation. */
export async function rotateFolderKey(request: KeyRotationRequest, services: KeyRotationServices): Promise<KeyRotationResult> {
  const { folder, keyName } = request;
  const { journal, keychain, logger } = services;
  const now = services.now ?? Date.now;
  const emit = (event: KeyRotationEvent): void => services.onEvent?.(event);
  const started = now();
  checkRequest(request);
  const pendingName = pendingKeyName(keyName);

  let rotation = journal.unfinishedKeyRotation(folder.id);
  if (rotation !== undefined && rotation.keyName !== keyName) {
    throw new CosyncError('usage', `folder ${folder.id} has an unfinished rotation of key ${JSON.stringify(rotation.keyName)}; finish it first with \`cosync key rotate ${rotation.keyName} --folder ${folder.id}\``);
  }
  const current = await keychain.getKey(keyName);

  if (rotation !== undefined && current.fingerprint === rotation.newFingerprint) {
    // Killed after the new key replaced the old one under NAME: every object was done before that.
    emit(startedEvent(request, rotation, pendingName, { resumed: true, objects: 0, toReEncrypt: 0, bytesToReEncrypt: 0, alreadyDone: 0, notSseC: 0 }));
    await finishKeySwap(request, services, rotation, current);
    emit(finishedEvent(request, rotation, { reEncrypted: 0, alreadyDone: 0, notSseC: 0, seconds: (now() - started) / 1000 }));
    return { oldFingerprint: rotation.oldFingerprint, newFingerprint: rotation.newFingerprint, reEncrypted: 0, alreadyDone: 0, notSseC: [] };
  }
  if (rotation !== undefined && current.fingerprint !== rotation.oldFingerprint) {
    throw new CosyncError(
      'key-mismatch',
      `key ${keyName} in the keychain has fingerprint ${current.fingerprint}, but the unfinished rotation of folder ${folder.id} re-encrypts from fingerprint ${rotation.oldFingerprint} to ${rotation.newFingerprint}: ` +
        `import the key with fingerprint ${rotation.oldFingerprint} from its recovery kit under ${keyName}, then run this command again`,
    );
  }
  const oldKey = current;
  let newKey = await findKey(keychain, pendingName);
  const resumed = rotation !== undefined || newKey !== undefined;
  if (rotation !== undefined) {
    if (newKey === undefined) {
      throw new CosyncError(
        'key-not-found',
        `the new key of the unfinished rotation of folder ${folder.id} (fingerprint ${rotation.newFingerprint}) is missing from the keychain: ` +
          `import it from the recovery kit written when the rotation started (\`cosync key import ${pendingName} --from KIT\`), then run this command again`,
      );
    }
    if (newKey.fingerprint !== rotation.newFingerprint) {
      throw new CosyncError(
        'key-mismatch',
        `keychain entry ${pendingName} has fingerprint ${newKey.fingerprint}, but the unfinished rotation of folder ${folder.id} re-encrypts to fingerprint ${rotation.newFingerprint}: ` +
          `import the key with fingerprint ${rotation.newFingerprint} from its recovery kit under ${pendingName}, then run this command again`,
      );
    }
  } else {
    if (request.kitOut === undefined) {
      throw new CosyncError('usage', `key rotate needs --kit-out FILE: the new key's recovery kit is written before any object is re-encrypted, so that a lost keychain never means lost data`);
    }
    if (newKey !== undefined && newKey.fingerprint === oldKey.fingerprint) {
      throw new CosyncError('key-exists', `keychain entry ${pendingName} holds the same key as ${keyName} (fingerprint ${oldKey.fingerprint}); delete it (\`cosync key delete ${pendingName} --yes\`) and run this command again`);
    }
    if (newKey !== undefined) {
      // A rotation that stopped before its journal record was written (or whose journal is gone):
      // objects may already be encrypted with this key, so it is continued, never replaced.
      emit({ type: 'warning', message: `continuing with the new key already in keychain entry ${pendingName} (fingerprint ${newKey.fingerprint}), left by an earlier rotation` });
    } else if (!request.forceKit && (await pathExists(request.kitOut))) {
      // Checked before a key is made: a brand-new key cannot be in an existing file.
      throw new CosyncError('usage', `${request.kitOut} already exists; choose another file for the new key's recovery kit, or pass --force to replace it`);
    }
    // The passphrase of a sealed kit, asked now: a missing one stops the rotation before a key is made.
    await request.kit.sealWith?.();
    const elsewhere = journal.objectsWithKeyOutside(oldKey.fingerprint, folder.endpoint, folder.bucket, folder.prefix);
    if (elsewhere.count > 0) {
      emit({
        type: 'warning',
        message:
          `${elsewhere.count} object${elsewhere.count === 1 ? '' : 's'} outside folder ${folder.id} (e.g. ${elsewhere.examples.join(', ')}) ${elsewhere.count === 1 ? 'was' : 'were'} uploaded with key ${keyName}; ` +
          `they are not re-encrypted, and once the rotation is done only the old key's recovery kit reads them`,
      });
    }
  }

  const known: Map<string, RotationObjectRecord> = rotation === undefined ? new Map() : journal.keyRotationObjects(rotation.id);
  const notSseC = new Map<string, string | undefined>();
  const reEncryptedNow = new Set<string>();
  let reEncrypted = 0;
  let alreadyDone = 0;
  let total = 0;
  for (let pass = 1; ; pass++) {
    const listing = await listAll(services.store, folder.prefix, services.signal);
    const isSettled = (object: RemoteObjectInfo): boolean => {
      const record = known.get(object.key);
      return (record?.done === true && record.newEtag === (object.etag ?? null)) || (notSseC.has(object.key) && notSseC.get(object.key) === object.etag);
    };
    const unsettled = listing.filter((object) => !isSettled(object));
    if (pass === 1) alreadyDone += listing.length - unsettled.length;
    const classified = await classifyAll(services, unsettled, oldKey, newKey);
    const unreadable = classified.filter((entry) => entry.state === 'unreadable');
    if (unreadable.length > 0) throw unreadableError(request, services, unreadable, oldKey, newKey, rotation === undefined);
    for (const entry of classified) if (entry.state === 'not-sse-c') notSseC.set(entry.object.key, entry.object.etag);
    const toReEncrypt = classified.filter((entry) => entry.state === 'old');

    if (rotation === undefined) {
      // The point of no return comes after this block: the new key is kept twice (keychain, kit) before any object changes.
      if (newKey === undefined) {
        newKey = SseCustomerKey.generate();
        await keychain.putKey(pendingName, newKey);
      }
      await ensureKit(request, newKey, emit);
      rotation = journal.beginKeyRotation({ folderId: folder.id, keyName, pendingKeyName: pendingName, oldFingerprint: oldKey.fingerprint, newFingerprint: newKey.fingerprint, startedAt: now() });
      logger.log('info', 'key-rotation-started', { folder: folder.id, keyName, pendingKeyName: pendingName, oldFingerprint: oldKey.fingerprint, newFingerprint: newKey.fingerprint });
    } else if (pass === 1) {
      if (request.kitOut !== undefined) await ensureKit(request, newKey as SseCustomerKey, emit);
      logger.log('info', 'key-rotation-resumed', { folder: folder.id, keyName, oldFingerprint: oldKey.fingerprint, newFingerprint: rotation.newFingerprint });
    }
    const activeRotation: KeyRotationRecord = rotation;
    const targetKey = newKey as SseCustomerKey;

    // Objects already under the new key whose journal record was cut off by a kill: record them now.
    for (const entry of classified) {
      if (entry.state !== 'new') continue;
      journal.recordRotatedObject(rotatedObject(request, activeRotation, entry.object.key, entry.object.sizeBytes, entry.object.etag ?? null));
      known.set(entry.object.key, { oldEtag: null, newEtag: entry.object.etag ?? null, done: true });
      if (!reEncryptedNow.has(entry.object.key)) alreadyDone++;
    }
    if (pass === 1) {
      emit(
        startedEvent(request, activeRotation, pendingName, {
          resumed,
          objects: listing.length,
          toReEncrypt: toReEncrypt.length,
          bytesToReEncrypt: toReEncrypt.reduce((sum, entry) => sum + entry.object.sizeBytes, 0),
          alreadyDone,
          notSseC: notSseC.size,
        }),
      );
    }
    if (toReEncrypt.length === 0) break;
    if (pass > MAX_PASSES) {
      throw new CosyncError(
        'local-conflict',
        `objects under ${folder.prefix === '' ? 'the bucket root' : `prefix ${JSON.stringify(folder.prefix)}`} keep being written with the old key (e.g. ${toReEncrypt[0]?.object.key}): ` +
          `is \`cosync serve\` or \`cosync sync\` running for folder ${folder.id}? Stop it, then run this command again; both keys stay in the keychain until the rotation is done`,
      );
    }
    total += toReEncrypt.length;
    await reEncryptAll(request, services, activeRotation, toReEncrypt, oldKey, targetKey, (key, bytes, method) => {
      reEncrypted++;
      reEncryptedNow.add(key);
      emit({ type: 'object-re-encrypted', key, bytes, method, done: reEncrypted, total });
    });
    // Re-read the journal's view (new ETags) for the next pass's listing to compare against.
    for (const [key, record] of journal.keyRotationObjects(activeRotation.id)) known.set(key, record);
  }

  const finishing = rotation as KeyRotationRecord;
  journal.setKeyRotationState(finishing.id, 'swapping-keys');
  await finishKeySwap(request, services, finishing, newKey as SseCustomerKey);
  emit(finishedEvent(request, finishing, { reEncrypted, alreadyDone, notSseC: notSseC.size, seconds: (now() - started) / 1000 }));
  logger.log('info', 'key-rotation-finished', { folder: folder.id, keyName, oldFingerprint: finishing.oldFingerprint, newFingerprint: finishing.newFingerprint, reEncrypted, alreadyDone, notSseC: notSseC.size });
  return { oldFingerprint: finishing.oldFingerprint, newFingerprint: finishing.newFingerprint, reEncrypted, alreadyDone, notSseC: [...notSseC.keys()] };
}

/** Checks the folder and key before anything is read: SSE-C, this key, not shared with another folder. */
function checkRequest(request: KeyRotationRequest): void {
  const { folder, keyName } = request;
  validateKeyName(keyName);
  checkKitStyle(request.kit);
  if (folder.sse !== 'c') {
    throw new CosyncError('usage', `folder ${folder.id} does not use SSE-C (its objects are encrypted with ${folder.sse === 'none' ? 'nothing' : `SSE-${folder.sse.toUpperCase()}`}); only SSE-C keys are rotated by cosync`);
  }
  if (folder.keyName !== keyName) {
    throw new CosyncError('usage', `folder ${folder.id} is encrypted with key ${JSON.stringify(folder.keyName)}, not ${JSON.stringify(keyName)}; run \`cosync key rotate ${folder.keyName} --folder ${folder.id}\``);
  }
  const sharing = request.allFolders.filter((other) => other.id !== folder.id && other.sse === 'c' && other.keyName === keyName).map((other) => other.id);
  if (sharing.length > 0) {
    throw new CosyncError(
      'usage',
      `key ${keyName} is also the key of folder${sharing.length === 1 ? '' : 's'} ${sharing.join(', ')}: after rotating it for ${folder.id} alone, their objects would be readable only with the old key's recovery kit. ` +
        `Give each folder its own key (cosync folder remove, then folder add with another --key) before rotating`,
    );
  }
}

async function pathExists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** The key under `name`, or undefined when the keychain has none (a damaged item is still an error). */
async function findKey(keychain: Keychain, name: string): Promise<SseCustomerKey | undefined> {
  try {
    return await keychain.getKey(name);
  } catch (error) {
    if (error instanceof CosyncError && error.code === 'key-not-found') return undefined;
    throw error;
  }
}

/** Writes the new key's recovery kit, or confirms the file already holds it (a resumed rotation). */
async function ensureKit(request: KeyRotationRequest, key: SseCustomerKey, emit: (event: KeyRotationEvent) => void): Promise<void> {
  const file = request.kitOut as string;
  let existing: { readonly fingerprint: string; readonly sealed: boolean } | undefined;
  let unreadable = false;
  try {
    existing = await readKitFingerprint(file);
  } catch (error) {
    if (!(error instanceof CosyncError && error.code === 'path-not-found')) unreadable = true;
  }
  if (existing?.fingerprint === key.fingerprint) {
    emit({ type: 'kit-written', file, fingerprint: key.fingerprint, alreadyThere: true, sealed: existing.sealed });
    return;
  }
  if ((existing !== undefined || unreadable) && !request.forceKit) {
    throw new CosyncError(
      'usage',
      `${file} already exists and ${existing === undefined ? 'is not a readable recovery kit' : `holds another key (fingerprint ${existing.fingerprint})`}; choose another file for the new key's kit, or pass --force to replace it`,
    );
  }
  const { folder } = request;
  await writeKit(file, await formatKitAs(request.kit, request.keyName, key, { endpoint: folder.endpoint, bucket: folder.bucket, prefix: folder.prefix }, new Date()), request.forceKit);
  emit({ type: 'kit-written', file, fingerprint: key.fingerprint, alreadyThere: false, sealed: request.kit.sealWith !== undefined });
}

async function listAll(store: RemoteStore, prefix: string, signal: AbortSignal | undefined): Promise<RemoteObjectInfo[]> {
  const objects: RemoteObjectInfo[] = [];
  for await (const object of store.listObjects(prefix, { signal })) objects.push(object);
  return objects;
}

/** HEADs objects (several at a time) to learn which key reads each. */
async function classifyAll(
  services: KeyRotationServices,
  objects: ReadonlyArray<RemoteObjectInfo>,
  oldKey: SseCustomerKey,
  newKey: SseCustomerKey | undefined,
): Promise<ClassifiedObject[]> {
  const queue = new PQueue({ concurrency: Math.min(16, services.concurrency * 2) });
  try {
    const results = await Promise.all(objects.map((object) => queue.add(async () => ({ object, state: await classify(services.store, object.key, oldKey, newKey, services.signal) }))));
    return results.filter((entry) => entry.state !== 'gone');
  } catch (error) {
    queue.clear();
    await queue.onIdle();
    throw error;
  }
}

/**
 * Which key reads the object. A HEAD with the right key succeeds; with a wrong key the server
 * answers 400. Some servers (RGW) ignore SSE-C headers on objects that are not SSE-C at all, so a
 * HEAD that succeeds without echoing the key's MD5 is checked once more without a key.
 */
async function classify(store: RemoteStore, key: string, oldKey: SseCustomerKey, newKey: SseCustomerKey | undefined, signal: AbortSignal | undefined): Promise<ObjectState> {
  const head = async (encryption: ObjectEncryption): Promise<RemoteObjectDetails | 'gone' | 'refused'> => {
    try {
      return (await store.headObject(key, encryption, { signal })) ?? 'gone';
    } catch (error) {
      if (error instanceof CosyncError && error.code === 'key-mismatch') return 'refused';
      throw error;
    }
  };
  const candidates: Array<[SseCustomerKey, ObjectState]> = [[oldKey, 'old']];
  if (newKey !== undefined) candidates.push([newKey, 'new']);
  for (const [customerKey, state] of candidates) {
    const answer = await head({ mode: 'c', key: customerKey });
    if (answer === 'gone') return 'gone';
    if (answer === 'refused' || (answer.keyFingerprint !== undefined && answer.keyFingerprint !== customerKey.fingerprint)) continue;
    if (answer.keyFingerprint === customerKey.fingerprint) return state;
    const plain = await head({ mode: 'none' });
    if (plain === 'gone') return 'gone';
    return plain === 'refused' ? state : 'not-sse-c';
  }
  const plain = await head({ mode: 'none' });
  return plain === 'gone' ? 'gone' : plain === 'refused' ? 'unreadable' : 'not-sse-c';
}

function unreadableError(
  request: KeyRotationRequest,
  services: KeyRotationServices,
  unreadable: ReadonlyArray<ClassifiedObject>,
  oldKey: SseCustomerKey,
  newKey: SseCustomerKey | undefined,
  nothingChanged: boolean,
): CosyncError {
  const { folder, keyName } = request;
  const recordedFingerprint = recordedKeyFingerprints(services.journal, [folder], folder.endpoint, folder.bucket);
  const shown = unreadable.slice(0, 5).map(({ object }) => {
    const recorded = recordedFingerprint(object.key);
    return `${object.key} (${recorded === undefined ? 'this machine has no record of its key' : `encrypted with key fingerprint ${recorded}, as this machine recorded it`})`;
  });
  const more = unreadable.length > shown.length ? ` and ${unreadable.length - shown.length} more` : '';
  const keys = newKey === undefined ? `key ${keyName} (fingerprint ${oldKey.fingerprint})` : `key ${keyName} (fingerprint ${oldKey.fingerprint}) nor with the new key (fingerprint ${newKey.fingerprint})`;
  return new CosyncError(
    'key-mismatch',
    `${unreadable.length} object${unreadable.length === 1 ? '' : 's'} of folder ${folder.id} cannot be read with ${keys}: ${shown.join(', ')}${more}. ` +
      `${nothingChanged ? 'Nothing was re-encrypted. ' : 'The rotation is not finished; both keys stay in the keychain. '}` +
      `Import the key they were written with and copy them over, or delete them if they are not needed, then run this command again`,
  );
}

/** Re-encrypts objects several at a time; the first failure stops new ones from starting. */
async function reEncryptAll(
  request: KeyRotationRequest,
  services: KeyRotationServices,
  rotation: KeyRotationRecord,
  objects: ReadonlyArray<ClassifiedObject>,
  oldKey: SseCustomerKey,
  newKey: SseCustomerKey,
  onDone: (key: string, bytes: number, method: CopyMethod) => void,
): Promise<void> {
  const { store, journal, logger, signal } = services;
  const queue = new PQueue({ concurrency: services.concurrency });
  // The engine's part queue for all copies (never the object queue, whose tasks wait for these
  // parts): large objects are streamed part by part, and their buffers stay within the pool's
  // concurrency × part size.
  const { partQueue } = services;
  let failure: unknown;
  const reEncrypt = async ({ object }: ClassifiedObject): Promise<void> => {
    if (failure !== undefined) return;
    // Noted before the copy: if the journal update after it is cut off, the next run still knows which ETag was the old one.
    journal.beginRotatingObject(rotation.id, object.key, object.etag ?? null);
    const newEncryption: ObjectEncryption = { mode: 'c', key: newKey };
    const method = await copyObjectWithFallback(store, object.key, object.key, { source: { mode: 'c', key: oldKey }, destination: newEncryption }, { limits: services.limits, sizing: services.sizing, partQueue, signal });
    const head = await store.headObject(object.key, newEncryption, { signal });
    if (head === undefined) throw new CosyncError('integrity', `${JSON.stringify(object.key)} disappeared right after it was re-encrypted`);
    if (head.keyFingerprint !== undefined && head.keyFingerprint !== newKey.fingerprint) {
      throw new CosyncError('key-mismatch', `after re-encryption the server reports key fingerprint ${head.keyFingerprint} for ${JSON.stringify(object.key)}, not the new key's ${newKey.fingerprint}`);
    }
    if (head.sizeBytes !== object.sizeBytes) {
      throw new CosyncError('integrity', `after re-encryption ${JSON.stringify(object.key)} has ${head.sizeBytes} bytes instead of ${object.sizeBytes}`);
    }
    journal.recordRotatedObject(rotatedObject(request, rotation, object.key, head.sizeBytes, head.etag ?? null));
    logger.log('info', 'key-rotation-object', { folder: request.folder.id, key: object.key, bytes: head.sizeBytes, method });
    onDone(object.key, head.sizeBytes, method);
  };
  for (const entry of objects) {
    void queue
      .add(() => reEncrypt(entry))
      .catch((error: unknown) => {
        failure ??= error;
        queue.clear();
      });
  }
  await queue.onIdle();
  if (failure !== undefined) {
    const error = failure instanceof CosyncError ? failure : new CosyncError('internal', (failure as Error)?.message ?? String(failure));
    logger.log('error', 'key-rotation-stopped', { folder: request.folder.id, code: error.code, message: error.message });
    throw new CosyncError(
      error.code,
      `${error.code === 'aborted' ? 'interrupted' : error.message}; the rotation of key ${request.keyName} for folder ${request.folder.id} stopped — every object is readable with the old or the new key, both stay in the keychain: run the same command again to resume`,
    );
  }
}

function rotatedObject(request: KeyRotationRequest, rotation: KeyRotationRecord, key: string, sizeBytes: number, newEtag: string | null) {
  const { folder } = request;
  return {
    rotationId: rotation.id,
    folderId: folder.id,
    endpoint: folder.endpoint,
    bucket: folder.bucket,
    key,
    path: key.slice(folder.prefix.length),
    sizeBytes,
    newEtag,
    oldFingerprint: rotation.oldFingerprint,
    newFingerprint: rotation.newFingerprint,
  };
}

/**
 * Every object answers to the new key: it replaces the old one under NAME, the config learns the
 * new fingerprint, the pending entry goes. Each step can be repeated, so a kill anywhere in here
 * is finished by the next run.
 */
async function finishKeySwap(request: KeyRotationRequest, services: KeyRotationServices, rotation: KeyRotationRecord, newKey: SseCustomerKey): Promise<void> {
  const { keychain, journal } = services;
  const { keyName } = request;
  await keychain.putKey(keyName, newKey, { replace: true });
  await services.config.update((config) => ({
    ...config,
    keys: {
      ...config.keys,
      // The new key's kit was written before the rotation was recorded as started.
      [keyName]: { fingerprint: newKey.fingerprint, createdAt: new Date(rotation.startedAt).toISOString(), origin: 'generated', kitExportedAt: new Date(rotation.startedAt).toISOString() },
    },
  }));
  const pending = await findKey(keychain, rotation.pendingKeyName);
  if (pending?.fingerprint === newKey.fingerprint) await keychain.deleteKey(rotation.pendingKeyName);
  journal.setKeyRotationState(rotation.id, 'done');
}

function startedEvent(
  request: KeyRotationRequest,
  rotation: KeyRotationRecord,
  pendingName: string,
  counts: { resumed: boolean; objects: number; toReEncrypt: number; bytesToReEncrypt: number; alreadyDone: number; notSseC: number },
): KeyRotationEvent {
  return { type: 'rotation-started', folder: request.folder.id, keyName: request.keyName, pendingKeyName: pendingName, oldFingerprint: rotation.oldFingerprint, newFingerprint: rotation.newFingerprint, ...counts };
}

function finishedEvent(request: KeyRotationRequest, rotation: KeyRotationRecord, counts: { reEncrypted: number; alreadyDone: number; notSseC: number; seconds: number }): KeyRotationEvent {
  return { type: 'rotation-finished', folder: request.folder.id, keyName: request.keyName, oldFingerprint: rotation.oldFingerprint, newFingerprint: rotation.newFingerprint, ...counts };
}
