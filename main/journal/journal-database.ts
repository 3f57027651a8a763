/**
 * The journal's SQLite file: opened in WAL mode, its schema migrated, and the prepared statements
 * and transactions every repository of the journal shares (one file, so one transaction can span
 * repositories, as a key rotation's does).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

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

/** One SQLite journal file, migrated to the current schema. */
export class JournalDatabase {
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
    this.#migrate();
  }

  /** The prepared statement for `sql`, prepared on first use. */
  statement(sql: string): Database.Statement {
    let prepared = this.#statements.get(sql);
    if (prepared === undefined) {
      prepared = this.#db.prepare(sql);
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }

  /** Runs `work` in one transaction (a savepoint when already inside one). */
  transaction<T>(work: () => T): T {
    return this.#db.transaction(work)();
  }

  #migrate(): void {
    // Read and migrate under the write lock (BEGIN IMMEDIATE): several processes opening a new
    // journal at once (20 `folder add`s, say) would otherwise all read version 0 and all run
    // CREATE TABLE, and all but one fail with "table … already exists".
    this.#db
      .transaction(() => {
        const current = this.#db.pragma('user_version', { simple: true }) as number;
        if (current > MIGRATIONS.length) {
          throw new Error(`journal ${this.file} was written by a newer cosync (schema ${current}); upgrade cosync`);
        }
        for (let version = current; version < MIGRATIONS.length; version++) {
          this.#db.exec(MIGRATIONS[version] as string);
          this.#db.pragma(`user_version = ${version + 1}`);
        }
      })
      .immediate();
  }

  close(): void {
    this.#db.close();
  }
}
