/**
 * A clock for unit tests whose time moves only when the test moves it: a wait resolves once
 * `advance` passes its deadline (a wait of 0 ms at once), and rejects at once when its signal
 * aborts. It serves both the remote/transfer waits (main/remote/wait-clock.ts) and the sync
 * pipeline's Clock (main/sync/clock.ts), which are the same port.
 */
import type { WaitClock } from '../../main/remote/wait-clock.js';

interface Sleeper {
  readonly wakeAt: number;
  readonly resolve: () => void;
}

export class FakeClock implements WaitClock {
  #now: number;
  #sleepers: Sleeper[] = [];
  /** Called whenever something starts to sleep (a test can wait for a retry backoff to begin). */
  onDidSleep: (milliseconds: number) => void = () => undefined;

  /** `start`: the first `now()` (the sync pipeline's tests start at a plausible wall-clock time). */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** The waits not yet over. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) return reject(signal.reason as Error);
      this.onDidSleep(milliseconds);
      // No time to wait: over at once, as a real timer of 0 ms is over without the test moving time.
      if (milliseconds <= 0) return resolve();
      const sleeper: Sleeper = {
        wakeAt: this.#now + milliseconds,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((other) => other !== sleeper);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /**
   * Moves time on and wakes every wait whose time has come, earliest first (synchronously, so a
   * caller need not await), then lets their continuations run.
   */
  async advance(milliseconds: number): Promise<void> {
    this.#now += milliseconds;
    const due = this.#sleepers.filter((sleeper) => sleeper.wakeAt <= this.#now).sort((a, b) => a.wakeAt - b.wakeAt);
    this.#sleepers = this.#sleepers.filter((sleeper) => sleeper.wakeAt > this.#now);
    for (const sleeper of due) sleeper.resolve();
    for (let turn = 0; turn < 10; turn++) await Promise.resolve();
  }
}
