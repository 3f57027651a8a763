/**
 * Copying an object within a bucket — for renames and key rotation — server-side when the
 * server can, otherwise through the client: RGW answers CopyObject of SSE-C objects with 501
 * NotImplemented, so the object is streamed down with the source key and up with the
 * destination key, checked against the source's digest on the way. A copy that changes the SSE-C
 * key of an object carrying a digest is always streamed (the digest is keyed by the SSE-C key); a
 * copy onto itself (key rotation) replaces the metadata with the same metadata, as S3 requires.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { planUpload, type MultipartLimits, type TransferSizing } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import { bufferBody, type ObjectEncryption, type ObjectMetadata, type RemoteStore } from '../remote/remote-store.js';
import { contentDigest, METADATA } from './content-digest.js';

/** How the copy was made. */
export type CopyMethod = 'server-side' | 'streamed';

/** Reads exactly `target.length` bytes from a stream iterator (fewer only at its end). */
async function fill(reader: AsyncIterator<Buffer>, pending: { rest: Buffer | undefined }, target: Buffer): Promise<number> {
  let filled = 0;
  while (filled < target.length) {
    let chunk = pending.rest;
    pending.rest = undefined;
    if (chunk === undefined) {
      const next = await reader.next();
      if (next.done === true) break;
      chunk = next.value;
    }
    const take = Math.min(chunk.length, target.length - filled);
    chunk.copy(target, filled, 0, take);
    filled += take;
    if (take < chunk.length) pending.rest = chunk.subarray(take);
  }
  return filled;
}

/** Copies `sourceKey` to `destinationKey`, re-encrypting as asked. */
export async function copyObjectWithFallback(
  store: RemoteStore,
  sourceKey: string,
  destinationKey: string,
  encryption: { source: ObjectEncryption; destination: ObjectEncryption },
  sizing: { limits: MultipartLimits; sizing: TransferSizing; signal?: AbortSignal | undefined },
): Promise<CopyMethod> {
  const sourceCustomerKey = encryption.source.mode === 'c' ? encryption.source.key : undefined;
  const destinationCustomerKey = encryption.destination.mode === 'c' ? encryption.destination.key : undefined;
  const digestKeyChanges = sourceCustomerKey?.fingerprint !== destinationCustomerKey?.fingerprint;
  let serverSide = true;
  let replacedMetadata: ObjectMetadata | undefined;
  if (digestKeyChanges || sourceKey === destinationKey) {
    const head = await store.headObject(sourceKey, encryption.source, { signal: sizing.signal });
    if (head === undefined) throw new CosyncError('object-not-found', `${JSON.stringify(sourceKey)} does not exist; nothing to copy`);
    // The digest beside an object is keyed by its SSE-C key (content-digest.ts): a server-side copy
    // would carry the old one over, and only reading the content can make the new one.
    if (digestKeyChanges && head.metadata[METADATA.digest] !== undefined) serverSide = false;
    // S3 copies an object onto itself (key rotation) only when the request replaces its metadata — with the same metadata here.
    if (sourceKey === destinationKey) replacedMetadata = head.metadata;
  }
  if (serverSide) {
    try {
      await store.copyObject(sourceKey, destinationKey, { ...encryption, metadata: replacedMetadata }, { signal: sizing.signal });
      return 'server-side';
    } catch (error) {
      if (!(error instanceof CosyncError && error.code === 'unsupported')) throw error;
    }
  }

  const { body, details } = await store.getObject(sourceKey, encryption.source, { signal: sizing.signal });
  const reader = (body as Readable)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const pending: { rest: Buffer | undefined } = { rest: undefined };
  const plan = planUpload(details.sizeBytes, sizing.limits, sizing.sizing);
  const whole = createHash('md5');
  const baseMetadata: Record<string, string> = { ...details.metadata };
  delete baseMetadata[METADATA.digest];
  delete baseMetadata[METADATA.partBytes];
  // The source's digest (keyed by the source key for SSE-C) proves the bytes read are the bytes stored.
  const checkSourceDigest = (md5: Buffer): void => {
    const recorded = details.metadata[METADATA.digest];
    if (recorded !== undefined && recorded !== contentDigest(md5, sourceCustomerKey)) {
      throw new CosyncError('integrity', `${JSON.stringify(sourceKey)} does not match its recorded digest; not copied`);
    }
  };

  try {
    if (plan.kind === 'single') {
      const bytes = Buffer.allocUnsafe(details.sizeBytes);
      if ((await fill(reader, pending, bytes)) !== bytes.length) throw new CosyncError('integrity', `${JSON.stringify(sourceKey)} ended early while being copied`);
      const md5 = whole.update(bytes).digest();
      checkSourceDigest(md5);
      const metadata: ObjectMetadata = { ...baseMetadata, [METADATA.digest]: contentDigest(md5, destinationCustomerKey) };
      await store.putObject(destinationKey, bufferBody(bytes), { contentMd5: md5.toString('base64'), metadata, encryption: encryption.destination }, { signal: sizing.signal });
      return 'streamed';
    }

    const uploadId = await store.createMultipartUpload(
      destinationKey,
      { metadata: { ...baseMetadata, [METADATA.partBytes]: String(plan.partBytes) }, encryption: encryption.destination },
      { signal: sizing.signal },
    );
    try {
      const parts: Array<{ partNumber: number; etag: string }> = [];
      const buffer = Buffer.allocUnsafe(plan.partBytes);
      for (let partNumber = 1; partNumber <= plan.partCount; partNumber++) {
        const length = Math.min(plan.partBytes, details.sizeBytes - (partNumber - 1) * plan.partBytes);
        const view = buffer.subarray(0, length);
        if ((await fill(reader, pending, view)) !== length) throw new CosyncError('integrity', `${JSON.stringify(sourceKey)} ended early while being copied`);
        whole.update(view);
        const partMd5 = createHash('md5').update(view).digest('base64');
        const { etag } = await store.uploadPart(destinationKey, uploadId, partNumber, bufferBody(view), { contentMd5: partMd5, encryption: encryption.destination }, { signal: sizing.signal });
        parts.push({ partNumber, etag });
      }
      // Checked before Complete: a copy of bytes that do not match the source never replaces anything.
      checkSourceDigest(whole.digest());
      await store.completeMultipartUpload(destinationKey, uploadId, parts, encryption.destination, { signal: sizing.signal });
    } catch (error) {
      // Best effort: an upload left behind is aborted later as stale (abortStaleUploads).
      await store.abortMultipartUpload(destinationKey, uploadId).catch(() => undefined);
      throw error;
    }
    const head = await store.headObject(destinationKey, encryption.destination, { signal: sizing.signal });
    if (head?.sizeBytes !== details.sizeBytes) throw new CosyncError('integrity', `the copy of ${JSON.stringify(sourceKey)} has ${head?.sizeBytes ?? 'no'} bytes instead of ${details.sizeBytes}`);
    return 'streamed';
  } finally {
    body.destroy();
  }
}
