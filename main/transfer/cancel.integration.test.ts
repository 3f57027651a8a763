/**
 * A multipart upload cancelled in the middle of a part, against RGW: the upload fails as
 * 'aborted', no object appears, the journal keeps the upload and its finished part, and the next
 * upload resumes from there and stores the exact bytes. The cancel comes from a store wrapper
 * that aborts once part 2's body has started to flow (fault injection; the store itself is real).
 */
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough, pipeline, Readable } from 'node:stream';
import PQueue from 'p-queue';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3_LIMITS } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import { parseEndpoint } from '../../app/target.js';
import { useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, rawClient, readObject, requireServices, type Services } from '../../test/support/services.js';
import { Journal } from '../journal/journal.js';
import { NULL_LOGGER } from '../log/logger.js';
import type { RemoteStore } from '../remote/remote-store.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { StoreCredentials } from '../secrets/secret-values.js';
import { TokenBucket } from './bandwidth.js';
import { BufferPool } from './buffer-pool.js';
import { uploadFile, type UploadContext } from './upload-file.js';

const MiB = 1024 * 1024;
const work = useWorkDir('cancel');
let services: Services;
let bucket: string;
let store: S3RemoteStore;

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-cancel');
  store = new S3RemoteStore(
    { endpoint: parseEndpoint(services.httpEndpoint), bucket, prefix: '', region: 'us-east-1', pathStyle: true, dialect: 's3', sse: 'none', keyName: undefined, kmsKeyId: undefined },
    new StoreCredentials(services.accessKey, services.secretKey),
  );
});
afterAll(() => store?.close());

/** The real store, except that part `partNumber`'s body calls `onFlowing` once its first bytes are read for sending. */
function abortingMidPart(real: RemoteStore, partNumber: number, onFlowing: () => void): RemoteStore {
  return new Proxy(real, {
    get(target, property) {
      // Bound to the real store: its private fields are not reachable through the proxy.
      const value = Reflect.get(target, property) as unknown;
      if (property !== 'uploadPart') return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      const uploadPart: RemoteStore['uploadPart'] = (key, uploadId, number, body, request, options) => {
        if (number !== partNumber) return target.uploadPart(key, uploadId, number, body, request, options);
        const tapped = {
          length: body.length,
          open: () => {
            const source = body.open();
            const tap = new PassThrough();
            tap.once('data', onFlowing);
            return pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, tap, () => undefined);
          },
        };
        return target.uploadPart(key, uploadId, number, tapped, request, options);
      };
      return uploadPart;
    },
  });
}

it('a multipart upload cancelled mid-part is kept in the journal, leaves no object, and resumes', async () => {
  const file = join(work(), 'big.bin');
  const sha256 = await writeRandomFile(file, 12 * MiB);
  const journal = new Journal(join(work(), 'journal.sqlite'));
  const abort = new AbortController();
  const context = (overrides: Partial<UploadContext>): UploadContext => ({
    store,
    journal,
    endpointId: services.httpEndpoint,
    bucket,
    limits: S3_LIMITS,
    sizing: { multipartThresholdBytes: 5 * MiB, preferredPartBytes: 5 * MiB },
    // One part at a time, paced, so part 2 is surely on the wire when the cancel comes.
    partQueue: new PQueue({ concurrency: 1 }),
    buffers: new BufferPool(1),
    crc64Parts: false,
    bandwidth: new TokenBucket(8 * MiB),
    logger: NULL_LOGGER,
    ...overrides,
  });
  try {
    const cancelled = uploadFile(file, 'big.bin', { mode: 'none' }, context({ store: abortingMidPart(store, 2, () => abort.abort(new CosyncError('aborted', 'interrupted'))), signal: abort.signal }));
    await expect(cancelled).rejects.toMatchObject({ code: 'aborted' });

    const kept = journal.getMultipart(services.httpEndpoint, bucket, 'big.bin');
    expect(kept?.parts.map((part) => part.partNumber)).toEqual([1]);
    expect(await store.headObject('big.bin', { mode: 'none' })).toBeUndefined();
    const onServer = await rawClient(services, services.httpEndpoint).send(new ListPartsCommand({ Bucket: bucket, Key: 'big.bin', UploadId: kept?.upload.uploadId }));
    expect((onServer.Parts ?? []).map((part) => part.PartNumber)).toEqual([1]);

    const resumed = await uploadFile(file, 'big.bin', { mode: 'none' }, context({}));
    expect(resumed).toMatchObject({ kind: 'multipart', partCount: 3, resumedParts: 1, etagMatchesContent: true });
    expect(createHash('sha256').update(await readObject(services, bucket, 'big.bin')).digest('hex')).toBe(sha256);
    expect(journal.getMultipart(services.httpEndpoint, bucket, 'big.bin')).toBeUndefined();
  } finally {
    journal.close();
  }
}, 60_000);
