/**
 * Which key cosync encrypted an object with, from its own records — so that a refused key can be
 * reported as "this object was encrypted with key fingerprint X; you supplied Y".
 *
 * The server cannot say it: with SSE-C it echoes the key's MD5 only to a request that carries the
 * right key, and refuses any other with a bare 400. The journal is the reliable place: every
 * upload records the key fingerprint with the object, and every sync folder records it with
 * the last state both sides agreed on (which also follows renames done by server-side copy).
 */
import type { SyncedFile } from '../../app/sync-model.js';
import type { Journal } from '../journal/journal.js';

/** A folder's place in the bucket (the fields of SyncFolderConfig this lookup needs). */
export interface FolderPlace {
  readonly id: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * A lookup of the recorded fingerprint of an object of one endpoint and bucket: the synced state
 * of the sync folder whose prefix holds it first, then the upload record; undefined when this
 * machine has no record (another machine wrote it, or the journal is new).
 */
export function recordedKeyFingerprints(
  journal: Journal,
  folders: ReadonlyArray<FolderPlace>,
  endpoint: string,
  bucket: string,
): (objectKey: string) => string | undefined {
  const candidates = folders.filter((folder) => folder.endpoint === endpoint && folder.bucket === bucket);
  // A folder's synced tree is loaded once, on the first refused key under it: this runs only
  // when something already failed, never on the transfer path.
  const syncedTrees = new Map<string, ReadonlyMap<string, SyncedFile>>();
  return (objectKey) => {
    try {
      for (const folder of candidates) {
        if (!objectKey.startsWith(folder.prefix)) continue;
        let synced = syncedTrees.get(folder.id);
        if (synced === undefined) {
          synced = journal.loadSyncFolder(folder.id).synced;
          syncedTrees.set(folder.id, synced);
        }
        const fingerprint = synced.get(objectKey.slice(folder.prefix.length))?.keyFingerprint;
        if (fingerprint != null) return fingerprint;
      }
      return journal.getObject(endpoint, bucket, objectKey)?.keyFingerprint ?? undefined;
    } catch {
      // Building a better message must never hide the error it describes (e.g. a closed journal).
      return undefined;
    }
  };
}
