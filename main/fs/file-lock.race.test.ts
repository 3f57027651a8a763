/**
 * The interleaving that once lost a config change (20 `cosync folder add/resume` at once, one
 * folder missing afterwards), made deterministic by fault injection at the OS edge:
 *
 *   1. a waiter reads the lock: holder A's;
 *   2. A releases it normally and exits, and B takes the lock (between the waiter's read and its
 *      liveness check of A — a moment on a loaded machine);
 *   3. the waiter finds A dead and judges "the lock" stale — but the lock in place is B's, live;
 *   4. had the waiter moved it aside, C would take the free name at once (here: on any rename of
 *      the lock file), B's lock could not be put back, and B and C would both change the file.
 *
 * The pids are made up; which ones are alive is what the faked liveness check says.
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useWorkDir } from '../../test/support/files.js';
import { withFileLock } from './file-lock.js';

const PID = { a: 4_000_001, b: 4_000_002, c: 4_000_003 } as const;

const injected = vi.hoisted(() => ({
  /** Run once when the waiter checks whether A is alive (step 2). */
  onLivenessCheckOfA: undefined as (() => void) | undefined,
  /** Run right after any rename away from this path (step 4). */
  onRenameFrom: new Map<string, () => void>(),
}));

vi.mock('./process-alive.js', () => ({
  isProcessAlive: (pid: number): boolean => {
    if (pid === 4_000_001) {
      const step = injected.onLivenessCheckOfA;
      injected.onLivenessCheckOfA = undefined;
      step?.();
      return false;
    }
    return pid === 4_000_002 || pid === 4_000_003;
  },
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    rename: async (from: string, to: string): Promise<void> => {
      await actual.rename(from, to);
      injected.onRenameFrom.get(from)?.();
    },
  };
});

const work = useWorkDir('file-lock-race');

/** Writes a lock record whole, as a holder would (link of a finished file). */
function takeLock(lockFile: string, pid: number, token: string): void {
  const draft = `${lockFile}.${token}`;
  writeFileSync(draft, JSON.stringify({ pid, host: hostname(), token, takenAt: new Date().toISOString() }));
  linkSync(draft, lockFile);
  unlinkSync(draft);
}

describe('withFileLock under a released-and-exited holder', () => {
  it('a waiter that saw a holder which then released and exited leaves the next, live holder its lock', async () => {
    const lockFile = join(work(), 'config.json.lock');
    takeLock(lockFile, PID.a, 'token-a');
    injected.onLivenessCheckOfA = () => {
      unlinkSync(lockFile);
      takeLock(lockFile, PID.b, 'token-b');
    };
    injected.onRenameFrom.set(lockFile, () => takeLock(lockFile, PID.c, 'token-c'));

    let ran = false;
    const waiting = withFileLock(lockFile, { subject: 'the config', code: 'busy', waitMs: 200 }, async () => {
      ran = true;
    });
    // B keeps its lock: the waiter ends waiting for B, never running alongside it.
    await expect(waiting).rejects.toMatchObject({ code: 'busy', message: expect.stringContaining(`(pid ${PID.b})`) as unknown });
    expect(ran).toBe(false);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: PID.b, token: 'token-b' });
  });

  it('a lock whose holder is dead is still taken over, and no break lock is left behind', async () => {
    const lockFile = join(work(), 'dead.lock');
    takeLock(lockFile, PID.a, 'token-dead');
    expect(await withFileLock(lockFile, { subject: 'the config', code: 'busy', waitMs: 0 }, async () => 'taken')).toBe('taken');
    expect(() => readFileSync(`${lockFile}.break`)).toThrow(/ENOENT/);
    expect(() => readFileSync(lockFile)).toThrow(/ENOENT/);
  });

  it('a break lock left by a waiter that died while breaking is removed too, and the lock of the dead holder then taken over', async () => {
    const lockFile = join(work(), 'both.lock');
    takeLock(lockFile, PID.a, 'token-dead-holder');
    takeLock(`${lockFile}.break`, PID.a, 'token-dead-breaker');
    expect(await withFileLock(lockFile, { subject: 'the config', code: 'busy', waitMs: 0 }, async () => 'taken')).toBe('taken');
    expect(() => readFileSync(`${lockFile}.break`)).toThrow(/ENOENT/);
  });
});
