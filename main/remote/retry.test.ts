import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, classifyForRetry, DEFAULT_RETRY_POLICY, withRetry } from './retry.js';

const httpError = (status: number, name = 'Unknown') => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const netError = (code: string) => Object.assign(new Error(code), { code });

describe('classifyForRetry', () => {
  it.each([
    ['503 SlowDown', httpError(503, 'SlowDown')],
    ['429', httpError(429)],
    ['500', httpError(500, 'InternalError')],
    ['502', httpError(502)],
    ['BadDigest', httpError(400, 'BadDigest')],
    ['connection reset', netError('ECONNRESET')],
    ['SDK timeout', Object.assign(new Error('t'), { name: 'TimeoutError' })],
  ])('retries %s', (_name, error) => {
    expect(classifyForRetry(error).retry).toBe(true);
  });

  it.each([
    ['403 AccessDenied', httpError(403, 'AccessDenied')],
    ['InvalidAccessKeyId', httpError(403, 'InvalidAccessKeyId')],
    ['SignatureDoesNotMatch', httpError(403, 'SignatureDoesNotMatch')],
    ['400 key mismatch', httpError(400)],
    ['404 NoSuchBucket', httpError(404, 'NoSuchBucket')],
    ['abort', Object.assign(new Error('a'), { name: 'AbortError' })],
    ['TLS', netError('SELF_SIGNED_CERT_IN_CHAIN')],
  ])('fails fast on %s', (_name, error) => {
    expect(classifyForRetry(error)).toEqual({ retry: false });
  });
});

describe('withRetry', () => {
  const fast = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 };

  it('retries transient errors and returns the eventual result', async () => {
    const operation = vi.fn().mockRejectedValueOnce(httpError(503, 'SlowDown')).mockRejectedValueOnce(netError('ECONNRESET')).mockResolvedValue('done');
    const onRetry = vi.fn();
    expect(await withRetry(operation, { policy: fast, onRetry })).toBe('done');
    expect(operation).toHaveBeenCalledTimes(3);
    expect(onRetry.mock.calls.map((call) => call[1])).toEqual(['throttled (HTTP 503 SlowDown)', 'connection problem (ECONNRESET)']);
  });

  it('does not retry a fail-fast error', async () => {
    const operation = vi.fn().mockRejectedValue(httpError(403, 'InvalidAccessKeyId'));
    await expect(withRetry(operation, { policy: fast })).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const operation = vi.fn().mockRejectedValue(httpError(500, 'InternalError'));
    await expect(withRetry(operation, { policy: fast })).rejects.toMatchObject({ name: 'InternalError' });
    expect(operation).toHaveBeenCalledTimes(4);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const operation = vi.fn().mockRejectedValue(httpError(503));
    const pending = withRetry(operation, { signal: controller.signal, policy: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    setTimeout(() => controller.abort(new Error('paused')), 10);
    await expect(pending).rejects.toThrow('paused');
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffDelay(1, DEFAULT_RETRY_POLICY, () => 0.999)).toBe(199);
    expect(backoffDelay(4, DEFAULT_RETRY_POLICY, () => 0.999)).toBe(1598);
    expect(backoffDelay(30, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(10_000);
    expect(backoffDelay(3, DEFAULT_RETRY_POLICY, () => 0)).toBe(0);
  });
});
