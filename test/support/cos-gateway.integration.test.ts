/**
 * The COS test gateway answers as COS documents (each expectation names its source in
 * cos-gateway.ts), checked with an independent client (the AWS SDK, not cosync's dialect); and
 * the issue's proof: a listing of 2,500 objects restores all of them through the gateway.
 */
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc64 } from '../../app/crc64.js';
import type { CosGateway } from './cos-gateway.js';
import { useWorkDir } from './files.js';
import { METADATA, contentDigest } from '../../main/transfer/content-digest.js';
import { readKit } from '../../main/secrets/recovery-kit.js';
import { createBucket, rawClient, requireServices, runCosync, storeAccess, uniqueName, type Services, type StoreAccess } from './services.js';

let services: Services;
let access: StoreAccess;
let gateway: CosGateway;
let bucket: string;
const work = useWorkDir('cos-gateway');
/** Extra headers for the next request of `client` (x-cos- names the SDK cannot produce). */
let nextHeaders: Record<string, string> = {};
let dropHeaders: string[] = [];
let client: S3Client;

function sdkClient(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region = access.region): S3Client {
  const built = new S3Client({
    endpoint: gateway.endpoint,
    region,
    forcePathStyle: false,
    credentials,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ keepAlive: true }) }),
  });
  built.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string> };
      Object.assign(request.headers, nextHeaders);
      for (const name of dropHeaders) delete request.headers[name];
      nextHeaders = {};
      dropHeaders = [];
      return next(args);
    },
    { step: 'build', name: 'testCosHeaders', priority: 'low' },
  );
  return built;
}

/** The COS error a request failed with. */
async function failure(promise: Promise<unknown>): Promise<{ status: number | undefined; code: string }> {
  try {
    await promise;
  } catch (error) {
    const failed = error as S3ServiceException;
    return { status: failed.$metadata?.httpStatusCode, code: failed.name };
  }
  throw new Error('the request succeeded');
}

beforeAll(async () => {
  services = requireServices();
  access = await storeAccess(services, 'cos');
  gateway = access.gateway as CosGateway;
  bucket = await createBucket(services, 'cosync-gateway');
  client = sdkClient({ accessKeyId: access.accessKey, secretAccessKey: access.secretKey });
});
afterAll(() => client?.destroy());

