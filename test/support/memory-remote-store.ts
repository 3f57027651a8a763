/**
 * An in-memory RemoteStore for unit tests of the sync pipeline: keys, metadata, SSE-C (an object
 * reads only with the key it was written with), Content-MD5 checks, multipart uploads (ETag = MD5
 * of the part MD5s, "-N"), copies (metadata kept or replaced, UploadPartCopy's ETag condition),
 * listings in key order. Faults are injected per call with `onCall`: throw to fail a request,
 * await to hold one (e.g. until the caller's signal aborts). Integration tests use the real RGW.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RestoreRequest } from '../../app/archive-restore.js';
import { CosyncError } from '../../app/result.js';
import type { CallOptions, ObjectEncryption, ObjectMetadata, RemoteObjectDetails, RemoteObjectInfo, RemotePart, RemoteStore, RequestBody } from '../../main/remote/remote-store.js';

/** One object as the store holds it. */
export interface MemoryObject {
  readonly body: Buffer;
  readonly metadata: ObjectMetadata;
  readonly etag: string;
  /** The SSE-C fingerprint it was written with (undefined: not SSE-C). */
  readonly customerKey: string | undefined;
  readonly lastModified: Date;
}

/** A request about to be handled: what `onCall` sees. */
export interface MemoryCall {
  readonly operation: 'head' | 'put' | 'create-multipart' | 'upload-part' | 'list-parts' | 'complete' | 'abort' | 'list' | 'get' | 'delete' | 'copy' | 'upload-part-copy';
  readonly key: string;
  readonly partNumber?: number | undefined;
  readonly signal: AbortSignal | undefined;
}

interface Upload {
  readonly key: string;
  readonly metadata: ObjectMetadata;
  readonly customerKey: string | undefined;
  readonly parts: Map<number, { body: Buffer; etag: string }>;
  readonly initiated: Date;
}

const md5 = (bytes: Buffer): Buffer => createHash('md5').update(bytes).digest();

function fingerprintOf(encryption: ObjectEncryption): string | undefined {
  return encryption.mode === 'c' ? encryption.key.fingerprint : undefined;
}

