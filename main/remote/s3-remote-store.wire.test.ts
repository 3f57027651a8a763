/**
 * Wire-level checks of both header dialects against a local recording server: the exact
 * encryption, metadata and integrity headers on every kind of request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MultipartLimits } from '../../app/part-size.js';
import { parseEndpoint, type Dialect, type SseMode, type Target } from '../../app/target.js';
import { encryptionEcho, startRecordingServer, type RecordedRequest, type ResponseHeaders, type ResponseScript, type ScriptedResponse } from '../../test/support/recording-server.js';
import { SseCustomerKey, StoreCredentials } from '../secrets/secret-values.js';
import { contentDigest, METADATA } from '../transfer/content-digest.js';
import { copyObjectWithFallback } from '../transfer/copy-object.js';
import { bufferBody, type ObjectEncryption } from './remote-store.js';
import { S3RemoteStore } from './s3-remote-store.js';

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let extra: ResponseHeaders = () => ({});
let script: ResponseScript = () => undefined;

beforeEach(async () => {
  extra = () => ({});
  script = () => undefined;
  server = await startRecordingServer(
    (request) => extra(request),
    (request) => script(request),
  );
});
afterEach(async () => {
  await server.close();
});

function storeFor(dialect: Dialect, sse: SseMode, more: Partial<Target> = {}): S3RemoteStore {
  const target: Target = { endpoint: parseEndpoint(server.url), bucket: 'photos-1250000000', prefix: '', region: 'ap-guangzhou', pathStyle: true, dialect, sse, keyName: undefined, kmsKeyId: undefined, ...more };
  return new S3RemoteStore(target, new StoreCredentials('AKIDtest', 'secret'), { retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
}

const body = Buffer.from('hello');
const md5 = createHash('md5').update(body).digest('base64');

/** Runs every operation that carries encryption headers once. */
async function exercise(store: S3RemoteStore, encryption: ObjectEncryption): Promise<Record<string, RecordedRequest>> {
  await store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: { 'cosync-mtime': '42' }, encryption });
  const uploadId = await store.createMultipartUpload('big.bin', { metadata: { 'cosync-part-bytes': '5' }, encryption });
  await store.uploadPart('big.bin', uploadId, 1, bufferBody(body), { contentMd5: md5, encryption });
  await store.completeMultipartUpload('big.bin', uploadId, [{ partNumber: 1, etag: 'etag-1' }], encryption);
  await store.headObject('a.txt', encryption);
  const { body: stream } = await store.getObject('a.txt', encryption);
  for await (const chunk of stream) void chunk;
  const [put, create, part, complete, head, get] = server.requests;
  return { put, create, part, complete, head, get } as Record<string, RecordedRequest>;
}

const headerNames = (request: RecordedRequest | undefined) => Object.keys(request?.headers ?? {});

describe('SSE-C headers', () => {
  const key = SseCustomerKey.generate();
  const encryption: ObjectEncryption = { mode: 'c', key };

  it.each([
    ['s3', 'x-amz', 'x-cos'],
    ['cos', 'x-cos', 'x-amz'],
  ] as const)('%s dialect: the key on PUT, Initiate, every UploadPart, Complete, HEAD and GET', async (dialect, prefix, other) => {
    const store = storeFor(dialect, 'c');
    const requests = await exercise(store, encryption);
    for (const [operation, request] of Object.entries(requests)) {
      expect(request.headers[`${prefix}-server-side-encryption-customer-algorithm`], operation).toBe('AES256');
      expect(request.headers[`${prefix}-server-side-encryption-customer-key`], operation).toBe(key.revealBase64());
      expect(request.headers[`${prefix}-server-side-encryption-customer-key-md5`], operation).toBe(key.fingerprint);
      expect(headerNames(request).filter((name) => name.startsWith(`${other}-server-side-encryption`)), operation).toEqual([]);
      // The signature covers the encryption headers as sent.
      expect(request.headers.authorization, operation).toMatch(new RegExp(`SignedHeaders=[^,]*${prefix}-server-side-encryption-customer-algorithm`));
    }
    expect(requests.put?.headers['content-md5']).toBe(md5);
    expect(requests.part?.headers['content-md5']).toBe(md5);
    expect(requests.put?.headers[`${prefix}-meta-cosync-mtime`]).toBe('42');
    expect(requests.create?.headers[`${prefix}-meta-cosync-part-bytes`]).toBe('5');
    store.close();
  });

  it('reads the key MD5 the COS server echoes in its own dialect', async () => {
    const store = storeFor('cos', 'c');
    const response = await store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: {}, encryption });
    expect(response.keyFingerprint).toBe(key.fingerprint);
    extra = () => ({ 'x-cos-meta-cosync-digest': 'md5:abc' });
    const head = await store.headObject('a.txt', encryption);
    expect(head).toMatchObject({ keyFingerprint: key.fingerprint, metadata: { 'cosync-digest': 'md5:abc' }, sizeBytes: 5 });
    store.close();
  });
});

describe('SSE-COS and SSE-KMS headers', () => {
  it.each([
    ['s3', { mode: 'cos' }, { 'x-amz-server-side-encryption': 'AES256' }],
    ['cos', { mode: 'cos' }, { 'x-cos-server-side-encryption': 'AES256' }],
    ['s3', { mode: 'kms', kmsKeyId: 'k-1' }, { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'k-1' }],
    ['cos', { mode: 'kms', kmsKeyId: 'k-1' }, { 'x-cos-server-side-encryption': 'cos/kms', 'x-cos-server-side-encryption-cos-kms-key-id': 'k-1' }],
  ] as const)('%s dialect, %o', async (dialect, encryption, expected) => {
    const store = storeFor(dialect, encryption.mode);
    await store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: {}, encryption });
    await store.createMultipartUpload('b.bin', { metadata: {}, encryption });
    for (const request of server.requests) {
      expect(request.headers).toMatchObject(expected);
      expect(headerNames(request).filter((name) => name.includes('customer-key'))).toEqual([]);
    }
    // Reads of SSE-COS/KMS objects need no encryption headers.
    await store.headObject('a.txt', encryption);
    expect(headerNames(server.requests.at(-1)).filter((name) => name.includes('server-side-encryption'))).toEqual([]);
    store.close();
  });

  it('sends no encryption headers for --sse none', async () => {
    const store = storeFor('cos', 'none');
    await store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: {}, encryption: { mode: 'none' } });
    expect(headerNames(server.requests[0]).filter((name) => name.includes('server-side-encryption'))).toEqual([]);
    store.close();
  });
});

