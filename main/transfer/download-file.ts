/**
 * Downloads one object to a local file, checks it, and only then puts it in place.
 *
 *   HEAD (key check, size, digest, archive state) ─► archived and not readable yet? ask for its
 *     retrieval (POST Object restore) and report it as retrieving — no GET, no "access denied"
 *   ─► existing file? (conflict unless identical or --overwrite)
 *     ─► small, or carries a whole-content digest: one GET streamed and hashed into a temp file
 *     └► large multipart object: ranged GETs in parallel through the part queue, each part
 *        written at its offset and committed to the journal — a restart resumes the rest
 *   ─► verify (digest, or multipart ETag, or size) ─► fsync ─► rename over the destination
 *
 * The temporary file is hidden beside the destination, so a crash or a failed check never leaves
 * a half-written or wrong file under the real name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm, stat, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type PQueue from 'p-queue';
import { archiveStateOf, DEFAULT_RESTORE_REQUEST, typicalRetrievalTime, type RestoreRequest } from '../../app/archive-restore.js';
import { Crc64, crc64OfParts } from '../../app/crc64.js';
import { CosyncError } from '../../app/result.js';
import { commitTemporaryFile, PARTIAL_SUFFIX } from '../fs/atomic-write.js';
import type { Journal } from '../journal/journal.js';
import type { ObjectEncryption, RemoteObjectDetails, RemoteStore } from '../remote/remote-store.js';
import type { TokenBucket } from './bandwidth.js';
import { contentDigest, METADATA, multipartEtag, PartHasher } from './content-digest.js';
import { missingParts, runParts } from './run-parts.js';

/** How a restored file was checked. */
export type Verification = 'digest' | 'crc64' | 'etag' | 'size-only';

/** What happened to one object. */
export type DownloadOutcome =
  | { readonly kind: 'restored'; readonly sizeBytes: number; readonly verification: Verification; readonly resumedParts: number }
  | { readonly kind: 'unchanged'; readonly sizeBytes: number; readonly verification: Verification; readonly resumedParts: number }
  /** Archived: its retrieval was started now or earlier; a later run downloads it. */
  | { readonly kind: 'retrieving'; readonly storageClass: string; readonly readyIn: string; readonly requested: 'started' | 'already-started' };

/** Suffix of in-progress downloads; the sync engine ignores such files. */
export { PARTIAL_SUFFIX };

/** Objects at least this large (and uploaded multipart) are fetched as parallel, resumable ranges. */
export const RANGED_DOWNLOAD_THRESHOLD = 32 * 1024 * 1024;

/** What downloads share within a restore. */
export interface DownloadContext {
  readonly store: RemoteStore;
  readonly overwrite: boolean;
  /** Identifies the store in the journal. */
  readonly endpointId: string;
  readonly bucket: string;
  /** With a journal and a part queue, large objects download as resumable parallel ranges. */
  readonly journal?: Journal | undefined;
  readonly partQueue?: PQueue | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly bandwidth?: TokenBucket | undefined;
  /** How archived objects are retrieved (default DEFAULT_RESTORE_REQUEST). */
  readonly archiveRestore?: RestoreRequest | undefined;
}

/** Progress of one download. */
export interface DownloadObserver {
  onDidTransfer?(bytes: number): void;
  onDidResume?(partsDone: number, partCount: number): void;
}

interface Hashes {
  /** Whole-content MD5; absent after a ranged download (parts arrive out of order). */
  readonly md5: Buffer | undefined;
  readonly partMd5s: Buffer[];
  readonly sizeBytes: number;
  /** CRC-64 of the content, computed only when the store reports one (COS). */
  readonly crc64?: bigint | undefined;
}

function partBytesFor(details: RemoteObjectDetails): number {
  const fromMetadata = Number(details.metadata[METADATA.partBytes]);
  return Number.isSafeInteger(fromMetadata) && fromMetadata > 0 ? fromMetadata : Math.max(details.sizeBytes, 1);
}