async function readBody(body: RequestBody): Promise<Buffer> {
  const opened = body.open();
  // A copy, as a server keeps its own: the caller's buffer goes back to its pool after the request.
  if (Buffer.isBuffer(opened)) return Buffer.from(opened);
  const chunks: Buffer[] = [];
  for await (const chunk of opened) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export class MemoryRemoteStore implements RemoteStore {
  readonly description = 'in-memory bucket';
  readonly objects = new Map<string, MemoryObject>();
  readonly uploads = new Map<string, Upload>();
  /** Every request, in order ("operation key"), to assert what was asked of the store. */
  readonly calls: string[] = [];
  /** Called before each request is handled: throw to fail it, await to hold it. */
  onCall: (call: MemoryCall) => void | Promise<void> = () => undefined;
  #nextUploadId = 1;

  constructor(private readonly now: () => number = Date.now) {}

  async #enter(call: MemoryCall): Promise<void> {
    this.calls.push(`${call.operation} ${call.key}`);
    call.signal?.throwIfAborted();
    await this.onCall(call);
    call.signal?.throwIfAborted();
  }

  /** Puts an object directly (someone else's write, or state before a test). */
  seed(key: string, content: string | Buffer, metadata: ObjectMetadata = {}, encryption: ObjectEncryption = { mode: 'none' }): MemoryObject {
    const body = Buffer.from(content);
    const object: MemoryObject = { body, metadata, etag: md5(body).toString('hex'), customerKey: fingerprintOf(encryption), lastModified: new Date(this.now()) };
    this.objects.set(key, object);
    return object;
  }

  /** The object, read as a client with `encryption` would: SSE-C objects need their key, others refuse one. */
  #read(key: string, encryption: ObjectEncryption): MemoryObject | undefined {
    const object = this.objects.get(key);
    if (object === undefined) return undefined;
    if (object.customerKey !== fingerprintOf(encryption)) {
      throw new CosyncError('key-mismatch', `the server refused the SSE-C key for ${JSON.stringify(key)} (HTTP 400 without a reason, as servers answer a HEAD whose SSE-C key does not match)`);
    }
    return object;
  }

  #details(key: string, object: MemoryObject): RemoteObjectDetails {
    return { key, sizeBytes: object.body.length, etag: object.etag, lastModified: object.lastModified, metadata: object.metadata, keyFingerprint: object.customerKey, crc64: undefined };
  }

  #upload(key: string, uploadId: string): Upload {
    const upload = this.uploads.get(uploadId);
    if (upload === undefined || upload.key !== key) throw new CosyncError('object-not-found', `the multipart upload of ${JSON.stringify(key)} no longer exists on the server`);
    return upload;
  }

  async checkAccess(prefix: string, options: CallOptions = {}): Promise<void> {
    await this.#enter({ operation: 'list', key: prefix, signal: options.signal });
  }

  async headObject(key: string, encryption: ObjectEncryption, options: CallOptions = {}): Promise<RemoteObjectDetails | undefined> {
    await this.#enter({ operation: 'head', key, signal: options.signal });
    const object = this.#read(key, encryption);
    return object === undefined ? undefined : this.#details(key, object);
  }

  async putObject(key: string, body: RequestBody, request: { contentMd5: string; metadata: ObjectMetadata; encryption: ObjectEncryption }, options: CallOptions = {}): Promise<{ etag: string | undefined; keyFingerprint: string | undefined; crc64: string | undefined }> {
    await this.#enter({ operation: 'put', key, signal: options.signal });
    const bytes = await readBody(body);
    if (md5(bytes).toString('base64') !== request.contentMd5) throw new CosyncError('integrity', `the server received different bytes than were sent for ${JSON.stringify(key)} (BadDigest); the transfer will be retried`);
    const object: MemoryObject = { body: bytes, metadata: request.metadata, etag: md5(bytes).toString('hex'), customerKey: fingerprintOf(request.encryption), lastModified: new Date(this.now()) };
    this.objects.set(key, object);
    return { etag: object.etag, keyFingerprint: object.customerKey, crc64: undefined };
  }

  async createMultipartUpload(key: string, request: { metadata: ObjectMetadata; encryption: ObjectEncryption }, options: CallOptions = {}): Promise<string> {
    await this.#enter({ operation: 'create-multipart', key, signal: options.signal });
    const uploadId = `upload-${this.#nextUploadId++}`;
    this.uploads.set(uploadId, { key, metadata: request.metadata, customerKey: fingerprintOf(request.encryption), parts: new Map(), initiated: new Date(this.now()) });
    return uploadId;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: RequestBody, request: { contentMd5: string; encryption: ObjectEncryption }, options: CallOptions = {}): Promise<{ etag: string; keyFingerprint: string | undefined; crc64: string | undefined }> {
    await this.#enter({ operation: 'upload-part', key, partNumber, signal: options.signal });
    const upload = this.#upload(key, uploadId);
    if (upload.customerKey !== fingerprintOf(request.encryption)) throw new CosyncError('key-mismatch', `the server refused the SSE-C key for part ${partNumber} of ${JSON.stringify(key)}`);
    const bytes = await readBody(body);
    if (md5(bytes).toString('base64') !== request.contentMd5) throw new CosyncError('integrity', `the server received different bytes than were sent for ${JSON.stringify(key)} (BadDigest); the transfer will be retried`);
    const etag = md5(bytes).toString('hex');
    upload.parts.set(partNumber, { body: bytes, etag });
    return { etag, keyFingerprint: upload.customerKey, crc64: undefined };
  }

  async listParts(key: string, uploadId: string, options: CallOptions = {}): Promise<RemotePart[] | undefined> {
    await this.#enter({ operation: 'list-parts', key, signal: options.signal });
    const upload = this.uploads.get(uploadId);
    if (upload === undefined) return undefined;
    return [...upload.parts].sort(([a], [b]) => a - b).map(([partNumber, part]) => ({ partNumber, etag: part.etag, sizeBytes: part.body.length }));
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: ReadonlyArray<{ partNumber: number; etag: string }>, _encryption: ObjectEncryption, options: CallOptions = {}): Promise<void> {
    await this.#enter({ operation: 'complete', key, signal: options.signal });
    const upload = this.#upload(key, uploadId);
    const bodies = parts.map(({ partNumber, etag }) => {
      const part = upload.parts.get(partNumber);
      if (part === undefined || part.etag !== etag) throw new CosyncError('server', `complete of ${JSON.stringify(key)} failed: InvalidPart ${partNumber} (HTTP 400)`);
      return part.body;
    });
    const etag = `${md5(Buffer.concat(bodies.map((body) => md5(body)))).toString('hex')}-${parts.length}`;
    this.objects.set(key, { body: Buffer.concat(bodies), metadata: upload.metadata, etag, customerKey: upload.customerKey, lastModified: new Date(this.now()) });
    this.uploads.delete(uploadId);
  }

  async abortMultipartUpload(key: string, uploadId: string, options: CallOptions = {}): Promise<void> {
    await this.#enter({ operation: 'abort', key, signal: options.signal });
    this.uploads.delete(uploadId);
  }

  async *listObjects(prefix: string, options: CallOptions = {}): AsyncIterable<RemoteObjectInfo> {
    await this.#enter({ operation: 'list', key: prefix, signal: options.signal });
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    for (const key of keys) {
      const object = this.objects.get(key);
      if (object !== undefined) yield { key, sizeBytes: object.body.length, etag: object.etag, lastModified: object.lastModified };
    }
  }

  async *listMultipartUploads(prefix: string, options: CallOptions = {}): AsyncIterable<{ key: string; uploadId: string; initiated: Date | undefined }> {
    await this.#enter({ operation: 'list', key: prefix, signal: options.signal });
    for (const [uploadId, upload] of this.uploads) if (upload.key.startsWith(prefix)) yield { key: upload.key, uploadId, initiated: upload.initiated };
  }

  async getObject(key: string, encryption: ObjectEncryption, options: CallOptions & { range?: { start: number; end: number } } = {}): Promise<{ body: Readable; details: RemoteObjectDetails }> {
    await this.#enter({ operation: 'get', key, signal: options.signal });
    const object = this.#read(key, encryption);
    if (object === undefined) throw new CosyncError('object-not-found', `object ${JSON.stringify(key)} does not exist`);
    const bytes = options.range === undefined ? object.body : object.body.subarray(options.range.start, options.range.end + 1);
    return { body: Readable.from([bytes]), details: this.#details(key, object) };
  }

  async deleteObject(key: string, options: CallOptions = {}): Promise<void> {
    await this.#enter({ operation: 'delete', key, signal: options.signal });
    this.objects.delete(key);
  }

  async restoreObject(key: string, _request: RestoreRequest): Promise<'started' | 'already-started'> {
    throw new CosyncError('unsupported', `${this.description} has no archive to restore ${JSON.stringify(key)} from`);
  }

  async copyObject(sourceKey: string, destinationKey: string, request: { source: ObjectEncryption; destination: ObjectEncryption; metadata?: ObjectMetadata | undefined }, options: CallOptions = {}): Promise<void> {
    await this.#enter({ operation: 'copy', key: destinationKey, signal: options.signal });
    const source = this.#read(sourceKey, request.source);
    if (source === undefined) throw new CosyncError('object-not-found', `object ${JSON.stringify(sourceKey)} does not exist`);
    const body = Buffer.from(source.body);
    // A copy made in one request gets a single-part ETag, as on S3.
    this.objects.set(destinationKey, { body, metadata: request.metadata ?? source.metadata, etag: md5(body).toString('hex'), customerKey: fingerprintOf(request.destination), lastModified: new Date(this.now()) });
  }

  async uploadPartCopy(...[destinationKey, uploadId, partNumber, sourceKey, request, options = {}]: Parameters<RemoteStore['uploadPartCopy']>): Promise<{ etag: string }> {
    await this.#enter({ operation: 'upload-part-copy', key: destinationKey, partNumber, signal: options.signal });
    const upload = this.#upload(destinationKey, uploadId);
    const source = this.#read(sourceKey, request.source);
    if (source === undefined) throw new CosyncError('object-not-found', `object ${JSON.stringify(sourceKey)} does not exist`);
    if (request.sourceEtag !== undefined && request.sourceEtag !== source.etag) {
      throw new CosyncError('integrity', `${JSON.stringify(sourceKey)} changed on the server while it was being copied (its ETag is no longer ${request.sourceEtag}); the copy was not made`);
    }
    const body = Buffer.from(source.body.subarray(request.range.start, request.range.end + 1));
    const etag = md5(body).toString('hex');
    upload.parts.set(partNumber, { body, etag });
    return { etag };
  }

  etagIsContentMd5(details: RemoteObjectDetails): boolean {
    return details.keyFingerprint === undefined;
  }

  close(): void {}
}
