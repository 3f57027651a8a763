/**
 * Uploads one local file to one object: a single PUT below the multipart threshold, otherwise a
 * resumable multipart upload whose progress is committed to the journal part by part.
 *
 *   stat ─► plan (single | multipart) ─► single: read, MD5, PUT with Content-MD5
 *                                     └► multipart: resume from journal + ListParts, or create
 *                                          ─► parts through the global part queue
 *                                             (read range, MD5, UploadPart, journal commit)
 *                                          ─► file unchanged? ─► Complete ─► HEAD verify
 *                                     ─► journal: object confirmed
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type PQueue from 'p-queue';
import { planUpload, type MultipartLimits, type TransferSizing } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import type { Journal, PartRecord } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import { bufferBody, type ObjectEncryption, type ObjectMetadata, type RemoteStore, type RequestBody } from '../remote/remote-store.js';
import { Crc64, crc64OfParts } from '../../app/crc64.js';
import { throttledBody, type TokenBucket } from './bandwidth.js';
import type { BufferPool } from './buffer-pool.js';
import { contentDigest, METADATA, multipartEtag } from './content-digest.js';
import { OpenFile } from './open-file.js';
import { missingParts, runParts } from './run-parts.js';

/** Everything an upload needs from its surroundings; shared by all files of a run. */
export interface UploadContext {
  readonly store: RemoteStore;
  readonly journal: Journal;
  /** Identifies the store in the journal (endpoint URL). */
  readonly endpointId: string;
  readonly bucket: string;
  readonly limits: MultipartLimits;
  readonly sizing: TransferSizing;
  /** Global cap on requests carrying data (single PUTs and parts) in flight across all files. */
  readonly partQueue: PQueue;
  /** Buffers for those requests; at most partQueue's concurrency are in use. */
  readonly buffers: BufferPool;
  /**
   * Whether the store reports CRC-64 (COS's x-cos-hash-crc64ecma) for multipart objects, so
   * each part's CRC is computed while its bytes are in memory and combined at the end.
   */
  readonly crc64Parts: boolean;
  /** The storage class of new objects (undefined: the bucket's default). */
  readonly storageClass?: string | undefined;
  /** The global bandwidth limit, if any. */
  readonly bandwidth?: TokenBucket | undefined;
  readonly logger: Logger;
  readonly signal?: AbortSignal | undefined;
}

/** Progress and notable moments of one file's upload. */
export interface UploadObserver {
  onDidTransfer?(bytes: number): void;
  onDidResume?(partsDone: number, partCount: number): void;
  /**
   * Every part is on the server; what follows checks the result (file unchanged, Complete, HEAD
   * against the local digests and CRC-64). A single PUT has no such phase: the server checks its
   * Content-MD5 as it stores it.
   */
  onWillVerify?(): void;
}

/** What happened. */
export interface UploadOutcome {
  readonly sizeBytes: number;
  readonly kind: 'single' | 'multipart';
  readonly partCount: number;
  readonly resumedParts: number;
  /** True when the server's ETag equals the MD5 (or multipart MD5) of what we read locally. */
  readonly etagMatchesContent: boolean;
  /** The ETag the server gave the object (for noticing later whether someone replaced it). */
  readonly etag: string | null;
  /** The mtime of the content uploaded (the file was checked unchanged against it). */
  readonly mtimeMs: number;
  /** Hex MD5 of the whole content, when the upload read it in one piece (single PUT). */
  readonly md5Hex: string | undefined;
}

function md5(data: Uint8Array): Buffer {
  return createHash('md5').update(data).digest();
}

function fingerprintOf(encryption: ObjectEncryption): string | null {
  return encryption.mode === 'c' ? encryption.key.fingerprint : null;
}

function checkEchoedKey(encryption: ObjectEncryption, echoed: string | undefined, key: string): void {
  // A server that echoes a different key MD5 used another key than ours: the object would be unreadable.
  if (encryption.mode === 'c' && echoed !== undefined && echoed !== encryption.key.fingerprint) {
    throw new CosyncError('key-mismatch', `the server encrypted ${JSON.stringify(key)} with key fingerprint ${echoed}, not ours (${encryption.key.fingerprint})`);
  }
}

