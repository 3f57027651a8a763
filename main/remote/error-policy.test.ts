/** The one error policy as a table: what each error becomes, and where it is tried again. */
import { describe, expect, it } from 'vitest';
import { CosyncError, type ErrorCode } from '../../app/result.js';
import { NETWORK_ERRNOS, RETRY_SCOPE, stopsRun, type RetryScope } from './error-policy.js';
import { errorPolicy, type ErrorContext } from './remote-errors.js';
import { classifyForRetry } from './retry.js';

const context: ErrorContext = { endpoint: 'https://s3.example.com', bucket: 'photos', key: 'a.jpg', operation: 'upload' };
const http = (status: number, name = 'Unknown', message?: string) => Object.assign(new Error(message ?? name), { name, $metadata: { httpStatusCode: status }, ...(message === undefined ? {} : { message }) });
const net = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('errorPolicy', () => {
  it.each<[string, unknown, ErrorCode, RetryScope]>([
    ['503 SlowDown', http(503, 'SlowDown'), 'server-unavailable', 'request'],
    ['429', http(429), 'server-unavailable', 'request'],
    ['500 InternalError', http(500, 'InternalError'), 'server-unavailable', 'request'],
    ['400 RequestTimeout', http(400, 'RequestTimeout', 'Your socket connection to the server was not read from or written to'), 'server-unavailable', 'request'],
    ['BadDigest', http(400, 'BadDigest'), 'integrity', 'request'],
    ['501 NotImplemented', http(501, 'NotImplemented'), 'unsupported', 'path'],
    ['403 InvalidAccessKeyId', http(403, 'InvalidAccessKeyId'), 'credentials-rejected', 'folder'],
    ['404 NoSuchBucket', http(404, 'NoSuchBucket'), 'bucket-not-found', 'folder'],
    ['404 NoSuchKey', http(404, 'NoSuchKey'), 'object-not-found', 'path'],
    ['403 AccessDenied', http(403, 'AccessDenied'), 'access-denied', 'path'],
    ['TLS', net('SELF_SIGNED_CERT_IN_CHAIN'), 'tls-untrusted', 'folder'],
    ['abort', Object.assign(new Error('a'), { name: 'AbortError' }), 'aborted', 'never'],
    ['a CosyncError as it is', new CosyncError('local-changed', 'changed'), 'local-changed', 'path'],
  ])('%s', (_name, error, code, retry) => {
    expect(errorPolicy(error, context)).toMatchObject({ code, retry });
  });

  it.each([...NETWORK_ERRNOS])('network error %s is retried per request and ends as endpoint-unreachable, never internal', (errno) => {
    const policy = errorPolicy(errno === 'TimeoutError' ? Object.assign(new Error('timed out'), { name: errno }) : net(errno), context);
    expect(policy).toMatchObject({ code: 'endpoint-unreachable', retry: 'request' });
    expect(policy.message).toMatch(/^cannot reach https:\/\/s3\.example\.com/);
  });

  it('a network error wrapped as the cause of another is read from the cause', () => {
    expect(errorPolicy(Object.assign(new Error('socket hang up'), { cause: { code: 'ECONNRESET' } }), context)).toMatchObject({ code: 'endpoint-unreachable', retry: 'request' });
  });

  it('what the store retries is what the request table says, and nothing it retries is reported as internal or a permanent server error', () => {
    const samples = [http(503, 'SlowDown'), http(502), http(400, 'RequestTimeout'), http(400, 'BadDigest'), ...[...NETWORK_ERRNOS].map(net)];
    for (const error of samples) {
      expect(classifyForRetry(error).retry).toBe(true);
      expect(['internal', 'server']).not.toContain(errorPolicy(error, context).code);
    }
  });
});

describe('retry scopes of codes', () => {
  it('the run stops for exactly the errors every other file would meet, and for a cancel', () => {
    const stopping = (Object.keys(RETRY_SCOPE) as ErrorCode[]).filter(stopsRun).sort();
    expect(stopping).toEqual(['aborted', 'bucket-not-found', 'credentials-rejected', 'endpoint-unreachable', 'keychain-unavailable', 'proxy-refused', 'tls-untrusted']);
  });

  it('no code is retried per request once it is a CosyncError (the store has given up on it)', () => {
    expect(Object.values(RETRY_SCOPE)).not.toContain('request');
  });
});
