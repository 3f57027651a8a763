/**
 * Retrying store requests (like rclone's shouldRetry + pacer): the request-level rows of the one
 * error policy (error-policy.ts) say whether an error is worth another attempt; waits are
 * exponential backoff with full jitter, and every attempt takes its turn from the store's pacer.
 *
 * Retried: throttling (503 SlowDown, 429), other 5xx, a bad digest (bytes damaged in transit),
 * connection resets, refusals and timeouts. Failed fast: authentication, key mismatch, missing
 * bucket or object, and every other 4xx — repeating those only delays the message.
 * RequestTimeTooSkewed is not retried blindly: repeating a request signed with a wrong clock
 * fails the same way. The store corrects its clock from the server's `Date` and tries once more
 * (clockSkewOf).
 */
import { transientCondition } from './error-policy.js';
import type { Pacer } from './pacer.js';
import { SYSTEM_CLOCK, type WaitClock } from './wait-clock.js';

/** Whether and why to try again. */
export type RetryDecision = { readonly retry: true; readonly reason: string; readonly throttled: boolean } | { readonly retry: false };

/** Classifies an error from a store request by the request-level table (error-policy.ts). */
export function classifyForRetry(error: unknown): RetryDecision {
  const condition = transientCondition(error);
  return condition === undefined ? { retry: false } : { retry: true, reason: condition.reason, throttled: condition.throttled };
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

/** Runs `operation` until it succeeds, fails with a non-retryable error, or runs out of attempts. */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: {
    signal?: AbortSignal | undefined;
    policy?: RetryPolicy;
    /** The store's pacer: each attempt waits for its turn, and a throttled one slows every request of the store. */
    pacer?: Pacer | undefined;
    clock?: WaitClock | undefined;
    onRetry?: (attempt: number, reason: string, delayMs: number) => void;
  } = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const clock = options.clock ?? SYSTEM_CLOCK;
  for (let attempt = 1; ; attempt++) {
    await options.pacer?.waitForTurn(options.signal);
    try {
      const result = await operation(attempt);
      options.pacer?.onDidSucceed();
      return result;
    } catch (error) {
      const decision = classifyForRetry(error);
      if (decision.retry && decision.throttled) options.pacer?.onDidThrottle();
      if (!decision.retry || attempt >= policy.maxAttempts || options.signal?.aborted === true) throw error;
      const delay = backoffDelay(attempt, policy);
      options.onRetry?.(attempt, decision.reason, delay);
      await clock.sleep(delay, options.signal);
    }
  }
}
