import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { throttle, TokenBucket } from './bandwidth.js';

describe('TokenBucket', () => {
  it('lets a burst through, then paces to the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(1024 * 1024, () => now);
    expect(bucket.reserve(64 * 1024)).toBe(0);
    now = 250; // a quarter second refills 256 KiB (the burst cap)
    expect(bucket.reserve(256 * 1024)).toBe(0);
    expect(bucket.reserve(512 * 1024)).toBeCloseTo(500, 5); // 512 KiB at 1 MiB/s
  });

  it('can be changed or lifted while running', () => {
    let now = 0;
    const bucket = new TokenBucket(100 * 1024, () => now);
    bucket.reserve(100 * 1024);
    bucket.setRate(undefined);
    expect(bucket.reserve(10 * 1024 * 1024)).toBe(0);
    bucket.setRate(1024 * 1024);
    now = 1000;
    expect(bucket.reserve(64 * 1024)).toBe(0);
    expect(() => bucket.setRate(0)).toThrow(RangeError);
  });

  it('paces a real stream to about the limit', async () => {
    const bucket = new TokenBucket(2 * 1024 * 1024);
    const started = performance.now();
    let received = 0;
    // With the initial burst (a quarter second, 512 KiB) used up, 1 MiB at 2 MiB/s takes 0.5 s.
    // Only a lower bound: a slow machine can be slower, never faster.
    bucket.reserve(512 * 1024);
    for await (const chunk of Readable.from([Buffer.alloc(1024 * 1024)]).pipe(throttle(bucket))) received += (chunk as Buffer).length;
    const seconds = (performance.now() - started) / 1000;
    expect(received).toBe(1024 * 1024);
    expect(seconds).toBeGreaterThan(0.45);
  });
});