/** Compares COS's CRC-64 with ours; a mismatching object is deleted so it never looks complete. */
async function checkCrc64(context: UploadContext, key: string, reported: string, local: bigint): Promise<void> {
  if (reported === local.toString()) return;
  try {
    await context.store.deleteObject(key);
  } catch (error) {
    context.logger.log('error', 'bad-object-delete-failed', { key, error });
  }
  throw new CosyncError('integrity', `the server's CRC-64 of ${JSON.stringify(key)} (${reported}) differs from the local file's (${local}); the object was removed and must be uploaded again`);
}

/** Ranges up to this size are read into memory once; larger ones are hashed slice by slice and then streamed from the file. */
const IN_MEMORY_BYTES = 1024 * 1024;

/** A byte range of the file, hashed and ready to send (and resend). */
interface PreparedRange {
  readonly md5: Buffer;
  readonly crc64: bigint | undefined;
  readonly body: RequestBody;
  release(): void;
}

/**
 * Hashes a range (MD5 for Content-MD5, CRC-64 when the store reports it) and gives a body for it.
 * A large range is read twice — once to hash, once to send — instead of being held in memory:
 * the second read comes from the page cache, and memory stays at a few MiB per part in flight
 * whatever the part size. If the file changes between the reads, the server's Content-MD5 check
 * rejects the part (BadDigest), so a changed file can never be stored under the old digest.
 */
async function prepareRange(
  localPath: string,
  file: OpenFile,
  position: number,
  length: number,
  buffers: BufferPool,
  withCrc64: boolean,
  signal: AbortSignal | undefined,
): Promise<PreparedRange> {
  if (length <= IN_MEMORY_BYTES) {
    const bytes = buffers.acquire(length);
    try {
      await readExactly(localPath, bytes, position, file, signal);
    } catch (error) {
      buffers.release(bytes);
      throw error;
    }
    return { md5: md5(bytes), crc64: withCrc64 ? new Crc64().update(bytes).value : undefined, body: bufferBody(bytes), release: () => buffers.release(bytes) };
  }
  const hash = createHash('md5');
  const crc = withCrc64 ? new Crc64() : undefined;
  const slice = buffers.acquire(IN_MEMORY_BYTES);
  try {
    for (let offset = 0; offset < length; offset += IN_MEMORY_BYTES) {
      const view = slice.subarray(0, Math.min(IN_MEMORY_BYTES, length - offset));
      await readExactly(localPath, view, position + offset, file, signal);
      hash.update(view);
      crc?.update(view);
    }
  } finally {
    buffers.release(slice);
  }
  return {
    md5: hash.digest(),
    crc64: crc?.value,
    body: { length, open: () => createReadStream(localPath, { start: position, end: position + length - 1, highWaterMark: IN_MEMORY_BYTES }) },
    release: () => undefined,
  };
}

/** CRC-64 of a whole file, for a store that reported one we did not expect. */
async function crc64OfFile(localPath: string, signal: AbortSignal | undefined): Promise<bigint> {
  const crc = new Crc64();
  for await (const chunk of createReadStream(localPath, { highWaterMark: 1024 * 1024, signal })) crc.update(chunk as Buffer);
  return crc.value;
}

/** Fills `target` from the file at `position`; a short read means the file shrank meanwhile. Stops between reads once `signal` aborts. */
async function readExactly(localPath: string, target: Buffer, position: number, file: OpenFile, signal: AbortSignal | undefined): Promise<void> {
  let filled = 0;
  while (filled < target.length) {
    signal?.throwIfAborted();
    const bytesRead = await file.read(target, filled, target.length - filled, position + filled);
    if (bytesRead === 0) throw new CosyncError('local-changed', `${localPath} shrank while it was being read; it will be uploaded again once it settles`);
    filled += bytesRead;
  }
}

function assertSameState(localPath: string, now: { size: number; mtimeMs: number }, sizeBytes: number, mtimeMs: number): void {
  if (now.size !== sizeBytes || now.mtimeMs !== mtimeMs) {
    throw new CosyncError('local-changed', `${localPath} changed while it was being uploaded; it will be uploaded again once it settles`);
  }
}

