/**
 * The journal's record of sync folders: per folder and path, the three trees (what was seen
 * locally, what was seen in the bucket, and the last state both agreed on) and the last error,
 * so that after a restart the plan is computed again from observations, never from a work queue.
 */
import type { LocalFile, RemoteFile, SyncedFile } from '../../app/sync-model.js';
import type { JournalDatabase } from './journal-database.js';

/** The last failure of a path, kept until it syncs. */
export interface SyncErrorRecord {
  readonly code: string;
  readonly message: string;
  readonly attempts: number;
  readonly retryAt: number | null;
}

/** Everything the journal holds about one sync folder. */
export interface SyncFolderState {
  readonly local: Map<string, LocalFile>;
  readonly remote: Map<string, RemoteFile>;
  readonly synced: Map<string, SyncedFile>;
  readonly errors: Map<string, SyncErrorRecord>;
}

interface SyncRow {
  path: string;
  local_size: number | null;
  local_mtime_ms: number | null;
  local_file_id: string | null;
  local_hash: string | null;
  local_disk_path: string | null;
  remote_size: number | null;
  remote_etag: string | null;
  synced_size: number | null;
  synced_mtime_ms: number | null;
  synced_file_id: string | null;
  synced_hash: string | null;
  synced_etag: string | null;
  synced_key_fingerprint: string | null;
  error_code: string | null;
  error_message: string | null;
  error_attempts: number;
  error_retry_at: number | null;
}

const UPSERT_LOCAL = `INSERT INTO sync_files (folder_id, path, local_size, local_mtime_ms, local_file_id, local_hash, local_disk_path)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (folder_id, path) DO UPDATE SET local_size = excluded.local_size, local_mtime_ms = excluded.local_mtime_ms,
    local_file_id = excluded.local_file_id, local_hash = excluded.local_hash, local_disk_path = excluded.local_disk_path`;
const UPSERT_REMOTE = `INSERT INTO sync_files (folder_id, path, remote_size, remote_etag) VALUES (?, ?, ?, ?)
  ON CONFLICT (folder_id, path) DO UPDATE SET remote_size = excluded.remote_size, remote_etag = excluded.remote_etag`;
const UPSERT_SYNCED = `INSERT INTO sync_files (folder_id, path, synced_size, synced_mtime_ms, synced_file_id, synced_hash, synced_etag, synced_key_fingerprint, synced_at,
    error_code, error_message, error_attempts, error_retry_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 0, NULL)
  ON CONFLICT (folder_id, path) DO UPDATE SET synced_size = excluded.synced_size, synced_mtime_ms = excluded.synced_mtime_ms,
    synced_file_id = excluded.synced_file_id, synced_hash = excluded.synced_hash, synced_etag = excluded.synced_etag,
    synced_key_fingerprint = excluded.synced_key_fingerprint, synced_at = excluded.synced_at,
    error_code = NULL, error_message = NULL, error_attempts = 0, error_retry_at = NULL`;
const UPSERT_ERROR = `INSERT INTO sync_files (folder_id, path, error_code, error_message, error_attempts, error_retry_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (folder_id, path) DO UPDATE SET error_code = excluded.error_code, error_message = excluded.error_message,
    error_attempts = excluded.error_attempts, error_retry_at = excluded.error_retry_at`;
/** A row that no tree mentions any more carries no information. */
const PRUNE_ROW = `DELETE FROM sync_files WHERE folder_id = ? AND path = ? AND local_size IS NULL AND remote_size IS NULL
  AND synced_size IS NULL AND error_code IS NULL`;

/** A change to one path of one tree: the new observation, or null when the path is gone. */
export type TreeChange<T> = { readonly path: string; readonly file: T | null };

/** The three trees and the errors of every sync folder (table sync_files). */
export class SyncFolderRecords {
  constructor(private readonly database: JournalDatabase) {}

  /** Loads the three trees and the errors of a folder. */
  loadSyncFolder(folderId: string): SyncFolderState {
    const state: SyncFolderState = { local: new Map(), remote: new Map(), synced: new Map(), errors: new Map() };
    for (const row of this.database.statement('SELECT * FROM sync_files WHERE folder_id = ?').iterate(folderId) as IterableIterator<SyncRow>) {
      const { path } = row;
      if (row.local_size !== null) {
        state.local.set(path, {
          path,
          diskPath: row.local_disk_path ?? undefined,
          sizeBytes: row.local_size,
          mtimeMs: row.local_mtime_ms as number,
          fileId: row.local_file_id,
          hash: row.local_hash,
        });
      }
      if (row.remote_size !== null) state.remote.set(path, { path, sizeBytes: row.remote_size, etag: row.remote_etag });
      if (row.synced_size !== null) {
        // The same text in two columns is one string in memory (100,000 files: megabytes).
        state.synced.set(path, {
          path,
          sizeBytes: row.synced_size,
          mtimeMs: row.synced_mtime_ms as number,
          fileId: row.synced_file_id === row.local_file_id ? row.local_file_id : row.synced_file_id,
          hash: row.synced_hash === row.local_hash ? row.local_hash : row.synced_hash,
          etag: row.synced_etag === row.remote_etag ? row.remote_etag : row.synced_etag,
          keyFingerprint: row.synced_key_fingerprint,
        });
      }
      if (row.error_code !== null) {
        state.errors.set(path, { code: row.error_code, message: row.error_message ?? '', attempts: row.error_attempts, retryAt: row.error_retry_at });
      }
    }
    return state;
  }

