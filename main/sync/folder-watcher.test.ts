/**
 * FolderWatcher against real temporary folders and real OS watches (inotify on Linux). Only the
 * watch-limit tests inject failing watches: running out of inotify watches cannot be provoked
 * reliably, or without affecting the rest of the machine.
 */
import { EventEmitter } from 'node:events';
import { appendFile, mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderWatcher, type FolderWatcherEvents, type FolderWatcherOptions, type WatchDirectory } from './folder-watcher.js';

/** Short enough to keep the suite quick, long enough that a noisy machine does not split a burst of events. */
const STABILITY_MS = 250;

/** Everything the watcher reported, with when, so tests can check order and timing. */
class Recorder implements FolderWatcherEvents {
  readonly settleCalls: Array<{ at: number; paths: string[] }> = [];
  readonly rescans: Array<{ at: number; reason: string }> = [];
  readonly degrades: Array<{ code: string; message: string }> = [];

  onDidSettle(relativePaths: string[]): void {
    this.settleCalls.push({ at: Date.now(), paths: [...relativePaths] });
  }
  onRescanDue(reason: 'periodic' | 'watch-error' | 'fallback'): void {
    this.rescans.push({ at: Date.now(), reason });
  }
  onDidDegrade(problem: { code: 'watch-limit' | 'watch-failed'; message: string }): void {
    this.degrades.push(problem);
  }

