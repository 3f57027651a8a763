/**
 * Copying an object within a bucket — for renames and key rotation — server-side when the
 * server can, otherwise through the client.
 *
 *   HEAD source ─► does the copy re-key a digest? ── yes ───────────────────────────────────┐
 *        │ no                                                                              │
 *        ├─ fits one CopyObject: CopyObject ─────────────────────── server cannot ─────────┤
 *        └─ larger: Create ─► UploadPartCopy ×N in parallel ─► Complete ─► HEAD            │
 *                        └─ any failure: Abort ───────────────────── server cannot ────────┤
 *                                                                                          ▼
 *   streamed: small: GET ─► check the source's digest ─► PUT with the new digest
 *             large: Create ─► per part, in parallel: ranged GET ─► UploadPart
 *                    (the whole-object MD5 is hashed in part order meanwhile)
 *                    ─► check the source's digest ─► Complete ─► HEAD
 *
 * - "Server cannot": it answers 501 NotImplemented (RGW's CopyObject of SSE-C objects), or it
 *   refuses, in a copy that changes the SSE-C key, a source key the HEAD has just accepted: RGW 16
 *   decrypts an UploadPartCopy source with the destination's key (see the integration test), so
 *   only copies that keep the key work there.
 * - The digest beside an object is keyed by its SSE-C key (content-digest.ts): a copy that
 *   changes the key of an object carrying one is streamed, as only reading the content can make
 *   the new digest.
 * - A multipart copy never carries metadata over: Create gets the source's metadata, with
 *   cosync-part-bytes set to the copy's own part size (restores check the multipart ETag by it).
 * - Every copy keeps the source's storage class: a copy without one is STANDARD on COS and S3
 *   (PUT Object - Copy, https://cloud.tencent.com/document/product/436/10881), so a rename or a
 *   trash move would otherwise move an archived or infrequent-access object back to STANDARD.
 * - A copy onto itself (key rotation) replaces the object only at Complete, after every part has
 *   been read, and never when a check failed.
 */
import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import { planUpload, type MultipartLimits, type TransferSizing, type UploadPlan } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import { bufferBody, type ObjectEncryption, type ObjectMetadata, type RemoteObjectDetails, type RemoteStore } from '../remote/remote-store.js';
import type { SseCustomerKey } from '../secrets/secret-values.js';
import { throttledBody, type TokenBucket } from './bandwidth.js';
import { BufferPool } from './buffer-pool.js';
import { contentDigest, METADATA } from './content-digest.js';
import { missingParts, runParts } from './run-parts.js';

/** How the copy was made. */
export type CopyMethod = 'server-side' | 'streamed';

/** Parts of one copy in flight when the caller gives no part queue. */
const DEFAULT_COPY_CONCURRENCY = 8;

/** How a copy sizes and schedules its parts. */
export interface CopySettings {
  readonly limits: MultipartLimits;
  readonly sizing: TransferSizing;
  /**
   * The queue that bounds parts in flight, e.g. the engine's global part queue, so that copies
   * and uploads share one limit. Never a queue one of whose tasks makes this copy: its parts
   * would wait behind it. Without one, the copy runs `concurrency` parts at a time.
   */
  readonly partQueue?: PQueue | undefined;
  /** Parts in flight when there is no partQueue (default 8). */
  readonly concurrency?: number | undefined;
  /** The global bandwidth limit: a streamed copy's uploads count against it like any upload's. */
  readonly bandwidth?: TokenBucket | undefined;
  readonly signal?: AbortSignal | undefined;
}

type MultipartPlan = Extract<UploadPlan, { kind: 'multipart' }>;

/** One copy in progress: what each step needs. */
interface CopyJob {
  readonly store: RemoteStore;
  readonly sourceKey: string;
  readonly destinationKey: string;
  readonly encryption: { readonly source: ObjectEncryption; readonly destination: ObjectEncryption };
  /** The source as the HEAD saw it; every later read must find the same ETag. */
  readonly source: RemoteObjectDetails;
  readonly queue: PQueue;
  readonly bandwidth: TokenBucket | undefined;
  readonly signal: AbortSignal | undefined;
}

