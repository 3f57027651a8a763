/**
 * One sync folder at run time, put together from its parts:
 *
 *   FolderObserver (scan disk, watcher paths, list bucket) ─► FolderTrees (local / remote / synced)
 *        ▲                                                          │
 *        │ a changed file is observed again           FolderScheduler (plan, hold back, feed queue)
 *        │                                                          │
 *        └──────────── failure ◄── executors (upload, adopt, move, delete, trash, forget, refresh)
 *                                       └─ outcome committed to the journal, then the trees
 *
 * Every per-file state goes through FolderStatus to the StatusTracker. Crash safety comes from
 * the order of commits: an object is written (atomically: PUT, Complete or Copy) before the
 * journal says it is synced, and a source is deleted only after its copy is recorded. After a
 * kill, the trees are observed again and the plan recomputed; anything done but not recorded is
 * recognised (adopt compares the object with the file) rather than redone blindly.
 */
import type PQueue from 'p-queue';
import { CosyncError, type CosyncErrorInfo } from '../../app/result.js';
import type { LocalFile, RemoteFile, SyncedFile, SyncFolderConfig } from '../../app/sync-model.js';
import type { Journal, SyncErrorRecord } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { ObjectEncryption, RemoteStore } from '../remote/remote-store.js';
import { isRunFatal } from '../transfer/backup.js';
import type { UploadContext } from '../transfer/upload-file.js';
import { SYSTEM_CLOCK, type Clock } from './clock.js';
import type { ExecutorContext } from './executor-context.js';
import { FolderObserver } from './folder-observer.js';
import { FolderScheduler, type PlanRound } from './folder-scheduler.js';
import { FolderStatus, type StatusSink } from './folder-status.js';
import { FolderTrees } from './folder-trees.js';

export type { StatusSink } from './folder-status.js';

/** What a folder needs from its surroundings. */
export interface FolderSyncServices {
  readonly store: RemoteStore;
  readonly encryption: ObjectEncryption;
  readonly journal: Journal;
  /** Upload settings shared by every folder on the same store (queues, buffers, limits). */
  readonly upload: UploadContext;
  /** Global cap on files in flight across all folders. */
  readonly fileQueue: PQueue;
  readonly status: StatusSink;
  readonly logger: Logger;
  /** The time (default: the clock's). */
  readonly now?: () => number;
  readonly clock?: Clock;
}

/** The outcome of running a folder until nothing more can be done now. */
export interface ConvergeResult {
  readonly actionsRun: number;
  /** Paths that still fail after their attempts, with the last error. */
  readonly failed: Array<{ path: string; error: CosyncErrorInfo }>;
  readonly remoteOnly: number;
  readonly skipped: Array<{ path: string; reason: string }>;
}

export class FolderSync {
  readonly #trees: FolderTrees;
  readonly #status: FolderStatus;
  readonly #observer: FolderObserver;
  readonly #scheduler: FolderScheduler;
  readonly #clock: Clock;
  /** A problem that stops the whole folder (missing root, rejected credentials…) until the next attempt. */
  #problem: CosyncError | undefined;
  #paused: boolean;
  #closed = false;

