/**
 * The Clock port of the sync pipeline (retry backoff, rename grace): the same port as the
 * remote/transfer waits (main/remote/wait-clock.ts), but its `now()` is wall-clock time, since the
 * journal stores retry times as dates. Unit tests pass test/support/fake-clock.ts.
 */
import { abortableSleep, type WaitClock } from '../remote/wait-clock.js';

export type Clock = WaitClock;

/** The real clock. */
export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), sleep: abortableSleep };
