/**
 * S3RemoteStore against the real RGW: encryption is confirmed or the write fails, and listings
 * page through every object.
 *
 * What RGW 16.2 answers (measured with @aws-sdk/client-s3, see TESTBED.md):
 * - SSE-S3 (`x-amz-server-side-encryption: AES256`) is accepted, not applied, and reported nowhere
 *   (PUT, Create, Complete, HEAD): cosync must refuse it there;
 * - SSE-KMS (testing backend) is echoed on PUT, Create, UploadPart and HEAD, not on Complete;
 * - SSE-C's key MD5 is echoed on PUT, Create, UploadPart and HEAD, not on Complete
 *   (re-measured 2026-12-01 with a plain @aws-sdk/client-s3 script: the same).
 */
import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint, type Dialect } from '../../app/target.js';
import type { CosGateway } from '../../test/support/cos-gateway.js';
import { NO_FAULTS, startFaultProxy, type ProxiedRequest } from '../../test/support/fault-proxy.js';
import { createBucket, rawClient, requireServices, storeAccess, type Services } from '../../test/support/services.js';
import { SseCustomerKey, StoreCredentials } from '../secrets/secret-values.js';
import { bufferBody, type ObjectEncryption } from './remote-store.js';
import { S3RemoteStore } from './s3-remote-store.js';

let services: Services;
let bucket: string;
let store: S3RemoteStore;

function storeFor(dialect: Dialect): S3RemoteStore {
  return new S3RemoteStore(
    { endpoint: parseEndpoint(services.httpsEndpoint), bucket, prefix: '', region: 'us-east-1', pathStyle: true, dialect, sse: 'c', keyName: undefined, kmsKeyId: undefined },
    new StoreCredentials(services.accessKey, services.secretKey),
  );
}

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services);
  store = storeFor('s3');
});
afterAll(() => store?.close());

const body = Buffer.from('encrypted, or not at all');
const contentMd5 = createHash('md5').update(body).digest('base64');

async function exists(key: string): Promise<boolean> {
  return rawClient(services)
    .send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    .then(
      () => true,
      (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode !== 404,
    );
}

describe('encryption is confirmed by the store, or the write fails', () => {
  it('refuses SSE-S3 on RGW, which accepts it without encrypting: the PUT object is removed', async () => {
    await expect(store.putObject('sse-s3.txt', bufferBody(body), { contentMd5, metadata: {}, encryption: { mode: 'cos' } })).rejects.toMatchObject({
      code: 'encryption-unconfirmed',
      message: expect.stringMatching(/did not confirm SSE-S3 .*may be stored unencrypted; it was removed\..*Ceph RGW.*--sse kms or --sse c/),
    });
    expect(await exists('sse-s3.txt')).toBe(false);
  });

  it('refuses SSE-S3 multipart uploads at Create, before any part is sent, and leaves no upload open', async () => {
    await expect(store.createMultipartUpload('sse-s3.bin', { metadata: {}, encryption: { mode: 'cos' } })).rejects.toMatchObject({ code: 'encryption-unconfirmed', message: /upload was aborted/ });
    const open = await rawClient(services).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'sse-s3.bin' }));
    expect(open.Uploads ?? []).toEqual([]);
  });

  it.each([
    ['SSE-KMS', { mode: 'kms', kmsKeyId: 'testkey-1' }],
    ['SSE-C', { mode: 'c', key: SseCustomerKey.generate() }],
  ] as const)('accepts %s on RGW: its Initiate confirms it, so Complete (which echoes nothing there) needs no HEAD; a resumed upload gets one', async (_name, encryption: ObjectEncryption) => {
    const observed = await observedStore('s3');
    try {
      await observed.store.putObject(`confirmed-${encryption.mode}.txt`, bufferBody(body), { contentMd5, metadata: {}, encryption });
      for (const resumed of [false, true]) {
        const key = `confirmed-${encryption.mode}-${resumed ? 'resumed' : 'fresh'}.bin`;
        // A resumed upload: begun by another store (an earlier run), completed by this one.
        const uploadId = await (resumed ? store : observed.store).createMultipartUpload(key, { metadata: {}, encryption });
        const part = await observed.store.uploadPart(key, uploadId, 1, bufferBody(body), { contentMd5, encryption });
        await observed.store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: part.etag }], encryption);
        expect(observed.headsOf(key), key).toBe(resumed ? 1 : 0);
        const head = await store.headObject(key, encryption);
        expect(head?.sizeBytes).toBe(body.length);
        if (encryption.mode === 'c') expect(head?.keyFingerprint).toBe(encryption.key.fingerprint);
        else expect(head?.serverSideEncryption).toBe('aws:kms');
      }
    } finally {
      await observed.close();
    }
  });

  it('COS (the gateway): Complete echoes SSE-C as COS documents, so no upload, fresh or resumed, costs a HEAD', async () => {
    const observed = await observedStore('cos');
    const resumer = await observedStore('cos');
    const encryption: ObjectEncryption = { mode: 'c', key: SseCustomerKey.generate() };
    try {
      for (const resumed of [false, true]) {
        const key = `cos-confirmed-${resumed ? 'resumed' : 'fresh'}.bin`;
        const uploadId = await (resumed ? resumer.store : observed.store).createMultipartUpload(key, { metadata: {}, encryption });
        const part = await observed.store.uploadPart(key, uploadId, 1, bufferBody(body), { contentMd5, encryption });
        await observed.store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: part.etag }], encryption);
        expect(observed.headsOf(key), key).toBe(0);
        expect((await store.headObject(key, encryption))?.keyFingerprint).toBe(encryption.key.fingerprint);
      }
    } finally {
      await observed.close();
      await resumer.close();
    }
  });
});

