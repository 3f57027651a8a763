/**
 * RemoteStore on @aws-sdk/client-s3, for COS (S3-compatible API) and any S3-compatible store.
 *
 * Settings that matter on S3-compatible servers (measured, see TESTBED.md):
 * - checksums only WHEN_REQUIRED: the SDK's default aws-chunked CRC32 trailer makes RGW answer
 *   411 MissingContentLength;
 * - the payload is sent UNSIGNED (as botocore does over HTTPS): the signed Content-MD5 header
 *   still binds every body to the request, SHA-256 over each part cost ~15 % of the client's
 *   CPU, and large bodies stream from the file, which a payload hash would have to read twice.
 */
import type { S3Client, ServerSideEncryption } from '@aws-sdk/client-s3';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { DeserializeHandler, DeserializeHandlerArguments, DeserializeHandlerOutput } from '@smithy/types';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { CosyncError } from '../../app/result.js';
import type { Target } from '../../app/target.js';
import { assertKeySafeTransport } from '../../app/target.js';
import type { StoreCredentials } from '../secrets/secret-values.js';
import { toCosRequestHeaders, useCosDialect } from './cos-dialect.js';
import { LeanPutClient, xmlBlocks, xmlText } from './lean-put.js';
import { httpStatusOf, toCosyncError, type ErrorContext } from './remote-errors.js';
import { withRetry, type RetryPolicy } from './retry.js';
import type {
  CallOptions,
  ObjectEncryption,
  ObjectMetadata,
  RemoteObjectDetails,
  RemoteObjectInfo,
  RemotePart,
  RemoteStore,
  RequestBody,
} from './remote-store.js';

/** Connection tuning. */
export interface S3StoreOptions {
  /** Sockets kept per host; should be ≥ the part concurrency. */
  readonly maxSockets?: number;
  /** Retry policy for every request (the SDK's own retries are off: one classifier decides). */
  readonly retryPolicy?: RetryPolicy;
  /** Told about each retry, e.g. to log it. */
  readonly onRetry?: (operation: string, attempt: number, reason: string, delayMs: number) => void;
  readonly connectionTimeoutMs?: number;
  /** Idle socket timeout for a request in flight. */
  readonly requestTimeoutMs?: number;
  /**
   * The key fingerprint cosync recorded for an object when it wrote it (the journal), so that a
   * refused SSE-C key is reported with both fingerprints; asked only after a key was refused.
   */
  readonly recordedKeyFingerprint?: (objectKey: string) => string | undefined;
}

type SsecParams = { SSECustomerAlgorithm?: string; SSECustomerKey?: string };
type SseWriteParams = SsecParams & { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string };

/** The header fields for reading an object (HEAD, GET, UploadPart, Complete): only SSE-C needs any. */
function readEncryptionParams(encryption: ObjectEncryption): SsecParams {
  return encryption.mode === 'c' ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: encryption.key.revealBase64() } : {};
}

/** The header fields for writing an object (PUT, CreateMultipartUpload). */
function writeEncryptionParams(encryption: ObjectEncryption): SseWriteParams {
  switch (encryption.mode) {
    case 'none':
      return {};
    case 'cos':
      return { ServerSideEncryption: 'AES256' };
    case 'kms':
      return encryption.kmsKeyId === undefined ? { ServerSideEncryption: 'aws:kms' } : { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: encryption.kmsKeyId };
    case 'c':
      return readEncryptionParams(encryption);
  }
}

/** The header fields naming the source's SSE-C key in a copy (CopyObject, UploadPartCopy). */
function copySourceEncryptionParams(encryption: ObjectEncryption): { CopySourceSSECustomerAlgorithm?: string; CopySourceSSECustomerKey?: string } {
  return encryption.mode === 'c' ? { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: encryption.key.revealBase64() } : {};
}

function stripQuotes(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/^"|"$/g, '');
}

/** RemoteStore implementation over the AWS SDK v3 S3 client. */
export class S3RemoteStore implements RemoteStore {
  readonly description: string;
  #client: Promise<S3Client> | undefined;
  readonly #signing: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #options: S3StoreOptions;
  readonly #lean: LeanPutClient;