async function assertUnchanged(localPath: string, sizeBytes: number, mtimeMs: number): Promise<void> {
  assertSameState(localPath, await stat(localPath), sizeBytes, mtimeMs);
}

/**
 * A single PUT's content, checked unchanged by the open file's own stat once it has been read:
 * the bytes hashed are then a snapshot of the file as observed, and the server's Content-MD5
 * check covers a streamed body read again later. (One fstat on the open file instead of a
 * path stat after the PUT: with many small files, every system call shows in the CPU bill.)
 */
async function readWholeFile(
  localPath: string,
  file: OpenFile,
  observed: { sizeBytes: number; mtimeMs: number },
  context: UploadContext,
): Promise<PreparedRange> {
  const range = await prepareRange(localPath, file, 0, observed.sizeBytes, context.buffers, context.crc64Parts, context.signal);
  try {
    assertSameState(localPath, await file.stat(), observed.sizeBytes, observed.mtimeMs);
  } catch (error) {
    range.release();
    throw error;
  }
  return range;
}

/** Uploads `localPath` to `key` with `encryption`. */
export async function uploadFile(
  localPath: string,
  key: string,
  encryption: ObjectEncryption,
  context: UploadContext,
  observer: UploadObserver = {},
  /** Size and mtime the caller just saw (saves a stat per file); a later change is still caught before the upload counts. */
  observed?: { readonly sizeBytes: number; readonly mtimeMs: number },
  /** More metadata for the object (e.g. which sync folder wrote it). */
  extraMetadata: ObjectMetadata = {},
): Promise<UploadOutcome> {
  let sizeBytes: number;
  let mtimeMs: number;
  if (observed !== undefined) {
    ({ sizeBytes, mtimeMs } = observed);
  } else {
    const info = await stat(localPath);
    sizeBytes = info.size;
    mtimeMs = info.mtimeMs;
  }
  const plan = planUpload(sizeBytes, context.limits, context.sizing);
  const customerKey = encryption.mode === 'c' ? encryption.key : undefined;
  const baseMetadata: ObjectMetadata = { ...extraMetadata, [METADATA.mtime]: String(Math.round(mtimeMs)) };

  if (plan.kind === 'single') {
    const response = await context.partQueue.add(
      async () => {
        // Queued before a cancel: nothing is read or sent.
        context.signal?.throwIfAborted();
        const file = await OpenFile.open(localPath);
        const range = await readWholeFile(localPath, file, { sizeBytes, mtimeMs }, context).finally(() => file.close());
        try {
          const put = await context.store.putObject(
            key,
            throttledBody(range.body, context.bandwidth, context.signal),
            { contentMd5: range.md5.toString('base64'), metadata: { ...baseMetadata, [METADATA.digest]: contentDigest(range.md5, customerKey) }, encryption, storageClass: context.storageClass },
            { signal: context.signal },
          );
          checkEchoedKey(encryption, put.keyFingerprint, key);
          if (put.crc64 !== undefined) await checkCrc64(context, key, put.crc64, range.crc64 ?? (await crc64OfFile(localPath, context.signal)));
          return { ...put, contentMd5: range.md5 };
        } finally {
          range.release();
        }
      },
      // Small files are cheap to finish and free a whole file's worth of bookkeeping: first.
      { priority: 1 },
    );
    if (response === undefined) throw new CosyncError('aborted', `upload of ${key} was cancelled`);
    const { contentMd5 } = response;
    observer.onDidTransfer?.(sizeBytes);
    context.journal.recordObjectSoon({
      endpoint: context.endpointId,
      bucket: context.bucket,
      key,
      localPath,
      sizeBytes,
      mtimeMs,
      digest: `md5:${contentMd5.toString('hex')}`,
      keyFingerprint: fingerprintOf(encryption),
      etag: response.etag ?? null,
      uploadedAt: Date.now(),
    });
    const md5Hex = contentMd5.toString('hex');
    return { sizeBytes, kind: 'single', partCount: 1, resumedParts: 0, etagMatchesContent: response.etag === md5Hex, etag: response.etag ?? null, mtimeMs, md5Hex };
  }

  const { uploadId, doneParts } = await resumeOrCreate(localPath, key, encryption, context, {
    sizeBytes,
    mtimeMs,
    partBytes: plan.partBytes,
    metadata: { ...baseMetadata, [METADATA.partBytes]: String(plan.partBytes) },
  });
  const resumedParts = doneParts.size;
  if (resumedParts > 0) observer.onDidResume?.(resumedParts, plan.partCount);
  for (const part of doneParts.values()) observer.onDidTransfer?.(partLength(part.partNumber, plan.partBytes, sizeBytes));

  const partCrcs = new Map<number, bigint>();
  const file = await OpenFile.open(localPath);
  try {
    await runParts(context.partQueue, missingParts(plan.partCount, doneParts), context.signal, async (partNumber, signal) => {
      const length = partLength(partNumber, plan.partBytes, sizeBytes);
      const range = await prepareRange(localPath, file, (partNumber - 1) * plan.partBytes, length, context.buffers, context.crc64Parts, signal);
      try {
        if (range.crc64 !== undefined) partCrcs.set(partNumber, range.crc64);
        const response = await context.store.uploadPart(
          key,
          uploadId,
          partNumber,
          throttledBody(range.body, context.bandwidth, signal),
          { contentMd5: range.md5.toString('base64'), encryption },
          { signal },
        );
        checkEchoedKey(encryption, response.keyFingerprint, key);
        // COS returns each part's CRC-64 on Upload Part (https://cloud.tencent.com/document/product/436/40334):
        // a damaged part is found as it completes, not only after Complete; unrecorded, it is sent again on the next attempt.
        if (response.crc64 !== undefined && range.crc64 !== undefined && response.crc64 !== range.crc64.toString()) {
          throw new CosyncError('integrity', `the server's CRC-64 of part ${partNumber} of ${JSON.stringify(key)} (${response.crc64}) differs from the local file's (${range.crc64}); the part will be sent again`);
        }
        const record: PartRecord = { partNumber, etag: response.etag, md5Hex: range.md5.toString('hex') };
        // The part counts only once the journal has it: a crash after this line never re-sends it.
        context.journal.recordPart(uploadId, record);
        doneParts.set(partNumber, record);
        observer.onDidTransfer?.(length);
      } finally {
        range.release();
      }
    });
  } catch (error) {
    // A cancelled upload is not abandoned: the journal keeps its uploadId and finished parts, and
    // the next run resumes it (ListParts); it never completes, so no object looks done.
    if (error instanceof CosyncError && error.code === 'local-changed') await abandon(key, uploadId, context);
    throw error;
  } finally {
    await file.close();
  }
  // Cancelled after the last part: still resumable, and nothing to Complete in a hurry.
  context.signal?.throwIfAborted();

  observer.onWillVerify?.();
  try {
    await assertUnchanged(localPath, sizeBytes, mtimeMs);
  } catch (error) {
    await abandon(key, uploadId, context);
    throw error;
  }
  const parts = [...doneParts.values()].sort((a, b) => a.partNumber - b.partNumber);
  const completeStartedAt = Date.now();
  let completionUnconfirmed = false;
  try {
    await context.store.completeMultipartUpload(key, uploadId, parts, encryption, { signal: context.signal });
  } catch (error) {
    // A Complete whose response was lost is retried and then finds the upload gone (NoSuchUpload):
    // the object itself, checked below, tells whether the first attempt took.
    if (!(error instanceof CosyncError && error.code === 'object-not-found')) throw error;
    completionUnconfirmed = true;
  }

  // RGW answers Complete with an empty ETag; HEAD has the real one, and proves the key reads it.
  const head = await context.store.headObject(key, encryption, { signal: context.signal });
  if (head === undefined || head.sizeBytes !== sizeBytes) {
    throw new CosyncError('integrity', `after upload, ${JSON.stringify(key)} has ${head?.sizeBytes ?? 'no'} bytes on the server instead of ${sizeBytes}`);
  }
  checkEchoedKey(encryption, head.keyFingerprint, key);
  const composite = multipartEtag(parts.map((part) => Buffer.from(part.md5Hex, 'hex')));
  // Parts resumed from an earlier run have no CRC in memory; the combined check needs them all.
  const localCrc64 = crc64OfParts(partCrcs, plan.partBytes, sizeBytes);
  if (head.crc64 !== undefined && localCrc64 !== undefined) await checkCrc64(context, key, head.crc64, localCrc64);
  if (completionUnconfirmed && head.etag !== composite && (head.lastModified?.getTime() ?? 0) < completeStartedAt - 60_000) {
    context.journal.forgetMultipart(context.endpointId, context.bucket, key);
    throw new CosyncError('integrity', `the multipart upload of ${JSON.stringify(key)} vanished before it completed; it will be uploaded again`);
  }
  context.journal.recordObject({
    endpoint: context.endpointId,
    bucket: context.bucket,
    key,
    localPath,
    sizeBytes,
    mtimeMs,
    digest: `md5-parts:${plan.partBytes}:${composite}`,
    keyFingerprint: fingerprintOf(encryption),
    etag: head.etag ?? null,
    uploadedAt: Date.now(),
  });
  return {
    sizeBytes,
    kind: 'multipart',
    partCount: plan.partCount,
    resumedParts,
    etagMatchesContent: head.etag === composite,
    etag: head.etag ?? null,
    mtimeMs,
    md5Hex: undefined,
  };
}

