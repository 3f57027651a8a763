/**
 * The SQLite journal: what cosync has observed and done, durable across crashes.
 *
 * For now it records uploaded objects (the "remote / synced" observations) and in-flight
 * multipart uploads with each finished part, committed before the part counts — so that after
 * a kill the upload resumes instead of starting over. It stores observations, never a work queue.
 * No secret is ever stored here: SSE-C keys appear only as fingerprints.
 */
import Database from 'better-sqlite3';
import type { LocalFile, RemoteFile, SyncedFile } from '../../app/sync-model.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One uploaded object as last confirmed by the server. */
export interface ObjectRecord {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly localPath: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly digest: string;
  readonly keyFingerprint: string | null;
  readonly etag: string | null;
  readonly uploadedAt: number;
}

/** A multipart upload in progress. */
export interface MultipartRecord {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly localPath: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly partBytes: number;
  readonly keyFingerprint: string | null;
  readonly startedAt: number;
}

/** A part the server confirmed, with the MD5 of what we sent. */
export interface PartRecord {
  readonly partNumber: number;
  readonly etag: string;
  readonly md5Hex: string;
}

/** Ordered schema migrations; index + 1 is the schema version (PRAGMA user_version). */
const MIGRATIONS: ReadonlyArray<string> = [
  `CREATE TABLE objects (
     endpoint TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL,
     local_path TEXT NOT NULL, size_bytes INTEGER NOT NULL, mtime_ms INTEGER NOT NULL,
     digest TEXT NOT NULL, key_fingerprint TEXT, etag TEXT, uploaded_at INTEGER NOT NULL,
     PRIMARY KEY (endpoint, bucket, key)
   );
   CREATE TABLE multipart_uploads (
     endpoint TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, upload_id TEXT NOT NULL,
     local_path TEXT NOT NULL, size_bytes INTEGER NOT NULL, mtime_ms INTEGER NOT NULL,
     part_bytes INTEGER NOT NULL, key_fingerprint TEXT, started_at INTEGER NOT NULL,
     PRIMARY KEY (endpoint, bucket, key)
   );
   CREATE TABLE multipart_parts (
     upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, etag TEXT NOT NULL, md5_hex TEXT NOT NULL,
     PRIMARY KEY (upload_id, part_number)
   );`,
  `CREATE TABLE downloads (
     destination TEXT PRIMARY KEY, endpoint TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL,
     etag TEXT NOT NULL, size_bytes INTEGER NOT NULL, part_bytes INTEGER NOT NULL, temp_path TEXT NOT NULL,
     started_at INTEGER NOT NULL
   );
   CREATE TABLE download_parts (
     destination TEXT NOT NULL, part_number INTEGER NOT NULL, md5_hex TEXT NOT NULL,
     PRIMARY KEY (destination, part_number)
   );`,
  // The three trees of every sync folder, one row per path: what was seen locally, what was seen
  // in the bucket, and the last state both agreed on — plus the last error, so status survives a restart.
  `CREATE TABLE sync_files (
     folder_id TEXT NOT NULL, path TEXT NOT NULL,
     local_size INTEGER, local_mtime_ms INTEGER, local_file_id TEXT, local_hash TEXT, local_disk_path TEXT,
     remote_size INTEGER, remote_etag TEXT,
     synced_size INTEGER, synced_mtime_ms INTEGER, synced_file_id TEXT, synced_hash TEXT, synced_etag TEXT,
     synced_key_fingerprint TEXT, synced_at INTEGER,
     error_code TEXT, error_message TEXT, error_attempts INTEGER NOT NULL DEFAULT 0, error_retry_at INTEGER,
     PRIMARY KEY (folder_id, path)
   ) WITHOUT ROWID;`,
];

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

/** A ranged download in progress into a temporary file. */
export interface DownloadRecord {
  readonly destination: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly sizeBytes: number;
  readonly partBytes: number;
  readonly tempPath: string;
  readonly startedAt: number;
}

/** The journal over one SQLite file (WAL mode). */
export class Journal {
  readonly #db: Database.Database;
  /** Prepared statements by SQL text: preparing costs more than running these small statements. */
  readonly #statements = new Map<string, Database.Statement>();

  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    // NORMAL is durable in WAL mode against process crashes (kill -9); only an OS crash can lose the last commits.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private statement(sql: string): Database.Statement {
    let prepared = this.#statements.get(sql);
    if (prepared === undefined) {
      prepared = this.#db.prepare(sql);
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }

