/**
 * The SQLite journal: what cosync has observed and done, durable across crashes. It stores
 * observations, never a work queue; no secret is ever stored here (SSE-C keys appear only as
 * fingerprints).
 *
 * One file (journal-database.ts) and four repositories, one per job:
 *   upload-records.ts        confirmed objects, multipart uploads in progress and their parts
 *   download-records.ts      ranged downloads in progress
 *   sync-folder-records.ts   the three trees and the errors of each sync folder
 *   key-rotation-records.ts  key rotations, carrying the others' records over to the new key
 * Journal is the one object callers hold; each method is its repository's (documented there).
 */
import type { LocalFile, RemoteFile, SyncedFile } from '../../app/sync-model.js';
import { DownloadRecords, type DownloadRecord } from './download-records.js';
import { JournalDatabase } from './journal-database.js';
import { KeyRotationRecords, type KeyRotationRecord, type KeyRotationState, type RotatedObject, type RotationObjectRecord } from './key-rotation-records.js';
import { SyncFolderRecords, type SyncErrorRecord, type SyncFolderState, type TreeChange } from './sync-folder-records.js';
import { UploadRecords, type MultipartRecord, type ObjectRecord, type PartRecord } from './upload-records.js';

export type { DownloadRecord } from './download-records.js';
export type { KeyRotationRecord, KeyRotationState, RotatedObject, RotationObjectRecord } from './key-rotation-records.js';
export type { SyncErrorRecord, SyncFolderState, TreeChange } from './sync-folder-records.js';
export type { MultipartRecord, ObjectRecord, PartRecord } from './upload-records.js';

/** The journal over one SQLite file (WAL mode). */
export class Journal {
  readonly #database: JournalDatabase;
  readonly #uploads: UploadRecords;
  readonly #downloads: DownloadRecords;
  readonly #syncFolders: SyncFolderRecords;
  readonly #keyRotations: KeyRotationRecords;

  constructor(readonly file: string) {
    this.#database = new JournalDatabase(file);
    this.#uploads = new UploadRecords(this.#database);
    this.#downloads = new DownloadRecords(this.#database);
    this.#syncFolders = new SyncFolderRecords(this.#database);
    this.#keyRotations = new KeyRotationRecords(this.#database, this.#uploads, this.#syncFolders);
  }

  // ── uploads ──

  recordObject(record: ObjectRecord): void {
    this.#uploads.recordObject(record);
  }

  recordObjectSoon(record: ObjectRecord): void {
    this.#uploads.recordObjectSoon(record);
  }

  flushPendingObjects(): void {
    this.#uploads.flushPendingObjects();
  }

  getObject(endpoint: string, bucket: string, key: string): ObjectRecord | undefined {
    return this.#uploads.getObject(endpoint, bucket, key);
  }

  objectsWithKeyOutside(fingerprint: string, endpoint: string, bucket: string, prefix: string): { count: number; examples: string[] } {
    return this.#uploads.objectsWithKeyOutside(fingerprint, endpoint, bucket, prefix);
  }

  beginMultipart(record: MultipartRecord): void {
    this.#uploads.beginMultipart(record);
  }

  getMultipart(endpoint: string, bucket: string, key: string): { upload: MultipartRecord; parts: PartRecord[] } | undefined {
    return this.#uploads.getMultipart(endpoint, bucket, key);
  }

  trackedUploadIds(): Set<string> {
    return this.#uploads.trackedUploadIds();
  }

  recordPart(uploadId: string, part: PartRecord): void {
    this.#uploads.recordPart(uploadId, part);
  }

  forgetPart(uploadId: string, partNumber: number): void {
    this.#uploads.forgetPart(uploadId, partNumber);
  }

  forgetMultipart(endpoint: string, bucket: string, key: string): void {
    this.#uploads.forgetMultipart(endpoint, bucket, key);
  }

  // ── downloads ──

  beginDownload(record: DownloadRecord): void {
    this.#downloads.beginDownload(record);
  }

  getDownload(destination: string): { download: DownloadRecord; parts: Map<number, string> } | undefined {
    return this.#downloads.getDownload(destination);
  }

  recordDownloadPart(destination: string, partNumber: number, md5Hex: string): void {
    this.#downloads.recordDownloadPart(destination, partNumber, md5Hex);
  }

  forgetDownload(destination: string): void {
    this.#downloads.forgetDownload(destination);
  }

  // ── sync folders ──

  loadSyncFolder(folderId: string): SyncFolderState {
    return this.#syncFolders.loadSyncFolder(folderId);
  }

  writeLocalChanges(folderId: string, changes: ReadonlyArray<TreeChange<LocalFile>>): void {
    this.#syncFolders.writeLocalChanges(folderId, changes);
  }

  writeRemoteChanges(folderId: string, changes: ReadonlyArray<TreeChange<RemoteFile>>): void {
    this.#syncFolders.writeRemoteChanges(folderId, changes);
  }

  recordSyncOutcome(folderId: string, outcomes: ReadonlyArray<{ path: string; synced: SyncedFile | null; remote?: RemoteFile | null }>): void {
    this.#syncFolders.recordSyncOutcome(folderId, outcomes);
  }

  recordSyncError(folderId: string, path: string, error: SyncErrorRecord | null): void {
    this.#syncFolders.recordSyncError(folderId, path, error);
  }

  deleteSyncFolder(folderId: string): void {
    this.#syncFolders.deleteSyncFolder(folderId);
  }

  // ── key rotations ──

  unfinishedKeyRotation(folderId: string): KeyRotationRecord | undefined {
    return this.#keyRotations.unfinishedKeyRotation(folderId);
  }

  beginKeyRotation(record: Omit<KeyRotationRecord, 'id' | 'finishedAt' | 'state'>): KeyRotationRecord {
    return this.#keyRotations.beginKeyRotation(record);
  }

  setKeyRotationState(rotationId: number, state: KeyRotationState, now = Date.now()): void {
    this.#keyRotations.setKeyRotationState(rotationId, state, now);
  }

  keyRotationObjects(rotationId: number): Map<string, RotationObjectRecord> {
    return this.#keyRotations.keyRotationObjects(rotationId);
  }

  beginRotatingObject(rotationId: number, key: string, oldEtag: string | null): void {
    this.#keyRotations.beginRotatingObject(rotationId, key, oldEtag);
  }

  recordRotatedObject(object: RotatedObject): void {
    this.#keyRotations.recordRotatedObject(object);
  }

  /** Writes what is pending and closes the file. */
  close(): void {
    this.#uploads.flushPendingObjects();
    this.#database.close();
  }
}
