/**
 * The journal's record of uploads: each object as last confirmed by the server, and each multipart
 * upload in progress with its finished parts, committed before the part counts — so that after a
 * kill the upload resumes instead of starting over.
 */
import type { JournalDatabase } from './journal-database.js';

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

/** recordObjectSoon writes its records within this delay, or once this many wait. */
const PENDING_OBJECTS_DELAY_MS = 200;
const PENDING_OBJECTS_MAX = 500;

/** Confirmed objects and multipart uploads in progress (tables objects, multipart_uploads, multipart_parts). */
export class UploadRecords {
  /** Object records from recordObjectSoon, not written yet (see there). */
  #pendingObjects: ObjectRecord[] = [];
  #pendingTimer: NodeJS.Timeout | undefined;

  constructor(private readonly database: JournalDatabase) {}

  /** Records (or replaces) a confirmed upload and forgets its multipart progress, atomically. */
  recordObject(record: ObjectRecord): void {
    this.flushPendingObjects();
    this.database.transaction(() => this.#writeObject(record));
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
    else this.#pendingTimer ??= setTimeout(() => this.#flushPendingInBackground(), PENDING_OBJECTS_DELAY_MS).unref();
  }

  /** Writes the records recordObjectSoon holds, in one transaction. */
  flushPendingObjects(): void {
    if (this.#pendingTimer !== undefined) clearTimeout(this.#pendingTimer);
    this.#pendingTimer = undefined;
    if (this.#pendingObjects.length === 0) return;
    const records = this.#pendingObjects;
    this.#pendingObjects = [];
    try {
      this.database.transaction(() => {
        for (const record of records) this.#writeObject(record);
      });
    } catch (error) {
      // Kept for the next attempt, which reports the failure to its caller.
      this.#pendingObjects = [...records, ...this.#pendingObjects];
      throw error;
    }
  }

  #flushPendingInBackground(): void {
    this.#pendingTimer = undefined;
    try {
      this.flushPendingObjects();
    } catch {
      // A busy or closed database: the records wait for the next journal call that writes them and reports the error.
    }
  }

  #writeObject(record: ObjectRecord): void {
    this.database
      .statement(
        `INSERT OR REPLACE INTO objects (endpoint, bucket, key, local_path, size_bytes, mtime_ms, digest, key_fingerprint, etag, uploaded_at)
       VALUES (@endpoint, @bucket, @key, @localPath, @sizeBytes, @mtimeMs, @digest, @keyFingerprint, @etag, @uploadedAt)`,
      )
      .run(record);
    this.#forgetMultipartNow(record.endpoint, record.bucket, record.key);
  }

  /** The last confirmed upload of an object. */
  getObject(endpoint: string, bucket: string, key: string): ObjectRecord | undefined {
    this.flushPendingObjects();
    const row = this.database
      .statement(
        `SELECT endpoint, bucket, key, local_path AS localPath, size_bytes AS sizeBytes, mtime_ms AS mtimeMs, digest,
              key_fingerprint AS keyFingerprint, etag, uploaded_at AS uploadedAt
       FROM objects WHERE endpoint = ? AND bucket = ? AND key = ?`,
      )
      .get(endpoint, bucket, key);
    return row as ObjectRecord | undefined;
  }

  /** How many objects the journal records as written with a key outside one bucket prefix (e.g. by `cosync backup`), with a few examples. */
  objectsWithKeyOutside(fingerprint: string, endpoint: string, bucket: string, prefix: string): { count: number; examples: string[] } {
    this.flushPendingObjects();
    const where = `FROM objects WHERE key_fingerprint = ? AND NOT (endpoint = ? AND bucket = ? AND substr(key, 1, length(?)) = ?)`;
    const parameters = [fingerprint, endpoint, bucket, prefix, prefix];
    const { count } = this.database.statement(`SELECT count(*) AS count ${where}`).get(...parameters) as { count: number };
    const examples = (this.database.statement(`SELECT bucket, key ${where} ORDER BY bucket, key LIMIT 3`).all(...parameters) as Array<{ bucket: string; key: string }>).map(
      (row) => `${row.bucket}/${row.key}`,
    );
    return { count, examples };
  }

  /**
   * Part of a key rotation's transaction (the caller flushes pending records first): an object
   * recorded as written with the old key now has the new key's fingerprint and ETag.
   */
  carryOverRotation(object: { endpoint: string; bucket: string; key: string; oldFingerprint: string; newFingerprint: string; newEtag: string | null }): void {
    this.database
      .statement('UPDATE objects SET etag = ?, key_fingerprint = ? WHERE endpoint = ? AND bucket = ? AND key = ? AND key_fingerprint = ?')
      .run(object.newEtag, object.newFingerprint, object.endpoint, object.bucket, object.key, object.oldFingerprint);
  }

  /** Starts tracking a multipart upload (replacing any older one for the same object). */
  beginMultipart(record: MultipartRecord): void {
    this.flushPendingObjects();
    this.database.transaction(() => {
      this.#forgetMultipartNow(record.endpoint, record.bucket, record.key);
      this.database
        .statement(
          `INSERT INTO multipart_uploads (endpoint, bucket, key, upload_id, local_path, size_bytes, mtime_ms, part_bytes, key_fingerprint, started_at)
         VALUES (@endpoint, @bucket, @key, @uploadId, @localPath, @sizeBytes, @mtimeMs, @partBytes, @keyFingerprint, @startedAt)`,
        )
        .run(record);
    });
  }

  /** The multipart upload in progress for an object, with its confirmed parts. */
  getMultipart(endpoint: string, bucket: string, key: string): { upload: MultipartRecord; parts: PartRecord[] } | undefined {
    this.flushPendingObjects();
    const upload = this.database
      .statement(
        `SELECT endpoint, bucket, key, upload_id AS uploadId, local_path AS localPath, size_bytes AS sizeBytes, mtime_ms AS mtimeMs,
              part_bytes AS partBytes, key_fingerprint AS keyFingerprint, started_at AS startedAt
       FROM multipart_uploads WHERE endpoint = ? AND bucket = ? AND key = ?`,
      )
      .get(endpoint, bucket, key) as MultipartRecord | undefined;
    if (upload === undefined) return undefined;
    const parts = this.database.statement('SELECT part_number AS partNumber, etag, md5_hex AS md5Hex FROM multipart_parts WHERE upload_id = ? ORDER BY part_number').all(upload.uploadId) as PartRecord[];
    return { upload, parts };
  }

  /** Upload ids of every multipart upload the journal is tracking (to be resumed, not aborted). */
  trackedUploadIds(): Set<string> {
    this.flushPendingObjects();
    const rows = this.database.statement('SELECT upload_id AS uploadId FROM multipart_uploads').all() as Array<{ uploadId: string }>;
    return new Set(rows.map((row) => row.uploadId));
  }

  /** Commits one finished part; only after this does the part count as done. */
  recordPart(uploadId: string, part: PartRecord): void {
    this.database.statement('INSERT OR REPLACE INTO multipart_parts (upload_id, part_number, etag, md5_hex) VALUES (?, ?, ?, ?)').run(uploadId, part.partNumber, part.etag, part.md5Hex);
  }

  /** Drops a part that the server no longer has (found by ListParts reconciliation). */
  forgetPart(uploadId: string, partNumber: number): void {
    this.database.statement('DELETE FROM multipart_parts WHERE upload_id = ? AND part_number = ?').run(uploadId, partNumber);
  }

  /** Forgets a multipart upload and its parts (completed or aborted). */
  forgetMultipart(endpoint: string, bucket: string, key: string): void {
    this.flushPendingObjects();
    this.#forgetMultipartNow(endpoint, bucket, key);
  }

  #forgetMultipartNow(endpoint: string, bucket: string, key: string): void {
    const row = this.database.statement('SELECT upload_id AS uploadId FROM multipart_uploads WHERE endpoint = ? AND bucket = ? AND key = ?').get(endpoint, bucket, key) as
      | { uploadId: string }
      | undefined;
    if (row === undefined) return;
    this.database.statement('DELETE FROM multipart_parts WHERE upload_id = ?').run(row.uploadId);
    this.database.statement('DELETE FROM multipart_uploads WHERE endpoint = ? AND bucket = ? AND key = ?').run(endpoint, bucket, key);
  }
}
