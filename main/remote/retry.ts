/**
 * The one retry policy for store requests (like rclone's shouldRetry + pacer): a classifier that
 * says whether an error is worth another attempt, and exponential backoff with full jitter.
 *
 * Retried: throttling (503 SlowDown, 429), other 5xx, a bad digest (bytes damaged in transit),
 * connection resets, refusals and timeouts. Failed fast: authentication, key mismatch, missing
 * bucket or object, and every other 4xx — repeating those only delays the message.
 * RequestTimeTooSkewed is not retried blindly: repeating a request signed with a wrong clock
 * fails the same way. The store corrects its clock from the server's `Date` and tries once more
 * (clockSkewOf).
 */

/** Whether and why to try again. */
export type RetryDecision = { readonly retry: true; readonly reason: string } | { readonly retry: false };

const RETRYABLE_NAMES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'BadDigest', 'TimeoutError']);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

/** Classifies an error from a store request. */
export function classifyForRetry(error: unknown): RetryDecision {
  const value = (error ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: { code?: string } };
  if (value.name === 'AbortError') return { retry: false };
  const status = value.$metadata?.httpStatusCode;
  const name = value.name ?? '';
  if (status === 429 || status === 503) return { retry: true, reason: `throttled (HTTP ${status}${name ? ` ${name}` : ''})` };
  // 501 NotImplemented is an answer, not a hiccup (RGW says it for CopyObject of SSE-C objects).
  if (status === 501 || name === 'NotImplemented') return { retry: false };
  if (status !== undefined && status >= 500) return { retry: true, reason: `server error (HTTP ${status}${name ? ` ${name}` : ''})` };
  if (RETRYABLE_NAMES.has(name)) return { retry: true, reason: name };
  const code = value.code ?? value.cause?.code ?? '';
  if (status === undefined && RETRYABLE_CODES.has(code)) return { retry: true, reason: `connection problem (${code})` };
  return { retry: false };
}

/**
 * The server's time when it refused a request as signed with a skewed clock
 * (RequestTimeTooSkewed: S3's code; COS's error-code page, https://cloud.tencent.com/document/product/436/7730,
 * was checked for the error format, not for this code's listing),
 * from the response's `Date` header; undefined for any other error or without a usable Date.
 */
export function clockSkewOf(error: unknown): Date | undefined {
  const value = (error ?? {}) as { name?: string; $response?: { headers?: Record<string, string | string[] | undefined> } };
  if (value.name !== 'RequestTimeTooSkewed') return undefined;
  const date = value.$response?.headers?.date;
  const serverTime = new Date(Array.isArray(date) ? (date[0] ?? '') : (date ?? ''));
  return Number.isNaN(serverTime.getTime()) ? undefined : serverTime;
}

/** Backoff settings. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Six attempts over about 6 s at the most (full jitter), enough to ride out an RGW or COS hiccup. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 20_000 };

/** The wait before attempt `attempt + 1` (attempt ≥ 1): uniform in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `operation` until it succeeds, fails with a non-retryable error, or runs out of attempts. */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: { signal?: AbortSignal | undefined; policy?: RetryPolicy; onRetry?: (attempt: number, reason: string, delayMs: number) => void } = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const decision = classifyForRetry(error);
      if (!decision.retry || attempt >= policy.maxAttempts || options.signal?.aborted === true) throw error;
      const delay = backoffDelay(attempt, policy);
      options.onRetry?.(attempt, decision.reason, delay);
      await sleep(delay, options.signal);
    }
  }
}
