import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isValidTransition, type FileStateName, type FileSyncState, type StatusBatch } from '../../app/sync-status.js';
import { StatusTracker } from './status-tracker.js';

const queued: FileSyncState = { state: 'queued' };
const hashing: FileSyncState = { state: 'hashing' };
const verifying: FileSyncState = { state: 'verifying' };
const synced: FileSyncState = { state: 'synced' };
const uploading = (bytesDone: number, bytesTotal = 1000): FileSyncState => ({ state: 'uploading', bytesDone, bytesTotal });
const failed: FileSyncState = { state: 'error', code: 'NetworkError', message: 'connection reset', retryAt: 5000 };

/** A listener that keeps every batch it receives. */
function recorder(): { batches: StatusBatch[]; listener: (batch: StatusBatch) => void } {
  const batches: StatusBatch[] = [];
  return { batches, listener: (batch) => batches.push(batch) };
}

/** The batch at `index` (negative counts from the end), failing the test when there is none. */
function batchAt(batches: StatusBatch[], index: number): StatusBatch {
  const batch = batches.at(index);
  if (batch === undefined) throw new Error(`no batch at ${index} (got ${batches.length})`);
  return batch;
}

describe('isValidTransition', () => {
  it('follows the state machine', () => {
    const valid: Array<[FileStateName | undefined, FileStateName]> = [
      [undefined, 'queued'],
      [undefined, 'synced'],
      [undefined, 'ignored'],
      [undefined, 'conflict'],
      [undefined, 'error'],
      ['queued', 'hashing'],
      ['hashing', 'uploading'],
      ['uploading', 'uploading'], // progress
      ['uploading', 'verifying'],
      ['verifying', 'synced'],
      ['verifying', 'error'],
      ['error', 'queued'], // retry
      ['synced', 'queued'], // changed again
      ['uploading', 'queued'], // changed again mid-upload
      ['synced', 'ignored'],
      ['hashing', 'conflict'],
      [undefined, 'hashing'], // a large new file, hashed by the first scan
      ['synced', 'hashing'], // changed: hashed again to tell a change from a touch
      ['error', 'hashing'],
    ];
    const invalid: Array<[FileStateName | undefined, FileStateName]> = [
      [undefined, 'uploading'],
      [undefined, 'verifying'],
      ['synced', 'uploading'],
      ['synced', 'error'],
      ['error', 'uploading'],
      ['verifying', 'hashing'],
    ];
    for (const [from, to] of valid) expect(isValidTransition(from, to), `${from} → ${to}`).toBe(true);
    for (const [from, to] of invalid) expect(isValidTransition(from, to), `${from} → ${to}`).toBe(false);
  });
});

