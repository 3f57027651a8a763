/**
 * Watches one sync folder and reports paths once their changes have settled, so that a file
 * still being written is uploaded once, after the writer is done.
 *
 * How it watches: one `fs.watch` per folder on Linux (inotify reports creations, changes,
 * deletions and renames of every entry of a watched folder), one recursive `fs.watch` of the root
 * on macOS and Windows (FSEvents / ReadDirectoryChangesW do the whole tree natively). Not chokidar:
 * chokidar 5 also watches every file on its own, and on a tree of 100,000 files in 1,000 folders
 * that measured 912 MB and 13 s before it was ready, against 51 MB and 0.2 s for a watch per folder.
 *
 * When it reports: every event (re)arms a quiet timer for its path; when it fires, the path is
 * stat'ed and reported once two stats agree (files), or at once for folders and vanished paths.
 * Paths settling together are reported together. A folder that appears is watched (with all its
 * subfolders); one that disappears stops being watched.
 *
 * When the OS watch limit is reached (inotify ENOSPC) watching stops, with a message saying how
 * to raise the limit, and the folder is rescanned periodically instead. A periodic full rescan
 * runs in any case, as a safety net for events a watcher can miss (e.g. a queue overflow).
 */
import { readdirSync, watch as fsWatch } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { mayBeUndecodable } from '../transfer/file-names.js';