/**
 * Checks hashes of the received bytes against what the object says about itself: the size, the
 * server's CRC-64 (COS), the digest cosync recorded at upload; and the ETag only where the store
 * promises it is made of content MD5s (`etagIsContentMd5`: never for SSE-C or SSE-KMS objects, nor
 * for any encrypted object on COS) — and not once the CRC-64 has matched, which COS recommends
 * over the ETag (https://cloud.tencent.com/document/product/436/7729).
 */
function verify(key: string, details: RemoteObjectDetails, hashes: Hashes, encryption: ObjectEncryption, etagIsContentMd5: boolean): Verification {
  if (hashes.sizeBytes !== details.sizeBytes) {
    throw new CosyncError('integrity', `${JSON.stringify(key)}: received ${hashes.sizeBytes} bytes but the object has ${details.sizeBytes}`);
  }
  const crc64Checked = details.crc64 !== undefined && hashes.crc64 !== undefined;
  if (crc64Checked && details.crc64 !== hashes.crc64?.toString()) {
    throw new CosyncError('integrity', `${JSON.stringify(key)}: the downloaded content's CRC-64 (${hashes.crc64}) differs from the server's (${details.crc64})`);
  }
  const customerKey = encryption.mode === 'c' ? encryption.key : undefined;
  const stored = details.metadata[METADATA.digest];
  if (stored !== undefined && hashes.md5 !== undefined) {
    if (contentDigest(hashes.md5, customerKey) !== stored) {
      throw new CosyncError(
        'integrity',
        `${JSON.stringify(key)}: the downloaded content does not match the digest recorded at upload${customerKey === undefined ? '' : ' (or the digest was made with a different key)'}`,
      );
    }
    return 'digest';
  }
  if (crc64Checked) return 'crc64';
  if (!etagIsContentMd5) return 'size-only';
  const etag = details.etag ?? '';
  const uploadedByCosync = details.metadata[METADATA.partBytes] !== undefined;
  if (/^[0-9a-f]{32}-\d+$/.test(etag)) {
    if (multipartEtag(hashes.partMd5s) === etag) return 'etag';
    // Only cosync's own uploads have parts of the size recorded beside them: another tool's parts give another ETag.
    if (uploadedByCosync) throw new CosyncError('integrity', `${JSON.stringify(key)}: the downloaded content does not match the object's multipart ETag`);
    return 'size-only';
  }
  if (/^[0-9a-f]{32}$/.test(etag) && hashes.md5 !== undefined) {
    if (hashes.md5.toString('hex') === etag) return 'etag';
    throw new CosyncError('integrity', `${JSON.stringify(key)}: the downloaded content does not match the object's ETag`);
  }
  return 'size-only';
}

async function hashLocalFile(path: string, partBytes: number): Promise<Hashes> {
  const hasher = new PartHasher(partBytes);
  const file = await open(path, 'r');
  try {
    for await (const chunk of file.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false })) hasher.update(chunk as Buffer);
  } finally {
    await file.close();
  }
  return hasher.finish();
}

function conflict(destination: string): CosyncError {
  return new CosyncError('local-conflict', `${destination} already exists with different content; pass --overwrite to replace it, or restore to another folder`);
}

