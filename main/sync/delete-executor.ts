/**
 * Executors for a file deleted locally, by the folder's delete policy (app/sync-model.ts
 * DeletePolicy): mirror deletes the object, trash moves it into the dated trash, keep only
 * forgets it. And `refresh`: a touched file whose content is what was synced gets its new identity.
 */
import { folderIdOf, type ExecutorContext } from './executor-context.js';
import { copyAction } from './copy-executor.js';

/** Policy mirror: the object goes. */
export async function deleteRemoteAction(context: ExecutorContext, path: string): Promise<void> {
  const { trees } = context;
  await context.store.deleteObject(trees.keyOf(path), { signal: context.signal });
  trees.commit([{ path, synced: null, remote: null }]);
  context.logger.log('info', 'deleted-remote', { folder: folderIdOf(context), key: trees.keyOf(path) });
}

/** Policy trash: the object is copied into the trash, then deleted from its place. */
export async function trashRemoteAction(context: ExecutorContext, path: string, trashPath: string): Promise<void> {
  const { trees } = context;
  await copyAction(context, path, trashPath);
  await context.store.deleteObject(trees.keyOf(path), { signal: context.signal });
  trees.commit([{ path, synced: null, remote: null }]);
  context.logger.log('info', 'trashed-remote', { folder: folderIdOf(context), key: trees.keyOf(path), trash: trees.keyOf(trashPath) });
}

/** Journal only: stop tracking a path whose object stays (policy keep, ignored, or no longer ours). */
export function forgetAction(context: ExecutorContext, path: string, reason: string): void {
  context.trees.commit([{ path, synced: null }]);
  context.logger.log('info', 'forgot', { folder: folderIdOf(context), path, reason });
}

/** Journal only: the file was touched but holds what was synced; record its new mtime and identity. */
export function refreshAction(context: ExecutorContext, path: string): void {
  const { trees } = context;
  const local = trees.local.get(path);
  const synced = trees.synced.get(path);
  if (local !== undefined && synced !== undefined) trees.commit([{ path, synced: { ...synced, mtimeMs: local.mtimeMs, fileId: local.fileId } }]);
}

