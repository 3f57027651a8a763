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
  // Key rotations (`cosync key rotate`): one row per rotation, at most one unfinished per folder,
  // and per object the ETag it had before re-encryption and whether it is done — so a killed
  // rotation resumes where it was and the sync trees can be carried over to the new ETags.
  `CREATE TABLE key_rotations (
     id INTEGER PRIMARY KEY, folder_id TEXT NOT NULL, key_name TEXT NOT NULL, pending_key_name TEXT NOT NULL,
     old_fingerprint TEXT NOT NULL, new_fingerprint TEXT NOT NULL,
     started_at INTEGER NOT NULL, finished_at INTEGER,
     state TEXT NOT NULL CHECK (state IN ('re-encrypting', 'swapping-keys', 'done'))
   );
   CREATE UNIQUE INDEX key_rotations_unfinished ON key_rotations (folder_id) WHERE state <> 'done';
   CREATE TABLE key_rotation_objects (
     rotation_id INTEGER NOT NULL, key TEXT NOT NULL, old_etag TEXT, new_etag TEXT, done INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (rotation_id, key)
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

/** Where a key rotation is: re-encrypting objects, replacing the old key in the keychain, or finished. */
export type KeyRotationState = 're-encrypting' | 'swapping-keys' | 'done';

/** One key rotation of a sync folder (fingerprints only: keys never enter the journal). */
export interface KeyRotationRecord {
  readonly id: number;
  readonly folderId: string;
  readonly keyName: string;
  /** The keychain name the new key is kept under until the rotation is done. */
  readonly pendingKeyName: string;
  readonly oldFingerprint: string;
  readonly newFingerprint: string;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly state: KeyRotationState;
}

/** What a rotation knows about one object. */
export interface RotationObjectRecord {
  /** The ETag the object had under the old key (null when not known). */
  readonly oldEtag: string | null;
  /** The ETag after re-encryption (null until done). */
  readonly newEtag: string | null;
  readonly done: boolean;
}

/** A re-encrypted object, for carrying the journal's records of it over to the new key. */
export interface RotatedObject {
  readonly rotationId: number;
  readonly folderId: string;
  readonly endpoint: string;
  readonly bucket: string;
  /** The object key; `path` is the same key relative to the folder's prefix. */
  readonly key: string;
  readonly path: string;
  readonly sizeBytes: number;
  readonly newEtag: string | null;
  readonly oldFingerprint: string;
  readonly newFingerprint: string;
}

const ROTATION_COLUMNS = `id, folder_id AS folderId, key_name AS keyName, pending_key_name AS pendingKeyName, old_fingerprint AS oldFingerprint,
  new_fingerprint AS newFingerprint, started_at AS startedAt, finished_at AS finishedAt, state`;

/** recordObjectSoon writes its records within this delay, or once this many wait. */
const PENDING_OBJECTS_DELAY_MS = 200;
const PENDING_OBJECTS_MAX = 500;

/** The journal over one SQLite file (WAL mode). */
export class Journal {
  readonly #db: Database.Database;
  /** Prepared statements by SQL text: preparing costs more than running these small statements. */
  readonly #statements = new Map<string, Database.Statement>();
  /** Object records from recordObjectSoon, not written yet (see there). */
  #pendingObjects: ObjectRecord[] = [];
  #pendingTimer: NodeJS.Timeout | undefined;

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
    this.flushPendingObjects();
    this.#db.transaction(() => this.writeObject(record))();
  }

  /**
   * recordObject for a single-request upload, written together with the others of the next
   * 200 ms in one transaction: one commit per small file cost more CPU than its upload's other
   * bookkeeping. What a crash loses is harmless: these records only tell which key wrote an
   * object (for messages about wrong keys), and a single request leaves no multipart progress
   * to resume. Anything reading or writing objects or multipart uploads writes them first.
   */
  recordObjectSoon(record: ObjectRecord): void {
    this.#pendingObjects.push(record);
    if (this.#pendingObjects.length >= PENDING_OBJECTS_MAX) this.flushPendingObjects();
    else this.#pendingTimer ??= setTimeout(() => this.flushPendingInBackground(), PENDING_OBJECTS_DELAY_MS).unref();
  }

  /** Writes the records recordObjectSoon holds, in one transaction. */
  flushPendingObjects(): void {
    if (this.#pendingTimer !== undefined) clearTimeout(this.#pendingTimer);
    this.#pendingTimer = undefined;
    if (this.#pendingObjects.length === 0) return;
    const records = this.#pendingObjects;
    this.#pendingObjects = [];
    try {
      this.#db.transaction(() => {
        for (const record of records) this.writeObject(record);
      })();
    } catch (error) {
      // Kept for the next attempt, which reports the failure to its caller.
      this.#pendingObjects = [...records, ...this.#pendingObjects];
      throw error;
    }
  }

  private flushPendingInBackground(): void {
    this.#pendingTimer = undefined;
    try {
      this.flushPendingObjects();
    } catch {
      // A busy or closed database: the records wait for the next journal call that writes them and reports the error.
    }
  }

  private writeObject(record: ObjectRecord): void {
    this.statement(
      `INSERT OR REPLACE INTO objects (endpoint, bucket, key, local_path, size_bytes, mtime_ms, digest, key_fingerprint, etag, uploaded_at)
       VALUES (@endpoint, @bucket, @key, @localPath, @sizeBytes, @mtimeMs, @digest, @keyFingerprint, @etag, @uploadedAt)`,
    ).run(record);
    this.forgetMultipartNow(record.endpoint, record.bucket, record.key);
  }

  /** The last confirmed upload of an object. */
  getObject(endpoint: string, bucket: string, key: string): ObjectRecord | undefined {
    this.flushPendingObjects();
    const row = this.statement(
      `SELECT endpoint, bucket, key, local_path AS localPath, size_bytes AS sizeBytes, mtime_ms AS mtimeMs, digest,
              key_fingerprint AS keyFingerprint, etag, uploaded_at AS uploadedAt
       FROM objects WHERE endpoint = ? AND bucket = ? AND key = ?`,
    ).get(endpoint, bucket, key);
    return row as ObjectRecord | undefined;
  }

  /** Starts tracking a multipart upload (replacing any older one for the same object). */
  beginMultipart(record: MultipartRecord): void {
    this.flushPendingObjects();
    this.#db.transaction(() => {
      this.forgetMultipartNow(record.endpoint, record.bucket, record.key);
      this.statement(
        `INSERT INTO multipart_uploads (endpoint, bucket, key, upload_id, local_path, size_bytes, mtime_ms, part_bytes, key_fingerprint, started_at)
         VALUES (@endpoint, @bucket, @key, @uploadId, @localPath, @sizeBytes, @mtimeMs, @partBytes, @keyFingerprint, @startedAt)`,
      ).run(record);
    })();
  }

  /** The multipart upload in progress for an object, with its confirmed parts. */
  getMultipart(endpoint: string, bucket: string, key: string): { upload: MultipartRecord; parts: PartRecord[] } | undefined {
    this.flushPendingObjects();
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
    this.flushPendingObjects();
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
    this.flushPendingObjects();
    this.forgetMultipartNow(endpoint, bucket, key);
  }

  private forgetMultipartNow(endpoint: string, bucket: string, key: string): void {
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

  // ── key rotations ──

  /** The folder's unfinished rotation, if any. */
  unfinishedKeyRotation(folderId: string): KeyRotationRecord | undefined {
    return this.statement(`SELECT ${ROTATION_COLUMNS} FROM key_rotations WHERE folder_id = ? AND state <> 'done'`).get(folderId) as KeyRotationRecord | undefined;
  }

  /** Starts recording a rotation (state re-encrypting); fails if the folder already has an unfinished one. */
  beginKeyRotation(record: Omit<KeyRotationRecord, 'id' | 'finishedAt' | 'state'>): KeyRotationRecord {
    const { lastInsertRowid } = this.statement(
      `INSERT INTO key_rotations (folder_id, key_name, pending_key_name, old_fingerprint, new_fingerprint, started_at, state)
       VALUES (@folderId, @keyName, @pendingKeyName, @oldFingerprint, @newFingerprint, @startedAt, 're-encrypting')`,
    ).run(record);
    return this.statement(`SELECT ${ROTATION_COLUMNS} FROM key_rotations WHERE id = ?`).get(lastInsertRowid) as KeyRotationRecord;
  }

  /** Moves a rotation on; `done` also forgets its per-object records, which only served to resume it. */
  setKeyRotationState(rotationId: number, state: KeyRotationState, now = Date.now()): void {
    this.#db.transaction(() => {
      this.statement('UPDATE key_rotations SET state = ?, finished_at = ? WHERE id = ?').run(state, state === 'done' ? now : null, rotationId);
      if (state === 'done') this.statement('DELETE FROM key_rotation_objects WHERE rotation_id = ?').run(rotationId);
    })();
  }

  /** Every object a rotation has started or finished, by object key. */
  keyRotationObjects(rotationId: number): Map<string, RotationObjectRecord> {
    const rows = this.statement('SELECT key, old_etag AS oldEtag, new_etag AS newEtag, done FROM key_rotation_objects WHERE rotation_id = ?').all(rotationId) as Array<{
      key: string;
      oldEtag: string | null;
      newEtag: string | null;
      done: number;
    }>;
    return new Map(rows.map((row) => [row.key, { oldEtag: row.oldEtag, newEtag: row.newEtag, done: row.done === 1 }]));
  }

  /** Notes, before an object is re-encrypted, the ETag it has under the old key. */
  beginRotatingObject(rotationId: number, key: string, oldEtag: string | null): void {
    this.statement(
      `INSERT INTO key_rotation_objects (rotation_id, key, old_etag, new_etag, done) VALUES (?, ?, ?, NULL, 0)
       ON CONFLICT (rotation_id, key) DO UPDATE SET old_etag = excluded.old_etag, new_etag = NULL, done = 0`,
    ).run(rotationId, key, oldEtag);
  }

  /**
   * Marks an object re-encrypted and carries the journal's records of it over, in one transaction:
   * the bucket observation gets the new ETag; the synced state too, but only if it described the
   * object that was re-encrypted (its ETag was the old one) — a change someone else made before the
   * rotation stays visible as such; the recorded key fingerprints become the new key's (whatever
   * is at that path now answers to it).
   */
  recordRotatedObject(object: RotatedObject): void {
    this.flushPendingObjects();
    this.#db.transaction(() => {
      const started = this.statement('SELECT old_etag AS oldEtag FROM key_rotation_objects WHERE rotation_id = ? AND key = ?').get(object.rotationId, object.key) as
        | { oldEtag: string | null }
        | undefined;
      this.statement(
        `INSERT INTO key_rotation_objects (rotation_id, key, old_etag, new_etag, done) VALUES (?, ?, NULL, ?, 1)
         ON CONFLICT (rotation_id, key) DO UPDATE SET new_etag = excluded.new_etag, done = 1`,
      ).run(object.rotationId, object.key, object.newEtag);
      const row = this.statement('SELECT remote_size AS remoteSize, remote_etag AS remoteEtag, synced_size AS syncedSize, synced_etag AS syncedEtag FROM sync_files WHERE folder_id = ? AND path = ?')
        .get(object.folderId, object.path) as { remoteSize: number | null; remoteEtag: string | null; syncedSize: number | null; syncedEtag: string | null } | undefined;
      if (row !== undefined) {
        // Without a note from before the copy (it was lost), the last observation of the bucket stands in for the old ETag.
        const oldEtag = started?.oldEtag ?? row.remoteEtag;
        if (row.syncedSize !== null) {
          const describedThisObject = row.syncedEtag !== null && row.syncedEtag === oldEtag;
          this.statement('UPDATE sync_files SET synced_etag = ?, synced_key_fingerprint = ? WHERE folder_id = ? AND path = ?').run(
            describedThisObject ? object.newEtag : row.syncedEtag,
            object.newFingerprint,
            object.folderId,
            object.path,
          );
        }
        if (row.remoteSize !== null) {
          this.statement('UPDATE sync_files SET remote_size = ?, remote_etag = ? WHERE folder_id = ? AND path = ?').run(object.sizeBytes, object.newEtag, object.folderId, object.path);
        }
      }
      this.statement('UPDATE objects SET etag = ?, key_fingerprint = ? WHERE endpoint = ? AND bucket = ? AND key = ? AND key_fingerprint = ?').run(
        object.newEtag,
        object.newFingerprint,
        object.endpoint,
        object.bucket,
        object.key,
        object.oldFingerprint,
      );
    })();
  }

  /** How many objects the journal records as written with a key outside one bucket prefix (e.g. by `cosync backup`), with a few examples. */
  objectsWithKeyOutside(fingerprint: string, endpoint: string, bucket: string, prefix: string): { count: number; examples: string[] } {
    this.flushPendingObjects();
    const where = `FROM objects WHERE key_fingerprint = ? AND NOT (endpoint = ? AND bucket = ? AND substr(key, 1, length(?)) = ?)`;
    const parameters = [fingerprint, endpoint, bucket, prefix, prefix];
    const { count } = this.statement(`SELECT count(*) AS count ${where}`).get(...parameters) as { count: number };
    const examples = (this.statement(`SELECT bucket, key ${where} ORDER BY bucket, key LIMIT 3`).all(...parameters) as Array<{ bucket: string; key: string }>).map((row) => `${row.bucket}/${row.key}`);
    return { count, examples };
  }

  close(): void {
    this.flushPendingObjects();
    this.#db.close();
  }
}
