/**
 * Copy with fallback on RGW: CopyObject of SSE-C objects answers 501 NotImplemented there, so the
 * object is streamed through the client, re-encrypted under the new key (key rotation, renames).
 * Objects over the CopyObject limit (injected small here) are copied part by part on the server
 * (UploadPartCopy) where RGW can, and streamed in parallel ranged parts where it cannot.
 *
 * What RGW 16.2 (Pacific) does with UploadPartCopy, measured with @aws-sdk/client-s3:
 * - plain and SSE-S3 sources: copied; the object reads back exact, with Create's metadata only;
 * - SSE-C: it does NOT answer 501 as for CopyObject. It decrypts the source with the request's
 *   own (destination) SSE-C key and ignores the x-amz-copy-source-server-side-encryption-customer-*
 *   headers, even a wrong one. So a copy that keeps the key works (the parts are stored encrypted:
 *   no plaintext in the RADOS objects), and one that changes the key gets 400 InvalidArgument
 *   "The calculated MD5 hash of the key did not match the hash that was provided" — cosync then
 *   streams it (copy-object.ts) since the HEAD has just accepted the source key;
 * - x-amz-copy-source-if-match is ignored; a range past the end gets 416 InvalidRange.
 */
import { ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_LIMITS } from '../../app/part-size.js';
import type { CosyncError } from '../../app/result.js';
import { parseEndpoint } from '../../app/target.js';
import { createBucket, rawClient, readObject, requireServices, storeAccess, type Services } from '../../test/support/services.js';
import type { ObjectEncryption } from '../remote/remote-store.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { SseCustomerKey, StoreCredentials } from '../secrets/secret-values.js';
import { contentDigest, METADATA } from './content-digest.js';
import { copyObjectWithFallback } from './copy-object.js';

const MiB = 1024 * 1024;
let services: Services;
let bucket: string;
let store: S3RemoteStore;

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services);
  store = new S3RemoteStore(
    { endpoint: parseEndpoint(services.httpsEndpoint), bucket, prefix: '', region: 'us-east-1', pathStyle: true, dialect: 's3', sse: 'c', keyName: undefined, kmsKeyId: undefined },
    new StoreCredentials(services.accessKey, services.secretKey),
  );
});
afterAll(() => store?.close());

const sizing = { limits: S3_LIMITS, sizing: { multipartThresholdBytes: 5 * MiB, preferredPartBytes: 5 * MiB } };
/** CopyObject allowed up to 6 MiB: a 17 MiB object is copied in four parts of 5 MiB (the last one 2 MiB and 3 bytes). */
const overLimit = { limits: { ...S3_LIMITS, maxSinglePutBytes: 6 * MiB }, sizing: { multipartThresholdBytes: 5 * MiB, preferredPartBytes: 5 * MiB } };
const OVER_LIMIT_BYTES = 17 * MiB + 3;

/** Multipart uploads still open for `key`: a failed or finished copy must leave none. */
async function openUploads(key: string): Promise<string[]> {
  const response = await rawClient(services).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (response.Uploads ?? []).filter((upload) => upload.Key === key).map((upload) => upload.UploadId ?? '');
}

/** Puts an object as cosync's single PUT leaves it (with a digest), or with `withDigest` false as its multipart upload does. */
async function putOther(key: string, data: Buffer, encryption: ObjectEncryption, withDigest = true): Promise<void> {
  const customerKey = encryption.mode === 'c' ? encryption.key : undefined;
  const digest: Record<string, string> = withDigest ? { [METADATA.digest]: contentDigest(createHash('md5').update(data).digest(), customerKey) } : { [METADATA.partBytes]: String(8 * MiB) };
  await rawClient(services).send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: data,
      Metadata: { ...digest, [METADATA.mtime]: '1700000000000', [METADATA.writer]: 'docs-1a2b' },
      ...(customerKey === undefined ? {} : { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.revealBase64() }),
      ...(encryption.mode === 'cos' ? { ServerSideEncryption: 'AES256' } : {}),
      ...(encryption.mode === 'kms' ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: encryption.kmsKeyId } : {}),
    }),
  );
}

