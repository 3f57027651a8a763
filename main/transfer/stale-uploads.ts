/**
 * Aborting stale multipart uploads. Parts of an upload that was never completed or aborted (a
 * crash on a machine that never came back, another client's leftovers) cost storage forever and
 * are invisible in listings. Uploads under the prefix older than the age limit are aborted —
 * except those this journal still tracks, which the next backup resumes.
 */
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { RemoteStore } from '../remote/remote-store.js';

/** Default age after which an unfinished upload counts as abandoned. */
export const DEFAULT_STALE_UPLOAD_HOURS = 24;

/** Aborts stale uploads under `prefix`; returns how many. */
export async function abortStaleUploads(
  store: RemoteStore,
  journal: Journal,
  prefix: string,
  maxAgeHours: number,
  logger: Logger,
  now: Date = new Date(),
  signal?: AbortSignal | undefined,
): Promise<number> {
  const tracked = journal.trackedUploadIds();
  const cutoff = now.getTime() - maxAgeHours * 3600 * 1000;
  let aborted = 0;
  for await (const upload of store.listMultipartUploads(prefix, { signal })) {
    if (tracked.has(upload.uploadId) || upload.initiated === undefined || upload.initiated.getTime() > cutoff) continue;
    await store.abortMultipartUpload(upload.key, upload.uploadId, { signal });
    logger.log('info', 'stale-upload-aborted', { key: upload.key, uploadId: upload.uploadId, initiated: upload.initiated.toISOString() });
    aborted++;
  }
  return aborted;
}
