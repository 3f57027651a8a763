/**
 * What the window asks of a folder's bucket: list it, check the folder's key against it, and the
 * jobs that move data — restore, backup, key rotation. Each opens its store through the engine's
 * factory and moves its data through the engine's pool, beside the folders that sync.
 */
import { isAbsolute, join, sep } from 'node:path';
import type { JobSummary, RemoteEntry, RemoteScope } from '../../app/contract.js';
import { COS_LIMITS, S3_LIMITS } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import { folderTarget, type SyncFolderConfig } from '../../app/sync-model.js';
import { normalizePrefix, type Target } from '../../app/target.js';
import type { Engine } from '../engine/engine.js';
import { rotateFolderKey } from '../keys/key-rotation.js';
import { verifyKeyAgainstObjects } from '../keys/verify-key.js';
import type { FolderConnection, SyncEngine } from '../sync/sync-engine.js';
import { missingRestoreFolders, runRestore } from '../transfer/restore.js';
import type { DropStaging } from './drop-staging.js';
import { prefixesOverlap } from './folder-admin.js';
import type { JobRegistry } from './job-registry.js';

/**
 * Files restored at once by a window's restore. Every request that carries data waits in the
 * pool's part queue; the files are not queued in the pool's file queue, because "Pause all"
 * holds that one to pause syncing, and it must not hold a restore the user has just asked for.
 */
const RESTORE_FILE_CONCURRENCY = 4;
/** Objects re-encrypted at once by a window's key rotation (their part copies wait in the pool's part queue). */
const ROTATION_CONCURRENCY = 4;

/** The parts of the daemon these use-cases work with. */
export interface DaemonParts {
  readonly engine: Engine;
  readonly sync: SyncEngine;
  readonly jobRegistry: JobRegistry;
  readonly staging: DropStaging;
  /** The folder with this id, or a usage error. */
  folder(folderId: string): SyncFolderConfig;
  /** The folders being synced, as configured. */
  folderConfigs(): SyncFolderConfig[];
}

async function connect(parts: DaemonParts, folder: SyncFolderConfig): Promise<{ connection: FolderConnection; target: Target }> {
  return { connection: await parts.engine.stores.connect(folder), target: folderTarget(folder) };
}

function sseCKeyName(folder: SyncFolderConfig, verb: string): string {
  if (folder.sse !== 'c' || folder.keyName === undefined) throw new CosyncError('usage', `folder ${folder.id} does not use an SSE-C key (its encryption is ${folder.sse}); there is no key of yours to ${verb}`);
  return folder.keyName;
}

/** HEADs up to 20 objects of the folder with its key. */
export async function verifyFolderKey(parts: DaemonParts, folderId: string): Promise<{ checked: number; matched: number; mismatched: string[]; notSseC: number }> {
  const folder = parts.folder(folderId);
  const key = await parts.engine.session.keychain.getKey(sseCKeyName(folder, 'check'));
  const { connection } = await connect(parts, folder);
  try {
    const results = await verifyKeyAgainstObjects(connection.store, key, folder.prefix, 20);
    return {
      checked: results.length,
      matched: results.filter((entry) => entry.result === 'match').length,
      mismatched: results.filter((entry) => entry.result === 'mismatch').map((entry) => entry.objectKey),
      notSseC: results.filter((entry) => entry.result === 'not-sse-c').length,
    };
  } finally {
    connection.store.close();
  }
}

/** One level of a remote tree: files and sub-folders under `path` ("" or ending in "/"). */
export async function listRemote(parts: DaemonParts, folderId: string, scope: RemoteScope, path: string): Promise<RemoteEntry[]> {
  const folder = parts.folder(folderId);
  if (path !== '' && !path.endsWith('/')) throw new CosyncError('usage', `${JSON.stringify(path)} is not a folder path (it must be empty or end with "/")`);
  const base = (scope === 'folder' ? folder.prefix : '') + path;
  const { connection } = await connect(parts, folder);
  const children = new Map<string, RemoteEntry>();
  try {
    for await (const object of connection.store.listObjects(base)) {
      const rest = object.key.slice(base.length);
      if (rest === '') continue;
      const slash = rest.indexOf('/');
      if (slash === -1) {
        children.set(rest, { path: path + rest, kind: 'file', sizeBytes: object.sizeBytes });
      } else {
        const name = rest.slice(0, slash + 1);
        const known = children.get(name);
        children.set(name, { path: path + name, kind: 'folder', sizeBytes: (known?.sizeBytes ?? 0) + object.sizeBytes });
      }
    }
  } finally {
    connection.store.close();
  }
  return [...children.values()].sort((a, b) => (a.kind !== b.kind ? (a.kind === 'folder' ? -1 : 1) : a.path < b.path ? -1 : 1));
}

/**
 * Restores files and folders of a sync folder into the folder itself (`destination` null) or
 * another local folder. Existing different files are not overwritten: they fail with a reason.
 */
