/**
 * Time for code that waits: the retry backoff, the store's pacer, the bandwidth bucket and the
 * backup's wait for a file to settle. Every wait is cancellable, so a cancelled job never sits
 * out a backoff; unit tests pass a fake clock whose time moves only when the test says so.
 */

/** Reads the time and waits; `sleep` rejects with the signal's reason once it aborts. */
export interface WaitClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  sleep(milliseconds: number, signal?: AbortSignal | undefined): Promise<void>;
}

/** Waits `milliseconds`, or rejects with `signal`'s reason as soon as it aborts (at once if it already has). */
export function abortableSleep(milliseconds: number, signal?: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The real clock. */
export const SYSTEM_CLOCK: WaitClock = { now: () => performance.now(), sleep: abortableSleep };