function partLength(partNumber: number, partBytes: number, sizeBytes: number): number {
  return Math.min(partBytes, sizeBytes - (partNumber - 1) * partBytes);
}

async function abandon(key: string, uploadId: string, context: UploadContext): Promise<void> {
  try {
    await context.store.abortMultipartUpload(key, uploadId);
  } catch (error) {
    context.logger.log('warn', 'multipart-abort-failed', { key, error });
  }
  context.journal.forgetMultipart(context.endpointId, context.bucket, key);
}

/**
 * Continues the journal's multipart upload for this object when it is for the same file state,
 * part size and key, keeping only parts the server still has with the ETag we recorded;
 * otherwise aborts it and creates a new upload.
 */
async function resumeOrCreate(
  localPath: string,
  key: string,
  encryption: ObjectEncryption,
  context: UploadContext,
  wanted: { sizeBytes: number; mtimeMs: number; partBytes: number; metadata: ObjectMetadata },
): Promise<{ uploadId: string; doneParts: Map<number, PartRecord> }> {
  const existing = context.journal.getMultipart(context.endpointId, context.bucket, key);
  if (existing !== undefined) {
    const { upload } = existing;
    const sameState =
      upload.localPath === localPath &&
      upload.sizeBytes === wanted.sizeBytes &&
      upload.mtimeMs === wanted.mtimeMs &&
      upload.partBytes === wanted.partBytes &&
      upload.keyFingerprint === fingerprintOf(encryption);
    const serverParts = sameState ? await context.store.listParts(key, upload.uploadId, { signal: context.signal }) : undefined;
    if (sameState && serverParts !== undefined) {
      const onServer = new Map(serverParts.map((part) => [part.partNumber, part]));
      const doneParts = new Map<number, PartRecord>();
      for (const part of existing.parts) {
        const remote = onServer.get(part.partNumber);
        if (remote !== undefined && remote.etag === part.etag && remote.sizeBytes === partLength(part.partNumber, wanted.partBytes, wanted.sizeBytes)) {
          doneParts.set(part.partNumber, part);
        } else {
          context.journal.forgetPart(upload.uploadId, part.partNumber);
        }
      }
      context.logger.log('info', 'multipart-resume', { key, uploadId: upload.uploadId, partsDone: doneParts.size });
      return { uploadId: upload.uploadId, doneParts };
    }
    context.logger.log('info', 'multipart-restart', { key, reason: sameState ? 'upload gone from server' : 'file or settings changed' });
    await abandon(key, upload.uploadId, context);
  }
  const uploadId = await context.store.createMultipartUpload(key, { metadata: wanted.metadata, encryption, storageClass: context.storageClass }, { signal: context.signal });
  context.journal.beginMultipart({
    endpoint: context.endpointId,
    bucket: context.bucket,
    key,
    uploadId,
    localPath,
    sizeBytes: wanted.sizeBytes,
    mtimeMs: wanted.mtimeMs,
    partBytes: wanted.partBytes,
    keyFingerprint: fingerprintOf(encryption),
    startedAt: Date.now(),
  });
  return { uploadId, doneParts: new Map() };
}