describe('the COS gateway', () => {
  const cosBucket = (): string => access.bucketName(bucket);

  it('checks the SigV4 signature with the region of the host, and the clock', async () => {
    const wrongSecret = sdkClient({ accessKeyId: access.accessKey, secretAccessKey: 'not-the-secret' });
    expect(await failure(wrongSecret.send(new ListObjectsCommand({ Bucket: cosBucket() })))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    const wrongRegion = sdkClient({ accessKeyId: access.accessKey, secretAccessKey: access.secretKey }, 'ap-beijing');
    expect(await failure(wrongRegion.send(new ListObjectsCommand({ Bucket: cosBucket() })))).toEqual({ status: 400, code: 'AuthorizationHeaderMalformed' });
    // A client of its own: the SDK corrects its clock from the reply's Date after this error.
    const skewed = sdkClient({ accessKeyId: access.accessKey, secretAccessKey: access.secretKey });
    gateway.setClockOffset(20 * 60_000);
    try {
      expect(await failure(skewed.send(new ListObjectsCommand({ Bucket: cosBucket() })))).toEqual({ status: 403, code: 'RequestTimeTooSkewed' });
    } finally {
      gateway.setClockOffset(0);
      skewed.destroy();
    }
    wrongSecret.destroy();
    wrongRegion.destroy();
  });

  it('refuses S3 header names and a PUT without Content-Type; answers CRC-64 of the plaintext on PUT, HEAD and GET', async () => {
    const body = randomBytes(5000);
    expect(await failure(client.send(new PutObjectCommand({ Bucket: cosBucket(), Key: 'meta.bin', Body: body, ContentType: 'application/octet-stream', Metadata: { a: 'b' } })))).toEqual({ status: 400, code: 'InvalidArgument' });
    dropHeaders = ['content-type'];
    expect(await failure(client.send(new PutObjectCommand({ Bucket: cosBucket(), Key: 'untyped.bin', Body: body })))).toEqual({ status: 400, code: 'InvalidArgument' });

    nextHeaders = { 'x-cos-meta-a': 'b' };
    const put = await client.send(new PutObjectCommand({ Bucket: cosBucket(), Key: 'plain.bin', Body: body, ContentType: 'application/octet-stream' }));
    const expected = crc64(body).toString();
    expect(put.$metadata.httpStatusCode).toBe(200);
    const head = await client.send(new HeadObjectCommand({ Bucket: cosBucket(), Key: 'plain.bin' }));
    expect(head.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const get = await client.send(new GetObjectCommand({ Bucket: cosBucket(), Key: 'plain.bin' }));
    expect(Buffer.from(await (get.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(body)).toBe(true);
    // The SDK drops headers it does not model: read the raw ones.
    const raw = await rawHead('plain.bin');
    expect(raw['x-cos-hash-crc64ecma']).toBe(expected);
    expect(raw['x-cos-meta-a']).toBe('b');
    expect(Object.keys(raw).filter((name) => name.startsWith('x-amz-'))).toEqual([]);
  });

  it('gives SSE-COS objects an ETag that is not their MD5, and echoes the encryption', async () => {
    const body = randomBytes(3000);
    nextHeaders = { 'x-cos-server-side-encryption': 'AES256' };
    await client.send(new PutObjectCommand({ Bucket: cosBucket(), Key: 'sse-cos.bin', Body: body, ContentType: 'application/octet-stream' }));
    const raw = await rawHead('sse-cos.bin');
    expect(raw['x-cos-server-side-encryption']).toBe('AES256');
    expect(raw.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(raw.etag).not.toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    expect(raw['x-cos-hash-crc64ecma']).toBe(crc64(body).toString());
    const listed = await client.send(new ListObjectsCommand({ Bucket: cosBucket(), Prefix: 'sse-cos.bin' }));
    expect(listed.Contents?.[0]?.ETag).toBe(raw.etag);
  });

  it('copies only with x-cos-copy-source in the host form and x-cos-metadata-directive Copy or Replaced', async () => {
    const source = `${cosBucket()}.cos.${access.region}.myqcloud.com/plain.bin`;
    nextHeaders = { 'x-cos-copy-source': source, 'x-cos-metadata-directive': 'REPLACE' };
    dropHeaders = ['x-amz-copy-source'];
    expect(await failure(client.send(new CopyObjectCommand({ Bucket: cosBucket(), Key: 'copy.bin', CopySource: 'unused' })))).toEqual({ status: 400, code: 'InvalidArgument' });
    nextHeaders = { 'x-cos-copy-source': `${cosBucket()}/plain.bin` };
    dropHeaders = ['x-amz-copy-source'];
    expect(await failure(client.send(new CopyObjectCommand({ Bucket: cosBucket(), Key: 'copy.bin', CopySource: 'unused' })))).toEqual({ status: 400, code: 'InvalidCopySource' });
    nextHeaders = { 'x-cos-copy-source': source, 'x-cos-metadata-directive': 'Replaced', 'x-cos-meta-b': 'c' };
    dropHeaders = ['x-amz-copy-source'];
    await client.send(new CopyObjectCommand({ Bucket: cosBucket(), Key: 'copy.bin', CopySource: 'unused' }));
    const raw = await rawHead('copy.bin');
    expect(raw['x-cos-meta-b']).toBe('c');
    expect(raw['x-cos-meta-a']).toBeUndefined();
    expect(raw['x-cos-hash-crc64ecma']).toBe((await rawHead('plain.bin'))['x-cos-hash-crc64ecma']);
  });

  it('keeps an archived object unreadable until a restore finishes', async () => {
    gateway.archiveObject(bucket, 'plain.bin');
    expect(await failure(client.send(new GetObjectCommand({ Bucket: cosBucket(), Key: 'plain.bin' })))).toEqual({ status: 403, code: 'InvalidObjectState' });
    expect((await rawHead('plain.bin'))['x-cos-storage-class']).toBe('ARCHIVE');
    const { RestoreObjectCommand } = await import('@aws-sdk/client-s3');
    const asked = await client.send(new RestoreObjectCommand({ Bucket: cosBucket(), Key: 'plain.bin', RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Standard' } } }));
    expect(asked.$metadata.httpStatusCode).toBe(202);
    expect((await rawHead('plain.bin'))['x-cos-restore']).toBe('ongoing-request="true"');
    expect(await failure(client.send(new GetObjectCommand({ Bucket: cosBucket(), Key: 'plain.bin' })))).toEqual({ status: 403, code: 'InvalidObjectState' });
    gateway.completeRestore(bucket, 'plain.bin');
    expect((await rawHead('plain.bin'))['x-cos-restore']).toMatch(/^ongoing-request="false", expiry-date=/);
    expect((await client.send(new GetObjectCommand({ Bucket: cosBucket(), Key: 'plain.bin' }))).$metadata.httpStatusCode).toBe(200);
  });

  it('accepts temporary keys only with x-cos-security-token, and refuses them once expired', async () => {
    const temporary = gateway.issueTemporaryCredentials();
    const withToken = sdkClient({ accessKeyId: temporary.secretId, secretAccessKey: temporary.secretKey });
    const list = (): Promise<unknown> => withToken.send(new ListObjectsCommand({ Bucket: cosBucket(), MaxKeys: 1 }));
    expect(await failure(list())).toEqual({ status: 403, code: 'InvalidAccessKeyId' });
    nextHeaders = { 'x-cos-security-token': temporary.sessionToken };
    await list();
    gateway.expire(temporary);
    nextHeaders = { 'x-cos-security-token': temporary.sessionToken };
    expect(await failure(list())).toEqual({ status: 400, code: 'ExpiredToken' });
    withToken.destroy();
  });

  it('injects faults: the next matching request gets the injected reply, the one after is forwarded', async () => {
    gateway.failNext((request) => request.method === 'HEAD' && request.key === 'sse-cos.bin', { status: 503, code: 'SlowDown', message: 'injected' });
    expect(await failure(client.send(new HeadObjectCommand({ Bucket: cosBucket(), Key: 'sse-cos.bin' })))).toMatchObject({ status: 503 });
    expect((await client.send(new HeadObjectCommand({ Bucket: cosBucket(), Key: 'sse-cos.bin' }))).$metadata.httpStatusCode).toBe(200);
  });

  it('refuses path-style addresses (PathStyleDomainForbidden)', async () => {
    const pathStyle = new S3Client({
      endpoint: gateway.endpoint,
      region: access.region,
      forcePathStyle: true,
      credentials: { accessKeyId: access.accessKey, secretAccessKey: access.secretKey },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ keepAlive: false }) }),
    });
    expect(await failure(pathStyle.send(new ListObjectsCommand({ Bucket: cosBucket() })))).toEqual({ status: 403, code: 'PathStyleDomainForbidden' });
    pathStyle.destroy();
  });
});

describe('SSE-COS through the gateway', () => {
  it('backs up a small and a multipart file and restores them byte-exact, though their ETags are not MD5s', async () => {
    const source = join(work(), 'sse-cos');
    await mkdir(source, { recursive: true });
    const small = randomBytes(1000);
    const large = randomBytes(12 * 1024 * 1024 + 7);
    await writeFile(join(source, 'small.bin'), small);
    await writeFile(join(source, 'large.bin'), large);
    const configDir = join(work(), 'config-sse-cos');
    const run = (args: string[]) => runCosync(args, { configDir, services, env: access.env, timeoutMs: 300_000 });
    const backup = await run(['backup', source, ...access.targetArgs(bucket), '--prefix', 'ssecos', '--sse', 'cos', '--part-size', '5', '--multipart-threshold', '5']);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/backup: 2 uploaded, 0 failed/);
    const raw = await rawHead('ssecos/sse-cos/small.bin');
    expect(raw['x-cos-server-side-encryption']).toBe('AES256');
    expect(raw.etag).not.toBe(`"${createHash('md5').update(small).digest('hex')}"`);

    const target = join(work(), 'sse-cos-restored');
    const restored = await run(['restore', ...access.targetArgs(bucket), '--prefix', 'ssecos/sse-cos', '--to', target, '--sse', 'cos']);
    expect(restored.code, `${restored.stdout}\n${restored.stderr}`).toBe(0);
    expect(restored.stdout).toMatch(/restore: 2 restored, 0 failed/);
    expect((await readFile(join(target, 'small.bin'))).equals(small)).toBe(true);
    expect((await readFile(join(target, 'large.bin'))).equals(large)).toBe(true);
  }, 300_000);
});

describe('a listing of 2,500 objects through the gateway', () => {
  it('pages by marker (list-type is ignored, 1,000 at most) and cosync restores all 2,500', async () => {
    const count = 2500;
    /** Backed up by cosync itself; the rest are made like them, directly on RGW (2,500 backups through the gateway took minutes). */
    const byProduct = 20;
    const fileName = (index: number): string => `f${String(index).padStart(4, '0')}.txt`;
    const content = (index: number): Buffer => Buffer.from(`file ${index}\n`);
    const source = join(work(), 'many');
    await mkdir(source, { recursive: true });
    await Promise.all(Array.from({ length: byProduct }, (_, index) => writeFile(join(source, fileName(index)), content(index))));
    const configDir = join(work(), 'config');
    const keyName = uniqueName('many');
    const run = (args: string[]) => runCosync(args, { configDir, services, env: access.env, timeoutMs: 300_000 });
    expect((await run(['key', 'generate', keyName])).code).toBe(0);
    const backup = await run(['backup', source, ...access.targetArgs(bucket), '--prefix', 'many', '--key', keyName]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(new RegExp(`backup: ${byProduct} uploaded, 0 failed`));

    // The others carry exactly the metadata cosync gave its own (the digest is per content, keyed).
    const kitFile = join(work(), 'many.kit');
    expect((await run(['key', 'export', keyName, '--out', kitFile])).code).toBe(0);
    const { key } = await readKit(kitFile);
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.revealBase64() };
    const raw = rawClient(services);
    try {
      const made = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: `many/many/${fileName(0)}`, ...sse }));
      const metadata = made.Metadata ?? {};
      expect(metadata[METADATA.digest]).toBe(contentDigest(createHash('md5').update(content(0)).digest(), key));
      const pending = Array.from({ length: count - byProduct }, (_, offset) => byProduct + offset);
      const putNext = async (): Promise<void> => {
        for (let index = pending.shift(); index !== undefined; index = pending.shift()) {
          const body = content(index);
          const md5 = createHash('md5').update(body).digest();
          await raw.send(
            new PutObjectCommand({ Bucket: bucket, Key: `many/many/${fileName(index)}`, Body: body, ContentMD5: md5.toString('base64'), Metadata: { ...metadata, [METADATA.digest]: contentDigest(md5, key) }, ...sse }),
          );
        }
      };
      await Promise.all(Array.from({ length: 32 }, putNext));
    } finally {
      raw.destroy();
    }

    // The gateway answers a ListObjectsV2 request as a v1 listing: 1,000 keys, truncated, no continuation token.
    const v2 = await client.send(new ListObjectsV2Command({ Bucket: access.bucketName(bucket), Prefix: 'many/many/' }));
    expect(v2.Contents).toHaveLength(1000);
    expect(v2.IsTruncated).toBe(true);
    expect(v2.NextContinuationToken).toBeUndefined();
    const v1 = await client.send(new ListObjectsCommand({ Bucket: access.bucketName(bucket), Prefix: 'many/many/', MaxKeys: 5000 }));
    expect(v1.Contents).toHaveLength(1000);
    expect(v1.NextMarker).toBe('many/many/f0999.txt');

    const listingsBefore = gateway.requests.filter((request) => request.method === 'GET' && request.key === undefined).length;
    const target = join(work(), 'restored');
    const restored = await run(['restore', ...access.targetArgs(bucket), '--prefix', 'many/many', '--to', target, '--key', keyName]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(new RegExp(`restore: ${count} restored, 0 failed`));
    expect(await readdir(join(target))).toHaveLength(count);
    for (const index of [0, byProduct - 1, byProduct, 1999, count - 1]) expect((await readFile(join(target, fileName(index)))).equals(content(index)), fileName(index)).toBe(true);
    const listings = gateway.requests.slice().filter((request) => request.method === 'GET' && request.key === undefined).slice(listingsBefore);
    expect(listings.filter((request) => request.query.some(([name]) => name === 'marker')).length).toBeGreaterThanOrEqual(2);
    await run(['key', 'delete', keyName, '--yes']);
  }, 600_000);
});

/** The raw response headers of a HEAD through the gateway (signed by the SDK, read before its parser drops any). */
async function rawHead(key: string): Promise<Record<string, string>> {
  let captured: Record<string, string> = {};
  const probe = sdkClient({ accessKeyId: access.accessKey, secretAccessKey: access.secretKey });
  probe.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      captured = { ...(result.response as { headers: Record<string, string> }).headers };
      return result;
    },
    { step: 'deserialize', name: 'testCaptureHeaders', priority: 'low' },
  );
  await probe.send(new HeadObjectCommand({ Bucket: access.bucketName(bucket), Key: key }));
  probe.destroy();
  return captured;
}
