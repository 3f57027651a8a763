/** The EngineStore: what the window knows, kept current from engine events, announced once a frame. */
import { describe, expect, it, vi } from 'vitest';
import type { EngineEvent } from '../../app/contract.js';
import type { FileStatus } from '../../app/sync-status.js';
import { EngineStore } from './engine-store.js';
import { activity, connectedTransport, deferred, FakeTransport, failure, folder, job, ok, overview, status } from './fake-transport.test-helper.mjs';

/** A schedule function the test runs by hand: frames happen when the test says so. */
function manualFrames() {
  const pending: Array<() => void> = [];
  return {
    schedule: (callback: () => void) => pending.push(callback),
    get pending() {
      return pending.length;
    },
    run(): void {
      for (const callback of pending.splice(0)) callback();
    },
  };
}

/** Lets pending promise callbacks (the transport's answers) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const statusEvent = (changes: FileStatus[], forgotten: Array<{ folderId: string; path: string }> = []): EngineEvent => ({ type: 'status', batch: { changes, forgotten } });

/** A store whose folder f1 holds `list` (sorted by path, as the engine sends it), already loaded. */
async function loadedStore(list: FileStatus[]) {
  const transport = connectedTransport([folder({ id: 'f1' })]).on('sync:files', () => ok(list));
  const frames = manualFrames();
  const store = new EngineStore(transport, frames.schedule);
  await store.connect();
  store.files('f1');
  await settle();
  frames.run();
  return { transport, store, frames };
}

describe('connecting', () => {
  it('reports a failed overview as a failed connection, with the engine’s message', async () => {
    const transport = new FakeTransport({ 'sync:overview': () => failure('The cosync engine does not answer.', 'endpoint-unreachable') });
    const store = new EngineStore(transport, manualFrames().schedule);
    expect(store.getSnapshot().connection).toEqual({ kind: 'connecting' });
    await store.connect();
    expect(store.getSnapshot().connection).toEqual({ kind: 'failed', error: { code: 'endpoint-unreachable', message: 'The cosync engine does not answer.' } });
    expect(store.getSnapshot().overview).toBeUndefined();
  });

  it('loads the overview, jobs and recent activity, and subscribes to events', async () => {
    const transport = new FakeTransport({
      'sync:overview': () => ok(overview([folder({ id: 'f1' })])),
      'sync:jobs': () => ok([job({ id: 'j1' })]),
      'sync:activity': (request) => (request.limit > 0 ? ok([activity({ text: 'started' })]) : failure('bad limit')),
    });
    const store = new EngineStore(transport, manualFrames().schedule);
    await store.connect();
    const snapshot = store.getSnapshot();
    expect(snapshot.connection).toEqual({ kind: 'connected' });
    expect(snapshot.overview?.folders.map((item) => item.id)).toEqual(['f1']);
    expect(snapshot.jobs.map((item) => item.id)).toEqual(['j1']);
    expect(snapshot.activity.map((item) => item.text)).toEqual(['started']);
    expect(transport.listeners.size).toBe(1);
    store.dispose();
    expect(transport.listeners.size).toBe(0);
  });
});

