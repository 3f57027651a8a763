/** downloadFile's checks against a recording server that reports COS CRC-64 values. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { crc64 } from '../../app/crc64.js';
import { parseEndpoint } from '../../app/target.js';
import { startRecordingServer, type ResponseHeaders } from '../../test/support/recording-server.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { StoreCredentials } from '../secrets/secret-values.js';
import { downloadFile, type DownloadContext } from './download-file.js';

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let extra: ResponseHeaders;
let dir: string;
let context: DownloadContext;

beforeEach(async () => {
  extra = () => ({});
  server = await startRecordingServer((request) => extra(request));
  dir = mkdtempSync(join(tmpdir(), 'cosync-download-'));
  const store = new S3RemoteStore(
    { endpoint: parseEndpoint(server.url), bucket: 'photos-1250000000', prefix: '', region: 'ap-guangzhou', pathStyle: true, dialect: 'cos', sse: 'none', keyName: undefined, kmsKeyId: undefined },
    new StoreCredentials('AKIDtest', 'secret'),
    { retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
  );
  context = { store, overwrite: false, endpointId: server.url, bucket: 'photos-1250000000' };
});

afterEach(async () => {
  context.store.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

it('restores a file whose CRC-64 matches what COS reports', async () => {
  extra = () => ({ 'x-cos-hash-crc64ecma': crc64(Buffer.from('hello')).toString() });
  const outcome = await downloadFile('a.txt', join(dir, 'a.txt'), { mode: 'none' }, context);
  // COS recommends CRC-64 over the ETag (https://cloud.tencent.com/document/product/436/7729): it is what verified the file.
  expect(outcome).toMatchObject({ kind: 'restored', sizeBytes: 5, verification: 'crc64' });
  expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello');
});

it('refuses a download whose CRC-64 differs, leaving no file behind', async () => {
  extra = () => ({ 'x-cos-hash-crc64ecma': '42' });
  await expect(downloadFile('a.txt', join(dir, 'a.txt'), { mode: 'none' }, context)).rejects.toMatchObject({ code: 'integrity', message: /CRC-64/ });
  expect(existsSync(join(dir, 'a.txt'))).toBe(false);
  expect(readdirSync(dir)).toEqual([]);
});