describe('COS checksums', () => {
  it('surfaces x-cos-hash-crc64ecma from uploads and downloads', async () => {
    extra = () => ({ 'x-cos-hash-crc64ecma': '11051210869376104954' });
    const store = storeFor('cos', 'none');
    const put = await store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: {}, encryption: { mode: 'none' } });
    expect(put.crc64).toBe('11051210869376104954');
    const { body: stream, details } = await store.getObject('a.txt', { mode: 'none' });
    stream.destroy();
    expect(details.crc64).toBe('11051210869376104954');
    store.close();
  });
});

describe('server-side copy', () => {
  it.each([
    ['s3', 'x-amz'],
    ['cos', 'x-cos'],
  ] as const)('%s dialect: the source key as copy-source headers, the new key as the destination', async (dialect, prefix) => {
    const oldKey = SseCustomerKey.generate();
    const newKey = SseCustomerKey.generate();
    const store = storeFor(dialect, 'c');
    await store.copyObject('dir/a b.txt', 'renamed/a.txt', { source: { mode: 'c', key: oldKey }, destination: { mode: 'c', key: newKey } });
    const [copy] = server.requests;
    expect(copy?.method).toBe('PUT');
    expect(copy?.path).toBe('/photos-1250000000/renamed/a.txt');
    // COS names the source by bucket and region, BUCKET-APPID.cos.REGION.myqcloud.com/KEY, whatever host the request went to
    // (PUT Object - Copy, https://cloud.tencent.com/document/product/436/10881).
    expect(copy?.headers[`${prefix}-copy-source`]).toBe(dialect === 's3' ? 'photos-1250000000/dir/a%20b.txt' : 'photos-1250000000.cos.ap-guangzhou.myqcloud.com/dir/a%20b.txt');
    // COS: Copy | Replaced (same document); S3: COPY | REPLACE.
    expect(copy?.headers[`${prefix}-metadata-directive`]).toBe(dialect === 's3' ? 'COPY' : 'Copy');
    expect(copy?.headers[`${prefix}-copy-source-server-side-encryption-customer-algorithm`]).toBe('AES256');
    expect(copy?.headers[`${prefix}-copy-source-server-side-encryption-customer-key`]).toBe(oldKey.revealBase64());
    expect(copy?.headers[`${prefix}-copy-source-server-side-encryption-customer-key-md5`]).toBe(oldKey.fingerprint);
    expect(copy?.headers[`${prefix}-server-side-encryption-customer-key`]).toBe(newKey.revealBase64());
    expect(copy?.headers[`${prefix}-server-side-encryption-customer-key-md5`]).toBe(newKey.fingerprint);
    store.close();
  });

  it.each([
    ['s3', 'x-amz'],
    ['cos', 'x-cos'],
  ] as const)('%s dialect: a copy onto itself (key rotation) replaces the metadata with what it is given', async (dialect, prefix) => {
    const store = storeFor(dialect, 'c');
    const metadata = { 'cosync-writer': 'docs-1a2b', 'cosync-part-bytes': '16777216' };
    await store.copyObject('big.bin', 'big.bin', { source: { mode: 'c', key: SseCustomerKey.generate() }, destination: { mode: 'c', key: SseCustomerKey.generate() }, metadata });
    const [copy] = server.requests;
    expect(copy?.path).toBe('/photos-1250000000/big.bin');
    // A copy onto itself must replace the metadata: COS says Replaced (https://cloud.tencent.com/document/product/436/10881).
    expect(copy?.headers[`${prefix}-metadata-directive`]).toBe(dialect === 's3' ? 'REPLACE' : 'Replaced');
    expect(copy?.headers[`${prefix}-meta-cosync-writer`]).toBe('docs-1a2b');
    expect(copy?.headers[`${prefix}-meta-cosync-part-bytes`]).toBe('16777216');
    store.close();
  });
});

