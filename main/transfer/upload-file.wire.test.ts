/** uploadFile's integrity checks against a recording server that reports COS CRC-64 values. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { crc64 } from '../../app/crc64.js';
import { COS_LIMITS } from '../../app/part-size.js';
import { parseEndpoint } from '../../app/target.js';
import { startRecordingServer, type ResponseHeaders } from '../../test/support/recording-server.js';
import { Journal } from '../journal/journal.js';
import { NULL_LOGGER } from '../log/logger.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { StoreCredentials } from '../secrets/secret-values.js';
import { BufferPool } from './buffer-pool.js';
import { uploadFile, type UploadContext } from './upload-file.js';

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let extra: ResponseHeaders;
let dir: string;
let context: UploadContext;
let journal: Journal;
const content = Buffer.from('123456789');

beforeEach(async () => {
  extra = () => ({});
  server = await startRecordingServer((request) => extra(request));
  dir = mkdtempSync(join(tmpdir(), 'cosync-upload-'));
  writeFileSync(join(dir, 'file.txt'), content);
  journal = new Journal(join(dir, 'journal.sqlite'));
  const store = new S3RemoteStore(
    { endpoint: parseEndpoint(server.url), bucket: 'photos-1250000000', prefix: '', region: 'ap-guangzhou', pathStyle: true, dialect: 'cos', sse: 'none', keyName: undefined, kmsKeyId: undefined },
    new StoreCredentials('AKIDtest', 'secret'),
    { retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
  );
  context = { store, journal, endpointId: server.url, bucket: 'photos-1250000000', limits: COS_LIMITS, sizing: { multipartThresholdBytes: 16 << 20, preferredPartBytes: 16 << 20 }, partQueue: new PQueue({ concurrency: 2 }), buffers: new BufferPool(2), crc64Parts: true, logger: NULL_LOGGER };
});

afterEach(async () => {
  journal.close();
  context.store.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

it('accepts an upload whose COS CRC-64 matches the local file', async () => {
  extra = () => ({ 'x-cos-hash-crc64ecma': crc64(content).toString() });
  await expect(uploadFile(join(dir, 'file.txt'), 'file.txt', { mode: 'none' }, context)).resolves.toMatchObject({ kind: 'single', sizeBytes: 9 });
  expect(journal.getObject(server.url, 'photos-1250000000', 'file.txt')).toBeDefined();
});

it('removes an object whose COS CRC-64 differs, and records nothing', async () => {
  extra = (request): Record<string, string> => (request.method === 'PUT' ? { 'x-cos-hash-crc64ecma': '12345' } : {});
  await expect(uploadFile(join(dir, 'file.txt'), 'file.txt', { mode: 'none' }, context)).rejects.toMatchObject({ code: 'integrity', message: /CRC-64.*removed/ });
  expect(server.requests.map((request) => request.method)).toEqual(['PUT', 'DELETE']);
  expect(journal.getObject(server.url, 'photos-1250000000', 'file.txt')).toBeUndefined();
});

it('refuses a file that changed since it was observed, before sending anything', async () => {
  const path = join(dir, 'file.txt');
  const { mtimeMs } = statSync(path);
  // The caller saw an older state (its scan came before the last save).
  await expect(uploadFile(path, 'file.txt', { mode: 'none' }, context, {}, { sizeBytes: 9, mtimeMs: mtimeMs - 5000 })).rejects.toMatchObject({ code: 'local-changed' });
  await expect(uploadFile(path, 'file.txt', { mode: 'none' }, context, {}, { sizeBytes: 8, mtimeMs })).rejects.toMatchObject({ code: 'local-changed' });
  expect(server.requests).toEqual([]);
  expect(journal.getObject(server.url, 'photos-1250000000', 'file.txt')).toBeUndefined();
});

it('uploads the snapshot it read, and records its mtime, when the file changes during the PUT', async () => {
  const path = join(dir, 'file.txt');
  const before = statSync(path);
  extra = (request): Record<string, string> => {
    // The file is saved again while its bytes are on the wire.
    if (request.method === 'PUT') {
      writeFileSync(path, 'something else entirely');
      utimesSync(path, new Date(), new Date(before.mtimeMs + 10_000));
    }
    return {};
  };
  const outcome = await uploadFile(path, 'file.txt', { mode: 'none' }, context, {}, { sizeBytes: before.size, mtimeMs: before.mtimeMs });
  expect(outcome).toMatchObject({ kind: 'single', sizeBytes: 9, mtimeMs: before.mtimeMs, md5Hex: createHash('md5').update(content).digest('hex') });
  expect(server.requests.find((request) => request.method === 'PUT')?.body.equals(content)).toBe(true);
  // The journal holds the state that was uploaded; the newer one differs from it and is uploaded next time.
  expect(journal.getObject(server.url, 'photos-1250000000', 'file.txt')).toMatchObject({ sizeBytes: 9, mtimeMs: before.mtimeMs });
});