/** Copies `sourceKey` to `destinationKey`, re-encrypting as asked. */
export async function copyObjectWithFallback(
  store: RemoteStore,
  sourceKey: string,
  destinationKey: string,
  encryption: { source: ObjectEncryption; destination: ObjectEncryption },
  settings: CopySettings,
): Promise<CopyMethod> {
  const { signal } = settings;
  const source = await store.headObject(sourceKey, encryption.source, { signal });
  if (source === undefined) throw new CosyncError('object-not-found', `${JSON.stringify(sourceKey)} does not exist; nothing to copy`);
  const queue = settings.partQueue ?? new PQueue({ concurrency: settings.concurrency ?? DEFAULT_COPY_CONCURRENCY });
  const job: CopyJob = { store, sourceKey, destinationKey, encryption, source, queue, bandwidth: settings.bandwidth, signal };
  const plan = planUpload(source.sizeBytes, settings.limits, settings.sizing);
  const keyChanges = customerKeyOf(encryption.source)?.fingerprint !== customerKeyOf(encryption.destination)?.fingerprint;

  // A digest keyed by the source's SSE-C key can only be remade from the content: such a copy is streamed.
  if (!(keyChanges && source.metadata[METADATA.digest] !== undefined)) {
    try {
      // planUpload makes every object over the single-request limit multipart.
      if (plan.kind === 'multipart' && source.sizeBytes > settings.limits.maxSinglePutBytes) {
        await copyPartsOnServer(job, plan);
      } else {
        // S3 copies an object onto itself (key rotation) only when the request replaces its metadata — with the same metadata here.
        const metadata = sourceKey === destinationKey ? source.metadata : undefined;
        await store.copyObject(sourceKey, destinationKey, { ...encryption, metadata, storageClass: source.storageClass }, { signal });
      }
      return 'server-side';
    } catch (error) {
      if (!serverCannotCopy(error, keyChanges)) throw error;
    }
  }
  await streamObject(job, plan);
  return 'streamed';
}

function customerKeyOf(encryption: ObjectEncryption): SseCustomerKey | undefined {
  return encryption.mode === 'c' ? encryption.key : undefined;
}

/**
 * Whether a server-side copy failed because the server cannot make it, so streaming may: it
 * says so (501), or it refused the source's SSE-C key, which the HEAD has just accepted, in a
 * copy that changes the key — RGW 16's UploadPartCopy reads the source with the destination's key.
 */
function serverCannotCopy(error: unknown, keyChanges: boolean): boolean {
  if (!(error instanceof CosyncError)) return false;
  return error.code === 'unsupported' || (keyChanges && error.code === 'key-mismatch');
}

/** Copies an object too large for CopyObject part by part on the server (UploadPartCopy). */
async function copyPartsOnServer(job: CopyJob, plan: MultipartPlan): Promise<void> {
  // The digest, if any, stays valid: the copy has the same content under the same SSE-C key.
  const metadata: ObjectMetadata = { ...job.source.metadata, [METADATA.partBytes]: String(plan.partBytes) };
  await viaMultipartUpload(job, plan, metadata, async (uploadId, partNumber, signal) => {
    const request = { range: partRange(plan, partNumber), ...job.encryption, sourceEtag: job.source.etag };
    return (await job.store.uploadPartCopy(job.destinationKey, uploadId, partNumber, job.sourceKey, request, { signal })).etag;
  });
}

/** Copies the object through the client: down with the source's encryption, up with the destination's. */
async function streamObject(job: CopyJob, plan: UploadPlan): Promise<void> {
  const { store, destinationKey, encryption } = job;
  // The digest is remade from the content (single PUT), or cannot be (multipart: created before the content is read).
  const metadata: Record<string, string> = { ...job.source.metadata };
  delete metadata[METADATA.digest];
  delete metadata[METADATA.partBytes];

  if (plan.kind === 'single') {
    const bytes = Buffer.allocUnsafe(plan.sizeBytes);
    await readSource(job, bytes, undefined, job.signal);
    const md5 = createHash('md5').update(bytes).digest();
    checkSourceDigest(job, md5);
    metadata[METADATA.digest] = contentDigest(md5, customerKeyOf(encryption.destination));
    await store.putObject(destinationKey, throttledBody(bufferBody(bytes), job.bandwidth, job.signal), { contentMd5: md5.toString('base64'), metadata, encryption: encryption.destination, storageClass: job.source.storageClass }, { signal: job.signal });
    return;
  }

  // Part buffers are held only by parts running in the queue: about concurrency × part size.
  const buffers = new BufferPool(job.queue.concurrency);
  const whole = new InOrderHash();
  await viaMultipartUpload(
    job,
    plan,
    { ...metadata, [METADATA.partBytes]: String(plan.partBytes) },
    async (uploadId, partNumber, signal) => {
      const range = partRange(plan, partNumber);
      const bytes = buffers.acquire(range.end - range.start + 1);
      try {
        await readSource(job, bytes, range, signal);
        const partMd5 = createHash('md5').update(bytes).digest('base64');
        // The part goes up while the whole-object hash waits for the parts before it; the buffer is reused only once both are done with it.
        const [upload, hashed] = await Promise.allSettled([
          store.uploadPart(destinationKey, uploadId, partNumber, throttledBody(bufferBody(bytes), job.bandwidth, signal), { contentMd5: partMd5, encryption: encryption.destination }, { signal }),
          whole.update(partNumber, bytes, signal),
        ]);
        if (upload.status === 'rejected') throw upload.reason;
        if (hashed.status === 'rejected') throw hashed.reason;
        return upload.value.etag;
      } finally {
        buffers.release(bytes);
      }
    },
    // Before Complete: a copy of bytes that do not match the source never replaces anything.
    () => checkSourceDigest(job, whole.digest()),
  );
}

/**
 * Makes the destination as a multipart upload whose parts `sendPart` makes, in parallel through
 * the job's queue; `beforeComplete` may still refuse. Any failure aborts the upload, so a
 * half-made copy never looks complete. The object made must have the source's size.
 */
