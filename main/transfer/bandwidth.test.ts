import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CosyncError } from '../../app/result.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { throttle, TokenBucket } from './bandwidth.js';

describe('TokenBucket', () => {
  it('lets a burst through, then paces to the rate', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1024 * 1024, clock);
    expect(bucket.reserve(64 * 1024)).toBe(0);
    await clock.advance(250); // a quarter second refills 256 KiB (the burst cap)
    expect(bucket.reserve(256 * 1024)).toBe(0);
    expect(bucket.reserve(512 * 1024)).toBeCloseTo(500, 5); // 512 KiB at 1 MiB/s
  });

  it('can be changed or lifted while running', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(100 * 1024, clock);
    bucket.reserve(100 * 1024);
    bucket.setRate(undefined);
    expect(bucket.reserve(10 * 1024 * 1024)).toBe(0);
    bucket.setRate(1024 * 1024);
    await clock.advance(1000);
    expect(bucket.reserve(64 * 1024)).toBe(0);
    expect(() => bucket.setRate(0)).toThrow(RangeError);
  });

  it('take waits for the tokens, and a cancel ends the wait at once', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1024 * 1024, clock);
    bucket.reserve(256 * 1024); // the burst is used up
    let took = false;
    const waiting = bucket.take(512 * 1024).then(() => (took = true));
    await clock.advance(499);
    expect(took).toBe(false);
    await clock.advance(1);
    await waiting;
    expect(took).toBe(true);

    const abort = new AbortController();
    const stopped = bucket.take(10 * 1024 * 1024, abort.signal);
    abort.abort(new CosyncError('aborted', 'interrupted'));
    await expect(stopped).rejects.toMatchObject({ code: 'aborted' });
    expect(clock.sleeping).toBe(0);
    await expect(bucket.take(1, abort.signal)).rejects.toMatchObject({ code: 'aborted' });
  });

  it('a throttled stream ends with the cancel instead of waiting out the limit', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(64 * 1024, clock);
    bucket.reserve(64 * 1024);
    const abort = new AbortController();
    const flowing = pipeline(Readable.from([Buffer.alloc(1024 * 1024)]), throttle(bucket, abort.signal), async function* (source) {
      for await (const chunk of source) yield chunk;
    });
    await clock.advance(0);
    abort.abort(new CosyncError('aborted', 'interrupted'));
    await expect(flowing).rejects.toMatchObject({ code: 'aborted' });
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