  /** Records changed local observations in one transaction (a scan writes only what differs). */
  writeLocalChanges(folderId: string, changes: ReadonlyArray<TreeChange<LocalFile>>): void {
    if (changes.length === 0) return;
    this.database.transaction(() => {
      for (const { path, file } of changes) {
        this.database.statement(UPSERT_LOCAL).run(folderId, path, file?.sizeBytes ?? null, file?.mtimeMs ?? null, file?.fileId ?? null, file?.hash ?? null, file?.diskPath ?? null);
        if (file === null) this.database.statement(PRUNE_ROW).run(folderId, path);
      }
    });
  }

  /** Records changed bucket observations in one transaction. */
  writeRemoteChanges(folderId: string, changes: ReadonlyArray<TreeChange<RemoteFile>>): void {
    if (changes.length === 0) return;
    this.database.transaction(() => {
      for (const { path, file } of changes) {
        this.database.statement(UPSERT_REMOTE).run(folderId, path, file?.sizeBytes ?? null, file?.etag ?? null);
        if (file === null) this.database.statement(PRUNE_ROW).run(folderId, path);
      }
    });
  }

  /**
   * Commits the outcome of one action atomically: the new synced state of a path (null: no longer
   * tracked) together with what we now know the bucket holds there. A success clears the error.
   */
  recordSyncOutcome(folderId: string, outcomes: ReadonlyArray<{ path: string; synced: SyncedFile | null; remote?: RemoteFile | null }>): void {
    const now = Date.now();
    this.database.transaction(() => {
      for (const { path, synced, remote } of outcomes) {
        this.database.statement(UPSERT_SYNCED).run(
          folderId,
          path,
          synced?.sizeBytes ?? null,
          synced?.mtimeMs ?? null,
          synced?.fileId ?? null,
          synced?.hash ?? null,
          synced?.etag ?? null,
          synced?.keyFingerprint ?? null,
          synced === null ? null : now,
        );
        if (remote !== undefined) this.database.statement(UPSERT_REMOTE).run(folderId, path, remote?.sizeBytes ?? null, remote?.etag ?? null);
        this.database.statement(PRUNE_ROW).run(folderId, path);
      }
    });
  }

  /** Records (or, with null, clears) the last error of a path. */
  recordSyncError(folderId: string, path: string, error: SyncErrorRecord | null): void {
    this.database.transaction(() => {
      this.database.statement(UPSERT_ERROR).run(folderId, path, error?.code ?? null, error?.message ?? null, error?.attempts ?? 0, error?.retryAt ?? null);
      if (error === null) this.database.statement(PRUNE_ROW).run(folderId, path);
    });
  }

  /** Forgets everything about a folder (when it is removed from the configuration). */
  deleteSyncFolder(folderId: string): void {
    this.database.statement('DELETE FROM sync_files WHERE folder_id = ?').run(folderId);
  }

  /**
   * Part of a key rotation's transaction: the bucket observation of a re-encrypted object gets its
   * new ETag; the synced state too, but only if it described the object that was re-encrypted (its
   * ETag was the old one, or without a note from before the copy, the last observed one) — a
   * change someone else made before the rotation stays visible as such; the recorded key
   * fingerprint becomes the new key's (whatever is at that path now answers to it).
   */
  carryOverRotation(folderId: string, path: string, object: { notedOldEtag: string | null; newEtag: string | null; sizeBytes: number; newFingerprint: string }): void {
    const row = this.database
      .statement('SELECT remote_size AS remoteSize, remote_etag AS remoteEtag, synced_size AS syncedSize, synced_etag AS syncedEtag FROM sync_files WHERE folder_id = ? AND path = ?')
      .get(folderId, path) as { remoteSize: number | null; remoteEtag: string | null; syncedSize: number | null; syncedEtag: string | null } | undefined;
    if (row === undefined) return;
    // Without a note from before the copy (it was lost), the last observation of the bucket stands in for the old ETag.
    const oldEtag = object.notedOldEtag ?? row.remoteEtag;
    if (row.syncedSize !== null) {
      const describedThisObject = row.syncedEtag !== null && row.syncedEtag === oldEtag;
      this.database
        .statement('UPDATE sync_files SET synced_etag = ?, synced_key_fingerprint = ? WHERE folder_id = ? AND path = ?')
        .run(describedThisObject ? object.newEtag : row.syncedEtag, object.newFingerprint, folderId, path);
    }
    if (row.remoteSize !== null) {
      this.database.statement('UPDATE sync_files SET remote_size = ?, remote_etag = ? WHERE folder_id = ? AND path = ?').run(object.sizeBytes, object.newEtag, folderId, path);
    }
  }
}