describe('folder files', () => {
  it('loads a folder’s files the first time they are asked for, once', async () => {
    const { store, transport } = await loadedStore([status('f1', 'a.txt', 'synced'), status('f1', 'b.txt', 'queued')]);
    const files = store.files('f1');
    expect(files.loaded).toBe(true);
    expect(files.sortedPaths).toEqual(['a.txt', 'b.txt']);
    expect(files.byPath.get('b.txt')?.status.state).toBe('queued');
    store.files('f1');
    expect(transport.requests('sync:files')).toEqual([{ folderId: 'f1' }]);
  });

  it('keeps the error of a failed load', async () => {
    const transport = connectedTransport([folder({ id: 'f1' })]).on('sync:files', () => failure('Folder f1 is not known', 'usage'));
    const store = new EngineStore(transport, manualFrames().schedule);
    store.files('f1');
    await settle();
    expect(store.files('f1')).toMatchObject({ loaded: true, error: { message: 'Folder f1 is not known' } });
  });

  it('sorts a list the engine did not send sorted', async () => {
    const { store } = await loadedStore([status('f1', 'c', 'synced'), status('f1', 'a', 'synced'), status('f1', 'b', 'synced')]);
    expect(store.files('f1').sortedPaths).toEqual(['a', 'b', 'c']);
  });

  it('applies status batches only to folders whose files were asked for', async () => {
    const { store, transport, frames } = await loadedStore([status('f1', 'a.txt', 'queued')]);
    transport.on('sync:files', (request) => ok(request.folderId === 'f2' ? [status('f2', 'other.txt', 'synced')] : []));

    store.apply(statusEvent([status('f1', 'a.txt', 'synced', 2_000), status('f2', 'event-only.txt', 'queued', 2_000)]));
    frames.run();

    expect(store.files('f1').byPath.get('a.txt')?.status.state).toBe('synced');
    // f2 was never opened: its event was not kept, and opening it loads the engine's list.
    store.files('f2');
    await settle();
    expect([...store.files('f2').byPath.keys()]).toEqual(['other.txt']);
  });

  it('keeps the newer status when events arrive while the list loads (changedAt decides)', async () => {
    const list = deferred<ReturnType<typeof ok<FileStatus[]>>>();
    const transport = connectedTransport([folder({ id: 'f1' })]).on('sync:files', () => list.promise);
    const store = new EngineStore(transport, manualFrames().schedule);
    store.files('f1');
    expect(store.files('f1').loaded).toBe(false);

    // While the list is on its way: a.txt finishes (newer than the list), c.txt is new,
    // and an old event for b.txt (older than the list) arrives late.
    store.apply(statusEvent([status('f1', 'a.txt', 'synced', 300), status('f1', 'c.txt', 'hashing', 300), status('f1', 'b.txt', 'queued', 100)]));
    list.resolve(ok([status('f1', 'a.txt', 'uploading', 200), status('f1', 'b.txt', 'error', 200), status('f1', 'd.txt', 'synced', 200)]));
    await settle();

    const files = store.files('f1');
    expect(files.loaded).toBe(true);
    expect(files.byPath.get('a.txt')).toMatchObject({ changedAt: 300, status: { state: 'synced' } });
    expect(files.byPath.get('b.txt')).toMatchObject({ changedAt: 200, status: { state: 'error' } });
    expect(files.byPath.get('c.txt')?.status.state).toBe('hashing');
    expect(files.sortedPaths).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.txt']);
  });

  it('keeps sortedPaths (same array) on a pure status change, and replaces it when paths come or go', async () => {
    const { store } = await loadedStore([status('f1', 'a', 'queued'), status('f1', 'c', 'queued')]);
    const before = store.files('f1');

    store.apply(statusEvent([status('f1', 'a', 'synced', 2_000)]));
    const changed = store.files('f1');
    expect(changed).not.toBe(before);
    expect(changed.version).toBeGreaterThan(before.version);
    expect(changed.byPath.get('a')?.status.state).toBe('synced');
    expect(changed.sortedPaths).toBe(before.sortedPaths);

    store.apply(statusEvent([status('f1', 'b', 'queued', 3_000)]));
    const added = store.files('f1');
    expect(added.sortedPaths).not.toBe(before.sortedPaths);
    expect(added.sortedPaths).toEqual(['a', 'b', 'c']);

    store.apply(statusEvent([], [{ folderId: 'f1', path: 'a' }]));
    const removed = store.files('f1');
    expect(removed.sortedPaths).not.toBe(added.sortedPaths);
    expect(removed.sortedPaths).toEqual(['b', 'c']);
    expect(removed.byPath.has('a')).toBe(false);

    // Forgetting a path that is not there changes nothing.
    store.apply(statusEvent([], [{ folderId: 'f1', path: 'zzz' }]));
    expect(store.files('f1')).toBe(removed);
  });

  it('measures an upload’s speed from its progress reports, and forgets it when the upload ends', async () => {
    const MiB = 1024 * 1024;
    const { store } = await loadedStore([status('f1', 'big.bin', 'queued', 1_000)]);
    const uploading = (bytesDone: number, at: number) => status('f1', 'big.bin', { state: 'uploading', bytesDone, bytesTotal: 10 * MiB }, at);

    store.apply(statusEvent([uploading(0, 2_000)]));
    expect(store.files('f1').rates.has('big.bin')).toBe(false);
    store.apply(statusEvent([uploading(MiB, 3_000)]));
    expect(store.files('f1').rates.get('big.bin')).toBe(MiB);
    // Smoothed: 3 MiB/s over the last second moves the estimate part of the way.
    store.apply(statusEvent([uploading(4 * MiB, 4_000)]));
    expect(store.files('f1').rates.get('big.bin')).toBeCloseTo(1.8 * MiB);
    store.apply(statusEvent([status('f1', 'big.bin', 'verifying', 5_000)]));
    expect(store.files('f1').rates.has('big.bin')).toBe(false);
  });

  it('drops the files of a folder that left the overview (asking again reloads them)', async () => {
    const { store, transport } = await loadedStore([status('f1', 'a', 'synced')]);
    store.apply({ type: 'overview', overview: overview([]) });
    expect(store.getSnapshot().overview?.folders).toEqual([]);
    store.files('f1');
    expect(transport.requests('sync:files')).toHaveLength(2);
  });
});

