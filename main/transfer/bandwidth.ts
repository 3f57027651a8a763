/**
 * A global bandwidth limit: one token bucket shared by every transfer, adjustable while running
 * (the UI's slider, or `--bwlimit`). Unlimited costs nothing: bodies are not wrapped at all.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import type { RequestBody } from '../remote/remote-store.js';
import { SYSTEM_CLOCK, type WaitClock } from '../remote/wait-clock.js';

/** Bytes a limited transfer sends in one go; small enough for a smooth rate, large enough to be cheap. */
const SLICE_BYTES = 64 * 1024;

/** A token bucket in bytes per second. */
export class TokenBucket {
  #rate: number | undefined;
  #tokens = 0;
  #updatedAt: number;

  constructor(
    bytesPerSecond: number | undefined,
    private readonly clock: WaitClock = SYSTEM_CLOCK,
  ) {
    this.#updatedAt = clock.now();
    this.setRate(bytesPerSecond);
    this.#tokens = this.capacity();
  }

  /** The current limit in bytes per second, or undefined for none. */
  get rate(): number | undefined {
    return this.#rate;
  }

  /** Changes the limit; takes effect for the next slice of every transfer. */
  setRate(bytesPerSecond: number | undefined): void {
    if (bytesPerSecond !== undefined && !(bytesPerSecond > 0)) throw new RangeError('a bandwidth limit must be positive');
    this.refill();
    this.#rate = bytesPerSecond;
    // Never more than a quarter second of burst under the new rate.
    if (bytesPerSecond !== undefined) this.#tokens = Math.min(this.#tokens, this.capacity());
  }

  private capacity(): number {
    return Math.max(SLICE_BYTES, (this.#rate ?? 0) / 4);
  }

  private refill(): void {
    const now = this.clock.now();
    if (this.#rate !== undefined) this.#tokens = Math.min(this.capacity(), this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate);
    this.#updatedAt = now;
  }

  /** How long to wait before sending `bytes` (and reserves them). */
  reserve(bytes: number): number {
    if (this.#rate === undefined) return 0;
    this.refill();
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#rate) * 1000;
  }

  /** Waits until `bytes` may be sent; rejects as soon as `signal` aborts (the bytes stay reserved: the transfer is over). */
  async take(bytes: number, signal?: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const wait = this.reserve(bytes);
    if (wait > 0) await this.clock.sleep(wait, signal);
  }
}

/** A stream transform that paces chunks through the bucket; a cancelled transfer ends the stream with the signal's reason. */
export function throttle(bucket: TokenBucket, signal?: AbortSignal | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      void (async () => {
        for (let offset = 0; offset < chunk.length; offset += SLICE_BYTES) {
          const slice = chunk.subarray(offset, offset + SLICE_BYTES);
          await bucket.take(slice.length, signal);
          this.push(slice);
        }
      })().then(() => callback(), callback);
    },
  });
}

/** The body paced by the bucket, or the body itself when there is no limit. */
export function throttledBody(body: RequestBody, bucket: TokenBucket | undefined, signal?: AbortSignal | undefined): RequestBody {
  if (bucket === undefined) return body;
  return {
    length: body.length,
    open: () => {
      if (bucket.rate === undefined) return body.open();
      const source = body.open();
      // pipeline, not pipe: a cancelled wait ends the body with its reason, and the file stream closes with it.
      return pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, throttle(bucket, signal), () => undefined);
    },
  };
}
