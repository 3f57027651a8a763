/**
 * The RemoteStore port: the few object-store operations the engine needs, with encryption
 * passed per call. One implementation (S3RemoteStore) speaks to COS and S3-compatible stores;
 * tests may use fakes for fault injection.
 */
import type { Readable } from 'node:stream';
import type { RestoreRequest } from '../../app/archive-restore.js';
import type { SseCustomerKey } from '../secrets/secret-values.js';

/** How an object is (to be) encrypted on the server. */
export type ObjectEncryption =
  | { readonly mode: 'none' }
  | { readonly mode: 'cos' }
  | { readonly mode: 'kms'; readonly kmsKeyId?: string | undefined }
  | { readonly mode: 'c'; readonly key: SseCustomerKey };

/**
 * A request body that can be sent more than once (each retry opens it again): small ones are
 * buffers, large ones stream from the file so memory does not grow with the part size.
 */
export interface RequestBody {
  readonly length: number;
  open(): Buffer | Readable;
}

/** A RequestBody over bytes already in memory. */
export function bufferBody(bytes: Buffer): RequestBody {
  return { length: bytes.length, open: () => bytes };
}

/** User metadata cosync attaches to each object (keys without the x-…-meta- prefix). */
export type ObjectMetadata = Readonly<Record<string, string>>;

/** What HEAD or a listing says about an object. */
export interface RemoteObjectInfo {
  readonly key: string;
  readonly sizeBytes: number;
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
}

/** HEAD/GET details, including what only the right SSE-C key reveals. */
export interface RemoteObjectDetails extends RemoteObjectInfo {
  readonly metadata: ObjectMetadata;
  /** Base64 MD5 of the SSE-C key the server used, when it says so. */
  readonly keyFingerprint: string | undefined;
  /** `x-cos-hash-crc64ecma` when the server sends one (COS). */
  readonly crc64: string | undefined;
  /** The server-side encryption the server reports (`AES256`, `aws:kms`), if it does. */
  readonly serverSideEncryption?: string | undefined;
  /** The storage class the server reports; S3 and COS omit it for STANDARD. */
  readonly storageClass?: string | undefined;
  /** `x-cos-restore` / `x-amz-restore` of an archived object a restore was asked for (app/archive-restore.ts). */
  readonly restore?: string | undefined;
}

/** A part the server holds for a multipart upload. */
export interface RemotePart {
  readonly partNumber: number;
  readonly etag: string;
  readonly sizeBytes: number;
}

/** Per-call options shared by every operation. */
export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * The object-store port. Errors are CosyncErrors with specific codes. A write (PUT, Complete,
 * copy) whose encryption the server does not confirm fails with 'encryption-unconfirmed' and
 * leaves no object behind (except a copy onto itself, which removing would lose).
 */
export interface RemoteStore {
  /** A human label for messages, e.g. "bucket photos at https://…". */
  readonly description: string;
  /** Checks endpoint, credentials and bucket with one cheap listing call. */
  checkAccess(prefix: string, options?: CallOptions): Promise<void>;
  headObject(key: string, encryption: ObjectEncryption, options?: CallOptions): Promise<RemoteObjectDetails | undefined>;
  putObject(
    key: string,
    body: RequestBody,
    request: { contentMd5: string; metadata: ObjectMetadata; encryption: ObjectEncryption; storageClass?: string | undefined },
    options?: CallOptions,
  ): Promise<{ etag: string | undefined; keyFingerprint: string | undefined; crc64: string | undefined }>;
  /**
   * Starts a multipart upload. Fails with code 'encryption-unconfirmed' (the upload aborted) when
   * the server's answer does not confirm the encryption asked for.
   */
  createMultipartUpload(key: string, request: { metadata: ObjectMetadata; encryption: ObjectEncryption; storageClass?: string | undefined }, options?: CallOptions): Promise<string>;
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: RequestBody,
    request: { contentMd5: string; encryption: ObjectEncryption },
    options?: CallOptions,
  ): Promise<{ etag: string; keyFingerprint: string | undefined; crc64: string | undefined }>;
  /** Parts the server holds, or undefined when the upload no longer exists. */
  listParts(key: string, uploadId: string, options?: CallOptions): Promise<RemotePart[] | undefined>;
  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: ReadonlyArray<{ partNumber: number; etag: string }>,
    encryption: ObjectEncryption,
    options?: CallOptions,
  ): Promise<void>;
  abortMultipartUpload(key: string, uploadId: string, options?: CallOptions): Promise<void>;
  listObjects(prefix: string, options?: CallOptions): AsyncIterable<RemoteObjectInfo>;
  /** Multipart uploads in progress under a prefix. */
  listMultipartUploads(prefix: string, options?: CallOptions): AsyncIterable<{ key: string; uploadId: string; initiated: Date | undefined }>;
  getObject(
    key: string,
    encryption: ObjectEncryption,
    options?: CallOptions & { range?: { start: number; end: number } },
  ): Promise<{ body: Readable; details: RemoteObjectDetails }>;
  deleteObject(key: string, options?: CallOptions): Promise<void>;
  /**
   * Asks the store to retrieve an archived object (POST Object restore) for `request.days` days at
   * `request.tier`: 'started', or 'already-started' when a retrieval is already under way (409
   * RestoreAlreadyInProgress) or done (200).
   */
  restoreObject(key: string, request: RestoreRequest, options?: CallOptions): Promise<'started' | 'already-started'>;
  /**
   * Server-side copy (up to 5 GiB), re-encrypting from the source's encryption to the
   * destination's; metadata is kept, or replaced by `metadata` when given (S3 allows copying an
   * object onto itself only with replaced metadata). Fails with code 'unsupported' where the
   * server cannot copy (RGW for SSE-C objects): then copy through the client (copyObjectWithFallback).
   */
  copyObject(
    sourceKey: string,
    destinationKey: string,
    request: { source: ObjectEncryption; destination: ObjectEncryption; metadata?: ObjectMetadata | undefined; storageClass?: string | undefined },
    options?: CallOptions,
  ): Promise<void>;
  /**
   * Server-side copy of the bytes `range.start`…`range.end` (inclusive) of `sourceKey` into part
   * `partNumber` of a multipart upload to `destinationKey` (UploadPartCopy): how objects over the
   * CopyObject limit are copied. With `sourceEtag`, the server copies only while the source still
   * has that ETag, so the parts of one copy never come from two versions of the source (a changed
   * source fails with code 'integrity'; RGW 16 ignores the condition). Fails with code
   * 'unsupported' where the server cannot copy parts.
   */
  uploadPartCopy(
    destinationKey: string,
    uploadId: string,
    partNumber: number,
    sourceKey: string,
    request: {
      range: { start: number; end: number };
      source: ObjectEncryption;
      destination: ObjectEncryption;
      sourceEtag?: string | undefined;
    },
    options?: CallOptions,
  ): Promise<{ etag: string }>;
  /**
   * Whether this store promises that the object's ETag is made of MD5s of its content (one MD5,
   * or the MD5 of the part MD5s for multipart objects), so that a mismatch proves corruption.
   */
  etagIsContentMd5(details: RemoteObjectDetails, encryption: ObjectEncryption): boolean;
  /** Releases connections. */
  close(): void;
}