  constructor(readonly config: SyncFolderConfig, private readonly services: FolderSyncServices) {
    const now = services.now;
    this.#clock = now === undefined ? (services.clock ?? SYSTEM_CLOCK) : { now, sleep: (services.clock ?? SYSTEM_CLOCK).sleep };
    this.#status = new FolderStatus(config.id, services.status);
    this.#trees = new FolderTrees(config, services.journal, this.#status);
    const { store, encryption, logger } = services;
    this.#observer = new FolderObserver({ trees: this.#trees, status: this.#status, store, encryption, logger, now: () => this.#clock.now() });
    this.#scheduler = new FolderScheduler({
      trees: this.#trees,
      observer: this.#observer,
      fileQueue: services.fileQueue,
      clock: this.#clock,
      executorContext: (signal) => this.#executorContext(signal),
      mayPlan: () => !this.#paused && this.#problem === undefined,
      mayFeed: () => !this.#paused,
      onDidFail: (path, error) => this.#onDidFail(path, error as CosyncError),
    });
    this.#paused = config.paused;
  }

  get id(): string {
    return this.config.id;
  }

  get problem(): CosyncError | undefined {
    return this.#problem;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Stops starting new actions (those in flight finish). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#closed) this.#paused = false;
  }

  /** Read-only views for status reporting and tests. */
  get trees(): { local: ReadonlyMap<string, LocalFile>; remote: ReadonlyMap<string, RemoteFile>; synced: ReadonlyMap<string, SyncedFile> } {
    return this.#trees;
  }

  get errors(): ReadonlyMap<string, SyncErrorRecord> {
    return this.#trees.errors;
  }

  /** Whether actions are in flight. */
  get busy(): boolean {
    return this.#trees.busy.size > 0;
  }

  keyOf(path: string): string {
    return this.#trees.keyOf(path);
  }

  isIgnored(path: string, isDirectory: boolean): boolean {
    return this.#observer.rules.isIgnored(path, isDirectory);
  }

  #executorContext(signal: AbortSignal | undefined): ExecutorContext {
    const { store, encryption, upload, logger } = this.services;
    // A plan's own signal (a run's Ctrl-C) and the folder's (removing it, stopping the engine) both cut its actions off.
    const either = signal === undefined ? upload.signal : upload.signal === undefined ? signal : AbortSignal.any([signal, upload.signal]);
    return { trees: this.#trees, store, encryption, upload, status: this.#status, logger, now: () => this.#clock.now(), signal: either };
  }

  /** Makes a failing path due for another attempt now; false when it has no error. */
  retryNow(path: string): boolean {
    const error = this.#trees.errors.get(path);
    if (error === undefined && this.#problem === undefined) return false;
    if (error !== undefined) this.#trees.recordError(path, { ...error, retryAt: this.#clock.now() });
    this.#trees.changed.add(path);
    return true;
  }

  // ── observing ──

  /**
   * Scans the whole folder. A missing or unreadable root is a folder problem, never "everything
   * was deleted": the bucket is left untouched until the folder is back.
   */
  async scanLocal(signal?: AbortSignal): Promise<{ files: number; hashed: number; seconds: number }> {
    const started = this.#clock.now();
    try {
      const scan = await this.#observer.scanLocal(signal);
      if (this.#problem?.code === 'path-not-found' || this.#problem?.code === 'path-unreadable') this.#problem = undefined;
      return { ...scan, seconds: (this.#clock.now() - started) / 1000 };
    } catch (error) {
      if (error instanceof CosyncError) throw this.#setProblem(error);
      const code = (error as NodeJS.ErrnoException).code;
      const missing = code === 'ENOENT' || code === 'ENOTDIR';
      const message = missing
        ? `sync folder ${this.config.localPath} is missing (moved, deleted, or on a drive that is not mounted); nothing in the bucket is changed until it is back`
        : `cannot read sync folder ${this.config.localPath} (${code ?? (error as Error).message}); nothing in the bucket is changed until it can be read`;
      throw this.#setProblem(new CosyncError(missing ? 'path-not-found' : 'path-unreadable', message));
    }
  }

  /** Observes paths the watcher reported as settled (disk-relative, '/'-separated). */
  async observePaths(diskPaths: ReadonlyArray<string>): Promise<void> {
    if (await this.#observer.observePaths(diskPaths)) await this.scanLocal();
  }

  /** Lists the bucket under the folder's prefix into the remote tree (the trash is left out). */
  async scanRemote(signal?: AbortSignal): Promise<{ objects: number; seconds: number }> {
    const started = this.#clock.now();
    try {
      const listing = await this.#observer.scanRemote(signal);
      // A listing that got through proves the store answers again.
      if (this.#problem !== undefined && isRunFatal(this.#problem)) this.#problem = undefined;
      return { ...listing, seconds: (this.#clock.now() - started) / 1000 };
    } catch (error) {
      throw error instanceof CosyncError && isRunFatal(error) ? this.#setProblem(error) : error;
    }
  }

  #setProblem(error: CosyncError): CosyncError {
    this.#problem = error;
    this.services.logger.log('error', 'folder-problem', { folder: this.id, code: error.code, message: error.message });
    return error;
  }

  #onDidFail(path: string, error: CosyncError): void {
    if (isRunFatal(error)) this.#setProblem(error);
    if (error.code === 'local-changed') {
      void this.observePaths([this.#trees.local.get(path)?.diskPath ?? path]).catch((observeError: unknown) =>
        this.services.logger.log('warn', 'observe-failed', { folder: this.id, path, message: (observeError as Error).message }),
      );
    }
  }

  // ── planning and running ──

  /** Computes the plan now (for status and dry runs). */
  plan(): ReturnType<FolderScheduler['plan']> {
    return this.#scheduler.plan();
  }

  /** Publishes the state of every known path (after loading or a full scan). */
  publishStatus(): void {
    this.#scheduler.publishStatus(this.#status);
  }

  /**
   * Starts one plan: every action whose paths are free and not waiting for a retry goes to the
   * file queue. Returns at once with what started; `finished` settles when those actions have.
   */
  startPlan(options: { maxAttempts?: number; signal?: AbortSignal | undefined } = {}): PlanRound {
    return this.#scheduler.startPlan(options);
  }

  /**
   * Plans and runs until nothing is left (or only failures that used their attempts). For
   * `cosync sync --once`: failures are retried after their backoff, at most `maxAttempts` times.
   */
  async converge(options: { maxAttempts: number; signal?: AbortSignal }): Promise<ConvergeResult> {
    const actionsRun = await this.#scheduler.converge(options, () => this.#problem);
    const failed = [...this.#trees.errors].map(([path, error]) => ({ path, error: { code: error.code as CosyncErrorInfo['code'], message: error.message } }));
    const unreadable = this.#observer.unreadable.map((entry) => ({ path: entry.path, reason: `folder cannot be read (${entry.reason}); what was synced under it is kept` }));
    return { actionsRun, failed, remoteOnly: this.#scheduler.remoteOnly, skipped: [...this.#observer.skipped, ...unreadable] };
  }

  /**
   * Stops for good (the folder is being removed): nothing new starts, actions already queued are
   * dropped, and the promise resolves once those in flight have finished.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#paused = true;
    return this.#scheduler.close();
  }
}