export async function startRestore(parts: DaemonParts, folderId: string, scope: RemoteScope, paths: ReadonlyArray<string>, destination: string | null): Promise<JobSummary> {
  const folder = parts.folder(folderId);
  if (destination !== null && !isAbsolute(destination)) throw new CosyncError('usage', `restore destination must be an absolute folder path; got ${JSON.stringify(destination)}`);
  if (destination === null && scope === 'bucket') throw new CosyncError('usage', 'objects from outside the sync folder have no place of their own: choose a folder to restore them into');
  const root = destination ?? folder.localPath;
  for (const path of paths) {
    if (path === '' || path.startsWith('/') || path.split('/').includes('..')) throw new CosyncError('usage', `${JSON.stringify(path)} is not a path inside the folder`);
  }
  // A file in the way is refused now; runRestore makes the folders once there is something to restore.
  await missingRestoreFolders(root);
  const { engine } = parts;
  const { connection, target } = await connect(parts, folder);
  const title = `Restore ${paths.length === 1 ? paths[0] : `${paths.length} items`} to ${root}`;
  return parts.jobRegistry.start('restore', title, async (emit, signal) => {
    try {
      let succeeded = 0;
      let failed = 0;
      for (const path of paths) {
        // A folder path restores everything under it; a file path restores that one object.
        // Back in the folder, each keeps its place; elsewhere, each selected item lands at the top.
        const isFolder = path.endsWith('/');
        const segments = (isFolder ? path.slice(0, -1) : path).split('/');
        const local = destination === null ? join(root, ...(isFolder ? segments : segments.slice(0, -1))) : isFolder ? join(root, segments.at(-1) as string) : root;
        const outcome = await runRestore(
          `${scope === 'folder' ? target.prefix : ''}${isFolder ? path : `${path}/`}`,
          local,
          connection.encryption,
          { ...engine.pool.downloadContext(connection.store, target, { journal: engine.journal, overwrite: false }), signal },
          { fileConcurrency: RESTORE_FILE_CONCURRENCY, logger: engine.session.logger, emit },
        );
        succeeded += outcome.succeeded;
        failed += outcome.failed;
      }
      return { succeeded, failed };
    } finally {
      connection.store.close();
    }
  });
}

/** Backs up local files or folders once into a sync folder's bucket, under `prefix`. */
export async function startBackup(parts: DaemonParts, folderId: string, paths: ReadonlyArray<string>, prefix: string): Promise<JobSummary> {
  const folder = parts.folder(folderId);
  const normalized = normalizePrefix(prefix);
  for (const other of parts.folderConfigs()) {
    if (other.endpoint === folder.endpoint && other.bucket === folder.bucket && prefixesOverlap(other.prefix, normalized)) {
      throw new CosyncError('usage', `backup prefix ${JSON.stringify(normalized)} overlaps sync folder ${other.id} (prefix ${JSON.stringify(other.prefix)}); choose a prefix of its own, e.g. backups/`);
    }
  }
  for (const path of paths) if (!isAbsolute(path)) throw new CosyncError('usage', `${JSON.stringify(path)} is not an absolute path`);
  const { connection, target } = await connect(parts, folder);
  const destination = { connection, target: { ...target, prefix: normalized } };
  const title = `Back up ${paths.length === 1 ? (paths[0] as string).split(sep).at(-1) : `${paths.length} items`} to ${folder.bucket}/${normalized}`;
  return parts.jobRegistry.start('backup', title, async (emit, signal) => {
    try {
      return await parts.sync.backup(paths, destination, emit, signal);
    } finally {
      connection.store.close();
      // Files staged from a browser drop were copies; they go once their backup is over.
      await parts.staging.discard(paths);
    }
  });
}

/**
 * Rotates a folder's SSE-C key (main/secrets/key-rotation.ts) as a job. The folder leaves the
 * sync engine for the duration — nothing may write with the old key meanwhile — and comes back
 * with whatever key the keychain then holds under its name (the new one once it is done).
 */
export async function startKeyRotation(parts: DaemonParts, folderId: string, kitPath: string): Promise<JobSummary> {
  const folder = parts.folder(folderId);
  const keyName = sseCKeyName(folder, 'rotate');
  if (!isAbsolute(kitPath)) throw new CosyncError('usage', `the new key's recovery kit needs an absolute file path; got ${JSON.stringify(kitPath)}`);
  const { engine, sync } = parts;
  const { session } = engine;
  const { connection, target } = await connect(parts, folder);
  const allFolders = parts.folderConfigs();
  await sync.removeFolder(folder.id);
  return parts.jobRegistry.start('rotate', `Rotate key ${keyName} of ${folder.localPath}`, async (emit, signal) => {
    try {
      const result = await rotateFolderKey(
        // The window asks for no kit passphrase yet: its rotation writes a clear kit (mode 0600).
          { folder, keyName, kitOut: kitPath, forceKit: false, kit: {}, allFolders },
        {
          store: connection.store,
          journal: engine.journal,
          keychain: session.keychain,
          config: session.config,
          logger: session.logger,
          limits: target.dialect === 'cos' ? COS_LIMITS : S3_LIMITS,
          sizing: engine.sizing,
          concurrency: ROTATION_CONCURRENCY,
          partQueue: engine.pool.parts,
          signal,
          onEvent: (event) => {
            // Shown as a transfer: one "file" per object re-encrypted.
            if (event.type === 'rotation-started') emit({ type: 'run-started', direction: 'backup', files: event.toReEncrypt, bytes: event.bytesToReEncrypt });
            else if (event.type === 'object-re-encrypted') emit({ type: 'file-finished', path: event.key, key: event.key, bytes: event.bytes, result: 'uploaded', detail: event.method });
          },
        },
      );
      return { succeeded: result.reEncrypted + result.alreadyDone, failed: 0 };
    } finally {
      connection.store.close();
      await sync.addFolder((await session.config.load()).folders.find((candidate) => candidate.id === folder.id) ?? folder);
    }
  });
}