/** A store whose HEAD requests are counted: through a pass-through proxy to RGW (S3), or the COS gateway. */
async function observedStore(dialect: Dialect): Promise<{ store: S3RemoteStore; headsOf(key: string): number; close(): Promise<void> }> {
  if (dialect === 'cos') {
    const access = await storeAccess(services, 'cos');
    const gateway = access.gateway as CosGateway;
    const cosStore = new S3RemoteStore(
      { endpoint: parseEndpoint(access.endpoint), bucket: access.bucketName(bucket), prefix: '', region: access.region, pathStyle: false, dialect, sse: 'c', keyName: undefined, kmsKeyId: undefined },
      new StoreCredentials(access.accessKey, access.secretKey),
    );
    return {
      store: cosStore,
      headsOf: (key) => gateway.requests.filter((request) => request.method === 'HEAD' && request.key === key).length,
      close: async () => cosStore.close(),
    };
  }
  const seen: ProxiedRequest[] = [];
  const proxy = await startFaultProxy(services.httpEndpoint, NO_FAULTS, 1, { beforeForward: (request) => void seen.push(request) });
  const proxied = new S3RemoteStore(
    { endpoint: parseEndpoint(proxy.url), bucket, prefix: '', region: 'us-east-1', pathStyle: true, dialect, sse: 'c', keyName: undefined, kmsKeyId: undefined },
    new StoreCredentials(services.accessKey, services.secretKey),
  );
  return {
    store: proxied,
    headsOf: (key) => seen.filter((request) => request.method === 'HEAD' && new URL(request.url, proxy.url).pathname === `/${bucket}/${key}`).length,
    close: async () => {
      proxied.close();
      await proxy.close();
    },
  };
}

describe('listings', () => {
  it('pages through more than one page (ListObjectsV2 continuation on S3, markers in the COS dialect)', async () => {
    const prefix = `many-${randomBytes(3).toString('hex')}/`;
    const keys = Array.from({ length: 1005 }, (_unused, index) => `${prefix}${String(index).padStart(4, '0')}`);
    const client = rawClient(services);
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(keys.slice(start, start + 50).map((key) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(0) }))));
    }
    const listed = async (dialect: Dialect): Promise<string[]> => {
      const listing = dialect === 's3' ? store : storeFor(dialect);
      const found: string[] = [];
      for await (const object of listing.listObjects(prefix)) found.push(object.key);
      if (listing !== store) listing.close();
      return found;
    };
    expect(await listed('s3')).toEqual(keys);
    // RGW pages version 1 by marker as COS does (it returns NextMarker only with a delimiter: the last key goes on).
    expect(await listed('cos')).toEqual(keys);
  }, 120_000);
});
