/**
 * The sync engine: every configured folder, the queues they share, and — when running as a
 * daemon — a watcher and a run loop per folder.
 *
 * Shared across folders: the engine's transfer pool (main/transfer/transfer-pool.ts: how many
 * files are in flight, how many requests carry data, their buffers and the bandwidth budget), the
 * journal and the status tracker, all built once by openEngine (main/engine/engine.ts). So ten
 * folders do not mean ten times the connections or memory.
 *
 * In daemon mode each folder runs its one loop (folder-loop.ts): observe (full scan at start and
 * periodically, the watcher's settled paths in between, a bucket listing every few minutes) →
 * plan → start what is runnable → when the plan's actions have finished, plan again.
 */
import { DEFAULT_SIZING, type TransferSizing } from '../../app/part-size.js';
import { CosyncError, type CosyncErrorInfo } from '../../app/result.js';
import { folderTarget, type SyncFolderConfig } from '../../app/sync-model.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { Target } from '../../app/target.js';
import type { TransferEvent } from '../../app/transfer-events.js';
import { expandBackupPaths, runBackup } from '../transfer/backup.js';
import { TransferPool } from '../transfer/transfer-pool.js';
import type { UploadContext } from '../transfer/upload-file.js';
import { FolderLoop, type FolderConnection, type FolderStateSink } from './folder-loop.js';
import { FolderSync, type ConvergeResult, type StatusSink } from './folder-sync.js';

export type { FolderConnection } from './folder-loop.js';

export interface SyncEngineOptions {
  readonly journal: Journal;
  readonly logger: Logger;
  /** Where file and folder states go (the StatusTracker). */
  readonly status: StatusSink & FolderStateSink;
  connect(folder: SyncFolderConfig): Promise<FolderConnection>;
  /** The engine's transfer pool (main/engine/engine.ts), shared with its backups, restores and rotations; default: one of its own. */
  readonly pool?: TransferPool;
  readonly sizing?: TransferSizing;
  /** Daemon timings (ms). */
  readonly stabilityMs?: number;
  readonly localRescanMs?: number;
  readonly remoteRescanMs?: number;
  readonly problemRetryMs?: number;
}

/** What the engine can say about a folder at any moment. */
export interface FolderDescription {
  readonly config: SyncFolderConfig;
  readonly problem: CosyncErrorInfo | undefined;
  /** A watcher problem: the folder relies on periodic rescans. */
  readonly degraded: string | undefined;
  readonly lastScanSeconds: number | undefined;
  readonly paused: boolean;
  /** The folder's trees, once it has been opened. */
  readonly trees: FolderSync['trees'] | undefined;
}

/** One folder's outcome of a batch run. */
export type FolderRunOutcome =
  | { readonly folderId: string; readonly ok: true; readonly result: ConvergeResult; readonly scan: { files: number; hashed: number; seconds: number } }
  | { readonly folderId: string; readonly ok: false; readonly error: CosyncErrorInfo };

export class SyncEngine {
  readonly #options: SyncEngineOptions;
  readonly #pool: TransferPool;
  readonly #folders = new Map<string, FolderLoop>();
  #stopping = false;
  #daemon = false;

  constructor(folders: ReadonlyArray<SyncFolderConfig>, options: SyncEngineOptions) {
    this.#options = options;
    this.#pool = options.pool ?? new TransferPool();
    for (const folder of folders) this.#folders.set(folder.id, this.#loopFor(folder));
  }