describe('StatusTracker', () => {
  let tracker: StatusTracker;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    tracker = new StatusTracker();
  });

  afterEach(() => {
    tracker.dispose();
    vi.useRealTimers();
  });

  it('delivers at most 10 batches a second under 10,000 updates in 2 s, the last with every final state', () => {
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    const paths = Array.from({ length: 10 }, (_, index) => `big/file-${index}.bin`);
    for (const path of paths) tracker.set('f1', path, queued);
    let update = 0;
    // 5 progress updates every simulated millisecond, round-robin over the paths, so each path
    // also changes within the last interval.
    for (let millisecond = 0; millisecond < 2000; millisecond++) {
      for (let i = 0; i < 5; i++, update++) tracker.set('f1', paths[update % paths.length] ?? '', uploading(update, 10_000));
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(1000); // lets the trailing batch out
    expect(update).toBe(10_000);
    expect(batches.length).toBeGreaterThanOrEqual(19);
    expect(batches.length).toBeLessThanOrEqual(21);
    const last = batchAt(batches, -1);
    expect(last.changes.map((change) => change.path).sort()).toEqual([...paths].sort());
    for (const change of last.changes) expect(change).toEqual(tracker.get('f1', change.path));
    for (const batch of batches) expect(new Set(batch.changes.map((change) => change.path)).size).toBe(batch.changes.length);
    // Nothing left behind and no timers pending once quiet.
    tracker.flush();
    expect(batches.length).toBeLessThanOrEqual(21);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('honours a lower maxBatchesPerSecond', () => {
    tracker.dispose();
    tracker = new StatusTracker({ maxBatchesPerSecond: 2 });
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.set('f1', 'a.txt', queued);
    for (let millisecond = 0; millisecond < 3000; millisecond += 10) {
      tracker.set('f1', 'a.txt', uploading(millisecond));
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(1000);
    // Leading batch at 0, then one per 500 ms: 0, 500, …, 2500, plus the trailing one at 3000.
    expect(batches.length).toBeLessThanOrEqual(7);
    expect(batchAt(batches, -1).changes).toEqual([tracker.get('f1', 'a.txt')]);
  });

  it('delivers the first change after a quiet spell promptly', () => {
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.set('f1', 'a.txt', queued);
    vi.advanceTimersByTime(0);
    expect(batches).toHaveLength(1);
    vi.advanceTimersByTime(10_000); // idle
    tracker.set('f1', 'b.txt', queued);
    vi.advanceTimersByTime(0);
    expect(batches).toHaveLength(2);
    expect(batchAt(batches, 1).changes.map((change) => change.path)).toEqual(['b.txt']);
    // A second change right after waits for the interval instead of making a batch of its own.
    tracker.set('f1', 'c.txt', queued);
    vi.advanceTimersByTime(50);
    expect(batches).toHaveLength(2);
    vi.advanceTimersByTime(50);
    expect(batches).toHaveLength(3);
  });

  it('coalesces each path to its newest status, one entry per path', () => {
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.set('f1', 'a.txt', queued);
    tracker.set('f1', 'a.txt', hashing);
    for (let done = 0; done <= 100_000; done += 1) tracker.set('f1', 'a.txt', uploading(done, 100_000));
    tracker.set('f1', 'b.txt', queued);
    tracker.set('f2', 'a.txt', queued); // same path, other folder: a separate entry
    tracker.flush();
    expect(batches).toHaveLength(1);
    const changes = batchAt(batches, 0).changes;
    expect(changes).toHaveLength(3);
    expect(changes.find((change) => change.folderId === 'f1' && change.path === 'a.txt')?.status).toEqual(uploading(100_000, 100_000));
    expect(changes.find((change) => change.folderId === 'f2')?.status).toEqual(queued);
  });

  it('reports a path set then forgotten within one batch only as forgotten', () => {
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.set('f1', 'gone.txt', queued);
    tracker.set('f1', 'kept.txt', queued);
    tracker.forget('f1', 'gone.txt');
    tracker.flush();
    expect(batchAt(batches, 0).changes.map((change) => change.path)).toEqual(['kept.txt']);
    expect(batchAt(batches, 0).forgotten).toEqual([{ folderId: 'f1', path: 'gone.txt' }]);
    expect(tracker.get('f1', 'gone.txt')).toBeUndefined();
  });

  it('reports a path forgotten then set again within one batch only as changed', () => {
    tracker.set('f1', 'back.txt', synced);
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.forget('f1', 'back.txt');
    tracker.set('f1', 'back.txt', queued);
    tracker.flush();
    expect(batchAt(batches, 0).forgotten).toEqual([]);
    expect(batchAt(batches, 0).changes).toEqual([expect.objectContaining({ folderId: 'f1', path: 'back.txt', status: queued })]);
  });

  it('keeps a pending set per subscriber; a later subscriber gets no older changes', () => {
    const early = recorder();
    const late = recorder();
    tracker.subscribe(early.listener);
    tracker.set('f1', 'old.txt', queued);
    tracker.subscribe(late.listener);
    tracker.set('f1', 'new.txt', queued);
    tracker.flush();
    expect(batchAt(early.batches, 0).changes.map((change) => change.path)).toEqual(['old.txt', 'new.txt']);
    expect(batchAt(late.batches, 0).changes.map((change) => change.path)).toEqual(['new.txt']);
    // The late one can still see everything through list().
    expect(tracker.list('f1').map((status) => status.path)).toEqual(['new.txt', 'old.txt']);
  });

  it('paces subscribers independently: a new one gets its first batch promptly while an old one waits', () => {
    const busy = recorder();
    tracker.subscribe(busy.listener);
    tracker.set('f1', 'a.txt', queued);
    vi.advanceTimersByTime(10); // busy's leading batch went out at 0; its next may not before 100
    expect(busy.batches).toHaveLength(1);
    const fresh = recorder();
    tracker.subscribe(fresh.listener);
    tracker.set('f1', 'b.txt', queued);
    vi.advanceTimersByTime(0);
    expect(fresh.batches).toHaveLength(1);
    expect(busy.batches).toHaveLength(1);
    vi.advanceTimersByTime(90);
    expect(busy.batches).toHaveLength(2);
    expect(batchAt(busy.batches, 1).changes.map((change) => change.path)).toEqual(['b.txt']);
  });

  it('stops delivering to a disposed subscription, and to nobody after tracker.dispose()', () => {
    const gone = recorder();
    const stays = recorder();
    const subscription = tracker.subscribe(gone.listener);
    tracker.subscribe(stays.listener);
    tracker.set('f1', 'a.txt', queued);
    subscription.dispose();
    vi.advanceTimersByTime(1000);
    tracker.flush();
    expect(gone.batches).toHaveLength(0);
    expect(stays.batches).toHaveLength(1);

    tracker.set('f1', 'a.txt', hashing);
    tracker.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    tracker.flush();
    expect(stays.batches).toHaveLength(1);
    // The statuses themselves are still readable.
    expect(tracker.get('f1', 'a.txt')?.status).toEqual(hashing);
  });

  it('keeps counts right across transitions, folders, forget and forgetFolder', () => {
    const zero = { queued: 0, hashing: 0, uploading: 0, verifying: 0, synced: 0, error: 0, ignored: 0, conflict: 0 };
    expect(tracker.counts('f1')).toEqual(zero);
    tracker.set('f1', 'a.txt', queued);
    tracker.set('f1', 'b.txt', queued);
    tracker.set('f1', 'c.txt', { state: 'ignored', reason: 'matches *.tmp' });
    tracker.set('f2', 'a.txt', synced);
    expect(tracker.counts('f1')).toEqual({ ...zero, queued: 2, ignored: 1 });
    tracker.set('f1', 'a.txt', hashing);
    tracker.set('f1', 'a.txt', uploading(10));
    tracker.set('f1', 'a.txt', uploading(20)); // same state again: counted once
    expect(tracker.counts('f1')).toEqual({ ...zero, queued: 1, uploading: 1, ignored: 1 });
    tracker.set('f1', 'a.txt', verifying);
    tracker.set('f1', 'a.txt', synced);
    tracker.set('f1', 'b.txt', hashing);
    tracker.set('f1', 'b.txt', failed);
    expect(tracker.counts('f1')).toEqual({ ...zero, synced: 1, error: 1, ignored: 1 });
    tracker.forget('f1', 'c.txt');
    tracker.forget('f1', 'never-seen.txt'); // no-op
    expect(tracker.counts('f1')).toEqual({ ...zero, synced: 1, error: 1 });
    expect(tracker.counts('f2')).toEqual({ ...zero, synced: 1 });
    // The counts returned are a snapshot, not the live record.
    const snapshot = tracker.counts('f1');
    tracker.set('f1', 'b.txt', queued);
    expect(snapshot.error).toBe(1);

    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.forgetFolder('f1');
    expect(tracker.counts('f1')).toEqual(zero);
    expect(tracker.list('f1')).toEqual([]);
    expect(tracker.counts('f2')).toEqual({ ...zero, synced: 1 });
    tracker.flush();
    expect([...batchAt(batches, 0).forgotten].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { folderId: 'f1', path: 'a.txt' },
      { folderId: 'f1', path: 'b.txt' },
    ]);
    expect(tracker.invalidTransitions).toBe(0);
  });

  it('refuses invalid transitions (and counts them), leaving the path as it was', () => {
    // A whole lifecycle with a retry and a change after syncing is all valid.
    tracker.set('f1', 'a.txt', queued);
    tracker.set('f1', 'a.txt', hashing);
    tracker.set('f1', 'a.txt', uploading(0));
    tracker.set('f1', 'a.txt', failed);
    tracker.set('f1', 'a.txt', queued);
    tracker.set('f1', 'a.txt', hashing);
    tracker.set('f1', 'a.txt', uploading(500));
    tracker.set('f1', 'a.txt', uploading(1000));
    tracker.set('f1', 'a.txt', verifying);
    tracker.set('f1', 'a.txt', synced);
    tracker.set('f1', 'a.txt', queued);
    tracker.set('f1', 'a.txt', { state: 'conflict', message: 'changed on both sides' });
    expect(tracker.invalidTransitions).toBe(0);

    tracker.set('f1', 'b.txt', uploading(1)); // a new path cannot start mid-upload
    tracker.set('f1', 'c.txt', synced);
    tracker.set('f1', 'c.txt', verifying); // synced must be hashed or queued first
    expect(tracker.invalidTransitions).toBe(2);
    expect(tracker.get('f1', 'b.txt')).toBeUndefined();
    expect(tracker.get('f1', 'c.txt')?.status).toEqual(synced);
    expect(tracker.counts('f1')).toMatchObject({ verifying: 0, synced: 1, uploading: 0 });
    // The refused changes reach no subscriber either: the window never shows a state the machine forbids.
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.set('f1', 'c.txt', { state: 'error', code: 'internal', message: 'x', retryAt: null }); // synced → error: not without being queued
    tracker.flush();
    expect(batches).toHaveLength(0);
  });

  it('keeps one state per folder and tells listeners of each change once', () => {
    const changes: string[] = [];
    const subscription = tracker.onDidChangeFolderState(({ folderId, state }) => changes.push(`${folderId}:${state.state}`));
    expect(tracker.folderState('f1')).toEqual({ state: 'idle' });
    tracker.setFolderState('f1', { state: 'scanning' });
    tracker.setFolderState('f1', { state: 'scanning' }); // no change: not told again
    tracker.setFolderState('f1', { state: 'syncing', actions: 3 });
    tracker.setFolderState('f1', { state: 'syncing', actions: 2 });
    tracker.setFolderState('f2', { state: 'error', code: 'path-not-found', message: 'gone' });
    expect(changes).toEqual(['f1:scanning', 'f1:syncing', 'f1:syncing', 'f2:error']);
    expect(tracker.folderState('f2')).toEqual({ state: 'error', code: 'path-not-found', message: 'gone' });
    tracker.forgetFolder('f2');
    expect(tracker.folderState('f2')).toEqual({ state: 'idle' });
    subscription.dispose();
    tracker.setFolderState('f1', { state: 'idle' });
    expect(changes).toHaveLength(4);
  });

  it('flush delivers pending batches at once, and then the interval applies again', () => {
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.flush(); // nothing pending: no empty batch
    expect(batches).toHaveLength(0);
    tracker.set('f1', 'a.txt', queued);
    tracker.flush();
    expect(batches).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    tracker.set('f1', 'a.txt', hashing);
    vi.advanceTimersByTime(99);
    expect(batches).toHaveLength(1);
    tracker.flush();
    expect(batches).toHaveLength(2);
    expect(batchAt(batches, 1).changes).toEqual([expect.objectContaining({ status: hashing })]);
  });

  it('stamps each status with the clock passed in and lists a folder sorted by path', () => {
    let clock = 1_000;
    tracker.dispose();
    tracker = new StatusTracker({ now: () => clock });
    tracker.set('f1', 'b/z.txt', queued);
    clock = 2_000;
    tracker.set('f1', 'a.txt', synced);
    tracker.set('f1', 'b/a.txt', queued);
    tracker.set('f2', 'a.txt', queued);
    expect(tracker.get('f1', 'b/z.txt')).toEqual({ folderId: 'f1', path: 'b/z.txt', status: queued, changedAt: 1_000 });
    expect(tracker.get('f1', 'a.txt')?.changedAt).toBe(2_000);
    expect(tracker.get('f3', 'a.txt')).toBeUndefined();
    expect(tracker.list('f1').map((status) => status.path)).toEqual(['a.txt', 'b/a.txt', 'b/z.txt']);
    expect(tracker.list('f3')).toEqual([]);
  });

  it('isolates a throwing listener from the tracker and from other subscribers', () => {
    let calls = 0;
    tracker.subscribe(() => {
      calls++;
      throw new Error('listener bug');
    });
    const { batches, listener } = recorder();
    tracker.subscribe(listener);
    tracker.set('f1', 'a.txt', queued);
    expect(() => vi.advanceTimersByTime(0)).not.toThrow();
    expect(batches).toHaveLength(1);
    tracker.set('f1', 'a.txt', hashing);
    expect(() => tracker.flush()).not.toThrow();
    expect(batches).toHaveLength(2);
    expect(calls).toBe(2); // it keeps receiving batches
    expect(tracker.listenerFailures).toBe(2);
    expect(tracker.get('f1', 'a.txt')?.status).toEqual(hashing);
  });

  it('lets a listener change states or unsubscribe while being called', () => {
    const { batches, listener } = recorder();
    const subscription = tracker.subscribe((batch) => {
      listener(batch);
      if (batch.changes.some((change) => change.status.state === 'queued')) tracker.set('f1', 'a.txt', hashing);
    });
    const other = recorder();
    const selfRemoving = tracker.subscribe(() => selfRemoving.dispose());
    tracker.subscribe(other.listener);
    tracker.set('f1', 'a.txt', queued);
    tracker.flush();
    expect(other.batches).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(batches.map((batch) => batch.changes.map((change) => change.status.state))).toEqual([['queued'], ['hashing']]);
    subscription.dispose();
  });
});

describe('StatusTracker timers', () => {
  it('never keeps the process alive (its timers are unref’d)', () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const tracker = new StatusTracker();
    try {
      tracker.subscribe(() => {});
      tracker.set('f1', 'a.txt', queued);
      const timers = setTimeoutSpy.mock.results.map((result) => result.value as NodeJS.Timeout);
      expect(timers.length).toBeGreaterThan(0);
      for (const timer of timers) expect(timer.hasRef()).toBe(false);
    } finally {
      tracker.dispose();
      setTimeoutSpy.mockRestore();
    }
  });
});