describe('notifications', () => {
  it('announces many changes once per frame, with a new snapshot', async () => {
    const { store, frames } = await loadedStore([status('f1', 'a', 'queued')]);
    const listener = vi.fn();
    store.subscribe(listener);
    const before = store.getSnapshot();

    for (let index = 0; index < 1_000; index++) store.apply(statusEvent([status('f1', `file-${index}`, 'queued', 2_000 + index)]));
    store.apply({ type: 'activity', entry: activity({ text: 'uploaded' }) });
    store.apply({ type: 'job', job: job({ id: 'j1' }), event: undefined });

    expect(frames.pending).toBe(1);
    expect(listener).not.toHaveBeenCalled();
    frames.run();
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.getSnapshot()).not.toBe(before);
    expect(store.files('f1').byPath.size).toBe(1_001);

    // The next change asks for the next frame.
    store.apply(statusEvent([status('f1', 'a', 'synced', 9_000)]));
    expect(frames.pending).toBe(1);
    frames.run();
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it('stops announcing to an unsubscribed listener', async () => {
    const { store, frames } = await loadedStore([]);
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    unsubscribe();
    store.apply({ type: 'activity', entry: activity({ text: 'x' }) });
    frames.run();
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('jobs and activity', () => {
  it('keeps one entry per job: a job noted by the UI is updated by its events, not duplicated or rolled back', async () => {
    const { store } = await loadedStore([]);
    store.noteJob(job({ id: 'j1', filesDone: 0 }));
    store.apply({ type: 'job', job: job({ id: 'j1', filesDone: 1, state: 'finished' }), event: undefined });
    // The answer of sync:backup may arrive after the job's first events: it must not roll them back.
    store.noteJob(job({ id: 'j1', filesDone: 0 }));
    expect(store.getSnapshot().jobs).toEqual([job({ id: 'j1', filesDone: 1, state: 'finished' })]);
  });

  it('keeps the last 500 activity entries', async () => {
    const { store } = await loadedStore([]);
    for (let index = 0; index < 600; index++) store.apply({ type: 'activity', entry: activity({ text: `entry ${index}` }) });
    const kept = store.getSnapshot().activity;
    expect(kept).toHaveLength(500);
    expect(kept[0]?.text).toBe('entry 100');
    expect(kept.at(-1)?.text).toBe('entry 599');
  });

  it('refresh() replaces the overview', async () => {
    const { store, transport } = await loadedStore([]);
    transport.on('sync:overview', () => ok(overview([folder({ id: 'f1' }), folder({ id: 'f2' })], { paused: true })));
    await store.refresh();
    expect(store.getSnapshot().overview).toMatchObject({ paused: true, folders: [{ id: 'f1' }, { id: 'f2' }] });
  });
});
