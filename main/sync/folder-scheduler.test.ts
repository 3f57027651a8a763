/**
 * The scheduler against an in-memory bucket and a fake clock: failures wait for their backoff
 * (2 s, then 4 s…) and are retried up to the run's attempts, a run-fatal error stops the folder,
 * a paused folder starts nothing, and a cancelled run stops feeding the queue.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CosyncError } from '../../app/result.js';
import { useWorkDir } from '../../test/support/files.js';
import { openMemoryFolder, syncOnce } from '../../test/support/memory-folder.js';

const work = useWorkDir('scheduler');

describe('FolderScheduler', () => {
  it('retries a failing upload after its backoff, shown as an error with its retry time meanwhile', async () => {
    const folder = await openMemoryFolder(work(), 'retry');
    await writeFile(join(folder.root, 'a.txt'), 'a');
    let failures = 1;
    folder.store.onCall = (call) => {
      if (call.operation === 'put' && failures-- > 0) throw new CosyncError('server-unavailable', 'HTTP 503 SlowDown; try again later');
    };
    const sleeps: number[] = [];
    folder.clock.onDidSleep = (ms) => {
      sleeps.push(ms);
      // While it waits, the path shows the error and when it is tried again.
      expect(folder.status.get('f', 'a.txt')?.status).toEqual({ state: 'error', code: 'server-unavailable', message: 'HTTP 503 SlowDown; try again later', retryAt: folder.clock.now() + 2000 });
      queueMicrotask(() => folder.clock.advance(ms));
    };
    const result = await syncOnce(folder);
    expect(sleeps).toEqual([2000]);
    expect(result).toMatchObject({ actionsRun: 2, failed: [] });
    expect(folder.store.objects.get('p/a.txt')?.body.toString()).toBe('a');
    expect(folder.status.get('f', 'a.txt')?.status.state).toBe('synced');
    folder.close();
  });

  it('gives up on a path after the run’s attempts, with the last error, and backs off 2 s then 4 s', async () => {
    const folder = await openMemoryFolder(work(), 'give-up');
    await writeFile(join(folder.root, 'a.txt'), 'a');
    await writeFile(join(folder.root, 'b.txt'), 'b');
    folder.store.onCall = (call) => {
      if (call.operation === 'put' && call.key === 'p/a.txt') throw new CosyncError('access-denied', 'access denied to "p/a.txt" (HTTP 403)');
    };
    const sleeps: number[] = [];
    folder.clock.onDidSleep = (ms) => {
      sleeps.push(ms);
      queueMicrotask(() => folder.clock.advance(ms));
    };
    const result = await syncOnce(folder, { maxAttempts: 3 });
    expect(sleeps).toEqual([2000, 4000]);
    expect(result.failed).toEqual([{ path: 'a.txt', error: { code: 'access-denied', message: 'access denied to "p/a.txt" (HTTP 403)' } }]);
    expect(folder.sync.errors.get('a.txt')?.attempts).toBe(3);
    // The other file is not held up by it.
    expect(folder.store.objects.get('p/b.txt')?.body.toString()).toBe('b');
    folder.close();
  });

  it('a run-fatal error (credentials rejected) stops the folder: the run ends with it, nothing retried', async () => {
    const folder = await openMemoryFolder(work(), 'fatal');
    await writeFile(join(folder.root, 'a.txt'), 'a');
    folder.store.onCall = (call) => {
      if (call.operation === 'put') throw new CosyncError('credentials-rejected', 'the store rejected the access key');
    };
    await expect(syncOnce(folder)).rejects.toThrow(/rejected the access key/);
    expect(folder.sync.problem?.code).toBe('credentials-rejected');
    expect(folder.sync.startPlan()).toMatchObject({ ran: 0 });
    expect(folder.store.calls.filter((call) => call.startsWith('put '))).toHaveLength(1);
    folder.close();
  });

  it('a paused folder starts nothing; resumed, it syncs', async () => {
    const folder = await openMemoryFolder(work(), 'paused');
    await writeFile(join(folder.root, 'a.txt'), 'a');
    await folder.sync.scanLocal();
    folder.sync.pause();
    expect(folder.sync.startPlan()).toMatchObject({ ran: 0, waiting: 0 });
    folder.sync.resume();
    const round = folder.sync.startPlan();
    expect(round.ran).toBe(1);
    await round.finished;
    expect(folder.store.objects.has('p/a.txt')).toBe(true);
    folder.close();
  });

  it('a cancelled run starts no further actions, and leaves them to be planned again', async () => {
    const folder = await openMemoryFolder(work(), 'cancel-feed');
    for (const name of ['a', 'b', 'c', 'd', 'e']) await writeFile(join(folder.root, `${name}.txt`), name);
    const abort = new AbortController();
    folder.store.onCall = (call) => {
      if (call.operation === 'put') abort.abort(new Error('cancelled'));
    };
    await expect(syncOnce(folder, { signal: abort.signal })).rejects.toThrow(/cancelled/);
    // The file queue runs two at a time: the first two were started, the rest never were.
    expect(folder.store.calls.filter((call) => call.startsWith('put ')).length).toBeLessThanOrEqual(2);
    expect(folder.sync.errors.size).toBe(0);
    expect(folder.sync.busy).toBe(false);
    folder.store.onCall = () => undefined;
    await syncOnce(folder);
    expect([...folder.store.objects.keys()].sort()).toEqual(['p/a.txt', 'p/b.txt', 'p/c.txt', 'p/d.txt', 'p/e.txt']);
    folder.close();
  });
  it('an error the policy never retries (no key to decrypt with) is failed at once with its message: no backoff, no second attempt', async () => {
    const folder = await openMemoryFolder(work(), 'never');
    await writeFile(join(folder.root, 'a.txt'), 'a');
    folder.store.onCall = (call) => {
      if (call.operation === 'put') throw new CosyncError('key-not-found', 'no SSE-C key "k1" in the keystore; import it with cosync key import');
    };
    const sleeps: number[] = [];
    folder.clock.onDidSleep = (ms) => {
      sleeps.push(ms);
      queueMicrotask(() => folder.clock.advance(ms));
    };
    const result = await syncOnce(folder, { maxAttempts: 5 });
    expect(sleeps).toEqual([]);
    expect(result.failed).toEqual([{ path: 'a.txt', error: { code: 'key-not-found', message: 'no SSE-C key "k1" in the keystore; import it with cosync key import' } }]);
    expect(folder.sync.errors.get('a.txt')).toMatchObject({ attempts: 1, retryAt: null });
    expect(folder.status.get('f', 'a.txt')?.status).toMatchObject({ state: 'error', code: 'key-not-found', retryAt: null });
    // Held until someone acts: a plan starts nothing for it; asked to retry, it runs again.
    expect(folder.sync.startPlan()).toMatchObject({ ran: 0, waiting: 0, nextRetryAt: undefined });
    folder.store.onCall = () => undefined;
    expect(folder.sync.retryNow('a.txt')).toBe(true);
    await folder.sync.startPlan().finished;
    expect(folder.store.objects.get('p/a.txt')?.body.toString()).toBe('a');
    folder.close();
  });

  it('an error of the whole folder (store unreachable) is the folder’s problem, not a failed path with its own backoff', async () => {
    const folder = await openMemoryFolder(work(), 'folder-scope');
    await writeFile(join(folder.root, 'a.txt'), 'a');
    folder.store.onCall = (call) => {
      if (call.operation === 'put') throw new CosyncError('endpoint-unreachable', 'cannot reach the store (ECONNREFUSED)');
    };
    await expect(syncOnce(folder)).rejects.toThrow(/cannot reach the store/);
    expect(folder.sync.problem?.code).toBe('endpoint-unreachable');
    expect(folder.sync.errors.size).toBe(0);
    expect(folder.status.get('f', 'a.txt')?.status.state).toBe('queued');
    folder.close();
  });
});