/** Downloads `key` into `destination`; an existing different file is replaced only with `overwrite`. */
export async function downloadFile(
  key: string,
  destination: string,
  encryption: ObjectEncryption,
  context: DownloadContext,
  observer: DownloadObserver = {},
): Promise<DownloadOutcome> {
  const existing = await stat(destination).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined && !existing.isFile()) {
    throw new CosyncError('local-conflict', `${destination} exists and is not a file; move it away to restore ${JSON.stringify(key)} there`);
  }
  // HEAD first: a wrong key or a conflict is found before a byte is downloaded.
  const details = await context.store.headObject(key, encryption, { signal: context.signal });
  if (details === undefined) throw new CosyncError('object-not-found', `object ${JSON.stringify(key)} does not exist`);
  const archive = archiveStateOf(details.storageClass, details.restore);
  if (archive !== 'readable') {
    const request = context.archiveRestore ?? DEFAULT_RESTORE_REQUEST;
    const requested = archive === 'retrieving' ? 'already-started' : await context.store.restoreObject(key, request, { signal: context.signal });
    const storageClass = details.storageClass as string;
    return { kind: 'retrieving', storageClass, readyIn: typicalRetrievalTime(storageClass, request.tier), requested };
  }
  if (existing !== undefined && existing.size !== details.sizeBytes && !context.overwrite) throw conflict(destination);

  await mkdir(dirname(destination), { recursive: true });
  const ranged =
    context.journal !== undefined &&
    context.partQueue !== undefined &&
    details.sizeBytes >= RANGED_DOWNLOAD_THRESHOLD &&
    details.metadata[METADATA.digest] === undefined &&
    (details.etag ?? '').includes('-');
  const { temporary, hashes, resumedParts } = ranged
    ? await downloadRanges(key, destination, details, encryption, context, observer)
    : { ...(await downloadStream(key, destination, encryption, context, observer)), resumedParts: 0 };

  try {
    const verification = verify(key, details, hashes, encryption, context.store.etagIsContentMd5(details, encryption));
    if (existing !== undefined) {
      const local = await hashLocalFile(destination, partBytesFor(details));
      const same = hashes.md5 !== undefined ? local.md5?.equals(hashes.md5) === true : multipartEtag(local.partMd5s) === multipartEtag(hashes.partMd5s);
      if (same) {
        await rm(temporary, { force: true });
        context.journal?.forgetDownload(destination);
        return { kind: 'unchanged', sizeBytes: hashes.sizeBytes, verification, resumedParts };
      }
      if (!context.overwrite) throw conflict(destination);
    }
    const mtimeMs = Number(details.metadata[METADATA.mtime]);
    if (Number.isFinite(mtimeMs) && mtimeMs > 0) await utimes(temporary, new Date(), new Date(mtimeMs));
    await commitTemporaryFile(temporary, destination);
    context.journal?.forgetDownload(destination);
    return { kind: 'restored', sizeBytes: hashes.sizeBytes, verification, resumedParts };
  } catch (error) {
    await rm(temporary, { force: true });
    context.journal?.forgetDownload(destination);
    throw error;
  }
}

/** One GET, hashed as it streams into a fresh temporary file. */
async function downloadStream(
  key: string,
  destination: string,
  encryption: ObjectEncryption,
  context: DownloadContext,
  observer: DownloadObserver,
): Promise<{ temporary: string; hashes: Hashes }> {
  const { body, details } = await context.store.getObject(key, encryption, { signal: context.signal });
  const temporary = join(dirname(destination), `.${basename(destination)}.${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`);
  const hasher = new PartHasher(partBytesFor(details));
  const crc = details.crc64 === undefined ? undefined : new Crc64();
  const bandwidth = context.bandwidth;
  try {
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hasher.update(chunk);
        crc?.update(chunk);
        observer.onDidTransfer?.(chunk.length);
        if (bandwidth === undefined) callback(null, chunk);
        else bandwidth.take(chunk.length, context.signal).then(() => callback(null, chunk), callback);
      },
    });
    await pipeline(body, tap, createWriteStream(temporary, { flags: 'wx' }), { signal: context.signal });
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { temporary, hashes: { ...hasher.finish(), crc64: crc?.value } };
}

/**
 * Parallel ranged GETs, one per upload part, each written at its offset in a temporary file
 * named after the object's ETag; finished parts are committed to the journal, so after a crash
 * only the parts that were in flight are fetched again. A changed object (new ETag) starts over.
 */
