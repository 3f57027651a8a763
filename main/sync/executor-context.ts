/**
 * What every executor of a folder's actions needs: the folder's trees (to read what was observed
 * and commit what was done), its store and encryption, the shared upload settings, where file
 * states go, and the signal that cancels the run. Executors carry out one planner action each
 * and throw on failure; the scheduler records failures (run-action.ts).
 */
import { CosyncError } from '../../app/result.js';
import type { Logger } from '../log/logger.js';
import type { ObjectEncryption, RemoteStore } from '../remote/remote-store.js';
import { isRunFatal } from '../transfer/backup.js';
import { METADATA } from '../transfer/content-digest.js';
import type { UploadContext } from '../transfer/upload-file.js';
import type { FolderStatus } from './folder-status.js';
import type { FolderTrees } from './folder-trees.js';

export interface ExecutorContext {
  readonly trees: FolderTrees;
  readonly store: RemoteStore;
  readonly encryption: ObjectEncryption;
  /** Upload settings shared by every folder on the same store (queues, buffers, limits), with `signal` set. */
  readonly upload: UploadContext;
  readonly status: FolderStatus;
  readonly logger: Logger;
  readonly now: () => number;
  /** Cancels the action: passed into every store call and transfer. */
  readonly signal: AbortSignal | undefined;
}

/** The folder's id (the writer mark on its objects, and the `folder` of its log lines). */
export function folderIdOf(context: ExecutorContext): string {
  return context.trees.config.id;
}

/** The SSE-C fingerprint recorded with objects this folder writes (null without SSE-C). */
export function keyFingerprintOf(context: ExecutorContext): string | null {
  return context.encryption.mode === 'c' ? context.encryption.key.fingerprint : null;
}

/** Whether the object at `path` carries this folder's writer mark (read with our key; unreadable → no). */
export async function writtenByThisFolder(context: Pick<ExecutorContext, 'trees' | 'store' | 'encryption' | 'signal'>, path: string): Promise<boolean> {
  try {
    const head = await context.store.headObject(context.trees.keyOf(path), context.encryption, { signal: context.signal });
    return head?.metadata[METADATA.writer] === context.trees.config.id;
  } catch (error) {
    if (error instanceof CosyncError && isRunFatal(error)) throw error;
    return false;
  }
}
