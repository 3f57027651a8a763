/**
 * Keeps an object someone else wrote where a local file is about to be uploaded, as a conflict
 * copy beside it (`name.cosync-conflict-STAMP.ext`), or refuses to overwrite it.
 */
import { CosyncError } from '../../app/result.js';
import { conflictCopyPath, pathStamp } from '../../app/sync-model.js';
import { keyLengthProblem } from '../../app/object-key.js';
import type { ObjectEncryption } from '../remote/remote-store.js';
import { isRunFatal } from '../transfer/backup.js';
import { copyObjectWithFallback } from '../transfer/copy-object.js';
import { folderIdOf, writtenByThisFolder, type ExecutorContext } from './executor-context.js';

/** Copies the object at `path` to a conflict-copy path unless it is this folder's own write. */
export async function preserveTheirs(context: ExecutorContext, path: string, knownNotOurs: boolean): Promise<void> {
  const { trees, store, encryption, signal } = context;
  const theirs = trees.remote.get(path);
  if (theirs === undefined) return;
  // Killed after an upload but before its journal commit, the object is our own write: nothing to keep.
  if (!knownNotOurs && (await writtenByThisFolder(context, path))) return;
  const copyPath = conflictCopyPath(path, pathStamp(context.now()));
  const tooLong = keyLengthProblem(trees.keyOf(copyPath));
  if (tooLong !== undefined) {
    throw new CosyncError('local-conflict', `${path}: the object in the bucket was changed by someone else and cannot be kept as the conflict copy ${copyPath} (${tooLong.message}); it is not overwritten until the file has a shorter name`);
  }
  const attempts: ObjectEncryption[] = [encryption];
  // Someone else may have written it without our key; the copy then reads it as they wrote it.
  if (encryption.mode === 'c') attempts.push({ mode: 'none' });
  let lastError: unknown;
  for (const source of attempts) {
    try {
      await copyObjectWithFallback(store, trees.keyOf(path), trees.keyOf(copyPath), { source, destination: source }, { ...context.upload, signal });
      trees.recordRemote({ path: copyPath, sizeBytes: theirs.sizeBytes, etag: null });
      context.logger.log('warn', 'conflict-copy', { folder: folderIdOf(context), key: trees.keyOf(path), copy: trees.keyOf(copyPath) });
      return;
    } catch (error) {
      if (error instanceof CosyncError && error.code === 'object-not-found') return; // Gone meanwhile: nothing to keep.
      if (error instanceof CosyncError && isRunFatal(error)) throw error;
      lastError = error;
    }
  }
  throw new CosyncError(
    'local-conflict',
    `${path}: the object in the bucket was changed by someone else and could not be kept as a conflict copy (${(lastError as Error)?.message}); it is not overwritten until that works`,
  );
}
