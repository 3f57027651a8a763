/**
 * A WaitClock for unit tests whose time moves only when the test moves it: a wait resolves once
 * `advance` passes its deadline (a wait of 0 ms at once), and rejects at once when its signal aborts.
 */
import type { WaitClock } from '../../main/remote/wait-clock.js';

interface Sleeper {
  readonly wakeAt: number;
  readonly resolve: () => void;
}

export class FakeClock implements WaitClock {
  #now = 0;
  #sleepers: Sleeper[] = [];

  now(): number {
    return this.#now;
  }

  /** The waits not yet over. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) return reject(signal.reason as Error);
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

  /** Moves time on and wakes every wait whose time has come; lets their continuations run. */
  async advance(milliseconds: number): Promise<void> {
    this.#now += milliseconds;
    const due = this.#sleepers.filter((sleeper) => sleeper.wakeAt <= this.#now);
    this.#sleepers = this.#sleepers.filter((sleeper) => sleeper.wakeAt > this.#now);
    for (const sleeper of due) sleeper.resolve();
    for (let turn = 0; turn < 10; turn++) await Promise.resolve();
  }
}
