/**
 * The lock between processes: a holder killed with SIGKILL does not block the next one, a live
 * holder that keeps the lock ends in a clear error, and callers in one process take turns. The
 * holder is a separate process running the built helper (test/support/write-child.mjs), killed on
 * what it reports.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useWorkDir } from '../../test/support/files.js';
import { killChild, startWriteChild, waitForLine } from '../../test/support/write-child.js';
import { withFileLock } from './file-lock.js';

const work = useWorkDir('file-lock');
const options = { subject: 'the test file', code: 'busy' } as const;

/** Starts a process that takes the lock; resolves once it holds it. */
async function holder(lockFile: string): Promise<ChildProcessWithoutNullStreams> {
  const child = startWriteChild('hold-lock', lockFile);
  await waitForLine(child, (line) => line === 'holding');
  return child;
}

describe('withFileLock', () => {
  it('takes over at once the lock of a holder killed with SIGKILL', async () => {
    const lockFile = join(work(), 'killed.lock');
    const child = await holder(lockFile);
    await killChild(child);
    expect(await readdir(work())).toContain('killed.lock');
    // waitMs 0: a dead holder is no reason to wait at all.
    expect(await withFileLock(lockFile, { ...options, waitMs: 0 }, async () => 'taken')).toBe('taken');
    expect(await readdir(work())).not.toContain('killed.lock');
  });

  it('a live holder that keeps the lock ends in an error naming it and the way out', async () => {
    const lockFile = join(work(), 'held.lock');
    const child = await holder(lockFile);
    try {
      let ran = false;
      const waiting = withFileLock(lockFile, { ...options, waitMs: 200 }, async () => {
        ran = true;
      });
      await expect(waiting).rejects.toMatchObject({
        code: 'busy',
        message: `the test file is being changed by another cosync process (pid ${child.pid}) that has held its lock for over 200 ms; try again, or delete ${lockFile} if no cosync is running`,
      });
      expect(ran).toBe(false);
    } finally {
      await killChild(child);
    }
  });

  it('a lock naming this process that it does not hold (a reused pid) is stale', async () => {
    const lockFile = join(work(), 'reused.lock');
    await writeFile(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), token: 'from-a-killed-process', takenAt: '' }));
    expect(await withFileLock(lockFile, { ...options, waitMs: 0 }, async () => 'taken')).toBe('taken');
  });

  it('callers in one process take turns', async () => {
    const lockFile = join(work(), 'turns.lock');
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        withFileLock(lockFile, options, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setImmediate(resolve));
          order.push(index);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await readdir(work())).not.toContain('turns.lock');
  });
});
