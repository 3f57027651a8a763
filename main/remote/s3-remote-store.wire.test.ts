/**
 * Wire-level checks of both header dialects against a local recording server: the exact
 * encryption, metadata and integrity headers on every kind of request.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEndpoint, type Dialect, type SseMode, type Target } from '../../app/target.js';
import { startRecordingServer, type RecordedRequest, type ResponseHeaders } from '../../test/support/recording-server.js';
import { SseCustomerKey, StoreCredentials } from '../secrets/secret-values.js';
import { bufferBody, type ObjectEncryption } from './remote-store.js';
import { S3RemoteStore } from './s3-remote-store.js';

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let extra: ResponseHeaders = () => ({});

beforeEach(async () => {
  extra = () => ({});
  server = await startRecordingServer((request) => extra(request));
});
afterEach(async () => {
  await server.close();
});

function storeFor(dialect: Dialect, sse: SseMode): S3RemoteStore {
  const target: Target = { endpoint: parseEndpoint(server.url), bucket: 'photos-1250000000', prefix: '', region: 'ap-guangzhou', pathStyle: true, dialect, sse, keyName: undefined, kmsKeyId: undefined };
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
    // COS names the source by host (BUCKET-APPID.cos.REGION.myqcloud.com/KEY; here the test server's host).
    expect(copy?.headers[`${prefix}-copy-source`]).toBe(dialect === 's3' ? 'photos-1250000000/dir/a%20b.txt' : 'photos-1250000000.127.0.0.1/dir/a%20b.txt');
    expect(copy?.headers[`${prefix}-metadata-directive`]).toBe('COPY');
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
    expect(copy?.headers[`${prefix}-metadata-directive`]).toBe('REPLACE');
    expect(copy?.headers[`${prefix}-meta-cosync-writer`]).toBe('docs-1a2b');
    expect(copy?.headers[`${prefix}-meta-cosync-part-bytes`]).toBe('16777216');
    store.close();
  });
});