  /** Every settled path, in report order, duplicates kept. */
  get settled(): string[] {
    return this.settleCalls.flatMap((call) => call.paths);
  }
  get callbackCount(): number {
    return this.settleCalls.length + this.rescans.length + this.degrades.length;
  }
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An OS watch that fails to open with `code` for the folders `fails` selects. */
function failingWatches(code: string, fails: (absolutePath: string, call: number) => boolean): { watchDirectory: WatchDirectory; opened: FakeWatch[] } {
  const opened: FakeWatch[] = [];
  let calls = 0;
  return {
    opened,
    watchDirectory: (absolutePath) => {
      if (fails(absolutePath, ++calls)) throw errnoError(code, absolutePath);
      const watch = new FakeWatch(absolutePath);
      opened.push(watch);
      return watch;
    },
  };
}

class FakeWatch extends EventEmitter {
  closed = false;
  constructor(readonly path: string) {
    super();
  }
  close(): void {
    this.closed = true;
  }
}

function errnoError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: watch ${path}`), { code, path });
}

describe('FolderWatcher', () => {
  let root: string;
  let recorder: Recorder;
  let watcher: FolderWatcher | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cosync-watcher-'));
    recorder = new Recorder();
  });

  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    await rm(root, { recursive: true, force: true });
  });

  async function startWatching(options: FolderWatcherOptions = {}): Promise<FolderWatcher> {
    watcher = new FolderWatcher(root, recorder, { stabilityMs: STABILITY_MS, ...options });
    await watcher.start();
    return watcher;
  }

  it('reports a created file once it has settled', { timeout: 15_000 }, async () => {
    await startWatching();
    const written = Date.now();
    await writeFile(join(root, 'report.txt'), 'hello');

    await waitFor('the new file to settle', () => recorder.settled.includes('report.txt'));
    // Never before the quiet window has passed.
    expect(recorder.settleCalls[0]!.at - written).toBeGreaterThanOrEqual(STABILITY_MS);
    await sleep(STABILITY_MS * 3);
    expect(recorder.settled).toEqual(['report.txt']);
    expect(watcher!.pendingCount).toBe(0);
  });

  it('reports a modified file in a subfolder with its relative, slash-separated path', { timeout: 15_000 }, async () => {
    await mkdir(join(root, 'docs', 'notes'), { recursive: true });
    await writeFile(join(root, 'docs', 'notes', 'plan.md'), 'v1');
    await startWatching();

    await appendFile(join(root, 'docs', 'notes', 'plan.md'), ' and v2');

    await waitFor('the change to settle', () => recorder.settled.includes('docs/notes/plan.md'));
    await sleep(STABILITY_MS * 3);
    expect(recorder.settled).toEqual(['docs/notes/plan.md']);
  });

  it('reports a deleted file, and a deleted folder', { timeout: 15_000 }, async () => {
    await mkdir(join(root, 'old'));
    await writeFile(join(root, 'gone.txt'), 'bye');
    await writeFile(join(root, 'old', 'inner.txt'), 'bye too');
    await startWatching();

    await unlink(join(root, 'gone.txt'));
    await rm(join(root, 'old'), { recursive: true });

    await waitFor('the removals to settle', () => ['gone.txt', 'old', 'old/inner.txt'].every((path) => recorder.settled.includes(path)));
    expect(watcher!.pendingCount).toBe(0);
    expect(recorder.rescans).toEqual([]);
    expect(recorder.degrades).toEqual([]);
  });

  it('reports a file written continuously for 3 s once, after the writes stop', { timeout: 20_000 }, async () => {
    await startWatching({ stabilityMs: 500 });
    const path = join(root, 'recording.wav');
    await writeFile(path, '');

    let pendingSeenWhileWriting = 0;
    const stopAt = Date.now() + 3000;
    while (Date.now() < stopAt) {
      await appendFile(path, Buffer.alloc(4096, 1));
      pendingSeenWhileWriting = Math.max(pendingSeenWhileWriting, watcher!.pendingCount);
      await sleep(100);
    }
    const writesStopped = Date.now();
    expect(recorder.settled).toEqual([]);
    expect(pendingSeenWhileWriting).toBe(1);

    await waitFor('the file to settle', () => recorder.settled.length > 0);
    expect(recorder.settleCalls[0]!.at - writesStopped).toBeGreaterThanOrEqual(400);
    // Stays reported exactly once: no late second report from a stale check.
    await sleep(1500);
    expect(recorder.settled).toEqual(['recording.wav']);
    expect(watcher!.pendingCount).toBe(0);
  });

  it('delivers paths that settle together in one call', { timeout: 15_000 }, async () => {
    await startWatching();
    const names = Array.from({ length: 10 }, (_, index) => `batch-${index}.txt`);
    await Promise.all(names.map((name) => writeFile(join(root, name), name)));

    await waitFor('every file to settle', () => names.every((name) => recorder.settled.includes(name)));
    expect(recorder.settleCalls).toHaveLength(1);
    expect([...recorder.settleCalls[0]!.paths].sort()).toEqual([...names].sort());
  });

  // One watch per folder: a renamed folder is reported as its old and new paths (the sync scans
  // the new one whole and drops everything under the old one); files written into it afterwards
  // are reported under the new name, because the new folder is watched once it settles.
  it('reports the old and new paths of a renamed folder, and then watches it under its new name', { timeout: 15_000 }, async () => {
    const files = Array.from({ length: 20 }, (_, index) => `photo-${index}.jpg`);
    await mkdir(join(root, 'holiday'));
    await Promise.all(files.map((name) => writeFile(join(root, 'holiday', name), name)));
    await startWatching();
    expect(watcher!.watchCount).toBe(2);

    await rename(join(root, 'holiday'), join(root, 'holiday 2026'));
    await waitFor('both sides of the rename to settle', () => ['holiday', 'holiday 2026'].every((path) => recorder.settled.includes(path)));
    await sleep(STABILITY_MS * 2);
    // (The moved folder's own watch may also report it under the old prefix: such paths are simply gone.)
    for (const path of recorder.settled) expect(/^holiday(\/|$)|^holiday 2026(\/|$)/.test(path), path).toBe(true);
    expect(watcher!.watchCount).toBe(2);

    await writeFile(join(root, 'holiday 2026', 'new.jpg'), 'new');
    await waitFor('a file in the renamed folder', () => recorder.settled.includes('holiday 2026/new.jpg'));
    expect(watcher!.pendingCount).toBe(0);
  });

  it('watches folders created after start, with their subfolders', { timeout: 15_000 }, async () => {
    await startWatching();
    await mkdir(join(root, 'later', 'deeper'), { recursive: true });
    await waitFor('the new folder to settle', () => recorder.settled.includes('later'));
    await writeFile(join(root, 'later', 'deeper', 'file.txt'), 'x');
    await waitFor('a file two levels into the new folder', () => recorder.settled.includes('later/deeper/file.txt'));
    expect(watcher!.watchCount).toBe(3);
  });

  it('never reports ignored paths, and never asks about the root itself', { timeout: 15_000 }, async () => {
    await mkdir(join(root, 'node_modules', 'pkg'), { recursive: true });
    const asked: Array<{ path: string; isDirectory: boolean | undefined }> = [];
    await startWatching({
      isIgnored: (path, isDirectory) => {
        asked.push({ path, isDirectory });
        return path === 'node_modules' || path.startsWith('node_modules/') || path.endsWith('.tmp');
      },
    });

    await writeFile(join(root, 'node_modules', 'pkg', 'index.js'), 'ignored');
    await mkdir(join(root, 'node_modules', 'another'));
    await writeFile(join(root, 'draft.tmp'), 'ignored');
    await writeFile(join(root, 'kept.txt'), 'reported');

    await waitFor('the kept file to settle', () => recorder.settled.includes('kept.txt'));
    await sleep(STABILITY_MS * 3);
    expect(recorder.settled).toEqual(['kept.txt']);
    expect(asked.map((question) => question.path)).not.toContain('');
    expect(asked.every((question) => !question.path.startsWith('/') && !question.path.includes('\\'))).toBe(true);
    expect(asked).toContainEqual({ path: 'node_modules', isDirectory: true });
  });

  it('falls back to periodic rescans, once, when the watch limit is reached (ENOSPC)', { timeout: 15_000 }, async () => {
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await mkdir(join(root, 'c'));
    // The root and one folder get a watch; the third runs into the limit.
    const watches = failingWatches('ENOSPC', (_path, call) => call >= 3);
    watcher = new FolderWatcher(root, recorder, { stabilityMs: STABILITY_MS, fallbackRescanIntervalMs: 100, recursive: false, watchDirectory: watches.watchDirectory });
    await watcher.start();

    expect(recorder.degrades).toHaveLength(1);
    expect(recorder.degrades[0]!.code).toBe('watch-limit');
    expect(recorder.degrades[0]!.message).toContain('max_user_watches');
    expect(recorder.degrades[0]!.message).toContain('sudo sysctl fs.inotify.max_user_watches=524288');
    expect(recorder.degrades[0]!.message).toContain('/etc/sysctl.d/');
    // Every watch that was opened is closed again: half-watching would miss changes silently.
    expect(watches.opened.length).toBe(2);
    expect(watches.opened.every((watch) => watch.closed)).toBe(true);
    expect(watcher.watchCount).toBe(0);

    await waitFor('three fallback rescans', () => recorder.rescans.filter((rescan) => rescan.reason === 'fallback').length >= 3, 5000);
    expect(recorder.rescans.every((rescan) => rescan.reason === 'fallback')).toBe(true);

    await watcher.close();
    const rescansAtClose = recorder.rescans.length;
    await sleep(300);
    expect(recorder.rescans).toHaveLength(rescansAtClose);
  });

  it('treats EMFILE as the watch limit too, and a folder it may not watch as a failed watch that needs a rescan', { timeout: 15_000 }, async () => {
    const emfile = failingWatches('EMFILE', () => true);
    watcher = new FolderWatcher(root, recorder, { recursive: false, watchDirectory: emfile.watchDirectory });
    await watcher.start();
    expect(recorder.degrades.map((problem) => problem.code)).toEqual(['watch-limit']);
    await watcher.close();

    await mkdir(join(root, 'private'));
    await mkdir(join(root, 'public'));
    const denied = failingWatches('EACCES', (path) => path.endsWith('private'));
    const otherRecorder = new Recorder();
    watcher = new FolderWatcher(root, otherRecorder, { recursive: false, watchDirectory: denied.watchDirectory });
    await watcher.start();

    expect(otherRecorder.degrades).toHaveLength(1);
    expect(otherRecorder.degrades[0]!.code).toBe('watch-failed');
    expect(otherRecorder.degrades[0]!.message).toContain('EACCES');
    expect(otherRecorder.degrades[0]!.message).toContain('private');
    expect(otherRecorder.rescans.map((rescan) => rescan.reason)).toEqual(['watch-error']);
    // The rest is still watched.
    expect(watcher.watchCount).toBe(2);
    expect(denied.opened.every((watch) => !watch.closed)).toBe(true);
  });

  it('a watch that errors (its folder removed) is dropped and its path looked at again', { timeout: 15_000 }, async () => {
    await mkdir(join(root, 'sub'));
    const watches = failingWatches('NONE', () => false);
    watcher = new FolderWatcher(root, recorder, { stabilityMs: STABILITY_MS, recursive: false, watchDirectory: watches.watchDirectory });
    await watcher.start();
    const sub = watches.opened.find((watch) => watch.path.endsWith('sub'))!;
    sub.emit('error', errnoError('EPERM', sub.path));
    expect(sub.closed).toBe(true);
    await waitFor('the folder to be looked at again', () => recorder.settled.includes('sub'));
  });

  it('makes no callbacks after close, even for changes still settling', { timeout: 15_000 }, async () => {
    await startWatching({ rescanIntervalMs: 50 });
    await writeFile(join(root, 'unfinished.txt'), 'half');
    await waitFor('the write to be seen', () => watcher!.pendingCount > 0);

    await watcher!.close();
    const callbacksAtClose = recorder.callbackCount;
    await writeFile(join(root, 'after-close.txt'), 'unseen');
    await sleep(STABILITY_MS * 4);

    expect(recorder.callbackCount).toBe(callbacksAtClose);
    expect(recorder.settled).toEqual([]);
    expect(watcher!.pendingCount).toBe(0);
  });

  it('asks for a periodic rescan at the configured interval', { timeout: 15_000 }, async () => {
    const started = Date.now();
    await startWatching({ rescanIntervalMs: 100 });

    await waitFor('three periodic rescans', () => recorder.rescans.length >= 3, 5000);
    expect(recorder.rescans.every((rescan) => rescan.reason === 'periodic')).toBe(true);
    expect(recorder.rescans[0]!.at - started).toBeGreaterThanOrEqual(90);
    expect(recorder.degrades).toEqual([]);
  });
});
