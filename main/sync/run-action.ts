/**
 * Runs one planner action with its executor and records a failure where the error policy
 * (main/remote/error-policy.ts RETRY_SCOPE) says the next attempt happens: `path` — the path's
 * error (state `error`, or `conflict`) with a retry time that backs off 2, 4, 8 … seconds, at most
 * 10 minutes; `never` — the path's error with no retry time, failed at once until someone acts
 * (retry, or the file changes); `folder` — no path error: the folder's problem (FolderSync) stops
 * it and the path is planned again once the folder is retried.
 */
import { assertNever, CosyncError } from '../../app/result.js';
import type { SyncAction } from '../../app/sync-model.js';
import type { SyncErrorRecord } from '../journal/journal.js';
import { RETRY_SCOPE } from '../remote/error-policy.js';
import { moveAction } from './copy-executor.js';
import { deleteRemoteAction, forgetAction, refreshAction, trashRemoteAction } from './delete-executor.js';
import { folderIdOf, type ExecutorContext } from './executor-context.js';
import { adoptAction, uploadAction } from './upload-executor.js';

/** Failures of one path are retried after 2, 4, 8 … seconds, at most this long apart. */
const MAX_RETRY_DELAY_MS = 10 * 60_000;

/** The path an action is shown under (a move: its destination). */
export function primaryPath(action: SyncAction): string {
  return action.kind === 'move' ? action.to : action.path;
}

/** Carries out one action; throws what the executor threw. */
export async function executeAction(context: ExecutorContext, action: SyncAction): Promise<void> {
  switch (action.kind) {
    case 'upload':
      return uploadAction(context, action.path, action.preserveRemote);
    case 'adopt':
      return adoptAction(context, action.path);
    case 'move':
      return moveAction(context, action.from, action.to, action.deleteSource);
    case 'delete-remote':
      return deleteRemoteAction(context, action.path);
    case 'trash-remote':
      return trashRemoteAction(context, action.path, action.trashPath);
    case 'forget':
      return forgetAction(context, action.path, action.reason);
    case 'refresh':
      return refreshAction(context, action.path);
    default:
      return assertNever(action);
  }
}

/** The error a failure is recorded as: a CosyncError as it is, a vanished file as a change, the rest internal. */
export function failureOf(path: string, error: unknown): CosyncError {
  if (error instanceof CosyncError) return error;
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return new CosyncError('local-changed', `${path} disappeared while it was being synced; it is looked at again`);
  return new CosyncError('internal', (error as Error)?.message ?? String(error));
}

/**
 * Records the failure of `path`: its attempts and retry time in the journal, its state, a log
 * line. Returns the error so the caller can stop the folder (run-fatal) or observe the file again (changed).
 */
export function recordFailure(context: ExecutorContext, path: string, error: unknown): CosyncError {
  const info = failureOf(path, error);
  const { trees } = context;
  const scope = RETRY_SCOPE[info.code];
  if (scope === 'folder') {
    // Every other file would meet it too: the folder's problem says so, not a backoff per path.
    trees.changed.add(path);
    context.status.queued(path);
    context.logger.log('error', 'sync-failed', { folder: folderIdOf(context), path, code: info.code, message: info.message, attempts: 0 });
    return info;
  }
  const attempts = (trees.errors.get(path)?.attempts ?? 0) + 1;
  // A file that changed under the upload is not a failure: it is observed again and re-planned soon.
  const delay = info.code === 'local-changed' ? 1000 : Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** attempts);
  const record: SyncErrorRecord = { code: info.code, message: info.message, attempts, retryAt: scope === 'never' ? null : context.now() + delay };
  trees.recordError(path, record);
  trees.changed.add(path);
  if (info.code === 'local-conflict') context.status.conflict(path, info.message);
  else context.status.failed(path, record);
  context.logger.log(info.code === 'local-changed' ? 'info' : 'error', 'sync-failed', { folder: folderIdOf(context), path, code: info.code, message: info.message, attempts });
  return info;
}