async function viaMultipartUpload(
  job: CopyJob,
  plan: MultipartPlan,
  metadata: ObjectMetadata,
  sendPart: (uploadId: string, partNumber: number, signal: AbortSignal) => Promise<string>,
  beforeComplete: () => void = () => undefined,
): Promise<void> {
  const { store, sourceKey, destinationKey, encryption, signal } = job;
  const uploadId = await store.createMultipartUpload(destinationKey, { metadata, encryption: encryption.destination, storageClass: job.source.storageClass }, { signal });
  try {
    const etags = new Array<string>(plan.partCount);
    await runParts(job.queue, missingParts(plan.partCount, new Set()), signal, async (partNumber, partSignal) => {
      etags[partNumber - 1] = await sendPart(uploadId, partNumber, partSignal);
    });
    beforeComplete();
    const parts = etags.map((etag, index) => ({ partNumber: index + 1, etag }));
    await store.completeMultipartUpload(destinationKey, uploadId, parts, encryption.destination, { signal });
  } catch (error) {
    // Best effort: an upload left behind is aborted later as stale (abortStaleUploads).
    await store.abortMultipartUpload(destinationKey, uploadId).catch(() => undefined);
    throw error;
  }
  const head = await store.headObject(destinationKey, encryption.destination, { signal });
  if (head?.sizeBytes !== job.source.sizeBytes) {
    const problem = `the copy of ${JSON.stringify(sourceKey)} has ${head?.sizeBytes ?? 'no'} bytes instead of ${job.source.sizeBytes}`;
    // A wrong copy must not look complete. Onto itself (key rotation) there is nothing else to keep: the error stops the rotation.
    if (head === undefined || destinationKey === sourceKey) throw new CosyncError('integrity', problem);
    try {
      await store.deleteObject(destinationKey);
    } catch (error) {
      throw new CosyncError('integrity', `${problem}, and removing it failed (${(error as Error).message}); delete ${JSON.stringify(destinationKey)} by hand`);
    }
    throw new CosyncError('integrity', `${problem}; it was removed`);
  }
}

/** The inclusive byte range of a part. */
function partRange(plan: MultipartPlan, partNumber: number): { start: number; end: number } {
  const start = (partNumber - 1) * plan.partBytes;
  return { start, end: Math.min(start + plan.partBytes, plan.sizeBytes) - 1 };
}

/** Reads `range` of the source (all of it without one) into `target`, which has exactly its length. */
async function readSource(job: CopyJob, target: Buffer, range: { start: number; end: number } | undefined, signal: AbortSignal | undefined): Promise<void> {
  const { body, details } = await job.store.getObject(job.sourceKey, job.encryption.source, { signal, range });
  try {
    // All reads must come from the version the HEAD saw: its metadata (digest) is the one checked, and parts read apart must fit together.
    if (details.etag !== undefined && job.source.etag !== undefined && details.etag !== job.source.etag) {
      throw new CosyncError('integrity', `${JSON.stringify(job.sourceKey)} changed on the server while it was being copied; the copy was not made`);
    }
    let filled = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (filled + chunk.length > target.length) throw new CosyncError('integrity', `the server sent more of ${JSON.stringify(job.sourceKey)} than was asked for while it was being copied`);
      chunk.copy(target, filled);
      filled += chunk.length;
    }
    if (filled !== target.length) throw new CosyncError('integrity', `${JSON.stringify(job.sourceKey)} ended early while being copied (${filled} of ${target.length} bytes)`);
  } finally {
    body.destroy();
  }
}

/** The source's digest (keyed by the source's SSE-C key) proves the bytes read are the bytes stored. */
function checkSourceDigest(job: CopyJob, md5: Buffer): void {
  const recorded = job.source.metadata[METADATA.digest];
  if (recorded !== undefined && recorded !== contentDigest(md5, customerKeyOf(job.encryption.source))) {
    throw new CosyncError('integrity', `${JSON.stringify(job.sourceKey)} does not match its recorded digest; not copied`);
  }
}

/**
 * The MD5 of a whole object whose parts arrive in any order: each part waits until the parts
 * before it are hashed. A waiting part keeps its buffer and its place in the part queue, so with
 * a queue of N, part i+N cannot start before part i is hashed, and at most N buffers exist.
 */
class InOrderHash {
  readonly #hash = createHash('md5');
  #next = 1;
  readonly #waiting = new Map<number, () => void>();

  /** Hashes part `partNumber` once every part before it is hashed; rejects when `signal` aborts first. */
  async update(partNumber: number, bytes: Buffer, signal: AbortSignal): Promise<void> {
    if (partNumber !== this.#next) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.#waiting.delete(partNumber);
          reject(new CosyncError('aborted', `part ${partNumber} was cancelled`));
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiting.set(partNumber, () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    this.#hash.update(bytes);
    this.#next += 1;
    const wake = this.#waiting.get(this.#next);
    this.#waiting.delete(this.#next);
    wake?.();
  }

  /** The MD5 of all parts, once each has been hashed. */
  digest(): Buffer {
    return this.#hash.digest();
  }
}