  private migrate(): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(`journal ${this.file} was written by a newer cosync (schema ${current}); upgrade cosync`);
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[version] as string);
        this.#db.pragma(`user_version = ${version + 1}`);
      })();
    }
  }

  /** Records (or replaces) a confirmed upload and forgets its multipart progress, atomically. */
  recordObject(record: ObjectRecord): void {
    this.#db.transaction(() => {
      this.statement(
        `INSERT OR REPLACE INTO objects (endpoint, bucket, key, local_path, size_bytes, mtime_ms, digest, key_fingerprint, etag, uploaded_at)
         VALUES (@endpoint, @bucket, @key, @localPath, @sizeBytes, @mtimeMs, @digest, @keyFingerprint, @etag, @uploadedAt)`,
      ).run(record);
      this.forgetMultipart(record.endpoint, record.bucket, record.key);
    })();
  }

  /** The last confirmed upload of an object. */
  getObject(endpoint: string, bucket: string, key: string): ObjectRecord | undefined {
    const row = this.statement(
      `SELECT endpoint, bucket, key, local_path AS localPath, size_bytes AS sizeBytes, mtime_ms AS mtimeMs, digest,
              key_fingerprint AS keyFingerprint, etag, uploaded_at AS uploadedAt
       FROM objects WHERE endpoint = ? AND bucket = ? AND key = ?`,
    ).get(endpoint, bucket, key);
    return row as ObjectRecord | undefined;
  }

  /** Starts tracking a multipart upload (replacing any older one for the same object). */
  beginMultipart(record: MultipartRecord): void {
    this.#db.transaction(() => {
      this.forgetMultipart(record.endpoint, record.bucket, record.key);
      this.statement(
        `INSERT INTO multipart_uploads (endpoint, bucket, key, upload_id, local_path, size_bytes, mtime_ms, part_bytes, key_fingerprint, started_at)
         VALUES (@endpoint, @bucket, @key, @uploadId, @localPath, @sizeBytes, @mtimeMs, @partBytes, @keyFingerprint, @startedAt)`,
      ).run(record);
    })();
  }

  /** The multipart upload in progress for an object, with its confirmed parts. */
  getMultipart(endpoint: string, bucket: string, key: string): { upload: MultipartRecord; parts: PartRecord[] } | undefined {
    const upload = this.statement(
      `SELECT endpoint, bucket, key, upload_id AS uploadId, local_path AS localPath, size_bytes AS sizeBytes, mtime_ms AS mtimeMs,
              part_bytes AS partBytes, key_fingerprint AS keyFingerprint, started_at AS startedAt
       FROM multipart_uploads WHERE endpoint = ? AND bucket = ? AND key = ?`,
    ).get(endpoint, bucket, key) as MultipartRecord | undefined;
    if (upload === undefined) return undefined;
    const parts = this.statement('SELECT part_number AS partNumber, etag, md5_hex AS md5Hex FROM multipart_parts WHERE upload_id = ? ORDER BY part_number')
      .all(upload.uploadId) as PartRecord[];
    return { upload, parts };
  }

  /** Upload ids of every multipart upload the journal is tracking (to be resumed, not aborted). */
  trackedUploadIds(): Set<string> {
    const rows = this.statement('SELECT upload_id AS uploadId FROM multipart_uploads').all() as Array<{ uploadId: string }>;
    return new Set(rows.map((row) => row.uploadId));
  }

  /** Commits one finished part; only after this does the part count as done. */
  recordPart(uploadId: string, part: PartRecord): void {
    this.statement('INSERT OR REPLACE INTO multipart_parts (upload_id, part_number, etag, md5_hex) VALUES (?, ?, ?, ?)')
      .run(uploadId, part.partNumber, part.etag, part.md5Hex);
  }

  /** Drops a part that the server no longer has (found by ListParts reconciliation). */
  forgetPart(uploadId: string, partNumber: number): void {
    this.statement('DELETE FROM multipart_parts WHERE upload_id = ? AND part_number = ?').run(uploadId, partNumber);
  }

  /** Forgets a multipart upload and its parts (completed or aborted). */
  forgetMultipart(endpoint: string, bucket: string, key: string): void {
    const row = this.statement('SELECT upload_id AS uploadId FROM multipart_uploads WHERE endpoint = ? AND bucket = ? AND key = ?')
      .get(endpoint, bucket, key) as { uploadId: string } | undefined;
    if (row === undefined) return;
    this.statement('DELETE FROM multipart_parts WHERE upload_id = ?').run(row.uploadId);
    this.statement('DELETE FROM multipart_uploads WHERE endpoint = ? AND bucket = ? AND key = ?').run(endpoint, bucket, key);
  }

  /** Starts tracking a ranged download (replacing any older one into the same destination). */
  beginDownload(record: DownloadRecord): void {
    this.#db.transaction(() => {
      this.forgetDownload(record.destination);
      this.statement(
        `INSERT INTO downloads (destination, endpoint, bucket, key, etag, size_bytes, part_bytes, temp_path, started_at)
         VALUES (@destination, @endpoint, @bucket, @key, @etag, @sizeBytes, @partBytes, @tempPath, @startedAt)`,
      ).run(record);
    })();
  }

  /** The ranged download in progress into a destination, with the MD5 of each finished part. */
  getDownload(destination: string): { download: DownloadRecord; parts: Map<number, string> } | undefined {
    const download = this.statement(
      `SELECT destination, endpoint, bucket, key, etag, size_bytes AS sizeBytes, part_bytes AS partBytes, temp_path AS tempPath, started_at AS startedAt
       FROM downloads WHERE destination = ?`,
    ).get(destination) as DownloadRecord | undefined;
    if (download === undefined) return undefined;
    const rows = this.statement('SELECT part_number AS partNumber, md5_hex AS md5Hex FROM download_parts WHERE destination = ?').all(destination) as Array<{ partNumber: number; md5Hex: string }>;
    return { download, parts: new Map(rows.map((row) => [row.partNumber, row.md5Hex])) };
  }

  /** Commits one downloaded part (written to the temporary file before this call). */
  recordDownloadPart(destination: string, partNumber: number, md5Hex: string): void {
    this.statement('INSERT OR REPLACE INTO download_parts (destination, part_number, md5_hex) VALUES (?, ?, ?)').run(destination, partNumber, md5Hex);
  }

  /** Forgets a ranged download (finished or abandoned). */
  forgetDownload(destination: string): void {
    this.statement('DELETE FROM download_parts WHERE destination = ?').run(destination);
    this.statement('DELETE FROM downloads WHERE destination = ?').run(destination);
  }

  // ── sync folders ──

  /** Loads the three trees and the errors of a folder. */
  loadSyncFolder(folderId: string): SyncFolderState {
    const state: SyncFolderState = { local: new Map(), remote: new Map(), synced: new Map(), errors: new Map() };
    for (const row of this.statement('SELECT * FROM sync_files WHERE folder_id = ?').iterate(folderId) as IterableIterator<SyncRow>) {
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
    this.#db.transaction(() => {
      for (const { path, file } of changes) {
        this.statement(UPSERT_LOCAL).run(folderId, path, file?.sizeBytes ?? null, file?.mtimeMs ?? null, file?.fileId ?? null, file?.hash ?? null, file?.diskPath ?? null);
        if (file === null) this.statement(PRUNE_ROW).run(folderId, path);
      }
    })();
  }

  /** Records changed bucket observations in one transaction. */
  writeRemoteChanges(folderId: string, changes: ReadonlyArray<TreeChange<RemoteFile>>): void {
    if (changes.length === 0) return;
    this.#db.transaction(() => {
      for (const { path, file } of changes) {
        this.statement(UPSERT_REMOTE).run(folderId, path, file?.sizeBytes ?? null, file?.etag ?? null);
        if (file === null) this.statement(PRUNE_ROW).run(folderId, path);
      }
    })();
  }

  /**
   * Commits the outcome of one action atomically: the new synced state of a path (null: no longer
   * tracked) together with what we now know the bucket holds there. A success clears the error.
   */
  recordSyncOutcome(folderId: string, outcomes: ReadonlyArray<{ path: string; synced: SyncedFile | null; remote?: RemoteFile | null }>): void {
    const now = Date.now();
    this.#db.transaction(() => {
      for (const { path, synced, remote } of outcomes) {
        this.statement(UPSERT_SYNCED).run(
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
        if (remote !== undefined) this.statement(UPSERT_REMOTE).run(folderId, path, remote?.sizeBytes ?? null, remote?.etag ?? null);
        this.statement(PRUNE_ROW).run(folderId, path);
      }
    })();
  }

  /** Records (or, with null, clears) the last error of a path. */
  recordSyncError(folderId: string, path: string, error: SyncErrorRecord | null): void {
    this.#db.transaction(() => {
      this.statement(UPSERT_ERROR).run(folderId, path, error?.code ?? null, error?.message ?? null, error?.attempts ?? 0, error?.retryAt ?? null);
      if (error === null) this.statement(PRUNE_ROW).run(folderId, path);
    })();
  }

  /** Forgets everything about a folder (when it is removed from the configuration). */
  deleteSyncFolder(folderId: string): void {
    this.statement('DELETE FROM sync_files WHERE folder_id = ?').run(folderId);
  }

  close(): void {
    this.#db.close();
  }
}
