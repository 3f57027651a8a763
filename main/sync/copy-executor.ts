/**
 * Executors that copy on the server: `move` (a rename or move seen locally: copy the object to
 * the new key, record it, then dispose of the old one by policy) and the copy both it and the
 * trash use (server-side, streamed through us where the server cannot).
 */
import { CosyncError } from '../../app/result.js';
import { TRASH_PREFIX, type RemoteFile } from '../../app/sync-model.js';
import { keyLengthProblem } from '../../app/object-key.js';
import { isRunFatal } from '../transfer/backup.js';
import { copyObjectWithFallback } from '../transfer/copy-object.js';
import { folderIdOf, type ExecutorContext } from './executor-context.js';
import { uploadAction } from './upload-executor.js';

/** Copies the object of `fromPath` to `toPath` and returns the destination's listing entry. */
export async function copyAction(context: ExecutorContext, fromPath: string, toPath: string): Promise<RemoteFile> {
  const { trees, store, encryption, signal } = context;
  // A trash path adds a folder in front of the key: it can be over the limit where the file's own key was not.
  const tooLong = keyLengthProblem(trees.keyOf(toPath));
  if (tooLong !== undefined) throw new CosyncError(tooLong.code, `cannot copy it to ${toPath}: ${tooLong.message}`);
  await copyObjectWithFallback(store, trees.keyOf(fromPath), trees.keyOf(toPath), { source: encryption, destination: encryption }, { ...context.upload, signal });
  const head = await store.headObject(trees.keyOf(toPath), encryption, { signal });
  if (head === undefined) throw new CosyncError('integrity', `the copy ${JSON.stringify(trees.keyOf(toPath))} is missing right after it was made`);
  const copied: RemoteFile = { path: toPath, sizeBytes: head.sizeBytes, etag: head.etag ?? null };
  // The trash is not part of the mirrored tree (the listing leaves it out too).
  if (!toPath.startsWith(TRASH_PREFIX)) trees.recordRemote(copied);
  return copied;
}

/** A rename or move: copy the object on the server, record the new path, then dispose of the old one. */
export async function moveAction(context: ExecutorContext, fromPath: string, toPath: string, deleteSource: boolean): Promise<void> {
  const { trees } = context;
  const local = trees.local.get(toPath);
  const source = trees.synced.get(fromPath);
  if (local === undefined || source === undefined) return;
  context.status.uploading(toPath, 0, local.sizeBytes);
  let copied: RemoteFile | undefined;
  try {
    copied = await copyAction(context, fromPath, toPath);
  } catch (error) {
    if (error instanceof CosyncError && isRunFatal(error)) throw error;
    context.logger.log('warn', 'move-copy-failed', { folder: folderIdOf(context), from: fromPath, to: toPath, message: (error as Error).message });
  }
  if (copied !== undefined && copied.sizeBytes === local.sizeBytes) {
    trees.commit([
      {
        path: toPath,
        synced: { path: toPath, sizeBytes: local.sizeBytes, mtimeMs: local.mtimeMs, fileId: local.fileId, hash: local.hash ?? source.hash, etag: copied.etag, keyFingerprint: source.keyFingerprint },
      },
    ]);
  } else {
    // The copy failed or does not look like the file: the local file is the truth, send it.
    await uploadAction(context, toPath, false);
  }
  if (deleteSource) {
    await context.store.deleteObject(trees.keyOf(fromPath), { signal: context.signal });
    trees.commit([{ path: fromPath, synced: null, remote: null }]);
  } else {
    trees.commit([{ path: fromPath, synced: null }]);
  }
  context.logger.log('info', 'moved', { folder: folderIdOf(context), from: trees.keyOf(fromPath), to: trees.keyOf(toPath), deleteSource });
}
