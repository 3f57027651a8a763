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
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, DeserializeHandler, DeserializeHandlerArguments, DeserializeHandlerOutput } from '@smithy/types';
import { createHash } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { RestoreRequest } from '../../app/archive-restore.js';
import { CosyncError } from '../../app/result.js';
import type { Target } from '../../app/target.js';
import { assertKeySafeTransport, cosCopySourceHost } from '../../app/target.js';
import type { StoreCredentials } from '../secrets/secret-values.js';
import { toCosRequestHeaders, useCosDialect } from './cos-dialect.js';
import { LeanPutClient, xmlBlocks, xmlText } from './lean-put.js';
import { agentFor, type ProxyChoice, type ProxyEnvironment } from './proxy.js';
import { describeClockOffset, httpStatusOf, toCosyncError, type ErrorContext } from './remote-errors.js';
import { Pacer } from './pacer.js';
import { clockSkewOf, withRetry, type RetryPolicy } from './retry.js';
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
  /** The pacer all of this store's requests share (a store of its own by default). */
  readonly pacer?: Pacer;
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
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read from (main/remote/proxy.ts); process.env unless given. */
  readonly environment?: ProxyEnvironment;
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

/** What a response says about the encryption the server applied (SDK or lean-client names). */
interface EncryptionEcho {
  readonly serverSideEncryption?: string | undefined;
  readonly keyFingerprint?: string | undefined;
}

/**
 * Whether a response confirms the encryption that was asked for: the `x-…-server-side-encryption`
 * value (AES256 for SSE-COS/SSE-S3, KMS as `aws:kms` — COS's `cos/kms` is renamed on the way in)
 * or, for SSE-C, the echoed key MD5 of the very key sent. COS documents these response headers on
 * PUT Object (https://cloud.tencent.com/document/product/436/7749), Initiate Multipart Upload
 * (https://cloud.tencent.com/document/product/436/7746), Upload Part (…/7750), Complete Multipart
 * Upload (…/7742) and PUT Object - Copy
 * (https://cloud.tencent.com/document/product/436/10881); S3 the same under `x-amz-`.
 */
function encryptionConfirmed(asked: ObjectEncryption, echo: EncryptionEcho): boolean {
  switch (asked.mode) {
    case 'none':
      return true;
    case 'cos':
      return echo.serverSideEncryption === 'AES256';
    case 'kms':
      return echo.serverSideEncryption === 'aws:kms';
    case 'c':
      return echo.keyFingerprint === asked.key.fingerprint;
  }
}

/** Whether a response names an encryption other than the one asked for (silence contradicts nothing). */
function echoContradicts(asked: ObjectEncryption, echo: EncryptionEcho): boolean {
  if (asked.mode === 'c') return echo.keyFingerprint !== undefined && echo.keyFingerprint !== asked.key.fingerprint;
  return echo.serverSideEncryption !== undefined && !encryptionConfirmed(asked, echo);
}

/** What to do when SSE-S3 was not confirmed: stores that accept it without encrypting exist (TESTBED.md: RGW). */
function unencryptingStoreHint(asked: ObjectEncryption, dialect: Target['dialect']): string {
  return asked.mode === 'cos' && dialect === 's3'
    ? ' Some S3-compatible stores (Ceph RGW among them) accept SSE-S3 without encrypting or reporting it: use --sse kms or --sse c with this store.'
    : '';
}

/** The encryption asked for, in words, for messages. */
function describeEncryption(asked: ObjectEncryption, dialect: Target['dialect']): string {
  const prefix = dialect === 'cos' ? 'x-cos' : 'x-amz';
  switch (asked.mode) {
    case 'none':
      return 'no encryption';
    case 'cos':
      return `${dialect === 'cos' ? 'SSE-COS' : 'SSE-S3'} (${prefix}-server-side-encryption: AES256)`;
    case 'kms':
      return `SSE-KMS (${prefix}-server-side-encryption: ${dialect === 'cos' ? 'cos/kms' : 'aws:kms'})`;
    case 'c':
      return `SSE-C (the echo of key fingerprint ${asked.key.fingerprint} in ${prefix}-server-side-encryption-customer-key-MD5)`;
  }
}

