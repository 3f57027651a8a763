/**
 * The in-memory RemoteStore answers as the real one does: the same cases run against
 * MemoryRemoteStore and against S3RemoteStore on the real RGW (SSE-C over HTTPS), so unit tests
 * of the pipeline stand on behaviour the server has, not on behaviour we imagine.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_LIMITS } from '../../app/part-size.js';
import { parseEndpoint } from '../../app/target.js';
import { bufferBody, type ObjectEncryption, type RemoteStore } from '../../main/remote/remote-store.js';
import { S3RemoteStore } from '../../main/remote/s3-remote-store.js';
import { SseCustomerKey, StoreCredentials } from '../../main/secrets/secret-values.js';
import { MemoryRemoteStore } from './memory-remote-store.js';
import { createBucket, requireServices } from './services.js';

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('base64');
const key: ObjectEncryption = { mode: 'c', key: SseCustomerKey.generate() };
const otherKey: ObjectEncryption = { mode: 'c', key: SseCustomerKey.generate() };

const stores: Array<[string, () => Promise<RemoteStore>]> = [
  ['MemoryRemoteStore', async () => new MemoryRemoteStore()],
  [
    'S3RemoteStore on RGW',
    async () => {
      const services = requireServices();
      const bucket = await createBucket(services);
      return new S3RemoteStore(
        { endpoint: parseEndpoint(services.httpsEndpoint), bucket, prefix: '', region: 'us-east-1', pathStyle: true, dialect: 's3', sse: 'c', keyName: undefined, kmsKeyId: undefined },
        new StoreCredentials(services.accessKey, services.secretKey),
      );
    },
  ],
];

describe.each(stores)('%s', (_name, open) => {
  let store: RemoteStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(() => store?.close());

  it('stores an SSE-C object that reads only with its key, with its metadata, and refuses a wrong Content-MD5', async () => {
    const body = Buffer.from('content');
    await expect(store.putObject('a/one.txt', bufferBody(body), { contentMd5: md5(Buffer.from('other')), metadata: {}, encryption: key })).rejects.toMatchObject({ code: 'integrity' });
    const put = await store.putObject('a/one.txt', bufferBody(body), { contentMd5: md5(body), metadata: { 'cosync-writer': 'f' }, encryption: key });
    expect(put.keyFingerprint).toBe(key.mode === 'c' ? key.key.fingerprint : undefined);
    const head = await store.headObject('a/one.txt', key);
    expect(head).toMatchObject({ sizeBytes: 7, metadata: { 'cosync-writer': 'f' } });
    await expect(store.headObject('a/one.txt', otherKey)).rejects.toMatchObject({ code: 'key-mismatch' });
    expect(await store.headObject('a/missing.txt', key)).toBeUndefined();
  });

  it('completes a multipart upload from the parts it holds (ETag "-N"), and forgets an aborted one', async () => {
    const part = Buffer.alloc(S3_LIMITS.minPartBytes, 1);
    const last = Buffer.from('tail');
    const uploadId = await store.createMultipartUpload('a/big.bin', { metadata: { 'cosync-part-bytes': String(part.length) }, encryption: key });
    const first = await store.uploadPart('a/big.bin', uploadId, 1, bufferBody(part), { contentMd5: md5(part), encryption: key });
    const second = await store.uploadPart('a/big.bin', uploadId, 2, bufferBody(last), { contentMd5: md5(last), encryption: key });
    expect((await store.listParts('a/big.bin', uploadId))?.map((held) => [held.partNumber, held.sizeBytes])).toEqual([
      [1, part.length],
      [2, 4],
    ]);
    await store.completeMultipartUpload('a/big.bin', uploadId, [
      { partNumber: 1, etag: first.etag },
      { partNumber: 2, etag: second.etag },
    ], key);
    expect(await store.headObject('a/big.bin', key)).toMatchObject({ sizeBytes: part.length + 4, etag: expect.stringMatching(/-2$/), metadata: { 'cosync-part-bytes': String(part.length) } });
    const aborted = await store.createMultipartUpload('a/gone.bin', { metadata: {}, encryption: key });
    await store.abortMultipartUpload('a/gone.bin', aborted);
    expect(await store.listParts('a/gone.bin', aborted)).toBeUndefined();
  });

  it('copies with the metadata kept, lists in key order under a prefix, and deletes (a missing key too)', async () => {
    // Unencrypted: RGW cannot copy SSE-C objects on the server (copyObjectWithFallback streams those).
    const plain = Buffer.from('plain');
    await store.putObject('b/plain.txt', bufferBody(plain), { contentMd5: md5(plain), metadata: { 'cosync-writer': 'f' }, encryption: { mode: 'none' } });
    await store.copyObject('b/plain.txt', 'b/copy.txt', { source: { mode: 'none' }, destination: { mode: 'none' } });
    expect(await store.headObject('b/copy.txt', { mode: 'none' })).toMatchObject({ sizeBytes: 5, metadata: { 'cosync-writer': 'f' } });
    const keys: string[] = [];
    for await (const object of store.listObjects('a/')) keys.push(object.key);
    expect(keys).toEqual(['a/big.bin', 'a/one.txt']);
    await store.deleteObject('b/copy.txt');
    await store.deleteObject('b/never-there.txt');
    expect(await store.headObject('b/copy.txt', { mode: 'none' })).toBeUndefined();
  });
});
