/**
 * POST Object restore on the wire, per dialect, against the local recording server: the exact
 * XML each store documents, and the answers that mean "already started".
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEndpoint, type Dialect } from '../../app/target.js';
import { startRecordingServer, type ResponseScript } from '../../test/support/recording-server.js';
import { StoreCredentials } from '../secrets/secret-values.js';
import { S3RemoteStore } from './s3-remote-store.js';

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let script: ResponseScript = () => undefined;

beforeEach(async () => {
  script = () => undefined;
  server = await startRecordingServer(
    () => ({}),
    (request) => script(request),
  );
});
afterEach(async () => {
  await server.close();
});

function storeFor(dialect: Dialect): S3RemoteStore {
  return new S3RemoteStore(
    { endpoint: parseEndpoint(server.url), bucket: 'photos-1250000000', prefix: '', region: 'ap-guangzhou', pathStyle: true, dialect, sse: 'cos', keyName: undefined, kmsKeyId: undefined },
    new StoreCredentials('AKIDtest', 'secret'),
    { retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
  );
}

const errorBody = (code: string) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;

describe('POST Object restore', () => {
  it.each([
    // COS: CASJobParameters (POST Object restore, https://intl.cloud.tencent.com/document/product/436/12633;
    // cos-nodejs-sdk-v5 restoreObject builds RestoreRequest { Days, CASJobParameters { Tier } }).
    ['cos', '<RestoreRequest><Days>3</Days><CASJobParameters><Tier>Bulk</Tier></CASJobParameters></RestoreRequest>'],
    // S3: GlacierJobParameters in the S3 namespace (RestoreObject, S3 API reference).
    ['s3', '<RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Days>3</Days><GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters></RestoreRequest>'],
  ] as const)('%s dialect: POST ?restore with the documented XML, its Content-MD5, and 202 as "started"', async (dialect, xml) => {
    script = (request) => (request.method === 'POST' ? { status: 202 } : undefined);
    const store = storeFor(dialect);
    try {
      await expect(store.restoreObject('old/photo 1.jpg', { tier: 'Bulk', days: 3 })).resolves.toBe('started');
    } finally {
      store.close();
    }
    const [post] = server.requests;
    expect(post?.method).toBe('POST');
    expect(post?.path).toBe('/photos-1250000000/old/photo%201.jpg');
    expect([...(post?.query.keys() ?? [])]).toEqual(['restore']);
    expect(post?.body.toString('utf8')).toBe(xml);
    expect(post?.headers['content-md5']).toBe(createHash('md5').update(xml).digest('base64'));
    expect(post?.headers['content-type']).toBe('application/xml');
  });

  it('treats 409 RestoreAlreadyInProgress and 200 (already restored) as "already started"', async () => {
    const answers = [
      { status: 409, body: errorBody('RestoreAlreadyInProgress') },
      { status: 200, body: '' },
    ];
    script = (request) => (request.method === 'POST' ? answers.shift() : undefined);
    const store = storeFor('cos');
    try {
      await expect(store.restoreObject('a.bin', { tier: 'Standard', days: 1 })).resolves.toBe('already-started');
      await expect(store.restoreObject('a.bin', { tier: 'Standard', days: 1 })).resolves.toBe('already-started');
    } finally {
      store.close();
    }
  });

  it('fails with the store’s reason on another refusal (never a bare "access denied")', async () => {
    script = (request) => (request.method === 'POST' ? { status: 403, body: errorBody('InvalidObjectState') } : undefined);
    const store = storeFor('cos');
    try {
      await expect(store.restoreObject('a.bin', { tier: 'Standard', days: 1 })).rejects.toMatchObject({ code: 'object-archived' });
    } finally {
      store.close();
    }
  });
});