describe('copyObjectWithFallback on RGW', () => {
  it.each([
    ['a small object (single PUT)', 300 * 1024],
    ['a 12 MiB object (multipart)', 12 * MiB + 5],
  ])('re-encrypts %s under a new key by streaming it through the client', async (_name, size) => {
    const oldKey = SseCustomerKey.generate();
    const newKey = SseCustomerKey.generate();
    const data = randomBytes(size);
    const source = `src-${size}.bin`;
    await putOther(source, data, { mode: 'c', key: oldKey });

    const method = await copyObjectWithFallback(store, source, `dst-${size}.bin`, { source: { mode: 'c', key: oldKey }, destination: { mode: 'c', key: newKey } }, sizing);
    expect(method).toBe('streamed');
    expect((await readObject(services, bucket, `dst-${size}.bin`, Buffer.from(newKey.revealBytes()))).equals(data)).toBe(true);
    await expect(readObject(services, bucket, `dst-${size}.bin`, Buffer.from(oldKey.revealBytes()))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    const head = await store.headObject(`dst-${size}.bin`, { mode: 'c', key: newKey });
    expect(head?.metadata[METADATA.mtime]).toBe('1700000000000');
  });

  it('refuses to copy with the wrong source key and writes nothing', async () => {
    const key = SseCustomerKey.generate();
    await putOther('guarded.bin', randomBytes(1000), { mode: 'c', key });
    await expect(
      copyObjectWithFallback(store, 'guarded.bin', 'guarded-copy.bin', { source: { mode: 'c', key: SseCustomerKey.generate() }, destination: { mode: 'c', key } }, sizing),
    ).rejects.toMatchObject({ code: 'key-mismatch' });
    expect(await store.headObject('guarded-copy.bin', { mode: 'c', key })).toBeUndefined();
  });

  it('copies server-side when the server can (no SSE-C)', async () => {
    await rawClient(services).send(new PutObjectCommand({ Bucket: bucket, Key: 'plain.bin', Body: Buffer.from('plain') }));
    expect(await copyObjectWithFallback(store, 'plain.bin', 'plain-copy.bin', { source: { mode: 'none' }, destination: { mode: 'none' } }, sizing)).toBe('server-side');
    expect((await readObject(services, bucket, 'plain-copy.bin')).toString()).toBe('plain');
  });
});

describe('copyObjectWithFallback over the CopyObject limit on RGW', () => {
  it.each([
    ['a plain object', { mode: 'none' }],
    // SSE-KMS with RGW's testing backend: encrypted, and confirmed in HEAD (Complete echoes nothing).
    ['an SSE-KMS object', { mode: 'kms', kmsKeyId: 'testkey-1' }],
    ['an SSE-C object keeping its key (a rename)', { mode: 'c', key: SseCustomerKey.generate() }],
  ] as const)('copies %s part by part on the server, byte-exact, with its metadata', async (name, encryption) => {
    const data = randomBytes(OVER_LIMIT_BYTES);
    const source = `mp-src-${encryption.mode}.bin`;
    const destination = `mp-dst-${encryption.mode}.bin`;
    await putOther(source, data, encryption);

    expect(await copyObjectWithFallback(store, source, destination, { source: encryption, destination: encryption }, overLimit), name).toBe('server-side');
    const customerKey = encryption.mode === 'c' ? Buffer.from(encryption.key.revealBytes()) : undefined;
    expect((await readObject(services, bucket, destination, customerKey)).equals(data)).toBe(true);
    const head = await store.headObject(destination, encryption);
    // A four-part ETag: made by UploadPartCopy, not by one CopyObject.
    expect(head?.etag).toMatch(/-4$/);
    expect(head?.metadata).toMatchObject({
      [METADATA.mtime]: '1700000000000',
      [METADATA.writer]: 'docs-1a2b',
      [METADATA.partBytes]: String(5 * MiB),
      // Same content under the same key: the digest still holds.
      [METADATA.digest]: contentDigest(createHash('md5').update(data).digest(), encryption.mode === 'c' ? encryption.key : undefined),
    });
    if (customerKey !== undefined) await expect(readObject(services, bucket, destination)).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(await openUploads(destination)).toEqual([]);
  });

  it('COS (the gateway): a copy and a copy onto itself part by part, with COS’s copy source and Copy|Replaced directives', async () => {
    const access = await storeAccess(services, 'cos');
    const cosStore = new S3RemoteStore(
      { endpoint: parseEndpoint(access.endpoint), bucket: access.bucketName(bucket), prefix: '', region: access.region, pathStyle: false, dialect: 'cos', sse: 'none', keyName: undefined, kmsKeyId: undefined },
      new StoreCredentials(access.accessKey, access.secretKey),
    );
    try {
      const plain = { source: { mode: 'none' }, destination: { mode: 'none' } } as const;
      await putOther('cos-small.bin', Buffer.from('small'), { mode: 'none' });
      expect(await copyObjectWithFallback(cosStore, 'cos-small.bin', 'cos-small-copy.bin', plain, sizing)).toBe('server-side');
      expect((await readObject(services, bucket, 'cos-small-copy.bin')).toString()).toBe('small');
      const data = randomBytes(OVER_LIMIT_BYTES);
      await putOther('cos-self.bin', data, { mode: 'none' });
      expect(await copyObjectWithFallback(cosStore, 'cos-self.bin', 'cos-self.bin', plain, overLimit)).toBe('server-side');
      expect((await readObject(services, bucket, 'cos-self.bin')).equals(data)).toBe(true);
      expect((await cosStore.headObject('cos-self.bin', { mode: 'none' }))?.metadata[METADATA.mtime]).toBe('1700000000000');
      // The gateway refuses any copy source but BUCKET-APPID.cos.REGION.myqcloud.com and any directive but Copy|Replaced: none was refused.
      expect(access.gateway?.requests.filter((request) => request.key?.startsWith('cos-') === true && request.status >= 400)).toEqual([]);
      expect(await openUploads('cos-self.bin')).toEqual([]);
    } finally {
      cosStore.close();
    }
  });

  it('copies a plain object onto itself part by part: Complete replaces it only after every part was copied from it', async () => {
    const data = randomBytes(OVER_LIMIT_BYTES);
    await putOther('mp-self.bin', data, { mode: 'none' });
    expect(await copyObjectWithFallback(store, 'mp-self.bin', 'mp-self.bin', { source: { mode: 'none' }, destination: { mode: 'none' } }, overLimit)).toBe('server-side');
    expect((await readObject(services, bucket, 'mp-self.bin')).equals(data)).toBe(true);
    const head = await store.headObject('mp-self.bin', { mode: 'none' });
    expect(head?.etag).toMatch(/-4$/);
    expect(head?.metadata[METADATA.mtime]).toBe('1700000000000');
  });

  it.each([
    ['renamed under a new key', 'mp-rekey-src.bin', 'mp-rekey-dst.bin'],
    ['re-encrypted onto itself (key rotation)', 'mp-rotate.bin', 'mp-rotate.bin'],
  ])('streams an SSE-C object %s: RGW refuses UploadPartCopy across keys, so parts are read and sent in parallel', async (_name, source, destination) => {
    const oldKey = SseCustomerKey.generate();
    const newKey = SseCustomerKey.generate();
    const data = randomBytes(OVER_LIMIT_BYTES);
    // No digest (as a multipart upload leaves it): the server-side copy is tried first, and refused.
    await putOther(source, data, { mode: 'c', key: oldKey }, false);

    const method = await copyObjectWithFallback(store, source, destination, { source: { mode: 'c', key: oldKey }, destination: { mode: 'c', key: newKey } }, { ...overLimit, concurrency: 3 });
    expect(method).toBe('streamed');
    expect((await readObject(services, bucket, destination, Buffer.from(newKey.revealBytes()))).equals(data)).toBe(true);
    await expect(readObject(services, bucket, destination, Buffer.from(oldKey.revealBytes()))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    const head = await store.headObject(destination, { mode: 'c', key: newKey });
    expect(head?.metadata).toMatchObject({ [METADATA.mtime]: '1700000000000', [METADATA.partBytes]: String(5 * MiB) });
    // The refused server-side attempt and the streamed upload both end: nothing is left open.
    expect(await openUploads(destination)).toEqual([]);
  });

  it('refuses a wrong source key and writes nothing', async () => {
    const key = SseCustomerKey.generate();
    await putOther('mp-guarded.bin', randomBytes(OVER_LIMIT_BYTES), { mode: 'c', key }, false);
    await expect(
      copyObjectWithFallback(store, 'mp-guarded.bin', 'mp-guarded-copy.bin', { source: { mode: 'c', key: SseCustomerKey.generate() }, destination: { mode: 'c', key } }, overLimit),
    ).rejects.toMatchObject({ code: 'key-mismatch' });
    expect(await store.headObject('mp-guarded-copy.bin', { mode: 'c', key })).toBeUndefined();
    expect(await openUploads('mp-guarded-copy.bin')).toEqual([]);
  });

  it('pins what RGW does with UploadPartCopy of SSE-C objects: the same key works, a new key is refused (400, not 501)', async () => {
    const oldKey = SseCustomerKey.generate();
    const newKey = SseCustomerKey.generate();
    const data = randomBytes(6 * MiB);
    await putOther('pin-src.bin', data, { mode: 'c', key: oldKey }, false);
    const range = { start: 0, end: data.length - 1 };
    for (const [destinationKey, expected] of [
      [oldKey, 'copied'],
      [newKey, 'key-mismatch'],
    ] as const) {
      const uploadId = await store.createMultipartUpload('pin-dst.bin', { metadata: {}, encryption: { mode: 'c', key: destinationKey } });
      try {
        const outcome = await store
          .uploadPartCopy('pin-dst.bin', uploadId, 1, 'pin-src.bin', { range, source: { mode: 'c', key: oldKey }, destination: { mode: 'c', key: destinationKey } })
          .then(() => 'copied', (error: CosyncError) => error.code);
        expect(outcome).toBe(expected);
      } finally {
        await store.abortMultipartUpload('pin-dst.bin', uploadId);
      }
    }
  });
});
