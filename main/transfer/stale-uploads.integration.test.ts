/**
 * Stale multipart uploads: old ones under the prefix are aborted, tracked ones kept. S3 straight to
 * RGW; COS through the gateway (List Multipart Uploads, https://cloud.tencent.com/document/product/436/7736).
 */
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEndpoint } from '../../app/target.js';
import { createBucket, DIALECTS, rawClient, requireServices, storeAccess, type Services } from '../../test/support/services.js';
import { Journal } from '../journal/journal.js';
import { NULL_LOGGER } from '../log/logger.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { StoreCredentials } from '../secrets/secret-values.js';
import { abortStaleUploads } from './stale-uploads.js';

let services: Services;
let dir: string;

beforeAll(() => {
  services = requireServices();
  dir = mkdtempSync(join(tmpdir(), 'cosync-stale-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each(DIALECTS)('%s: aborts unfinished uploads older than the limit under the prefix, keeping the ones the journal tracks', async (dialect) => {
  const bucket = await createBucket(services);
  const client = rawClient(services);
  const start = async (key: string) => (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId as string;
  const abandoned = await start('p/abandoned.bin');
  const tracked = await start('p/tracked.bin');
  const elsewhere = await start('other/x.bin');

  const access = await storeAccess(services, dialect);
  const journal = new Journal(join(dir, `journal-${dialect}.sqlite`));
  journal.beginMultipart({ endpoint: services.httpsEndpoint, bucket, key: 'p/tracked.bin', uploadId: tracked, localPath: '/x', sizeBytes: 1, mtimeMs: 1, partBytes: 1, keyFingerprint: null, startedAt: 1 });
  const store = new S3RemoteStore(
    { endpoint: parseEndpoint(access.endpoint), bucket: access.bucketName(bucket), prefix: 'p/', region: access.region, pathStyle: access.pathStyle, dialect, sse: 'none', keyName: undefined, kmsKeyId: undefined },
    new StoreCredentials(access.accessKey, access.secretKey),
  );
  try {
    expect(await abortStaleUploads(store, journal, 'p/', 24, NULL_LOGGER)).toBe(0);
    const twoDaysLater = new Date(Date.now() + 48 * 3600 * 1000);
    expect(await abortStaleUploads(store, journal, 'p/', 24, NULL_LOGGER, twoDaysLater)).toBe(1);
    const left = (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.map((upload) => upload.UploadId).sort();
    expect(left).toEqual([tracked, elsewhere].sort());
    expect(left).not.toContain(abandoned);
  } finally {
    store.close();
    journal.close();
  }
});
