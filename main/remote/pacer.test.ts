import { describe, expect, it } from 'vitest';
import { CosyncError } from '../../app/result.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { Pacer } from './pacer.js';
import { withRetry } from './retry.js';

const settings = { initialMs: 100, maxMs: 400, floorMs: 10 };
const slowDown = (): Error => Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });

/** Starts `count` requests at once and records when each got its turn. */
async function turns(pacer: Pacer, clock: FakeClock, count: number): Promise<number[]> {
  const started: number[] = [];
  const all = Promise.all(Array.from({ length: count }, () => pacer.waitForTurn().then(() => started.push(clock.now()))));
  await clock.advance(0);
  while (started.length < count) await clock.advance(10);
  await all;
  return started;
}

describe('Pacer', () => {
  it('costs nothing while the store does not throttle', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(settings, clock);
    expect(await turns(pacer, clock, 3)).toEqual([0, 0, 0]);
    expect(clock.sleeping).toBe(0);
  });

  it('after a SlowDown spaces every request of the store, doubling to the cap', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(settings, clock);
    pacer.onDidThrottle();
    expect(await turns(pacer, clock, 3)).toEqual([0, 100, 200]);
    pacer.onDidThrottle();
    pacer.onDidThrottle();
    pacer.onDidThrottle();
    expect(pacer.intervalMs).toBe(400);
  });

  it('recovers by a quarter per success, then stops pacing below the floor', () => {
    const pacer = new Pacer(settings, new FakeClock());
    pacer.onDidThrottle();
    pacer.onDidSucceed();
    expect(pacer.intervalMs).toBe(75);
    for (let success = 0; success < 7; success++) pacer.onDidSucceed();
    expect(pacer.intervalMs).toBeCloseTo(75 * 0.75 ** 7, 5);
    pacer.onDidSucceed();
    expect(pacer.intervalMs).toBe(0);
  });

  it('a cancelled request leaves its wait at once', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(settings, clock);
    pacer.onDidThrottle();
    await pacer.waitForTurn();
    const abort = new AbortController();
    const waiting = pacer.waitForTurn(abort.signal);
    abort.abort(new CosyncError('aborted', 'interrupted'));
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    expect(clock.sleeping).toBe(0);
  });

  it('one request refused with SlowDown slows the others that share the store', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(settings, clock);
    const policy = { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 };
    const starts: Array<{ request: string; at: number }> = [];
    let refused = false;
    const throttled = withRetry(
      async () => {
        starts.push({ request: 'throttled', at: clock.now() });
        if (!refused) {
          refused = true;
          throw slowDown();
        }
        return 'ok';
      },
      { pacer, clock, policy },
    );
    await clock.advance(0);
    // The refusal slowed the store: a request that never met a SlowDown now waits its turn too.
    const other = withRetry(async () => starts.push({ request: 'other', at: clock.now() }), { pacer, clock, policy });
    while (starts.length < 3) await clock.advance(50);
    await Promise.all([throttled, other]);
    expect(starts.map((start) => start.at)).toEqual([0, 0, 100]);
    expect(new Set(starts.slice(1).map((start) => start.request))).toEqual(new Set(['throttled', 'other']));
    expect(pacer.intervalMs).toBeLessThan(100);
  });
});
