/**
 * Per-file sync status: a small state machine whose every change goes through the StatusTracker
 * (main/sync/status-tracker.ts), which batches them for UIs.
 *
 *   (new) ─► queued ─► hashing ─► uploading (bytes) ─► verifying ─► synced
 *              ▲          │            │                  │
 *              └──────────┴──── error (code, retry at) ◄──┘      any ─► ignored | conflict
 */

/** The state of one file of a sync folder. */
export type FileSyncState =
  | { readonly state: 'queued' }
  | { readonly state: 'hashing' }
  | { readonly state: 'uploading'; readonly bytesDone: number; readonly bytesTotal: number }
  | { readonly state: 'verifying' }
  | { readonly state: 'synced' }
  | { readonly state: 'error'; readonly code: string; readonly message: string; readonly retryAt: number | null }
  | { readonly state: 'ignored'; readonly reason: string }
  | { readonly state: 'conflict'; readonly message: string };

export type FileStateName = FileSyncState['state'];

export const FILE_STATE_NAMES: ReadonlyArray<FileStateName> = ['queued', 'hashing', 'uploading', 'verifying', 'synced', 'error', 'ignored', 'conflict'];

/**
 * The state of one sync folder, changed only through the StatusTracker (Syncthing's
 * lib/model/folderstate.go is the model): scanning while the disk or the bucket is observed,
 * syncing while actions run, error while a folder problem (missing folder, rejected
 * credentials…) holds everything back until its next attempt.
 */
export type FolderSyncState =
  | { readonly state: 'idle' }
  | { readonly state: 'scanning' }
  | { readonly state: 'syncing'; readonly actions: number }
  | { readonly state: 'paused' }
  | { readonly state: 'error'; readonly code: string; readonly message: string };

export type FolderStateName = FolderSyncState['state'];

/** A folder's state changed. */
export interface FolderStateChange {
  readonly folderId: string;
  readonly state: FolderSyncState;
}

/** The latest status of one path. */
export interface FileStatus {
  readonly folderId: string;
  readonly path: string;
  readonly status: FileSyncState;
  readonly changedAt: number;
}

/**
 * One batch for a subscriber: the newest status of every path that changed since its previous
 * batch (one entry per path), and the paths forgotten since (deleted and done).
 */
export interface StatusBatch {
  readonly changes: ReadonlyArray<FileStatus>;
  readonly forgotten: ReadonlyArray<{ readonly folderId: string; readonly path: string }>;
}

/** How many files of a folder are in each state. */
export type StateCounts = Readonly<Record<FileStateName, number>>;

const NEXT: Readonly<Record<FileStateName, ReadonlyArray<FileStateName>>> = {
  queued: ['hashing', 'uploading', 'verifying', 'synced', 'error'],
  hashing: ['uploading', 'verifying', 'synced', 'error'],
  uploading: ['uploading', 'verifying', 'synced', 'error'],
  verifying: ['uploading', 'synced', 'error'],
  // The file changed: it is hashed again to tell a real change from a touch.
  synced: ['synced', 'hashing'],
  // Fixed from outside (the object reappeared, the file was deleted): no new attempt needed; or changed again.
  error: ['error', 'synced', 'hashing'],
  // A rule or a conflict resolved: the file is looked at afresh.
  ignored: ['hashing', 'uploading', 'verifying', 'synced', 'error'],
  conflict: ['hashing', 'uploading', 'verifying', 'synced', 'error'],
};

/**
 * Whether a change follows the state machine. Any state may go back to queued (the file changed
 * again, or a retry) or to ignored / conflict; a file that changed is hashed again (a large one
 * visibly); a new path may start anywhere but the middle of an upload.
 */
export function isValidTransition(from: FileStateName | undefined, to: FileStateName): boolean {
  if (to === 'queued' || to === 'ignored' || to === 'conflict') return true;
  // A new path starts as seen by the first scan: synced, failing, or being hashed (a large new file).
  if (from === undefined) return to === 'synced' || to === 'error' || to === 'hashing';
  return NEXT[from].includes(to);
}