async function downloadRanges(
  key: string,
  destination: string,
  details: RemoteObjectDetails,
  encryption: ObjectEncryption,
  context: DownloadContext,
  observer: DownloadObserver,
): Promise<{ temporary: string; hashes: Hashes; resumedParts: number }> {
  const journal = context.journal as Journal;
  const partQueue = context.partQueue as PQueue;
  const partBytes = partBytesFor(details) === details.sizeBytes ? 16 * 1024 * 1024 : partBytesFor(details);
  const partCount = Math.ceil(details.sizeBytes / partBytes);
  const etag = details.etag ?? '';
  const temporary = join(dirname(destination), `.${basename(destination)}.${createHash('sha256').update(`${key}\0${etag}`).digest('hex').slice(0, 12)}${PARTIAL_SUFFIX}`);

  const previous = journal.getDownload(destination);
  const sizeOnDisk = await stat(temporary).then((info) => info.size, () => -1);
  const same =
    previous !== undefined &&
    previous.download.key === key &&
    previous.download.etag === etag &&
    previous.download.bucket === context.bucket &&
    previous.download.endpoint === context.endpointId &&
    previous.download.sizeBytes === details.sizeBytes &&
    previous.download.partBytes === partBytes &&
    previous.download.tempPath === temporary &&
    sizeOnDisk === details.sizeBytes;
  const partMd5s = new Map<number, string>(same ? previous.parts : []);
  if (!same) {
    if (previous !== undefined) await rm(previous.download.tempPath, { force: true });
    const created = await open(temporary, 'w');
    try {
      await created.truncate(details.sizeBytes);
    } finally {
      await created.close();
    }
    journal.beginDownload({ destination, endpoint: context.endpointId, bucket: context.bucket, key, etag, sizeBytes: details.sizeBytes, partBytes, tempPath: temporary, startedAt: Date.now() });
  }
  // Part CRCs exist only for parts fetched in this run; the combined check needs all of them.
  const partCrcs = new Map<number, bigint>();
  const resumedParts = partMd5s.size;
  if (resumedParts > 0) observer.onDidResume?.(resumedParts, partCount);
  for (const partNumber of partMd5s.keys()) observer.onDidTransfer?.(Math.min(partBytes, details.sizeBytes - (partNumber - 1) * partBytes));

  const file = await open(temporary, 'r+');
  try {
    await runParts(partQueue, missingParts(partCount, partMd5s), context.signal, async (partNumber, signal) => {
      const start = (partNumber - 1) * partBytes;
      const length = Math.min(partBytes, details.sizeBytes - start);
      const { body } = await context.store.getObject(key, encryption, { signal, range: { start, end: start + length - 1 } });
      const hash = createHash('md5');
      const crc = details.crc64 === undefined ? undefined : new Crc64();
      let written = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (written + chunk.length > length) throw new CosyncError('integrity', `${JSON.stringify(key)}: the server sent more bytes than asked for part ${partNumber}`);
        if (context.bandwidth !== undefined) await context.bandwidth.take(chunk.length, signal);
        hash.update(chunk);
        crc?.update(chunk);
        await file.write(chunk, 0, chunk.length, start + written);
        written += chunk.length;
        observer.onDidTransfer?.(chunk.length);
      }
      if (written !== length) throw new CosyncError('integrity', `${JSON.stringify(key)}: part ${partNumber} ended after ${written} of ${length} bytes`);
      const md5Hex = hash.digest('hex');
      // Committed only after its bytes are written: a crash before this line fetches the part again.
      journal.recordDownloadPart(destination, partNumber, md5Hex);
      partMd5s.set(partNumber, md5Hex);
      if (crc !== undefined) partCrcs.set(partNumber, crc.value);
    });
  } finally {
    await file.close();
  }
  const ordered = Array.from({ length: partCount }, (_, index) => Buffer.from(partMd5s.get(index + 1) as string, 'hex'));
  const crc64 = crc64OfParts(partCrcs, partBytes, details.sizeBytes);
  return { temporary, hashes: { md5: undefined, partMd5s: ordered, sizeBytes: details.sizeBytes, crc64 }, resumedParts };
}