/** One OS watch; the subset of fs.FSWatcher this module uses. */
export interface DirectoryWatch {
  close(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Starts one OS watch (tests inject failures such as ENOSPC through this). */
export type WatchDirectory = (absolutePath: string, recursive: boolean, listener: (eventType: string, filename: string | null) => void) => DirectoryWatch;

export interface FolderWatcherOptions {
  /** Quiet time before a path counts as settled (default 1000 ms). */
  readonly stabilityMs?: number;
  /** Full-rescan safety net (default 10 minutes). */
  readonly rescanIntervalMs?: number;
  /** Rescan interval when watching is impossible (default 1 minute). */
  readonly fallbackRescanIntervalMs?: number;
  /** Paths (relative, '/'-separated) not to watch or report; isDirectory is undefined when not known. */
  readonly isIgnored?: (relativePath: string, isDirectory: boolean | undefined) => boolean;
  readonly watchDirectory?: WatchDirectory;
  /** Watch the root recursively with one OS watch (default: on macOS and Windows). */
  readonly recursive?: boolean;
}

export interface FolderWatcherEvents {
  /** Settled paths (relative to the root, '/'-separated): added, changed or removed files and folders. */
  onDidSettle(relativePaths: string[]): void;
  onRescanDue(reason: 'periodic' | 'watch-error' | 'fallback'): void;
  onDidDegrade(problem: { code: 'watch-limit' | 'watch-failed'; message: string }): void;
}

interface Pending {
  timer: NodeJS.Timeout;
  lastStat: string | undefined;
}

/** Paths settling within this long of each other are delivered in one call. */
const GATHER_MS = 50;

const defaultWatchDirectory: WatchDirectory = (absolutePath, recursive, listener) =>
  // Not persistent: what keeps a daemon alive is its server, not its watches.
  fsWatch(absolutePath, { recursive, persistent: false, encoding: 'utf8' }, (eventType, filename) => listener(eventType, filename));

export class FolderWatcher {
  readonly #stabilityMs: number;
  readonly #pending = new Map<string, Pending>();
  readonly #settled = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Watched folders by relative path ('' is the root). */
  readonly #watches = new Map<string, DirectoryWatch>();
  readonly #watchDirectory: WatchDirectory;
  readonly #recursive: boolean;
  #gatherTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #degraded = false;

  constructor(
    readonly root: string,
    private readonly events: FolderWatcherEvents,
    private readonly options: FolderWatcherOptions = {},
  ) {
    this.#stabilityMs = options.stabilityMs ?? 1000;
    this.#watchDirectory = options.watchDirectory ?? defaultWatchDirectory;
    this.#recursive = options.recursive ?? (process.platform === 'darwin' || process.platform === 'win32');
  }

  /** Paths with changes not yet settled. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** How many OS watches are open (one per folder on Linux). */
  get watchCount(): number {
    return this.#watches.size;
  }

  /** Starts watching; throws if the root itself cannot be watched for a reason other than the watch limit. */
  async start(): Promise<void> {
    if (this.#recursive) this.#watch('', true);
    else this.#watchTree('');
    this.#every(this.options.rescanIntervalMs ?? 10 * 60_000, () => this.events.onRescanDue('periodic'));
  }

  #isIgnored(path: string, isDirectory: boolean | undefined): boolean {
    return path !== '' && (this.options.isIgnored?.(path, isDirectory) ?? false);
  }

  /** Watches a folder and, on Linux, every folder below it that is not ignored. */
  #watchTree(relativeDirectory: string): void {
    const pending = [relativeDirectory];
    while (pending.length > 0 && !this.#closed && !this.#degraded) {
      const directory = pending.pop() as string;
      if (this.#watches.has(directory) || !this.#watch(directory, false)) continue;
      let entries;
      try {
        entries = readdirSync(directory === '' ? this.root : join(this.root, directory), { withFileTypes: true });
      } catch {
        continue; // Gone or unreadable meanwhile: its own watch (or the scanner) reports it.
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue; // symbolic links are not followed
        // A folder whose name is not UTF-8 reads back with U+FFFD and cannot be opened by that
        // name: the scanner reports it (nothing in it is synced), so it is not watched either. (A
        // valid name holding U+FFFD itself is skipped too: its changes are found by rescans.)
        if (mayBeUndecodable(entry.name)) continue;
        const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
        if (!this.#isIgnored(path, true)) pending.push(path);
      }
    }
  }

  /** Opens one OS watch; false when it could not be opened. */
  #watch(directory: string, recursive: boolean): boolean {
    const absolute = directory === '' ? this.root : join(this.root, directory);
    let handle: DirectoryWatch;
    try {
      handle = this.#watchDirectory(absolute, recursive, (_eventType, filename) => this.#onEvent(directory, filename));
    } catch (error) {
      this.#onError(directory, error as NodeJS.ErrnoException);
      return false;
    }
    handle.on('error', (error) => {
      // The folder went away (or became unreadable): stop watching it and look at it again.
      this.#unwatch(directory);
      if (!this.#closed) this.#touch(directory);
      void error;
    });
    this.#watches.set(directory, handle);
    return true;
  }

  /** Stops watching a folder and everything below it. */
  #unwatch(directory: string): void {
    for (const [path, handle] of this.#watches) {
      if (directory === '' || path === directory || path.startsWith(`${directory}/`)) {
        handle.close();
        this.#watches.delete(path);
      }
    }
  }

  #onEvent(directory: string, filename: string | null): void {
    if (this.#closed) return;
    if (filename === null || filename === '') {
      // The OS could not say what changed (e.g. its event queue overflowed): look at everything.
      this.events.onRescanDue('watch-error');
      return;
    }
    const name = sep === '/' ? filename : filename.split(sep).join('/');
    const path = directory === '' ? name : `${directory}/${name}`;
    if (!this.#isIgnored(path, undefined)) this.#touch(path);
    // A watched folder that is moved or deleted reports its own name: look at the folder itself too.
    if (directory !== '' && !this.#recursive && name === directory.slice(directory.lastIndexOf('/') + 1)) this.#touch(directory);
  }

  #every(intervalMs: number, action: () => void): void {
    const timer = setInterval(() => {
      if (!this.#closed) action();
    }, intervalMs);
    timer.unref();
    this.#timers.add(timer);
  }

  #onError(directory: string, error: NodeJS.ErrnoException): void {
    if (this.#closed || this.#degraded) return;
    if (error.code === 'ENOSPC' || error.code === 'EMFILE') {
      this.#degraded = true;
      const interval = this.options.fallbackRescanIntervalMs ?? 60_000;
      const every = interval >= 60_000 ? `${Math.round(interval / 60_000)} minute${Math.round(interval / 60_000) === 1 ? '' : 's'}` : `${Math.max(1, Math.round(interval / 1000))} s`;
      this.events.onDidDegrade({
        code: 'watch-limit',
        message:
          `the system limit on watched folders was reached (inotify max_user_watches); cosync falls back to rescanning every ${every}. ` +
          'Fix: sudo sysctl fs.inotify.max_user_watches=524288 (add it to /etc/sysctl.d/ to keep it)',
      });
      this.#unwatch('');
      this.#every(interval, () => this.events.onRescanDue('fallback'));
      this.events.onRescanDue('fallback');
      return;
    }
    if (directory === '' && this.#watches.size === 0) throw Object.assign(new Error(`cannot watch ${this.root}: ${error.code ?? error.message}`), { code: error.code });
    this.events.onDidDegrade({ code: 'watch-failed', message: `cannot watch ${join(this.root, directory)} (${error.code ?? error.message}); changes there are found by rescans` });
    this.events.onRescanDue('watch-error');
  }

  /** An event for a path: (re)start its quiet window. */
  #touch(path: string): void {
    const pending = this.#pending.get(path);
    if (pending !== undefined) clearTimeout(pending.timer);
    // A fresh entry: a check still waiting on its stat sees it was superseded, and any earlier stat is void.
    this.#pending.set(path, { timer: this.#arm(path, this.#stabilityMs), lastStat: undefined });
  }

  #arm(path: string, delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => void this.#check(path), delayMs);
    timer.unref();
    return timer;
  }

  /** The quiet window passed: settled if the path is gone, a folder, or looks the same as a moment ago. */
  async #check(path: string): Promise<void> {
    const entry = this.#pending.get(path);
    if (entry === undefined || this.#closed) return;
    let signature: string | undefined;
    try {
      const info = await lstat(path === '' ? this.root : join(this.root, path));
      signature = info.isDirectory() ? 'directory' : `${info.size}:${info.mtimeMs}`;
    } catch {
      signature = undefined;
    }
    if (this.#pending.get(path) !== entry || this.#closed) return; // a newer event took over
    if (signature !== undefined && signature !== 'directory' && signature !== entry.lastStat) {
      entry.lastStat = signature;
      clearTimeout(entry.timer);
      entry.timer = this.#arm(path, Math.min(this.#stabilityMs, 250));
      return;
    }
    this.#pending.delete(path);
    if (!this.#recursive && !this.#degraded) {
      // A folder that appeared (created, or moved in) is watched; one that went away is not.
      if (signature === 'directory') {
        if (!this.#isIgnored(path, true)) this.#watchTree(path);
      } else {
        this.#unwatch(path);
      }
    }
    this.#settled.add(path);
    if (this.#gatherTimer === undefined) {
      this.#gatherTimer = setTimeout(() => {
        this.#gatherTimer = undefined;
        const paths = [...this.#settled];
        this.#settled.clear();
        if (!this.#closed && paths.length > 0) this.events.onDidSettle(paths);
      }, GATHER_MS);
      this.#gatherTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#pending.values()) clearTimeout(entry.timer);
    this.#pending.clear();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
    clearTimeout(this.#gatherTimer);
    this.#unwatch('');
  }
}
