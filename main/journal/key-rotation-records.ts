/**
 * The journal's record of key rotations (`cosync key rotate`): one row per rotation, at most one
 * unfinished per folder, and per object the ETag it had before re-encryption and whether it is
 * done — so a killed rotation resumes where it was, and the journal's other records of each
 * object are carried over to the new key. Fingerprints only: keys never enter the journal.
 */
import type { JournalDatabase } from './journal-database.js';
import type { SyncFolderRecords } from './sync-folder-records.js';
import type { UploadRecords } from './upload-records.js';

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

/** Key rotations and their objects (tables key_rotations, key_rotation_objects). */
export class KeyRotationRecords {
  constructor(
    private readonly database: JournalDatabase,
    private readonly uploads: UploadRecords,
    private readonly syncFolders: SyncFolderRecords,
  ) {}

  /** The folder's unfinished rotation, if any. */
  unfinishedKeyRotation(folderId: string): KeyRotationRecord | undefined {
    return this.database.statement(`SELECT ${ROTATION_COLUMNS} FROM key_rotations WHERE folder_id = ? AND state <> 'done'`).get(folderId) as KeyRotationRecord | undefined;
  }

  /** Starts recording a rotation (state re-encrypting); fails if the folder already has an unfinished one. */
  beginKeyRotation(record: Omit<KeyRotationRecord, 'id' | 'finishedAt' | 'state'>): KeyRotationRecord {
    const { lastInsertRowid } = this.database.statement(
      `INSERT INTO key_rotations (folder_id, key_name, pending_key_name, old_fingerprint, new_fingerprint, started_at, state)
       VALUES (@folderId, @keyName, @pendingKeyName, @oldFingerprint, @newFingerprint, @startedAt, 're-encrypting')`,
    ).run(record);
    return this.database.statement(`SELECT ${ROTATION_COLUMNS} FROM key_rotations WHERE id = ?`).get(lastInsertRowid) as KeyRotationRecord;
  }

  /** Moves a rotation on; `done` also forgets its per-object records, which only served to resume it. */
  setKeyRotationState(rotationId: number, state: KeyRotationState, now = Date.now()): void {
    this.database.transaction(() => {
      this.database.statement('UPDATE key_rotations SET state = ?, finished_at = ? WHERE id = ?').run(state, state === 'done' ? now : null, rotationId);
      if (state === 'done') this.database.statement('DELETE FROM key_rotation_objects WHERE rotation_id = ?').run(rotationId);
    });
  }

  /** Every object a rotation has started or finished, by object key. */
  keyRotationObjects(rotationId: number): Map<string, RotationObjectRecord> {
    const rows = this.database.statement('SELECT key, old_etag AS oldEtag, new_etag AS newEtag, done FROM key_rotation_objects WHERE rotation_id = ?').all(rotationId) as Array<{
      key: string;
      oldEtag: string | null;
      newEtag: string | null;
      done: number;
    }>;
    return new Map(rows.map((row) => [row.key, { oldEtag: row.oldEtag, newEtag: row.newEtag, done: row.done === 1 }]));
  }

  /** Notes, before an object is re-encrypted, the ETag it has under the old key. */
  beginRotatingObject(rotationId: number, key: string, oldEtag: string | null): void {
    this.database.statement(
      `INSERT INTO key_rotation_objects (rotation_id, key, old_etag, new_etag, done) VALUES (?, ?, ?, NULL, 0)
       ON CONFLICT (rotation_id, key) DO UPDATE SET old_etag = excluded.old_etag, new_etag = NULL, done = 0`,
    ).run(rotationId, key, oldEtag);
  }

  /**
   * Marks an object re-encrypted and carries the journal's records of it over to the new key, in
   * one transaction: its sync folder's trees and its upload record (see carryOverRotation there).
   */
  recordRotatedObject(object: RotatedObject): void {
    this.uploads.flushPendingObjects();
    this.database.transaction(() => {
      const started = this.database.statement('SELECT old_etag AS oldEtag FROM key_rotation_objects WHERE rotation_id = ? AND key = ?').get(object.rotationId, object.key) as
        | { oldEtag: string | null }
        | undefined;
      this.database
        .statement(
          `INSERT INTO key_rotation_objects (rotation_id, key, old_etag, new_etag, done) VALUES (?, ?, NULL, ?, 1)
         ON CONFLICT (rotation_id, key) DO UPDATE SET new_etag = excluded.new_etag, done = 1`,
        )
        .run(object.rotationId, object.key, object.newEtag);
      this.syncFolders.carryOverRotation(object.folderId, object.path, { notedOldEtag: started?.oldEtag ?? null, newEtag: object.newEtag, sizeBytes: object.sizeBytes, newFingerprint: object.newFingerprint });
      this.uploads.carryOverRotation(object);
    });
  }
}