/** An S3 error document, as S3 sends it — with an error status, or (for copies) inside a 200. */
function s3Error(status: number, code: string): ScriptedResponse {
  return { status, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>scripted</Message><RequestId>r-1</RequestId></Error>` };
}

const isPartCopy = (request: RecordedRequest): boolean =>
  request.method === 'PUT' && request.query.has('partNumber') && (request.headers['x-amz-copy-source'] !== undefined || request.headers['x-cos-copy-source'] !== undefined);
const isPartUpload = (request: RecordedRequest): boolean => request.method === 'PUT' && request.query.has('partNumber') && !isPartCopy(request);
const isCreate = (request: RecordedRequest): boolean => request.method === 'POST' && request.query.has('uploads');
const isComplete = (request: RecordedRequest): boolean => request.method === 'POST' && request.query.has('uploadId');
const isAbort = (request: RecordedRequest): boolean => request.method === 'DELETE' && request.query.has('uploadId');

/** The inclusive [start, end] of a "bytes=start-end" header. */
function rangeOf(header: string | string[] | undefined): [number, number] {
  const match = /^bytes=(\d+)-(\d+)$/.exec(String(header));
  if (match === null) throw new Error(`not a byte range: ${String(header)}`);
  return [Number(match[1]), Number(match[2])];
}

describe('UploadPartCopy', () => {
  it.each([
    ['s3', 'x-amz', 'x-cos'],
    ['cos', 'x-cos', 'x-amz'],
  ] as const)('%s dialect: the copy source, its range, ETag condition and SSE-C key, and the upload’s SSE-C key', async (dialect, prefix, other) => {
    const oldKey = SseCustomerKey.generate();
    const newKey = SseCustomerKey.generate();
    script = () => ({ status: 200, headers: { 'content-type': 'application/xml' }, body: '<CopyPartResult><ETag>"part-3-etag"</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></CopyPartResult>' });
    const store = storeFor(dialect, 'c');
    const result = await store.uploadPartCopy('renamed/big.bin', 'upload-1', 3, 'dir/a b.bin', {
      range: { start: 10, end: 19 },
      source: { mode: 'c', key: oldKey },
      destination: { mode: 'c', key: newKey },
      sourceEtag: 'source-etag',
    });
    expect(result).toEqual({ etag: 'part-3-etag' });
    const [copy] = server.requests;
    expect(copy?.method).toBe('PUT');
    expect(copy?.path).toBe('/photos-1250000000/renamed/big.bin');
    expect(copy?.query.get('partNumber')).toBe('3');
    expect(copy?.query.get('uploadId')).toBe('upload-1');
    // Upload Part - Copy names the source like PUT Object - Copy (https://cloud.tencent.com/document/product/436/8287).
    expect(copy?.headers[`${prefix}-copy-source`]).toBe(dialect === 's3' ? 'photos-1250000000/dir/a%20b.bin' : 'photos-1250000000.cos.ap-guangzhou.myqcloud.com/dir/a%20b.bin');
    expect(copy?.headers[`${prefix}-copy-source-range`]).toBe('bytes=10-19');
    expect(copy?.headers[`${prefix}-copy-source-if-match`]).toBe('"source-etag"');
    expect(copy?.headers[`${prefix}-copy-source-server-side-encryption-customer-algorithm`]).toBe('AES256');
    expect(copy?.headers[`${prefix}-copy-source-server-side-encryption-customer-key`]).toBe(oldKey.revealBase64());
    expect(copy?.headers[`${prefix}-copy-source-server-side-encryption-customer-key-md5`]).toBe(oldKey.fingerprint);
    expect(copy?.headers[`${prefix}-server-side-encryption-customer-algorithm`]).toBe('AES256');
    expect(copy?.headers[`${prefix}-server-side-encryption-customer-key`]).toBe(newKey.revealBase64());
    expect(copy?.headers[`${prefix}-server-side-encryption-customer-key-md5`]).toBe(newKey.fingerprint);
    // Metadata belongs to Create; a part carries none, and nothing is left in the other dialect.
    expect(headerNames(copy).filter((name) => name.includes('-meta'))).toEqual([]);
    expect(headerNames(copy).filter((name) => name.startsWith(`${other}-copy-source`) || name.startsWith(`${other}-server-side-encryption`))).toEqual([]);
    expect(copy?.headers.authorization).toMatch(new RegExp(`SignedHeaders=[^,]*${prefix}-copy-source-range`));
    store.close();
  });

  it.each([
    ['501 NotImplemented', s3Error(501, 'NotImplemented'), 'unsupported'],
    // S3 may report a failed copy inside a 200 response; the SDK turns that into a 503: try again later.
    ['an error inside a 200 response', s3Error(200, 'InternalError'), 'server-unavailable'],
    ['412 PreconditionFailed (the source changed)', s3Error(412, 'PreconditionFailed'), 'integrity'],
  ])('answers %s with code %s', async (_name, response, code) => {
    script = () => response;
    const store = storeFor('s3', 'none');
    await expect(
      store.uploadPartCopy('b.bin', 'upload-1', 1, 'a.bin', { range: { start: 0, end: 4 }, source: { mode: 'none' }, destination: { mode: 'none' }, sourceEtag: 'e' }),
    ).rejects.toMatchObject({ code });
    store.close();
  });
});

describe('copyObjectWithFallback over the CopyObject limit', () => {
  // A 23-byte object, a CopyObject limit of 16 bytes and 5-byte parts: 0-4, 5-9, 10-14, 15-19, 20-22.
  const object = randomBytes(23);
  const objectMd5 = createHash('md5').update(object).digest();
  const limits: MultipartLimits = { minPartBytes: 1, maxPartBytes: 1024, maxParts: 10_000, maxSinglePutBytes: 16 };
  const sizing = { multipartThresholdBytes: 1, preferredPartBytes: 5 };
  const expectedRanges = [
    [1, 0, 4],
    [2, 5, 9],
    [3, 10, 14],
    [4, 15, 19],
    [5, 20, 22],
  ];
  const key = SseCustomerKey.generate();
  const sameKey = { source: { mode: 'c', key }, destination: { mode: 'c', key } } as const;
  // A plain object with a digest copied to SSE-C: the digest must be re-keyed, so it is streamed from the start.
  const toSseC = { source: { mode: 'none' }, destination: { mode: 'c', key } } as const;
  const plainDigest = { [METADATA.digest]: contentDigest(objectMd5, undefined) };

  /** Answers HEAD and ranged GET like S3 for an object holding `object` (HEADs of the copy too). */
  function serveObject(request: RecordedRequest, metadata: Record<string, string> = {}): ScriptedResponse | undefined {
    const headers: Record<string, string> = { etag: '"source-etag"', 'last-modified': new Date().toUTCString(), 'x-amz-meta-cosync-mtime': '42', ...encryptionEcho(request.headers) };
    for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
    if (request.method === 'HEAD') return { status: 200, headers: { ...headers, 'content-length': String(object.length) } };
    if (request.method !== 'GET') return undefined;
    const [start, end] = rangeOf(request.headers.range);
    return { status: 206, headers: { ...headers, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${object.length}` }, body: object.subarray(start, end + 1) };
  }

  /** The parts a Complete request lists, in its order. */
  function completedParts(request: RecordedRequest | undefined): Array<[number, string]> {
    const xml = request?.body.toString() ?? '';
    return [...xml.matchAll(/<Part>(.*?)<\/Part>/g)].map((part) => [Number(/<PartNumber>(\d+)</.exec(part[1] ?? '')?.[1]), (/<ETag>(.*?)</.exec(part[1] ?? '')?.[1] ?? '').replace(/&quot;/g, '"')]);
  }

  it('copies part by part on the server: the ranges cover the object exactly, Create gets the metadata, Complete lists every part', async () => {
    script = (request) => {
      if (isPartCopy(request)) return { status: 200, body: `<CopyPartResult><ETag>"copy-${request.query.get('partNumber')}"</ETag></CopyPartResult>` };
      return serveObject(request, { [METADATA.digest]: contentDigest(objectMd5, key) });
    };
    const store = storeFor('s3', 'c');
    expect(await copyObjectWithFallback(store, 'big.bin', 'renamed.bin', sameKey, { limits, sizing })).toBe('server-side');

    const copies = server.requests.filter(isPartCopy);
    const ranges = copies.map((request) => [Number(request.query.get('partNumber')), ...rangeOf(request.headers['x-amz-copy-source-range'])]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    expect(ranges).toEqual(expectedRanges);
    for (const copy of copies) {
      expect(copy.path).toBe('/photos-1250000000/renamed.bin');
      expect(copy.headers['x-amz-copy-source']).toBe('photos-1250000000/big.bin');
      expect(copy.headers['x-amz-copy-source-if-match']).toBe('"source-etag"');
    }
    const create = server.requests.find(isCreate);
    // Multipart copies carry no metadata over: Create gets it, with the copy's own part size; the digest stays valid (same content, same key).
    expect(create?.headers).toMatchObject({ 'x-amz-meta-cosync-mtime': '42', 'x-amz-meta-cosync-part-bytes': '5', 'x-amz-meta-cosync-digest': contentDigest(objectMd5, key) });
    expect(completedParts(server.requests.find(isComplete))).toEqual([1, 2, 3, 4, 5].map((partNumber) => [partNumber, `"copy-${partNumber}"`]));
    // The source is read before anything is made; the copy is checked after Complete; nothing is sent through the client.
    expect(server.requests[0]?.method).toBe('HEAD');
    expect(server.requests.at(-1)?.method).toBe('HEAD');
    expect(server.requests.filter((request) => request.method === 'GET' || isPartUpload(request) || isAbort(request))).toEqual([]);
    store.close();
  });

  it('aborts the upload and completes nothing when a part fails (an error inside a 200, as S3 may answer copies)', async () => {
    script = (request) => {
      if (isPartCopy(request)) return request.query.get('partNumber') === '3' ? s3Error(200, 'InternalError') : { status: 200, body: '<CopyPartResult><ETag>"c"</ETag></CopyPartResult>' };
      return serveObject(request);
    };
    const store = storeFor('s3', 'c');
    await expect(copyObjectWithFallback(store, 'big.bin', 'renamed.bin', sameKey, { limits, sizing })).rejects.toMatchObject({ code: 'server-unavailable' });
    expect(server.requests.filter(isAbort).map((request) => request.query.get('uploadId'))).toEqual(['upload-1']);
    expect(server.requests.filter(isComplete)).toEqual([]);
    // Only 'unsupported' falls back to streaming.
    expect(server.requests.filter((request) => request.method === 'GET')).toEqual([]);
    store.close();
  });

  it('removes a finished copy whose size is wrong, so it never looks complete', async () => {
    script = (request) => {
      if (isPartCopy(request)) return { status: 200, body: `<CopyPartResult><ETag>"copy-${request.query.get('partNumber')}"</ETag></CopyPartResult>` };
      // The object Complete made is short.
      if (request.method === 'HEAD' && request.path.endsWith('/renamed.bin')) return { status: 200, headers: { etag: '"made"', 'content-length': '7', ...encryptionEcho(request.headers) } };
      return serveObject(request);
    };
    const store = storeFor('s3', 'c');
    await expect(copyObjectWithFallback(store, 'big.bin', 'renamed.bin', sameKey, { limits, sizing })).rejects.toMatchObject({ code: 'integrity', message: /7 bytes instead of 23; it was removed/ });
    expect(server.requests.filter((request) => request.method === 'DELETE').map((request) => request.path)).toEqual(['/photos-1250000000/renamed.bin']);
    store.close();
  });

  it('streams the object when the server cannot copy parts (501): ranged GETs, parts uploaded whole and in order of bytes', async () => {
    script = (request) => (isPartCopy(request) ? s3Error(501, 'NotImplemented') : serveObject(request, { [METADATA.digest]: contentDigest(objectMd5, key) }));
    const store = storeFor('cos', 'c');
    expect(await copyObjectWithFallback(store, 'big.bin', 'renamed.bin', sameKey, { limits, sizing, concurrency: 3 })).toBe('streamed');

    // The server-side attempt was aborted before the streamed upload began.
    const firstAbort = server.requests.findIndex(isAbort);
    const creates = server.requests.map((request, index) => (isCreate(request) ? index : -1)).filter((index) => index >= 0);
    expect(creates).toHaveLength(2);
    expect(firstAbort).toBeGreaterThan(creates[0] ?? Infinity);
    expect(firstAbort).toBeLessThan(creates[1] ?? -1);
    // Without a digest (multipart objects are created before their content is read), with the copy's part size.
    expect(server.requests[creates[1] ?? -1]?.headers).toMatchObject({ 'x-cos-meta-cosync-mtime': '42', 'x-cos-meta-cosync-part-bytes': '5' });
    expect(server.requests[creates[1] ?? -1]?.headers['x-cos-meta-cosync-digest']).toBeUndefined();

    const gets = server.requests.filter((request) => request.method === 'GET').map((request) => rangeOf(request.headers.range)).sort((a, b) => a[0] - b[0]);
    expect(gets).toEqual(expectedRanges.map(([, start, end]) => [start, end]));
    const parts = server.requests.filter(isPartUpload).sort((a, b) => Number(a.query.get('partNumber')) - Number(b.query.get('partNumber')));
    expect(parts.map((part) => Number(part.query.get('partNumber')))).toEqual([1, 2, 3, 4, 5]);
    expect(Buffer.concat(parts.map((part) => part.body)).equals(object)).toBe(true);
    for (const part of parts) {
      expect(part.headers['content-md5']).toBe(createHash('md5').update(part.body).digest('base64'));
      expect(part.headers['x-cos-server-side-encryption-customer-key-md5']).toBe(key.fingerprint);
    }
    expect(completedParts(server.requests.find(isComplete)).map(([partNumber]) => partNumber)).toEqual([1, 2, 3, 4, 5]);
    store.close();
  });

  it('aborts a streamed copy whose bytes do not match the source’s digest, before Complete', async () => {
    const oldKey = SseCustomerKey.generate();
    // A new key for an object with a digest: streamed from the start.
    script = (request) => serveObject(request, { [METADATA.digest]: contentDigest(createHash('md5').update('other bytes').digest(), oldKey) });
    const store = storeFor('s3', 'c');
    await expect(copyObjectWithFallback(store, 'big.bin', 'big.bin', { source: { mode: 'c', key: oldKey }, destination: { mode: 'c', key } }, { limits, sizing })).rejects.toMatchObject({
      code: 'integrity',
      message: /does not match its recorded digest/,
    });
    expect(server.requests.filter(isPartCopy)).toEqual([]);
    expect(server.requests.filter(isPartUpload)).toHaveLength(5);
    expect(server.requests.filter(isAbort)).toHaveLength(1);
    expect(server.requests.filter(isComplete)).toEqual([]);
    store.close();
  });

  it('refuses a source that changes between its parts (another ETag), and completes nothing', async () => {
    script = (request) => {
      const response = serveObject(request, plainDigest);
      if (request.method === 'GET' && rangeOf(request.headers.range)[0] === 10) return { ...response, status: 206, headers: { ...response?.headers, etag: '"replaced"' } };
      return response;
    };
    const store = storeFor('s3', 'none');
    await expect(copyObjectWithFallback(store, 'big.bin', 'copy.bin', toSseC, { limits, sizing })).rejects.toMatchObject({
      code: 'integrity',
      message: /changed on the server while it was being copied/,
    });
    expect(server.requests.filter(isAbort)).toHaveLength(1);
    expect(server.requests.filter(isComplete)).toEqual([]);
    store.close();
  });

  it('keeps a streamed part that waits for its turn to be hashed in its queue slot: part i+N starts only after part i is hashed', async () => {
    const events: string[] = [];
    let releaseFirstPart = (): void => undefined;
    const firstPartHeld = new Promise<void>((resolve) => (releaseFirstPart = resolve));
    let partTwoSent = (): void => undefined;
    const partTwoArrived = new Promise<void>((resolve) => (partTwoSent = resolve));
    script = async (request) => {
      if (request.method === 'GET') {
        const [start] = rangeOf(request.headers.range);
        events.push(`GET ${start}`);
        if (start === 0) {
          await firstPartHeld;
          events.push('first part released');
        }
      }
      if (isPartUpload(request)) {
        events.push(`PUT part ${request.query.get('partNumber')}`);
        if (request.query.get('partNumber') === '2') partTwoSent();
      }
      return serveObject(request, plainDigest);
    };
    const store = storeFor('s3', 'none');
    const copying = copyObjectWithFallback(store, 'big.bin', 'copy.bin', toSseC, { limits, sizing, concurrency: 2 });
    // Part 2 is read and uploaded while part 1 is held (the parts run in parallel)…
    await partTwoArrived;
    // …and then waits to be hashed after part 1, keeping its slot: part 3 must not start meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events).not.toContain('GET 10');
    releaseFirstPart();
    expect(await copying).toBe('streamed');
    expect(events.indexOf('GET 10')).toBeGreaterThan(events.indexOf('first part released'));
    store.close();
  });

  it('stops at once when its signal aborts: the upload is aborted and nothing completed', async () => {
    const controller = new AbortController();
    let releaseHeldParts = (): void => undefined;
    const held = new Promise<void>((resolve) => (releaseHeldParts = resolve));
    script = async (request) => {
      if (request.method === 'GET' && rangeOf(request.headers.range)[0] === 5) {
        controller.abort();
        await held;
      }
      return serveObject(request, plainDigest);
    };
    const store = storeFor('s3', 'none');
    await expect(copyObjectWithFallback(store, 'big.bin', 'copy.bin', toSseC, { limits, sizing, signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' });
    releaseHeldParts();
    expect(server.requests.filter(isAbort)).toHaveLength(1);
    expect(server.requests.filter(isComplete)).toEqual([]);
    store.close();
  });
});

/** A GET Bucket (v1) or ListObjectsV2 page, as COS and S3 document the XML. */
function listingPage(keys: ReadonlyArray<string>, truncated: boolean, extraXml = ''): ScriptedResponse {
  const contents = keys.map((key) => `<Contents><Key>${key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>"e-${key}"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>`).join('');
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>photos-1250000000</Name><Prefix>p/</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>${truncated}</IsTruncated>${extraXml}${contents}</ListBucketResult>` };
}

async function listAll(store: S3RemoteStore, prefix = 'p/'): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.listObjects(prefix)) keys.push(object.key);
  return keys;
}

const isListing = (request: RecordedRequest): boolean => request.method === 'GET' && request.path === '/photos-1250000000' && !request.query.has('uploads');

describe('listing', () => {
  it('COS: pages GET Bucket by marker (no list-type; NextMarker, else the last key) until IsTruncated is false', async () => {
    // GET Bucket documents marker / NextMarker / IsTruncated only (https://cloud.tencent.com/document/product/436/7734).
    script = (request) => {
      if (!isListing(request)) return undefined;
      const marker = request.query.get('marker');
      if (marker === null) return listingPage(['p/a', 'p/b'], true, '<NextMarker>p/b</NextMarker>');
      // Without a delimiter, a page may give no NextMarker: the last key goes on.
      if (marker === 'p/b') return listingPage(['p/c', 'p/d'], true);
      return listingPage(['p/e'], false);
    };
    const store = storeFor('cos', 'none');
    expect(await listAll(store)).toEqual(['p/a', 'p/b', 'p/c', 'p/d', 'p/e']);
    const listings = server.requests.filter(isListing);
    expect(listings.map((request) => request.query.get('marker'))).toEqual([null, 'p/b', 'p/d']);
    expect(listings.every((request) => !request.query.has('list-type'))).toBe(true);
    // checkAccess lists the same way.
    await store.checkAccess('p/');
    expect(server.requests.at(-1)?.query.has('list-type')).toBe(false);
    store.close();
  });

  it('S3: a truncated ListObjectsV2 page without a continuation token goes on by marker (a store that ignores list-type)', async () => {
    script = (request) => {
      if (!isListing(request)) return undefined;
      if (request.query.get('list-type') === '2' && request.query.get('continuation-token') === null) return listingPage(['p/a'], true, '<NextContinuationToken>t-1</NextContinuationToken>');
      // Answers like a v1 store: truncated, no token.
      if (request.query.get('continuation-token') === 't-1') return listingPage(['p/b'], true);
      return listingPage(request.query.get('marker') === 'p/b' ? ['p/c'] : [], false);
    };
    const store = storeFor('s3', 'none');
    expect(await listAll(store)).toEqual(['p/a', 'p/b', 'p/c']);
    const listings = server.requests.filter(isListing);
    expect(listings.map((request) => [request.query.get('list-type'), request.query.get('continuation-token'), request.query.get('marker')])).toEqual([
      ['2', null, null],
      ['2', 't-1', null],
      [null, null, 'p/b'],
    ]);
    store.close();
  });

  it.each(['cos', 's3'] as const)('%s: a truncated page with nothing to go on fails loudly instead of ending the listing', async (dialect) => {
    script = (request) => (isListing(request) ? listingPage([], true) : undefined);
    const store = storeFor(dialect, 'none');
    await expect(listAll(store)).rejects.toMatchObject({ code: 'server', message: /listing of the objects under "p\/" .* stopped: the server said more entries follow \(IsTruncated\) but gave nothing to continue from/ });
    store.close();
  });

  it('a marker that does not move the listing on fails instead of looping', async () => {
    script = (request) => (isListing(request) ? listingPage(['p/a'], true, '<NextMarker>p/a</NextMarker>') : undefined);
    const store = storeFor('cos', 'none');
    await expect(listAll(store)).rejects.toMatchObject({ code: 'server', message: /IsTruncated/ });
    expect(server.requests.filter(isListing)).toHaveLength(2);
    store.close();
  });

  it('ListMultipartUploads goes on from the last upload when a truncated page gives no Next markers', async () => {
    // List Multipart Uploads pages by key-marker / upload-id-marker (https://cloud.tencent.com/document/product/436/7736).
    script = (request) => {
      if (!(request.method === 'GET' && request.query.has('uploads'))) return undefined;
      const upload = (key: string, id: string) => `<Upload><Key>${key}</Key><UploadId>${id}</UploadId><Initiated>2024-01-01T00:00:00.000Z</Initiated></Upload>`;
      const page = request.query.get('key-marker') === null ? `<IsTruncated>true</IsTruncated>${upload('p/a', 'u1')}` : `<IsTruncated>false</IsTruncated>${upload('p/b', 'u2')}`;
      return { status: 200, headers: { 'content-type': 'application/xml' }, body: `<ListMultipartUploadsResult>${page}</ListMultipartUploadsResult>` };
    };
    const store = storeFor('cos', 'none');
    const found: string[] = [];
    for await (const upload of store.listMultipartUploads('p/')) found.push(upload.uploadId);
    expect(found).toEqual(['u1', 'u2']);
    const second = server.requests.filter((request) => request.query.has('uploads'))[1];
    expect([second?.query.get('key-marker'), second?.query.get('upload-id-marker')]).toEqual(['p/a', 'u1']);
    store.close();
  });

  it('ListParts goes on from the last part when a truncated page gives no NextPartNumberMarker', async () => {
    script = (request) => {
      if (!(request.method === 'GET' && request.query.has('uploadId'))) return undefined;
      const part = (n: number) => `<Part><PartNumber>${n}</PartNumber><ETag>"p${n}"</ETag><Size>5</Size></Part>`;
      const body = request.query.get('part-number-marker') === null ? `<IsTruncated>true</IsTruncated>${part(1)}${part(2)}` : `<IsTruncated>false</IsTruncated>${part(3)}`;
      return { status: 200, headers: { 'content-type': 'application/xml' }, body: `<ListPartsResult>${body}</ListPartsResult>` };
    };
    const store = storeFor('cos', 'none');
    expect((await store.listParts('big.bin', 'upload-1'))?.map((part) => part.partNumber)).toEqual([1, 2, 3]);
    expect(server.requests.map((request) => request.query.get('part-number-marker'))).toEqual([null, '2']);
    store.close();
  });
});

describe('what real COS requires of writes', () => {
  it.each(['cos', 's3'] as const)('%s: a Content-Type on every PUT, UploadPart and Initiate', async (dialect) => {
    // PUT Object and Upload Part list Content-Type as required (https://cloud.tencent.com/document/product/436/7749, …/7750).
    const store = storeFor(dialect, 'none');
    await exercise(store, { mode: 'none' });
    for (const request of server.requests.filter((candidate) => candidate.method === 'PUT' || isCreate(candidate))) {
      expect(request.headers['content-type'], `${request.method} ${request.path}`).toBe('application/octet-stream');
      expect(request.headers.authorization).toMatch(/SignedHeaders=[^,]*content-type/);
    }
    store.close();
  });

  it.each([
    ['cos', 'x-cos-storage-class', 'STANDARD_IA'],
    ['cos', 'x-cos-storage-class', 'MAZ_STANDARD'],
    ['s3', 'x-amz-storage-class', 'STANDARD_IA'],
  ] as const)('%s: a copy keeps the source’s storage class (%s: %s), as a copy is STANDARD otherwise', async (dialect, header, storageClass) => {
    // PUT Object - Copy: the copy is STANDARD unless x-cos-storage-class says otherwise (https://cloud.tencent.com/document/product/436/10881).
    script = (request) => (request.method === 'HEAD' ? { status: 200, headers: { 'content-length': '5', etag: '"e"', [header]: storageClass, ...encryptionEcho(request.headers) } } : undefined);
    const store = storeFor(dialect, 'none');
    await copyObjectWithFallback(store, 'a.txt', 'trash/a.txt', { source: { mode: 'none' }, destination: { mode: 'none' } }, { limits: { minPartBytes: 1, maxPartBytes: 1024, maxParts: 10_000, maxSinglePutBytes: 1024 }, sizing: { multipartThresholdBytes: 1024, preferredPartBytes: 1024 } });
    const copy = server.requests.find((request) => request.method === 'PUT');
    expect(copy?.headers[header]).toBe(storageClass);
    store.close();
  });

  it('COS: the copy source names the bucket’s regional host, never the acceleration host the request went to', async () => {
    const { cosCopySourceHost, parseEndpoint: parse } = await import('../../app/target.js');
    const accelerated = { endpoint: parse('https://cos.accelerate.myqcloud.com'), bucket: 'photos-1250000000', region: 'ap-guangzhou' };
    expect(cosCopySourceHost(accelerated)).toBe('photos-1250000000.cos.ap-guangzhou.myqcloud.com');
    expect(cosCopySourceHost({ ...accelerated, endpoint: parse('https://cos-internal.ap-shanghai.tencentcos.cn') })).toBe('photos-1250000000.cos-internal.ap-shanghai.tencentcos.cn');
    // A custom or CDN domain with --dialect cos: the documented form from bucket and region.
    expect(cosCopySourceHost({ ...accelerated, endpoint: parse('https://files.example.com') })).toBe('photos-1250000000.cos.ap-guangzhou.myqcloud.com');
  });
});

describe('encryption must be confirmed', () => {
  it.each([
    ['cos', { mode: 'cos' }],
    ['cos', { mode: 'kms' }],
    ['s3', { mode: 'kms' }],
  ] as const)('%s, %o: a PUT the server does not confirm is removed and fails, naming the store', async (dialect, encryption) => {
    // A server that ignores the encryption headers: no echo on PUT, none on HEAD.
    script = (request): ScriptedResponse | undefined => {
      if (request.method === 'PUT') return { status: 200, headers: { etag: '"e"' } };
      return request.method === 'HEAD' ? { status: 200, headers: { 'content-length': '5', etag: '"e"' } } : undefined;
    };
    const store = storeFor(dialect, encryption.mode);
    await expect(store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: {}, encryption })).rejects.toMatchObject({
      code: 'encryption-unconfirmed',
      message: new RegExp(`bucket "photos-1250000000" at ${server.url} did not confirm .*${dialect}-server-side-encryption.* for "a.txt" .*it was removed`),
    });
    expect(server.requests.map((request) => request.method)).toEqual(['PUT', 'HEAD', 'DELETE']);
    store.close();
  });

  it('SSE-C: an Initiate without the key MD5 echo is aborted before any part is sent', async () => {
    script = (request) =>
      isCreate(request) ? { status: 200, headers: { 'content-type': 'application/xml' }, body: '<InitiateMultipartUploadResult><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>' } : undefined;
    const store = storeFor('cos', 'c');
    await expect(store.createMultipartUpload('big.bin', { metadata: {}, encryption: { mode: 'c', key: SseCustomerKey.generate() } })).rejects.toMatchObject({ code: 'encryption-unconfirmed', message: /upload was aborted/ });
    expect(server.requests.filter(isAbort)).toHaveLength(1);
    store.close();
  });

  it('a Complete that echoes nothing needs no HEAD after this store confirmed the Initiate; a resumed one is HEADed, and removed when that confirms nothing either', async () => {
    const kms = { mode: 'kms' } as const;
    const initiate = { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-server-side-encryption': 'aws:kms' }, body: '<InitiateMultipartUploadResult><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>' };
    const complete = { status: 200, headers: { 'content-type': 'application/xml' }, body: '<CompleteMultipartUploadResult><ETag>"e-1"</ETag></CompleteMultipartUploadResult>' };
    script = (request) => (isCreate(request) ? initiate : isComplete(request) ? complete : request.method === 'HEAD' ? { status: 200, headers: { 'content-length': '5', etag: '"e-1"' } } : undefined);
    const store = storeFor('s3', 'kms');
    const uploadId = await store.createMultipartUpload('big.bin', { metadata: {}, encryption: kms });
    await store.completeMultipartUpload('big.bin', uploadId, [{ partNumber: 1, etag: 'e' }], kms);
    expect(server.requests.map((request) => request.method)).toEqual(['POST', 'POST']);
    // The same upload id completed again: no longer one this store began (nor would a new process's be).
    await expect(store.completeMultipartUpload('big.bin', uploadId, [{ partNumber: 1, etag: 'e' }], kms)).rejects.toMatchObject({ code: 'encryption-unconfirmed', message: /multipart completion, nor when asked again \(HEAD\).*it was removed/ });
    expect(server.requests.map((request) => request.method)).toEqual(['POST', 'POST', 'POST', 'HEAD', 'DELETE']);
    store.close();
  });

  it('a Complete whose echo names another encryption is not trusted, even after a confirmed Initiate', async () => {
    const kms = { mode: 'kms' } as const;
    script = (request): ScriptedResponse | undefined =>
      isCreate(request)
        ? { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-server-side-encryption': 'aws:kms' }, body: '<InitiateMultipartUploadResult><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>' }
        : isComplete(request)
          ? { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-server-side-encryption': 'AES256' }, body: '<CompleteMultipartUploadResult><ETag>"e-1"</ETag></CompleteMultipartUploadResult>' }
          : request.method === 'HEAD' ? ({ status: 200, headers: { 'content-length': '5', etag: '"e-1"', 'x-amz-server-side-encryption': 'AES256' } } as ScriptedResponse) : undefined;
    const store = storeFor('s3', 'kms');
    const uploadId = await store.createMultipartUpload('big.bin', { metadata: {}, encryption: kms });
    await expect(store.completeMultipartUpload('big.bin', uploadId, [{ partNumber: 1, etag: 'e' }], kms)).rejects.toMatchObject({ code: 'encryption-unconfirmed' });
    expect(server.requests.map((request) => request.method)).toEqual(['POST', 'POST', 'HEAD', 'DELETE']);
    store.close();
  });

  it('a copy onto itself that is not confirmed is left in place (removing it would lose the object) and fails', async () => {
    script = (request): ScriptedResponse | undefined => {
      if (request.method === 'PUT') return { status: 200, headers: { 'content-type': 'application/xml' }, body: '<CopyObjectResult><ETag>"c"</ETag></CopyObjectResult>' };
      return request.method === 'HEAD' ? { status: 200, headers: { 'content-length': '5', etag: '"e"' } } : undefined;
    };
    const store = storeFor('cos', 'cos');
    await expect(store.copyObject('a.txt', 'a.txt', { source: { mode: 'cos' }, destination: { mode: 'cos' }, metadata: {} })).rejects.toMatchObject({ code: 'encryption-unconfirmed', message: /left in place/ });
    expect(server.requests.filter((request) => request.method === 'DELETE')).toEqual([]);
    store.close();
  });
});

describe('COS answers', () => {
  it.each([
    ['PUT Object - Copy', (store: S3RemoteStore) => store.copyObject('a.txt', 'b.txt', { source: { mode: 'none' }, destination: { mode: 'none' } })],
    ['Complete Multipart Upload', (store: S3RemoteStore) => store.completeMultipartUpload('b.bin', 'upload-1', [{ partNumber: 1, etag: 'e' }], { mode: 'none' })],
  ])('an error inside a 200 answer to %s fails it (COS: "200 OK … may contain an error")', async (_name, run) => {
    // https://cloud.tencent.com/document/product/436/10881: an error during the copy still answers 200 OK with the error as the body.
    // The SDK turns an error inside a 200 into a 503: a temporary error (exit code 4).
    script = (request) => (request.method === 'PUT' || isComplete(request) ? s3Error(200, 'InternalError') : undefined);
    const store = storeFor('cos', 'none');
    await expect(run(store)).rejects.toMatchObject({ code: 'server-unavailable' });
    store.close();
  });

  it('RequestTimeTooSkewed: signs again with the server’s time (from its Date) and succeeds, telling why', async () => {
    const serverTime = new Date(Date.now() + 3 * 3600_000);
    let refused = 0;
    script = (request) => {
      if (request.method !== 'PUT') return undefined;
      const signed = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(request.headers['x-amz-date']));
      const signedAt = signed === null ? 0 : Date.UTC(Number(signed[1]), Number(signed[2]) - 1, Number(signed[3]), Number(signed[4]), Number(signed[5]), Number(signed[6]));
      if (Math.abs(signedAt - serverTime.getTime()) < 15 * 60_000) return undefined;
      refused++;
      return { ...s3Error(403, 'RequestTimeTooSkewed'), headers: { 'content-type': 'application/xml', date: serverTime.toUTCString() } };
    };
    const told: string[] = [];
    const target: Target = { endpoint: parseEndpoint(server.url), bucket: 'photos-1250000000', prefix: '', region: 'ap-guangzhou', pathStyle: true, dialect: 'cos', sse: 'none', keyName: undefined, kmsKeyId: undefined };
    const store = new S3RemoteStore(target, new StoreCredentials('AKIDtest', 'secret'), { retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, onRetry: (_operation, _attempt, reason) => told.push(reason) });
    await store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: {}, encryption: { mode: 'none' } });
    expect(refused).toBe(1);
    expect(told).toEqual([expect.stringMatching(/this computer's clock is 3 hours behind the server's .*set this computer's clock right/)]);
    store.close();
  });

  it('RequestTimeTooSkewed twice: fails with the clock error, not six blind retries', async () => {
    script = () => ({ ...s3Error(403, 'RequestTimeTooSkewed'), headers: { 'content-type': 'application/xml', date: new Date(Date.now() + 3600_000).toUTCString() } });
    const store = storeFor('cos', 'none');
    await expect(store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: {}, encryption: { mode: 'none' } })).rejects.toMatchObject({ code: 'clock-skewed', message: /clock is off/ });
    expect(server.requests).toHaveLength(2);
    store.close();
  });
});

describe('temporary credentials', () => {
  it.each([
    // COS reads the STS token from x-cos-security-token (https://cloud.tencent.com/document/product/436/7728).
    ['cos', 'x-cos-security-token', 'x-amz-security-token'],
    ['s3', 'x-amz-security-token', 'x-cos-security-token'],
  ] as const)('%s dialect: the session token in %s, signed, on SDK and lean requests alike', async (dialect, header, other) => {
    const target: Target = { endpoint: parseEndpoint(server.url), bucket: 'photos-1250000000', prefix: '', region: 'ap-guangzhou', pathStyle: true, dialect, sse: 'none', keyName: undefined, kmsKeyId: undefined };
    const store = new S3RemoteStore(target, new StoreCredentials('AKIDtemporary', 'secret', 'token-abc'), { retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const requests = await exercise(store, { mode: 'none' });
    await store.copyObject('a.txt', 'b.txt', { source: { mode: 'none' }, destination: { mode: 'none' } });
    for await (const object of store.listObjects('')) void object;
    const [, , , , , , copy, list] = server.requests;
    for (const [operation, request] of Object.entries({ ...requests, copy, list })) {
      expect(request?.headers[header], operation).toBe('token-abc');
      expect(request?.headers[other], operation).toBeUndefined();
      expect(request?.headers.authorization, operation).toMatch(new RegExp(`SignedHeaders=[^,]*${header}`));
    }
    store.close();
  });
});

describe('storage class and COS traffic limit', () => {
  it.each([
    ['cos', 'x-cos-storage-class', 'x-amz-storage-class', 'ARCHIVE'],
    ['cos', 'x-cos-storage-class', 'x-amz-storage-class', 'MAZ_STANDARD_IA'],
    ['s3', 'x-amz-storage-class', 'x-cos-storage-class', 'GLACIER'],
  ] as const)('%s: the class goes on PUT and Initiate as %s, never on parts (%s absent)', async (dialect, header, other, storageClass) => {
    // PUT Object and Initiate Multipart Upload take x-cos-storage-class (https://cloud.tencent.com/document/product/436/7749, /7746).
    const store = storeFor(dialect, 'none');
    await store.putObject('a.txt', bufferBody(body), { contentMd5: md5, metadata: {}, encryption: { mode: 'none' }, storageClass });
    const uploadId = await store.createMultipartUpload('big.bin', { metadata: {}, encryption: { mode: 'none' }, storageClass });
    await store.uploadPart('big.bin', uploadId, 1, bufferBody(body), { contentMd5: md5, encryption: { mode: 'none' } });
    const [put, create, part] = server.requests;
    expect(put?.headers[header]).toBe(storageClass);
    expect(create?.headers[header]).toBe(storageClass);
    expect(put?.headers.authorization).toMatch(new RegExp(`SignedHeaders=[^,]*${header}`));
    for (const request of [put, create, part]) expect(request?.headers[other]).toBeUndefined();
    expect(part?.headers[header]).toBeUndefined();
    store.close();
  });

  it('COS: x-cos-traffic-limit in bit/s on PUT, UploadPart and GET (the requests COS documents it for), not on the others', async () => {
    // Single-connection speed limit: PUT Object, POST Object, GET Object and Upload Part (https://www.tencentcloud.com/document/product/436/34072).
    const store = storeFor('cos', 'none', { trafficLimitBits: 8 * 1024 * 1024 });
    const requests = await exercise(store, { mode: 'none' });
    for (const operation of ['put', 'part', 'get']) expect(requests[operation]?.headers['x-cos-traffic-limit'], operation).toBe('8388608');
    for (const operation of ['create', 'complete', 'head']) expect(requests[operation]?.headers['x-cos-traffic-limit'], operation).toBeUndefined();
    expect(requests.get?.headers.authorization).toMatch(/SignedHeaders=[^,]*x-cos-traffic-limit/);
    store.close();
  });

  it('no traffic limit header unless asked for', async () => {
    const requests = await exercise(storeFor('cos', 'none'), { mode: 'none' });
    for (const [operation, request] of Object.entries(requests)) expect(request.headers['x-cos-traffic-limit'], operation).toBeUndefined();
  });
});