/** RemoteStore implementation over the AWS SDK v3 S3 client. */
export class S3RemoteStore implements RemoteStore {
  readonly description: string;
  #client: Promise<S3Client> | undefined;
  readonly #credentials: StoreCredentials;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #options: S3StoreOptions;
  readonly #lean: LeanPutClient;
  /**
   * Multipart uploads this store began and whose Initiate confirmed the encryption asked for. An
   * upload's encryption is fixed at Initiate and applies to every part (COS Upload Part answers
   * with the SSE headers "if server-side encryption is used during the initialization",
   * https://cloud.tencent.com/document/product/436/7750; S3 CreateMultipartUpload likewise), so
   * their Complete needs no HEAD to prove it. Uploads resumed from an earlier run are not in here.
   */
  readonly #uploadsConfirmedAtInitiate = new Set<string>();
  /** The proxy every request goes through, if the environment names one for this endpoint. */
  readonly #proxy: ProxyChoice | undefined;
  /** A SlowDown on any request slows every request to this store (pacer.ts). */
  readonly #pacer: Pacer;

  constructor(
    private readonly target: Target,
    credentials: StoreCredentials,
    options: S3StoreOptions = {},
  ) {
    this.#options = options;
    this.#pacer = options.pacer ?? new Pacer();
    assertKeySafeTransport(target.endpoint, target.sse);
    this.description = `bucket ${JSON.stringify(target.bucket)} at ${target.endpoint.url}`;
    const connection = agentFor(new URL(target.endpoint.url), { keepAlive: true, maxSockets: options.maxSockets ?? 16 }, options.environment ?? process.env);
    this.#agent = connection.agent;
    this.#proxy = connection.proxy;
    if (connection.proxy !== undefined) this.description += ` through the proxy ${connection.proxy.display}`;
    this.#credentials = credentials;
    this.#lean = new LeanPutClient(
      { protocol: target.endpoint.protocol, host: target.endpoint.host, port: target.endpoint.port, bucket: target.bucket, region: target.region, pathStyle: target.pathStyle, dialect: target.dialect },
      () => credentials.signing(),
      this.#agent,
      options.requestTimeoutMs ?? 120_000,
    );
  }

  /**
   * The SDK's credential provider: asked before each request, so temporary credentials renewed
   * while a long run goes on are used at once. Marked memoized so the SDK does not cache the
   * first answer itself (StoreCredentials caches until shortly before expiry). With the COS
   * dialect the token goes out as `x-cos-security-token` (useCosDialect), not through the signer.
   */
  private sdkCredentials(): AwsCredentialIdentityProvider {
    const provider = async (): Promise<AwsCredentialIdentity> => {
      const { accessKeyId, secretAccessKey, sessionToken } = await this.#credentials.signing();
      return this.target.dialect === 'cos' || sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
    };
    return Object.assign(provider, { memoized: true });
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
        credentials: this.sdkCredentials(),
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
      if (this.target.dialect === 'cos') useCosDialect(client, cosCopySourceHost(this.target), async () => (await this.#credentials.signing()).sessionToken);
      // Headers the SDK's S3 model drops: COS's `x-cos-hash-crc64ecma`, and the SSE-C key MD5 that
      // COS's Complete echoes (436/7742) where S3's Complete models none.
      client.middlewareStack.addRelativeTo(
        <Output extends object>(next: DeserializeHandler<object, Output>) =>
          async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<Output>> => {
            const result = await next(args);
            const headers = (result.response as { headers?: Record<string, string> }).headers;
            const output = result.output as Record<string, unknown>;
            const crc64 = headers?.['x-cos-hash-crc64ecma'];
            if (crc64 !== undefined) output[CRC64_OUTPUT_FIELD] = crc64;
            const keyMd5 = headers?.['x-amz-server-side-encryption-customer-key-md5'];
            if (keyMd5 !== undefined && output.SSECustomerKeyMD5 === undefined) output.SSECustomerKeyMD5 = keyMd5;
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
      const trafficLimit = this.trafficLimitHeader();
      if (Object.keys(trafficLimit).length > 0) {
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const request = args.request as { headers?: Record<string, string> };
            if (context.commandName === 'GetObjectCommand' && request.headers !== undefined) Object.assign(request.headers, trafficLimit);
            return next(args);
          },
          { step: 'build', name: 'cosyncTrafficLimit' },
        );
      }
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
      proxy: this.#proxy,
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

  /**
   * Runs one request with the shared retry policy, leaving errors as they are. A request refused
   * as RequestTimeTooSkewed is tried once more with the clock corrected from the server's `Date`
   * (the SDK corrects its own signing clock from the same header; the lean client is told here).
   */
  private async retrying<T>(run: () => Promise<T>, operation: string, signal: AbortSignal | undefined): Promise<T> {
    const attempt = (): Promise<T> =>
      withRetry(run, {
        signal,
        policy: this.#options.retryPolicy,
        pacer: this.#pacer,
        onRetry: (attemptNumber, reason, delayMs) => this.#options.onRetry?.(operation, attemptNumber, reason, delayMs),
      });
    try {
      return await this.renewingExpiredCredentials(attempt);
    } catch (error) {
      const serverTime = clockSkewOf(error);
      if (serverTime === undefined) throw error;
      const offsetMs = serverTime.getTime() - Date.now();
      this.#lean.clockOffsetMs = offsetMs;
      const client = await this.#client;
      if (client !== undefined) client.config.systemClockOffset = offsetMs;
      this.#options.onRetry?.(operation, 1, `this computer's clock is ${describeClockOffset(offsetMs)} the server's (it answered RequestTimeTooSkewed): signing with the server's time instead; set this computer's clock right (automatic time / NTP)`, 0);
      try {
        return await attempt();
      } catch (second) {
        if (clockSkewOf(second) !== undefined) throw Object.assign(second as object, { clockOffsetMs: offsetMs });
        throw second;
      }
    }
  }

  /**
   * Runs `attempt`; when the store refuses temporary credentials as expired (ExpiredToken, or
   * InvalidAccessKeyId for a temporary id it no longer knows), renews them and tries once more.
   */
  private async renewingExpiredCredentials<T>(attempt: () => Promise<T>): Promise<T> {
    const { renewable } = this.#credentials;
    const used = await renewable?.current();
    try {
      return await attempt();
    } catch (error) {
      const name = (error as { name?: string } | undefined)?.name;
      if (renewable === undefined || used === undefined || (name !== 'ExpiredToken' && name !== 'InvalidAccessKeyId')) throw error;
      await renewable.replace(used);
      return attempt();
    }
  }

  /**
   * Checks that a write's response confirms the encryption asked for; if it does not, and a HEAD
   * of the object does not either, the object may be stored in clear: it is removed (unless it
   * replaced its own source, which removing would lose) and the write fails.
   */
  private async confirmEncryption(
    key: string,
    asked: ObjectEncryption,
    echo: EncryptionEcho,
    operation: string,
    options: { readonly remove: boolean; readonly signal: AbortSignal | undefined },
  ): Promise<void> {
    if (encryptionConfirmed(asked, echo)) return;
    const head = await this.headObject(key, asked, { signal: options.signal });
    if (head !== undefined && encryptionConfirmed(asked, head)) return;
    let outcome = 'it was left in place (it replaced its own source; removing it would lose the data): re-encrypt it with a store that encrypts';
    if (options.remove) {
      outcome = await this.deleteObject(key).then(
        () => 'it was removed',
        (error: unknown) => `removing it failed too (${(error as Error).message}): delete ${JSON.stringify(key)} by hand`,
      );
    }
    throw new CosyncError(
      'encryption-unconfirmed',
      `${this.description} did not confirm ${describeEncryption(asked, this.target.dialect)} for ${JSON.stringify(key)} in its answer to the ${operation}, nor when asked again (HEAD), so the object may be stored unencrypted; ${outcome}.${unencryptingStoreHint(asked, this.target.dialect)}`,
    );
  }

  async checkAccess(prefix: string, options: CallOptions = {}): Promise<void> {
    await this.call(() => this.#lean.getBucket({ ...this.listingVersion(), 'max-keys': '1', prefix }, options.signal), this.context('listing', undefined), options.signal);
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
        serverSideEncryption: response.ServerSideEncryption,
        storageClass: response.StorageClass,
        restore: response.Restore,
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
    request: { contentMd5: string; metadata: ObjectMetadata; encryption: ObjectEncryption; storageClass?: string | undefined },
    options: CallOptions = {},
  ): Promise<{ etag: string | undefined; keyFingerprint: string | undefined; crc64: string | undefined }> {
    // Sent by the lean client (see lean-put.ts): same headers as the SDK's, a fraction of the CPU.
    const headers = this.leanHeaders(request.contentMd5, request.metadata, request.encryption, request.storageClass);
    const response = await this.call(() => this.#lean.put(key, body.open(), body.length, headers, { signal: options.signal }), { ...this.context('upload', key, request.encryption), storageClass: request.storageClass }, options.signal);
    await this.confirmEncryption(key, request.encryption, response, 'upload', { remove: true, signal: options.signal });
    return { etag: response.etag, keyFingerprint: response.keyFingerprint, crc64: response.crc64 };
  }

  /**
   * The PutObject headers the SDK would send, in this store's dialect. Every PUT and UploadPart
   * carries a Content-Type: COS lists it as required on PUT Object
   * (https://cloud.tencent.com/document/product/436/7749), and the common request headers require
   * it on every PUT and POST with a body (https://cloud.tencent.com/document/product/436/7728), Upload
   * Part (https://cloud.tencent.com/document/product/436/7750) among them; cosync stores bytes, not documents.
   */
  private leanHeaders(contentMd5: string, metadata: ObjectMetadata, encryption: ObjectEncryption, storageClass?: string): Record<string, string> {
    const headers: Record<string, string> = { 'content-md5': contentMd5, 'content-type': OBJECT_CONTENT_TYPE };
    if (storageClass !== undefined) headers['x-amz-storage-class'] = storageClass;
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
    if (this.target.dialect !== 'cos') return headers;
    return { ...toCosRequestHeaders(headers, cosCopySourceHost(this.target)), ...this.trafficLimitHeader() };
  }

  /**
   * COS's server-side limit for one request, sent on PUT Object, Upload Part and GET Object, the
   * requests COS documents it for (https://www.tencentcloud.com/document/product/436/34072).
   */
  private trafficLimitHeader(): Record<string, string> {
    return this.target.trafficLimitBits === undefined ? {} : { 'x-cos-traffic-limit': String(this.target.trafficLimitBits) };
  }

  async createMultipartUpload(
    key: string,
    request: { metadata: ObjectMetadata; encryption: ObjectEncryption; storageClass?: string | undefined },
    options: CallOptions = {},
  ): Promise<string> {
    const response = await this.call(
      async () => (await this.sdkClient()).send(new (await loadSdk()).CreateMultipartUploadCommand({
            Bucket: this.target.bucket,
            Key: key,
            ContentType: OBJECT_CONTENT_TYPE,
            Metadata: { ...request.metadata },
            StorageClass: request.storageClass as S3Sdk.StorageClass | undefined,
            ...writeEncryptionParams(request.encryption),
          }),
          { abortSignal: options.signal },
        ),
      { ...this.context('multipart start', key, request.encryption), storageClass: request.storageClass },
      options.signal,
    );
    if (response.UploadId === undefined) throw toCosyncError(new Error('the server returned no UploadId'), this.context('multipart start', key));
    // An upload the server will not encrypt is refused before any part is sent.
    if (!encryptionConfirmed(request.encryption, { serverSideEncryption: response.ServerSideEncryption, keyFingerprint: response.SSECustomerKeyMD5 })) {
      await this.abortMultipartUpload(key, response.UploadId).catch(() => undefined);
      throw new CosyncError(
        'encryption-unconfirmed',
        `${this.description} did not confirm ${describeEncryption(request.encryption, this.target.dialect)} when the multipart upload of ${JSON.stringify(key)} began, so its parts could be stored unencrypted; the upload was aborted.${unencryptingStoreHint(request.encryption, this.target.dialect)}`,
      );
    }
    this.#uploadsConfirmedAtInitiate.add(response.UploadId);
    return response.UploadId;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: RequestBody,
    request: { contentMd5: string; encryption: ObjectEncryption },
    options: CallOptions = {},
  ): Promise<{ etag: string; keyFingerprint: string | undefined; crc64: string | undefined }> {
    // UploadPart carries only Content-MD5 and, for SSE-C, the key (never metadata or SSE-S3/KMS).
    const encryptionHeaders = request.encryption.mode === 'c' ? request.encryption : ({ mode: 'none' } as const);
    const headers = this.leanHeaders(request.contentMd5, {}, encryptionHeaders);
    const response = await this.call(
      () => this.#lean.put(key, body.open(), body.length, headers, { signal: options.signal, query: { partNumber: String(partNumber), uploadId } }),
      this.context(`upload of part ${partNumber}`, key, request.encryption),
      options.signal,
    );
    if (response.etag === undefined || response.etag === '') throw toCosyncError(new Error(`the server returned no ETag for part ${partNumber}`), this.context('upload', key));
    return { etag: response.etag, keyFingerprint: response.keyFingerprint, crc64: response.crc64 };
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
        if (response.IsTruncated !== true) break;
        // A truncated page without NextPartNumberMarker goes on after its last part, never stops quietly.
        marker = nextPageMarker(marker, response.NextPartNumberMarker ?? lastOf(parts)?.partNumber.toString(), `the parts of ${JSON.stringify(key)}`, this.description);
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
    const response = await this.call(
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
    const echo: EncryptionEcho = { serverSideEncryption: response.ServerSideEncryption, keyFingerprint: (response as { SSECustomerKeyMD5?: string }).SSECustomerKeyMD5 };
    const confirmedAtInitiate = this.#uploadsConfirmedAtInitiate.delete(uploadId);
    // COS's Complete echoes the SSE headers, SSE-C's key MD5 included (Complete Multipart Upload,
    // https://cloud.tencent.com/document/product/436/7742); RGW's echoes none (its Initiate, parts
    // and HEAD do). An upload begun and confirmed here needs no HEAD; one resumed from an earlier
    // run, whose Complete says nothing, is confirmed by a HEAD. An echo that contradicts is never trusted.
    if (confirmedAtInitiate && !echoContradicts(encryption, echo)) return;
    await this.confirmEncryption(key, encryption, echo, 'multipart completion', { remove: true, signal: options.signal });
  }

  async abortMultipartUpload(key: string, uploadId: string, options: CallOptions = {}): Promise<void> {
    this.#uploadsConfirmedAtInitiate.delete(uploadId);
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

  /**
   * The listing version this store is asked for. COS documents only GET Bucket version 1, paged
   * by `marker`/`NextMarker`/`IsTruncated` (https://cloud.tencent.com/document/product/436/7734);
   * none of Tencent's SDKs sends `list-type` (cos-nodejs-sdk-v5 sdk/base.js getBucket,
   * cos-go-sdk-v5 bucket.go Get) and rclone's TencentCOS provider forces list version 1
   * (backend/s3/s3.go). Other stores get ListObjectsV2.
   */
  private listingVersion(): Record<string, string> {
    return this.target.dialect === 'cos' ? {} : { 'list-type': '2' };
  }

  /**
   * Every object under `prefix`, page by page. A page that says IsTruncated goes on from its
   * continuation token, else (v1, or a store that ignored `list-type`) from NextMarker, else from
   * its last key — S3 returns NextMarker only with a delimiter, and COS's GET Bucket says to use
   * the last key then too; a truncated page with none of those fails loudly instead of ending the
   * listing quietly, which would make restore, rotation and sync act on a partial bucket.
   */
  async *listObjects(prefix: string, options: CallOptions = {}): AsyncIterable<RemoteObjectInfo> {
    let useVersion2 = this.target.dialect !== 'cos';
    let token: string | undefined;
    let marker: string | undefined;
    for (;;) {
      const query: Record<string, string> = useVersion2
        ? { 'list-type': '2', prefix, ...(token === undefined ? {} : { 'continuation-token': token }) }
        : { prefix, ...(marker === undefined ? {} : { marker }) };
      const xml = await this.call(() => this.#lean.getBucket(query, options.signal), this.context('listing', undefined), options.signal);
      let lastKey: string | undefined;
      for (const item of xmlBlocks(xml, 'Contents')) {
        const key = xmlText(item, 'Key');
        if (key === undefined) continue;
        lastKey = key;
        const lastModified = xmlText(item, 'LastModified');
        yield { key, sizeBytes: Number(xmlText(item, 'Size') ?? 0), etag: stripQuotes(xmlText(item, 'ETag')), lastModified: lastModified === undefined ? undefined : new Date(lastModified) };
      }
      if (xmlText(xml, 'IsTruncated') !== 'true') return;
      const nextToken = useVersion2 ? xmlText(xml, 'NextContinuationToken') : undefined;
      if (nextToken !== undefined && nextToken !== '') {
        token = nextToken;
        continue;
      }
      // No token: marker paging (v1) from here on.
      useVersion2 = false;
      token = undefined;
      marker = nextPageMarker(marker, xmlText(xml, 'NextMarker') || lastKey, `the objects under ${JSON.stringify(prefix)}`, this.description);
    }
  }

  async *listMultipartUploads(prefix: string, options: CallOptions = {}): AsyncIterable<{ key: string; uploadId: string; initiated: Date | undefined }> {
    let markers: Record<string, string> = {};
    for (;;) {
      const query = { uploads: '', prefix, ...markers };
      const xml = await this.call(() => this.#lean.getBucket(query, options.signal), this.context('listing multipart uploads', undefined), options.signal);
      let last: { key: string; uploadId: string } | undefined;
      for (const upload of xmlBlocks(xml, 'Upload')) {
        const key = xmlText(upload, 'Key');
        const uploadId = xmlText(upload, 'UploadId');
        const initiated = xmlText(upload, 'Initiated');
        if (key !== undefined && uploadId !== undefined) {
          last = { key, uploadId };
          yield { key, uploadId, initiated: initiated === undefined ? undefined : new Date(initiated) };
        }
      }
      if (xmlText(xml, 'IsTruncated') !== 'true') return;
      // List Multipart Uploads pages by key-marker and upload-id-marker
      // (https://cloud.tencent.com/document/product/436/7736); without the Next… markers, on from the last upload.
      const keyMarker = xmlText(xml, 'NextKeyMarker') || last?.key;
      const uploadIdMarker = xmlText(xml, 'NextUploadIdMarker') || last?.uploadId || '';
      const position = (marks: Readonly<Record<string, string>>): string | undefined =>
        marks['key-marker'] === undefined ? undefined : `${marks['key-marker']} ${marks['upload-id-marker'] ?? ''}`;
      nextPageMarker(position(markers), keyMarker === undefined ? undefined : `${keyMarker} ${uploadIdMarker}`, `the multipart uploads under ${JSON.stringify(prefix)}`, this.description);
      markers = { 'key-marker': keyMarker as string, 'upload-id-marker': uploadIdMarker };
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
    request: { source: ObjectEncryption; destination: ObjectEncryption; metadata?: ObjectMetadata | undefined; storageClass?: string | undefined },
    options: CallOptions = {},
  ): Promise<void> {
    const response = await this.call(
      async () => (await this.sdkClient()).send(new (await loadSdk()).CopyObjectCommand({
            Bucket: this.target.bucket,
            Key: destinationKey,
            CopySource: this.copySource(sourceKey),
            // The COS dialect sends these as Copy and Replaced (cos-dialect.ts).
            ...(request.metadata === undefined ? { MetadataDirective: 'COPY' } : { MetadataDirective: 'REPLACE', Metadata: { ...request.metadata } }),
            // A copy is STANDARD unless it names a class (PUT Object - Copy,
            // https://cloud.tencent.com/document/product/436/10881; S3 alike): the source's class is kept.
            StorageClass: request.storageClass as S3Sdk.StorageClass | undefined,
            ...copySourceEncryptionParams(request.source),
            ...writeEncryptionParams(request.destination),
          }),
          { abortSignal: options.signal },
        ),
      this.copyContext('server-side copy', sourceKey, request),
      options.signal,
    );
    await this.confirmEncryption(destinationKey, request.destination, { serverSideEncryption: response.ServerSideEncryption, keyFingerprint: response.SSECustomerKeyMD5 }, 'server-side copy', {
      remove: destinationKey !== sourceKey,
      signal: options.signal,
    });
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

  async restoreObject(key: string, request: RestoreRequest, options: CallOptions = {}): Promise<'started' | 'already-started'> {
    const body = Buffer.from(restoreRequestXml(this.target.dialect, request));
    const headers = { 'content-type': 'application/xml', 'content-md5': createHash('md5').update(body).digest('base64') };
    try {
      // 202 Accepted: retrieval started; 200 OK: the object is already restored (the request only sets its days).
      const status = await this.retrying(() => this.#lean.post(key, { restore: '' }, headers, body, options.signal), 'restore request', options.signal);
      return status === 202 ? 'started' : 'already-started';
    } catch (error) {
      // A second POST while a retrieval runs is refused with 409 RestoreAlreadyInProgress (COS 436/12633, S3 RestoreObject).
      if (httpStatusOf(error) === 409 && (error as { name?: string }).name === 'RestoreAlreadyInProgress') return 'already-started';
      throw toCosyncError(error, this.context('restore request', key));
    }
  }

  /**
   * S3 makes ETags of content MD5s for plain and SSE-S3 objects, not for SSE-C or SSE-KMS ones
   * (AWS "Checking object integrity", Object.ETag in the S3 API reference). COS says its ETag
   * is not necessarily the MD5 and differs for encrypted objects, recommending CRC-64 instead
   * (Common Response Headers, https://cloud.tencent.com/document/product/436/7729): only
   * unencrypted objects qualify there.
   */
  etagIsContentMd5(details: RemoteObjectDetails, encryption: ObjectEncryption): boolean {
    if (encryption.mode === 'c' || encryption.mode === 'kms' || details.keyFingerprint !== undefined) return false;
    if (this.target.dialect === 'cos') return encryption.mode === 'none' && details.serverSideEncryption === undefined;
    return details.serverSideEncryption === undefined || details.serverSideEncryption === 'AES256';
  }

  close(): void {
    void this.#client?.then((client) => client.destroy());
    this.#agent.destroy();
  }
}

/**
 * The body of POST Object restore. COS names the tier's container CASJobParameters
 * (https://intl.cloud.tencent.com/document/product/436/12633; cos-nodejs-sdk-v5's restoreObject
 * sends `RestoreRequest: { Days, CASJobParameters: { Tier } }`); S3 names it GlacierJobParameters
 * (RestoreObject in the S3 API reference).
 */
export function restoreRequestXml(dialect: Target['dialect'], request: RestoreRequest): string {
  const parameters = dialect === 'cos' ? 'CASJobParameters' : 'GlacierJobParameters';
  const namespace = dialect === 'cos' ? '' : ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
  return `<RestoreRequest${namespace}><Days>${request.days}</Days><${parameters}><Tier>${request.tier}</Tier></${parameters}></RestoreRequest>`;
}

let sdkModule: Promise<typeof S3Sdk> | undefined;

/** The AWS SDK module, imported on first use. */
function loadSdk(): Promise<typeof S3Sdk> {
  sdkModule ??= import('@aws-sdk/client-s3');
  return sdkModule;
}

/** The Content-Type of every object cosync writes: its bytes, whatever the file was. */
const OBJECT_CONTENT_TYPE = 'application/octet-stream';

function lastOf<T>(items: ReadonlyArray<T>): T | undefined {
  return items[items.length - 1];
}

/**
 * Where the next page of a truncated listing starts, or a loud failure when the page gave no
 * way on (or the same one again, which would loop forever).
 */
function nextPageMarker(previous: string | undefined, next: string | undefined, what: string, store: string): string {
  if (next === undefined || next === '' || next === previous) {
    throw new CosyncError(
      'server',
      `the listing of ${what} in ${store} stopped: the server said more entries follow (IsTruncated) but gave nothing to continue from; nothing was acted on from a partial listing — try again, and report it if it persists`,
    );
  }
  return next;
}

const CRC64_OUTPUT_FIELD = 'cosyncCrc64';

/** The `x-cos-hash-crc64ecma` value that the deserialize middleware copied onto the output. */
function crc64Of(response: object): string | undefined {
  const value = (response as Record<string, unknown>)[CRC64_OUTPUT_FIELD];
  return typeof value === 'string' ? value : undefined;
}
