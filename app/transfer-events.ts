/**
 * Events a backup or restore run emits, for the CLI's lines and JSON, and later the UI.
 * Plain data only (they cross process boundaries as JSON).
 */
import type { CosyncErrorInfo } from './result.js';

/** One event of a transfer run. */
export type TransferEvent =
  | { readonly type: 'run-started'; readonly direction: 'backup' | 'restore'; readonly files: number; readonly bytes: number }
  | { readonly type: 'file-started'; readonly path: string; readonly key: string; readonly bytes: number }
  | { readonly type: 'file-resumed'; readonly path: string; readonly key: string; readonly partsDone: number; readonly partCount: number }
  | { readonly type: 'file-progress'; readonly path: string; readonly bytesDone: number; readonly bytes: number }
  | {
      readonly type: 'file-finished';
      readonly path: string;
      readonly key: string;
      readonly bytes: number;
      /** uploaded / restored, or unchanged when the restore found an identical file. */
      readonly result: 'uploaded' | 'restored' | 'unchanged';
      readonly detail: string;
    }
  | { readonly type: 'file-failed'; readonly path: string; readonly key: string; readonly error: CosyncErrorInfo }
  /** An archived object whose retrieval was started (now or by an earlier run): a later run downloads it. */
  | { readonly type: 'file-retrieving'; readonly path: string; readonly key: string; readonly storageClass: string; readonly readyIn: string }
  | { readonly type: 'file-skipped'; readonly path: string; readonly reason: string }
  | {
      readonly type: 'run-finished';
      readonly direction: 'backup' | 'restore';
      readonly succeeded: number;
      readonly failed: number;
      readonly skipped: number;
      /** Archived objects still being retrieved (restore only): run the restore again later. */
      readonly retrieving?: number;
      readonly bytes: number;
      readonly seconds: number;
    };

/** The words for an archived file being retrieved, the same in the CLI and the window. */
export function describeRetrieving(event: { readonly storageClass: string; readonly readyIn: string }): string {
  return `retrieving from archive (${event.storageClass}), ready in about ${event.readyIn}`;
}
