/**
 * Adding and removing sync folders: the checks a folder passes before it is saved (the folder
 * exists and overlaps no other, its prefix overlaps no other folder's, its key, credentials and
 * bucket work, an SSE-C key has a recovery kit). Shared by `cosync folder add` and the UI.
 */
import { randomBytes } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import { CosyncError } from '../../app/result.js';
import type { DeletePolicy, SyncFolderConfig } from '../../app/sync-model.js';
import type { Dialect, Target } from '../../app/target.js';
import type { Engine } from '../engine/engine.js';
import { encryptionFor, type Session } from '../engine/session.js';
import type { Journal } from '../journal/journal.js';

export interface NewFolder {
  readonly localPath: string;
  readonly target: Target;
  readonly policy: DeletePolicy;
  /** The region as given (undefined: derived from the endpoint). */
  readonly region: string | undefined;
  /** The dialect as given (undefined: by host). */
  readonly dialect?: Dialect | undefined;
  readonly account: string | undefined;
  /** The user says the SSE-C key is kept safe elsewhere (skips the recovery-kit check). */
  readonly kitSaved: boolean;
}

/** The folder with this id, or a usage error that lists the known ids. */
export function findFolder(folders: ReadonlyArray<SyncFolderConfig>, id: string | undefined, usage: string): SyncFolderConfig {
  if (id === undefined) throw new CosyncError('usage', `expected: ${usage}`);
  const folder = folders.find((candidate) => candidate.id === id);
  if (folder === undefined) {
    const known = folders.map((candidate) => candidate.id).join(', ');
    throw new CosyncError('usage', `no folder with id ${JSON.stringify(id)}${known === '' ? ' (no folders yet: `cosync folder add PATH …`)' : ` (folders: ${known})`}`);
  }
  return folder;
}

/** A short, readable, unique id: the folder's name plus random hex. */
function newFolderId(localPath: string, taken: ReadonlySet<string>): string {
  const slug = basename(localPath).toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24) || 'folder';
  for (;;) {
    const id = `${slug}-${randomBytes(2).toString('hex')}`;
    if (!taken.has(id)) return id;
  }
}

function isWithin(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** Whether two bucket prefixes share objects (one contains the other). */
export function prefixesOverlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Refuses a folder that overlaps a configured one, locally or in the bucket. */
function assertNoOverlap(folders: ReadonlyArray<SyncFolderConfig>, localPath: string, target: Target): void {
  for (const other of folders) {
    if (isWithin(other.localPath, localPath) || isWithin(localPath, other.localPath)) {
      throw new CosyncError('usage', `${localPath} overlaps folder ${other.id} (${other.localPath}); a file must belong to one sync folder only`);
    }
    const sameBucket = other.endpoint === target.endpoint.url && other.bucket === target.bucket;
    if (sameBucket && prefixesOverlap(other.prefix, target.prefix)) {
      throw new CosyncError('usage', `prefix ${JSON.stringify(target.prefix)} overlaps the prefix ${JSON.stringify(other.prefix)} of folder ${other.id} in bucket ${target.bucket}; give each folder its own prefix`);
    }
  }
}

/** Checks a new folder and saves it in config.json; nothing is uploaded yet. */
export async function addSyncFolder(engine: Engine, request: NewFolder): Promise<SyncFolderConfig> {
  const { target } = request;
  const { session } = engine;
  const info = await stat(request.localPath).catch(() => undefined);
  if (info === undefined) throw new CosyncError('path-not-found', `${request.localPath}: no such folder`);
  if (!info.isDirectory()) throw new CosyncError('usage', `${request.localPath} is a file; folder add takes a folder (back single files up with \`cosync backup\` or the Backup view)`);
  const localPath = await realpath(resolve(request.localPath));
  const { folders, keys } = await session.config.load();
  assertNoOverlap(folders, localPath, target);
  // Key, credentials and bucket are checked now, not at the first sync.
  await encryptionFor(session, target);
  await checkStoreAccess(engine, target, request.account);
  if (target.sse === 'c' && !request.kitSaved && keys[target.keyName as string]?.kitExportedAt === undefined) {
    // With SSE-C nobody else holds the key: a folder is never synced under a key that exists only in this keychain.
    throw new CosyncError(
      'usage',
      `key ${target.keyName} has no recovery kit yet: without one, everything encrypted with it is lost with this machine's keychain. ` +
        `Export its recovery kit (\`cosync key export ${target.keyName} --out FILE\`), keep the file offline, then add the folder`,
    );
  }
  const fields: Omit<SyncFolderConfig, 'id'> = {
    localPath,
    endpoint: target.endpoint.url,
    bucket: target.bucket,
    prefix: target.prefix,
    region: request.region,
    pathStyle: target.pathStyle,
    dialect: request.dialect,
    sse: target.sse,
    keyName: target.keyName,
    kmsKeyId: target.kmsKeyId,
    account: request.account,
    policy: request.policy,
    paused: false,
    createdAt: new Date().toISOString(),
    storageClass: target.storageClass,
    trafficLimitBits: target.trafficLimitBits,
  };
  // Checked again against the config as it is under the lock: another process may have added a
  // folder while the bucket was being checked.
  let folder: SyncFolderConfig | undefined;
  await session.config.update((config) => {
    assertNoOverlap(config.folders, localPath, target);
    folder = { id: newFolderId(localPath, new Set(config.folders.map((other) => other.id))), ...fields };
    return { ...config, folders: [...config.folders, folder] };
  });
  if (folder === undefined) throw new CosyncError('internal', 'the folder was not saved');
  session.logger.log('info', 'folder-added', { folder: folder.id, localPath, bucket: folder.bucket, prefix: folder.prefix, sse: folder.sse, policy: folder.policy });
  return folder;
}

/** Opens the store with the account's credentials and checks the bucket answers; returns its description. */
export async function checkStoreAccess(engine: Engine, target: Target, account: string | undefined): Promise<string> {
  const store = await engine.stores.openFor(target, account);
  try {
    await store.checkAccess(target.prefix);
    return store.description;
  } finally {
    store.close();
  }
}

/** Forgets a folder: config entry and journal rows. Nothing is deleted locally or in the bucket. */
export async function removeSyncFolder(session: Session, journal: Journal, folderId: string): Promise<SyncFolderConfig> {
  const folder = findFolder((await session.config.load()).folders, folderId, 'a folder id');
  await session.config.update((config) => ({ ...config, folders: config.folders.filter((other) => other.id !== folder.id) }));
  journal.deleteSyncFolder(folder.id);
  session.logger.log('info', 'folder-removed', { folder: folder.id });
  return folder;
}

/** Saves a folder's paused flag. */
export async function saveFolderPaused(session: Session, folderId: string, paused: boolean): Promise<SyncFolderConfig> {
  // Looked up before the lock (an unknown id writes nothing) and again under it (a folder removed
  // meanwhile is reported, not silently left alone).
  let folder = findFolder((await session.config.load()).folders, folderId, 'a folder id');
  await session.config.update((config) => {
    folder = findFolder(config.folders, folderId, 'a folder id');
    return { ...config, folders: config.folders.map((other) => (other.id === folderId ? { ...other, paused } : other)) };
  });
  session.logger.log('info', paused ? 'folder-paused' : 'folder-resumed', { folder: folder.id });
  return { ...folder, paused };
}
