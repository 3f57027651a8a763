/**
 * Copy with fallback on RGW: CopyObject of SSE-C objects answers 501 NotImplemented there, so the
 * object is streamed through the client, re-encrypted under the new key (key rotation, renames).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_LIMITS } from '../../app/part-size.js';
import { parseEndpoint } from '../../app/target.js';
import { createBucket, rawClient, readObject, requireServices, type Services } from '../../test/support/services.js';
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

async function putSseC(key: string, data: Buffer, customerKey: SseCustomerKey): Promise<void> {
  const md5 = createHash('md5').update(data).digest();
  await rawClient(services).send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: data,
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: customerKey.revealBase64(),
      Metadata: { [METADATA.digest]: contentDigest(md5, customerKey), [METADATA.mtime]: '1700000000000' },
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
    await putSseC(source, data, oldKey);

    const method = await copyObjectWithFallback(store, source, `dst-${size}.bin`, { source: { mode: 'c', key: oldKey }, destination: { mode: 'c', key: newKey } }, sizing);
    expect(method).toBe('streamed');
    expect((await readObject(services, bucket, `dst-${size}.bin`, Buffer.from(newKey.revealBytes()))).equals(data)).toBe(true);
    await expect(readObject(services, bucket, `dst-${size}.bin`, Buffer.from(oldKey.revealBytes()))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    const head = await store.headObject(`dst-${size}.bin`, { mode: 'c', key: newKey });
    expect(head?.metadata[METADATA.mtime]).toBe('1700000000000');
  });

  it('refuses to copy with the wrong source key and writes nothing', async () => {
    const key = SseCustomerKey.generate();
    await putSseC('guarded.bin', randomBytes(1000), key);
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