  constructor(
    private readonly target: Target,
    credentials: StoreCredentials,
    options: S3StoreOptions = {},
  ) {
    this.#options = options;
    assertKeySafeTransport(target.endpoint, target.sse);
    this.description = `bucket ${JSON.stringify(target.bucket)} at ${target.endpoint.url}`;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
    this.#agent = target.endpoint.protocol === 'https' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#signing = credentials.revealForSigning();
    this.#lean = new LeanPutClient(
      { protocol: target.endpoint.protocol, host: target.endpoint.host, port: target.endpoint.port, bucket: target.bucket, region: target.region, pathStyle: target.pathStyle, dialect: target.dialect },
      this.#signing,
      this.#agent,
      options.requestTimeoutMs ?? 120_000,
    );
  }

  /**
   * The SDK client, built on first use. Loading the AWS SDK costs about 0.25 CPU-s; a backup of
   * small files never needs it (PUTs and listings go through the lean client), so it is not
   * loaded at start-up.
   */
  private sdkClient(): Promise<S3Client> {
    this.#client ??= Promise.all([loadSdk(), import('@smithy/node-http-handler')]).then(([sdk, { NodeHttpHandler }]) => {
      const client = new sdk.S3Client({
        endpoint: this.target.endpoint.url,
        region: this.target.region,
        forcePathStyle: this.target.pathStyle,
        credentials: this.#signing,
        maxAttempts: 1,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: new NodeHttpHandler({
          httpAgent: this.#agent as HttpAgent,
          httpsAgent: this.#agent as HttpsAgent,
          connectionTimeout: this.#options.connectionTimeoutMs ?? 10_000,
          requestTimeout: this.#options.requestTimeoutMs ?? 120_000,
        }),
      });
      if (this.target.dialect === 'cos') useCosDialect(client);
      // COS sends `x-cos-hash-crc64ecma`, a header the SDK's S3 model does not know and drops.
      client.middlewareStack.addRelativeTo(
        <Output extends object>(next: DeserializeHandler<object, Output>) =>
          async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<Output>> => {
            const result = await next(args);
            const crc64 = (result.response as { headers?: Record<string, string> }).headers?.['x-cos-hash-crc64ecma'];
            if (crc64 !== undefined) (result.output as Record<string, unknown>)[CRC64_OUTPUT_FIELD] = crc64;
            return result;
          },
        // Outside the deserializer, so the parsed output exists to carry the value.
        { relation: 'before', toMiddleware: 'deserializerMiddleware', name: 'cosyncCrc64Header' },
      );
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers !== undefined) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
          return next(args);
        },
        { step: 'build', name: 'cosyncUnsignedPayload', priority: 'low' },
      );
      return client;
    });
    return this.#client;
  }

  private context(operation: string, key: string | undefined, encryption?: ObjectEncryption): ErrorContext {
    const lookup = this.#options.recordedKeyFingerprint;
    return {
      endpoint: this.target.endpoint.url,
      bucket: this.target.bucket,
      key,
      operation,
      sentCustomerKey: encryption?.mode === 'c',
      suppliedKeyFingerprint: encryption?.mode === 'c' ? encryption.key.fingerprint : undefined,
      recordedKeyFingerprint: lookup === undefined || key === undefined ? undefined : () => lookup(key),
    };
  }

  /** Runs one request with the shared retry policy; errors come out as CosyncErrors. */
  private async call<T>(run: () => Promise<T>, context: ErrorContext, signal: AbortSignal | undefined): Promise<T> {
    try {
      return await this.retrying(run, context.operation, signal);
    } catch (error) {
      throw toCosyncError(error, context);
    }
  }

  /** Runs one request with the shared retry policy, leaving errors as they are. */
  private retrying<T>(run: () => Promise<T>, operation: string, signal: AbortSignal | undefined): Promise<T> {
    return withRetry(run, {
      signal,
      policy: this.#options.retryPolicy,
      onRetry: (attempt, reason, delayMs) => this.#options.onRetry?.(operation, attempt, reason, delayMs),
    });
  }

  async checkAccess(prefix: string, options: CallOptions = {}): Promise<void> {
    await this.call(() => this.#lean.getBucket({ 'list-type': '2', 'max-keys': '1', prefix }, options.signal), this.context('listing', undefined), options.signal);
  }

  async headObject(key: string, encryption: ObjectEncryption, options: CallOptions = {}): Promise<RemoteObjectDetails | undefined> {
    try {
      const response = await this.retrying(
        async () => (await this.sdkClient()).send(new (await loadSdk()).HeadObjectCommand({ Bucket: this.target.bucket, Key: key, ...readEncryptionParams(encryption) }), { abortSignal: options.signal }),
        'head',
        options.signal,
      );
      return {
        key,
        sizeBytes: response.ContentLength ?? 0,
        etag: stripQuotes(response.ETag),
        lastModified: response.LastModified,
        metadata: response.Metadata ?? {},
        keyFingerprint: response.SSECustomerKeyMD5,
        crc64: crc64Of(response),
      };
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw toCosyncError(error, this.context('head', key, encryption));
    }
  }

  async putObject(
    key: string,
    body: RequestBody,
    request: { contentMd5: string; metadata: ObjectMetadata; encryption: ObjectEncryption },
    options: CallOptions = {},
  ): Promise<{ etag: string | undefined; keyFingerprint: string | undefined; crc64: string | undefined }> {
    // Sent by the lean client (see lean-put.ts): same headers as the SDK's, a fraction of the CPU.
    const headers = this.leanHeaders(request.contentMd5, request.metadata, request.encryption);
    return this.call(() => this.#lean.put(key, body.open(), body.length, headers, { signal: options.signal }), this.context('upload', key, request.encryption), options.signal);
  }

  /** The PutObject headers the SDK would send, in this store's dialect. */
  private leanHeaders(contentMd5: string, metadata: ObjectMetadata, encryption: ObjectEncryption): Record<string, string> {
    const headers: Record<string, string> = { 'content-md5': contentMd5 };
    for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
    switch (encryption.mode) {
      case 'none':
        break;
      case 'cos':
        headers['x-amz-server-side-encryption'] = 'AES256';
        break;
      case 'kms':
        headers['x-amz-server-side-encryption'] = 'aws:kms';
        if (encryption.kmsKeyId !== undefined) headers['x-amz-server-side-encryption-aws-kms-key-id'] = encryption.kmsKeyId;
        break;
      case 'c':
        headers['x-amz-server-side-encryption-customer-algorithm'] = 'AES256';
        headers['x-amz-server-side-encryption-customer-key'] = encryption.key.revealBase64();
        headers['x-amz-server-side-encryption-customer-key-md5'] = encryption.key.fingerprint;
        break;
    }
    return this.target.dialect === 'cos' ? toCosRequestHeaders(headers, '') : headers;
  }

  async createMultipartUpload(key: string, request: { metadata: ObjectMetadata; encryption: ObjectEncryption }, options: CallOptions = {}): Promise<string> {
    const response = await this.call(
      async () => (await this.sdkClient()).send(new (await loadSdk()).CreateMultipartUploadCommand({ Bucket: this.target.bucket, Key: key, Metadata: { ...request.metadata }, ...writeEncryptionParams(request.encryption) }),
          { abortSignal: options.signal },
        ),
      this.context('multipart start', key, request.encryption),
      options.signal,
    );
    if (response.UploadId === undefined) throw toCosyncError(new Error('the server returned no UploadId'), this.context('multipart start', key));
    return response.UploadId;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: RequestBody,
    request: { contentMd5: string; encryption: ObjectEncryption },
    options: CallOptions = {},
  ): Promise<{ etag: string; keyFingerprint: string | undefined }> {
    // UploadPart carries only Content-MD5 and, for SSE-C, the key (never metadata or SSE-S3/KMS).
    const encryptionHeaders = request.encryption.mode === 'c' ? request.encryption : ({ mode: 'none' } as const);
    const headers = this.leanHeaders(request.contentMd5, {}, encryptionHeaders);
    const response = await this.call(
      () => this.#lean.put(key, body.open(), body.length, headers, { signal: options.signal, query: { partNumber: String(partNumber), uploadId } }),
      this.context(`upload of part ${partNumber}`, key, request.encryption),
      options.signal,
    );
    if (response.etag === undefined || response.etag === '') throw toCosyncError(new Error(`the server returned no ETag for part ${partNumber}`), this.context('upload', key));
    return { etag: response.etag, keyFingerprint: response.keyFingerprint };
  }

  async listParts(key: string, uploadId: string, options: CallOptions = {}): Promise<RemotePart[] | undefined> {
    const parts: RemotePart[] = [];
    let marker: string | undefined;
    try {
      do {
        const response = await this.retrying(
          async () => (await this.sdkClient()).send(new (await loadSdk()).ListPartsCommand({ Bucket: this.target.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), { abortSignal: options.signal }),
          'listing parts',
          options.signal,
        );
        for (const part of response.Parts ?? []) {
          if (part.PartNumber !== undefined && part.ETag !== undefined) {
            parts.push({ partNumber: part.PartNumber, etag: stripQuotes(part.ETag) as string, sizeBytes: part.Size ?? 0 });
          }
        }
        marker = response.IsTruncated === true ? response.NextPartNumberMarker : undefined;
      } while (marker !== undefined);
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchUpload' || httpStatusOf(error) === 404) return undefined;
      throw toCosyncError(error, this.context('listing parts', key));
    }
    return parts;
  }

  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: ReadonlyArray<{ partNumber: number; etag: string }>,
    encryption: ObjectEncryption,
    options: CallOptions = {},
  ): Promise<void> {
    await this.call(
      async () => (await this.sdkClient()).send(new (await loadSdk()).CompleteMultipartUploadCommand({
            Bucket: this.target.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: `"${part.etag}"` })) },
            ...readEncryptionParams(encryption),
          }),
          { abortSignal: options.signal },
        ),
      this.context('multipart completion', key, encryption),
      options.signal,
    );
  }

  async abortMultipartUpload(key: string, uploadId: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.retrying(
        async () => (await this.sdkClient()).send(new (await loadSdk()).AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: key, UploadId: uploadId }), { abortSignal: options.signal }),
        'multipart abort',
        options.signal,
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchUpload' || httpStatusOf(error) === 404) return;
      throw toCosyncError(error, this.context('multipart abort', key));
    }
  }

  async *listObjects(prefix: string, options: CallOptions = {}): AsyncIterable<RemoteObjectInfo> {
    let token: string | undefined;
    do {
      const response = await this.call(
        async () => (await this.sdkClient()).send(new (await loadSdk()).ListObjectsV2Command({ Bucket: this.target.bucket, Prefix: prefix, ContinuationToken: token }), {
            abortSignal: options.signal,
          }),
        this.context('listing', undefined),
        options.signal,
      );
      for (const item of response.Contents ?? []) {
        if (item.Key === undefined) continue;
        yield { key: item.Key, sizeBytes: item.Size ?? 0, etag: stripQuotes(item.ETag), lastModified: item.LastModified };
      }
      token = response.IsTruncated === true ? response.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async *listMultipartUploads(prefix: string, options: CallOptions = {}): AsyncIterable<{ key: string; uploadId: string; initiated: Date | undefined }> {
    let markers: Record<string, string> = {};
    for (;;) {
      const query = { uploads: '', prefix, ...markers };
      const xml = await this.call(() => this.#lean.getBucket(query, options.signal), this.context('listing multipart uploads', undefined), options.signal);
      for (const upload of xmlBlocks(xml, 'Upload')) {
        const key = xmlText(upload, 'Key');
        const uploadId = xmlText(upload, 'UploadId');
        const initiated = xmlText(upload, 'Initiated');
        if (key !== undefined && uploadId !== undefined) yield { key, uploadId, initiated: initiated === undefined ? undefined : new Date(initiated) };
      }
      const nextKey = xmlText(xml, 'NextKeyMarker');
      if (xmlText(xml, 'IsTruncated') !== 'true' || nextKey === undefined) return;
      markers = { 'key-marker': nextKey, 'upload-id-marker': xmlText(xml, 'NextUploadIdMarker') ?? '' };
    }
  }

  async getObject(
    key: string,
    encryption: ObjectEncryption,
    options: CallOptions & { range?: { start: number; end: number } } = {},
  ): Promise<{ body: Readable; details: RemoteObjectDetails }> {
    const response = await this.call(
      async () => (await this.sdkClient()).send(new (await loadSdk()).GetObjectCommand({
            Bucket: this.target.bucket,
            Key: key,
            Range: options.range === undefined ? undefined : `bytes=${options.range.start}-${options.range.end}`,
            ...readEncryptionParams(encryption),
          }),
          { abortSignal: options.signal },
        ),
      this.context('download', key, encryption),
      options.signal,
    );
    return {
      body: response.Body as Readable,
      details: {
        key,
        sizeBytes: response.ContentLength ?? 0,
        etag: stripQuotes(response.ETag),
        lastModified: response.LastModified,
        metadata: response.Metadata ?? {},
        keyFingerprint: response.SSECustomerKeyMD5,
        crc64: crc64Of(response),
      },
    };
  }

  async copyObject(
    sourceKey: string,
    destinationKey: string,
    request: { source: ObjectEncryption; destination: ObjectEncryption; metadata?: ObjectMetadata | undefined },
    options: CallOptions = {},
  ): Promise<void> {
    await this.call(
      async () => (await this.sdkClient()).send(new (await loadSdk()).CopyObjectCommand({
            Bucket: this.target.bucket,
            Key: destinationKey,
            CopySource: this.copySource(sourceKey),
            ...(request.metadata === undefined ? { MetadataDirective: 'COPY' } : { MetadataDirective: 'REPLACE', Metadata: { ...request.metadata } }),
            ...copySourceEncryptionParams(request.source),
            ...writeEncryptionParams(request.destination),
          }),
          { abortSignal: options.signal },
        ),
      this.copyContext('server-side copy', sourceKey, request),
      options.signal,
    );
  }

  async uploadPartCopy(
    destinationKey: string,
    uploadId: string,
    partNumber: number,
    sourceKey: string,
    request: { range: { start: number; end: number }; source: ObjectEncryption; destination: ObjectEncryption; sourceEtag?: string | undefined },
    options: CallOptions = {},
  ): Promise<{ etag: string }> {
    const context = this.copyContext(`server-side copy of part ${partNumber}`, sourceKey, request);
    let response: S3Sdk.UploadPartCopyCommandOutput;
    try {
      response = await this.retrying(
        async () => (await this.sdkClient()).send(new (await loadSdk()).UploadPartCopyCommand({
              Bucket: this.target.bucket,
              Key: destinationKey,
              UploadId: uploadId,
              PartNumber: partNumber,
              CopySource: this.copySource(sourceKey),
              CopySourceRange: `bytes=${request.range.start}-${request.range.end}`,
              CopySourceIfMatch: request.sourceEtag === undefined ? undefined : `"${request.sourceEtag}"`,
              ...copySourceEncryptionParams(request.source),
              // Like UploadPart, a part carries only the upload's SSE-C key; SSE-COS/KMS were set at Create.
              ...readEncryptionParams(request.destination),
            }),
            { abortSignal: options.signal },
          ),
        context.operation,
        options.signal,
      );
    } catch (error) {
      if (httpStatusOf(error) === 412 && request.sourceEtag !== undefined) {
        throw new CosyncError('integrity', `${JSON.stringify(sourceKey)} changed on the server while it was being copied (its ETag is no longer ${request.sourceEtag}); the copy was not made`);
      }
      throw toCosyncError(error, context);
    }
    const etag = stripQuotes(response.CopyPartResult?.ETag);
    if (etag === undefined || etag === '') throw toCosyncError(new Error(`the server returned no ETag for part ${partNumber}`), context);
    return { etag };
  }

  /**
   * The copy source, "bucket/key" with the key URL-encoded segment by segment (the COS dialect
   * turns it into COS's host form).
   */
  private copySource(sourceKey: string): string {
    return `${this.target.bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** Error context of a copy: it carries an SSE-C key when either side is SSE-C, and a refused key is the source's. */
  private copyContext(operation: string, sourceKey: string, request: { source: ObjectEncryption; destination: ObjectEncryption }): ErrorContext {
    return { ...this.context(operation, sourceKey, request.source), sentCustomerKey: request.source.mode === 'c' || request.destination.mode === 'c' };
  }

  async deleteObject(key: string, options: CallOptions = {}): Promise<void> {
    await this.call(
      async () => (await this.sdkClient()).send(new (await loadSdk()).DeleteObjectCommand({ Bucket: this.target.bucket, Key: key }), { abortSignal: options.signal }),
      this.context('delete', key),
      options.signal,
    );
  }

  close(): void {
    void this.#client?.then((client) => client.destroy());
    this.#agent.destroy();
  }
}

let sdkModule: Promise<typeof S3Sdk> | undefined;

/** The AWS SDK module, imported on first use. */
function loadSdk(): Promise<typeof S3Sdk> {
  sdkModule ??= import('@aws-sdk/client-s3');
  return sdkModule;
}

const CRC64_OUTPUT_FIELD = 'cosyncCrc64';

/** The `x-cos-hash-crc64ecma` value that the deserialize middleware copied onto the output. */
function crc64Of(response: object): string | undefined {
  const value = (response as Record<string, unknown>)[CRC64_OUTPUT_FIELD];
  return typeof value === 'string' ? value : undefined;
}
