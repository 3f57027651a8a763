/**
 * Watches one sync folder and reports paths once their changes have settled, so that a file
 * still being written is uploaded once, after the writer is done.
 *
 * Per path: every event (re)arms a quiet timer; when it fires the path is stat'ed, and it is
 * reported only when two stats a quiet window apart agree (or the path is gone). Paths settling
 * together are reported together. chokidar's own awaitWriteFinish is not used: it polls every
 * file it sees, which costs far more on large trees than a timer for paths that actually changed.
 *
 * When the OS watch limit is reached (inotify ENOSPC), watching stops with a message saying how
 * to raise the limit, and the folder is rescanned periodically instead. A periodic full rescan
 * runs in any case, as a safety net for events any watcher can miss.
 */
import { watch, type FSWatcher } from 'chokidar';
import { lstat } from 'node:fs/promises';
import { relative, sep } from 'node:path';

export interface FolderWatcherOptions {
  /** Quiet time before a path counts as settled (default 1000 ms). */
  readonly stabilityMs?: number;
  /** Full-rescan safety net (default 10 minutes). */
  readonly rescanIntervalMs?: number;
  /** Rescan interval when watching is impossible (default 1 minute). */
  readonly fallbackRescanIntervalMs?: number;
  /** Paths (relative, '/'-separated) not to watch at all. */
  readonly isIgnored?: (relativePath: string, isDirectory: boolean | undefined) => boolean;
  /** Makes the chokidar watcher (tests inject a fake to simulate the watch limit). */
  readonly createWatcher?: (root: string, options: Parameters<typeof watch>[1]) => Pick<FSWatcher, 'on' | 'close'>;
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

export class FolderWatcher {
  readonly #stabilityMs: number;
  readonly #pending = new Map<string, Pending>();
  readonly #settled = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #gatherTimer: NodeJS.Timeout | undefined;
  #watcher: Pick<FSWatcher, 'on' | 'close'> | undefined;
  #closed = false;
  #degraded = false;

  constructor(
    readonly root: string,
    private readonly events: FolderWatcherEvents,
    private readonly options: FolderWatcherOptions = {},
  ) {
    this.#stabilityMs = options.stabilityMs ?? 1000;
  }

  /** Paths with changes not yet settled. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  #relative(absolute: string): string {
    return relative(this.root, absolute).split(sep).join('/');
  }

  async start(): Promise<void> {
    const create = this.options.createWatcher ?? ((root, options) => watch(root, options));
    const isIgnored = this.options.isIgnored;
    const watcher = create(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      persistent: true,
      ...(isIgnored === undefined
        ? {}
        : {
            ignored: (absolute: string, stats?: { isDirectory(): boolean }) => {
              const path = this.#relative(absolute);
              return path !== '' && !path.startsWith('..') && isIgnored(path, stats?.isDirectory());
            },
          }),
    });
    this.#watcher = watcher;
    watcher.on('all', (_event: string, absolute: string) => {
      if (!this.#closed) this.#touch(this.#relative(absolute));
    });
    watcher.on('error', (error: unknown) => this.#onError(error as NodeJS.ErrnoException));
    await new Promise<void>((resolve) => {
      watcher.on('ready', () => resolve());
      // An error before ready (e.g. the limit hit during the initial walk) must not hang start().
      watcher.on('error', () => resolve());
    });
    this.#every(this.options.rescanIntervalMs ?? 10 * 60_000, () => this.events.onRescanDue('periodic'));
  }

  #every(intervalMs: number, action: () => void): void {
    const timer = setInterval(() => {
      if (!this.#closed) action();
    }, intervalMs);
    timer.unref();
    this.#timers.add(timer);
  }

  #onError(error: NodeJS.ErrnoException): void {
    if (this.#closed || this.#degraded) return;
    if (error.code === 'ENOSPC' || error.code === 'EMFILE') {
      this.#degraded = true;
      const interval = this.options.fallbackRescanIntervalMs ?? 60_000;
      const minutes = Math.max(1, Math.round(interval / 60_000));
      this.events.onDidDegrade({
        code: 'watch-limit',
        message:
          `the system limit on watched folders was reached (inotify max_user_watches); cosync falls back to rescanning every ${minutes} minute${minutes === 1 ? '' : 's'}. ` +
          'Fix: sudo sysctl fs.inotify.max_user_watches=524288 (add it to /etc/sysctl.d/ to keep it)',
      });
      void this.#watcher?.close();
      this.#watcher = undefined;
      this.#every(interval, () => this.events.onRescanDue('fallback'));
      this.events.onRescanDue('fallback');
      return;
    }
    this.events.onDidDegrade({ code: 'watch-failed', message: `watching ${this.root} failed (${error.code ?? error.message}); rescanning to catch up` });
    this.events.onRescanDue('watch-error');
  }

  /** An event for a path: (re)start its quiet window. */
  #touch(path: string): void {
    if (path.startsWith('..')) return;
    const pending = this.#pending.get(path);
    if (pending !== undefined) clearTimeout(pending.timer);
    const entry: Pending = pending ?? { timer: undefined as unknown as NodeJS.Timeout, lastStat: undefined };
    entry.lastStat = undefined; // a new event voids any earlier stat
    entry.timer = this.#arm(path);
    this.#pending.set(path, entry);
  }

  #arm(path: string): NodeJS.Timeout {
    const timer = setTimeout(() => void this.#check(path), this.#stabilityMs);
    timer.unref();
    return timer;
  }

  /** The quiet window passed: settled if the path is gone or looks the same as a window ago. */
  async #check(path: string): Promise<void> {
    const entry = this.#pending.get(path);
    if (entry === undefined || this.#closed) return;
    let signature: string | undefined;
    try {
      const info = await lstat(path === '' ? this.root : `${this.root}/${path}`);
      signature = info.isDirectory() ? 'directory' : `${info.size}:${info.mtimeMs}`;
    } catch {
      signature = undefined;
    }
    if (this.#pending.get(path) !== entry || this.#closed) return; // a newer event took over
    // Directories and vanished paths settle after one window; files need two matching stats.
    if (signature !== undefined && signature !== 'directory' && signature !== entry.lastStat) {
      entry.lastStat = signature;
      entry.timer = setTimeout(() => void this.#check(path), Math.min(this.#stabilityMs, 250));
      entry.timer.unref();
      return;
    }
    this.#pending.delete(path);
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
    await this.#watcher?.close();
    this.#watcher = undefined;
  }
}
