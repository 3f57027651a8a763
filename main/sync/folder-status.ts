/**
 * What one folder tells the StatusTracker about its files: each step of the per-file state
 * machine (app/sync-status.ts) by name, so observers, the scheduler and executors never build
 * states themselves. Every per-file state of a folder is set here, and the tracker checks it.
 */
import type { FileSyncState } from '../../app/sync-status.js';
import type { SyncErrorRecord } from '../journal/journal.js';

/** Where per-file states go (the StatusTracker). */
export interface StatusSink {
  set(folderId: string, path: string, status: FileSyncState): void;
  forget(folderId: string, path: string): void;
}

/** The state shown for a failing path. */
export function errorState(error: SyncErrorRecord): FileSyncState {
  return { state: 'error', code: error.code, message: error.message, retryAt: error.retryAt };
}

export class FolderStatus {
  constructor(
    private readonly folderId: string,
    private readonly sink: StatusSink,
  ) {}

  queued(path: string): void {
    this.sink.set(this.folderId, path, { state: 'queued' });
  }

  hashing(path: string): void {
    this.sink.set(this.folderId, path, { state: 'hashing' });
  }

  uploading(path: string, bytesDone: number, bytesTotal: number): void {
    this.sink.set(this.folderId, path, { state: 'uploading', bytesDone, bytesTotal });
  }

  /** The object is being checked against the file (after an upload's last part, or before adopting it). */
  verifying(path: string): void {
    this.sink.set(this.folderId, path, { state: 'verifying' });
  }

  synced(path: string): void {
    this.sink.set(this.folderId, path, { state: 'synced' });
  }

  failed(path: string, error: SyncErrorRecord): void {
    this.sink.set(this.folderId, path, errorState(error));
  }

  conflict(path: string, message: string): void {
    this.sink.set(this.folderId, path, { state: 'conflict', message });
  }

  ignored(path: string, reason: string): void {
    this.sink.set(this.folderId, path, { state: 'ignored', reason });
  }

  forget(path: string): void {
    this.sink.forget(this.folderId, path);
  }
}