  get folders(): FolderSync[] {
    return [...this.#folders.values()].flatMap((runtime) => (runtime.sync === undefined ? [] : [runtime.sync]));
  }

  /** Per-folder facts for status displays. */
  describe(): FolderDescription[] {
    return [...this.#folders.values()].map((runtime) => ({
      config: runtime.config,
      problem: (runtime.sync?.problem ?? runtime.lastError)?.toInfo(),
      degraded: runtime.degraded,
      lastScanSeconds: runtime.lastScanSeconds,
      paused: runtime.sync?.paused ?? runtime.config.paused,
      trees: runtime.sync?.trees,
    }));
  }

  #loopFor(config: SyncFolderConfig): FolderLoop {
    const { logger, status: states, stabilityMs, localRescanMs, remoteRescanMs, problemRetryMs } = this.#options;
    const loop = new FolderLoop(config, { open: (opening) => this.#open(opening), states, logger, timings: { stabilityMs, localRescanMs, remoteRescanMs, problemRetryMs }, pausedAll: () => this.pausedAll });
    loop.publishState(); // a folder paused in the config is paused from the start
    return loop;
  }

  /** Upload settings for one store: the engine's shared queues, buffers and limits. */
  #uploadContext(connection: FolderConnection, target: Target): UploadContext {
    const { journal, logger } = this.#options;
    return this.#pool.uploadContext(connection.store, target, { journal, logger, sizing: this.#options.sizing ?? DEFAULT_SIZING });
  }

  async #open(runtime: FolderLoop): Promise<FolderSync> {
    if (runtime.sync !== undefined) return runtime.sync;
    const connection = await this.#options.connect(runtime.config);
    const target = folderTarget(runtime.config);
    const { journal, logger, status } = this.#options;
    runtime.connection = connection;
    runtime.sync = new FolderSync(runtime.config, {
      store: connection.store,
      encryption: connection.encryption,
      journal,
      logger,
      status,
      fileQueue: this.#pool.files,
      // The folder's signal reaches every upload and copy (bandwidth waits, file reads, requests).
      upload: { ...this.#uploadContext(connection, target), signal: runtime.abort.signal },
    });
    return runtime.sync;
  }

  /**
   * Runs every folder that is not paused to convergence once (`cosync sync --once`): full scan,
   * bucket listing, plan and run, retrying failures up to `maxAttempts` times.
   */
  async runOnce(options: { maxAttempts?: number; signal?: AbortSignal } = {}): Promise<FolderRunOutcome[]> {
    const runtimes = [...this.#folders.values()].filter((runtime) => !runtime.config.paused);
    return Promise.all(
      runtimes.map(async (runtime): Promise<FolderRunOutcome> => {
        try {
          const sync = await this.#open(runtime);
          await runtime.connection?.store.checkAccess(runtime.config.prefix, { signal: options.signal });
          const scan = await sync.scanLocal(options.signal);
          runtime.lastScanSeconds = scan.seconds;
          await sync.scanRemote(options.signal);
          sync.publishStatus();
          const result = await sync.converge({ maxAttempts: options.maxAttempts ?? 3, ...(options.signal === undefined ? {} : { signal: options.signal }) });
          runtime.publishState();
          return { folderId: runtime.config.id, ok: true, result, scan };
        } catch (error) {
          // Cut off by the caller (Ctrl-C) in whatever phase — scan, listing, uploads: say that, not how the phase noticed.
          const reason: unknown = options.signal?.aborted === true ? options.signal.reason : error;
          const info = reason instanceof CosyncError ? reason : new CosyncError('internal', (reason as Error)?.message ?? String(reason));
          this.#options.logger.log('error', 'folder-run-failed', { folder: runtime.config.id, code: info.code, message: info.message });
          runtime.publishState();
          return { folderId: runtime.config.id, ok: false, error: info.toInfo() };
        }
      }),
    );
  }

  // ── daemon ──

  /** Starts watching and syncing every folder; returns once each has started its first cycle. */
  async start(): Promise<void> {
    this.#daemon = true;
    for (const runtime of this.#folders.values()) {
      if (!runtime.config.paused) await this.#startFolder(runtime);
    }
  }

  async #startFolder(runtime: FolderLoop): Promise<void> {
    if (this.#stopping) return;
    // Opened first so the watcher can skip ignored folders; a failure is reported by the loop.
    await this.#open(runtime).catch(() => undefined);
    await runtime.startWatching();
    runtime.wake();
  }

  /** Adds a folder while running (from the UI); a running daemon starts syncing it at once. */
  async addFolder(config: SyncFolderConfig): Promise<void> {
    if (this.#folders.has(config.id)) throw new CosyncError('usage', `folder ${config.id} is already being synced`);
    const runtime = this.#loopFor(config);
    this.#folders.set(config.id, runtime);
    if (this.#daemon && !config.paused) await this.#startFolder(runtime);
  }

  /**
   * Stops syncing a folder: nothing new starts, its watcher closes, and what is in flight is
   * given `drainMs` to finish (an upload cut off leaves no object looking complete). Nothing is
   * deleted anywhere.
   */
  async removeFolder(folderId: string, drainMs = 10_000): Promise<void> {
    const runtime = this.#folders.get(folderId);
    if (runtime === undefined) throw new CosyncError('usage', `no folder with id ${JSON.stringify(folderId)}`);
    this.#folders.delete(folderId);
    const closed = runtime.sync?.close() ?? Promise.resolve();
    await runtime.stop();
    // Its actions in flight finish (an upload cut off would leave nothing looking complete, but
    // its journal rows would outlive the folder); queued ones never start.
    await withDeadline(Promise.all([runtime.running, closed]), drainMs);
    // What is still in flight after the wait is cut off cleanly: its parts stay journaled, nothing completes.
    runtime.abort.abort(new CosyncError('aborted', `folder ${folderId} was removed`));
    runtime.connection?.store.close();
  }

  /** Tries a failing path again now instead of at its retry time. */
  retry(folderId: string, path: string): void {
    const runtime = this.#folders.get(folderId);
    if (runtime === undefined) throw new CosyncError('usage', `no folder with id ${JSON.stringify(folderId)}`);
    if (runtime.sync === undefined || !runtime.sync.retryNow(path)) throw new CosyncError('usage', `${path} in folder ${folderId} has no error to retry`);
    // A folder-level problem is retried as a whole (scan and list again).
    if (runtime.sync.problem !== undefined) runtime.rescanAll();
    runtime.wake();
  }

  /**
   * A manual backup (files dropped on the window) through the same queues and journal as the
   * folders, so it shares their limits instead of competing with them.
   */
  async backup(
    paths: ReadonlyArray<string>,
    destination: { connection: FolderConnection; target: Target },
    emit: (event: TransferEvent) => void,
    signal?: AbortSignal,
  ): Promise<{ succeeded: number; failed: number }> {
    const { target, connection } = destination;
    const { items, skipped } = await expandBackupPaths(paths, target.prefix);
    await connection.store.checkAccess(target.prefix, { signal });
    return runBackup(
      items,
      connection.encryption,
      { ...this.#uploadContext(connection, target), signal },
      { fileConcurrency: this.#pool.files.concurrency, emit, skipped, fileQueue: this.#pool.files },
    );
  }

  /** Pauses or resumes one folder (in memory; the CLI persists it in the config). */
  setPaused(folderId: string, paused: boolean): void {
    const runtime = this.#folders.get(folderId);
    if (runtime === undefined) throw new CosyncError('usage', `no folder with id ${JSON.stringify(folderId)}`);
    runtime.config = { ...runtime.config, paused };
    if (paused) runtime.sync?.pause();
    else {
      runtime.sync?.resume();
      // A folder paused when the daemon started has no watcher yet.
      if (this.#daemon) void this.#startFolder(runtime);
    }
    runtime.publishState();
  }

  /** Files and data-carrying requests in flight, at most (across all folders). */
  get concurrency(): { files: number; parts: number } {
    return this.#pool.concurrency;
  }

  /** Changes the caps while running: more start at once; with fewer, the ones running finish first. */
  setConcurrency(caps: { files: number; parts: number }): void {
    this.#pool.setConcurrency(caps);
  }

  /** Whether new files are held back for every folder (pauseAll). */
  get pausedAll(): boolean {
    return this.#pool.files.isPaused;
  }

  /** Pauses every folder: nothing new starts; what is in flight finishes (or resumes after a restart). */
  pauseAll(): void {
    this.#pool.files.pause();
    for (const runtime of this.#folders.values()) runtime.publishState();
  }

  resumeAll(): void {
    this.#pool.files.start();
    for (const runtime of this.#folders.values()) runtime.publishState();
  }

  /**
   * Stops: no new work, watchers closed, then waits up to `drainMs` for files in flight to finish.
   * Anything cut off resumes on the next start (multipart progress is in the journal).
   */
  async stop(drainMs = 10_000): Promise<void> {
    this.#stopping = true;
    this.#pool.files.clear();
    for (const runtime of this.#folders.values()) {
      runtime.sync?.pause();
      await runtime.stop();
    }
    await withDeadline(Promise.all([this.#pool.files.onIdle(), ...[...this.#folders.values()].map((runtime) => runtime.running)]), drainMs);
    for (const runtime of this.#folders.values()) {
      runtime.abort.abort(new CosyncError('aborted', 'the engine stopped'));
      runtime.connection?.store.close();
    }
  }
}

/** Waits for `work`, but no longer than `ms`. */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
