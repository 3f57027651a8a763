/**
 * One pacer per store, shared by all its requests, after rclone's lib/pacer
 * (https://github.com/rclone/rclone/blob/master/lib/pacer/pacer.go, its default calculator): when
 * the store says slow down (503 SlowDown, 429), every request to it starts no closer than an
 * interval apart, and the interval doubles with each further refusal ("attack"), up to a cap;
 * each success shrinks it by a quarter ("decay", rclone's decayConstant 2) until it falls under a
 * floor and pacing stops. Unthrottled, a request pays nothing: no timer, no wait.
 */
import { SYSTEM_CLOCK, type WaitClock } from './wait-clock.js';

/** How hard the pacer brakes and how fast it lets go. */
export interface PacerSettings {
  /** The interval after the first refusal. */
  readonly initialMs: number;
  /** The interval never grows past this. */
  readonly maxMs: number;
  /** Below this the interval is dropped to none. */
  readonly floorMs: number;
}

/** 100 ms after the first SlowDown, doubling to at most 4 s (rclone's S3 backend caps at 2 s with 10 ms minimum). */
export const DEFAULT_PACER_SETTINGS: PacerSettings = { initialMs: 100, maxMs: 4000, floorMs: 10 };

/** Spaces the starts of a store's requests while the store is throttling. */
export class Pacer {
  #intervalMs = 0;
  #nextStartAt = 0;

  constructor(
    private readonly settings: PacerSettings = DEFAULT_PACER_SETTINGS,
    private readonly clock: WaitClock = SYSTEM_CLOCK,
  ) {}

  /** The current spacing between request starts (0: none). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Waits for this request's turn; rejects as soon as `signal` aborts. */
  async waitForTurn(signal?: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#intervalMs === 0) return;
    const now = this.clock.now();
    const startAt = Math.max(now, this.#nextStartAt);
    this.#nextStartAt = startAt + this.#intervalMs;
    if (startAt > now) await this.clock.sleep(startAt - now, signal);
  }

  /** The store refused a request as too many: every request backs off further. */
  onDidThrottle(): void {
    this.#intervalMs = this.#intervalMs === 0 ? this.settings.initialMs : Math.min(this.settings.maxMs, this.#intervalMs * 2);
  }

  /** A request went through: the brake eases. */
  onDidSucceed(): void {
    if (this.#intervalMs === 0) return;
    const next = (this.#intervalMs * 3) / 4;
    this.#intervalMs = next < this.settings.floorMs ? 0 : next;
  }
}
