/** A Clock for unit tests: time moves only when the test says, and sleepers wake in order as it passes. */
import type { Clock } from '../../main/sync/clock.js';

interface Sleeper {
  readonly at: number;
  readonly resolve: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  readonly #sleepers: Sleeper[] = [];
  /** Called whenever something starts to sleep (a test can wait for the retry backoff to begin). */
  onDidSleep: (ms: number) => void = () => undefined;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** How many are asleep now. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) return reject(signal.reason as Error);
      const sleeper: Sleeper = { at: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener('abort', () => {
        this.#sleepers.splice(this.#sleepers.indexOf(sleeper), 1);
        reject(signal.reason as Error);
      }, { once: true });
      this.onDidSleep(ms);
    });
  }

  /** Moves time forward, waking every sleeper whose time has come. */
  advance(ms: number): void {
    this.#now += ms;
    for (const sleeper of [...this.#sleepers].sort((a, b) => a.at - b.at)) {
      if (sleeper.at > this.#now) continue;
      this.#sleepers.splice(this.#sleepers.indexOf(sleeper), 1);
      sleeper.resolve();
    }
  }
}
