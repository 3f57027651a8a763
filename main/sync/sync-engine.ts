/**
 * The sync engine: every configured folder, the queues they share, and — when running as a
 * daemon — a watcher and a run loop per folder.
 *
 * Shared across folders: one file queue (how many files are in flight), one part queue and buffer
 * pool per store settings (how many requests carry data), the journal and the status tracker.
 * So ten folders do not mean ten times the connections or memory.
 *
 * A folder's loop (daemon): observe (full scan at start and periodically, the watcher's settled
 * paths in between, a bucket listing every few minutes) → plan → start what is runnable → when an
 * action finishes, plan again. Failures wait for their retry time; folder-level problems (missing
 * folder, rejected credentials) are retried every minute.
 */
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import { COS_LIMITS, DEFAULT_SIZING, S3_LIMITS, type TransferSizing } from '../../app/part-size.js';
import { CosyncError, type CosyncErrorInfo } from '../../app/result.js';
import { folderTarget, type SyncFolderConfig } from '../../app/sync-model.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { ObjectEncryption, RemoteStore } from '../remote/remote-store.js';
import type { TokenBucket } from '../transfer/bandwidth.js';
import type { Target } from '../../app/target.js';
import type { TransferEvent } from '../../app/transfer-events.js';
import { expandBackupPaths, runBackup } from '../transfer/backup.js';
import { BufferPool } from '../transfer/buffer-pool.js';
import type { UploadContext } from '../transfer/upload-file.js';
import { FolderSync, type ConvergeResult, type StatusSink } from './folder-sync.js';
import { FolderWatcher } from './folder-watcher.js';

/** How the engine reaches a folder's bucket: resolved by the caller (keychain, credentials). */
export interface FolderConnection {
  readonly store: RemoteStore;
  readonly encryption: ObjectEncryption;
}

export interface SyncEngineOptions {
  readonly journal: Journal;
  readonly logger: Logger;
  readonly status: StatusSink;
  connect(folder: SyncFolderConfig): Promise<FolderConnection>;
  /** Requests carrying data in flight, across all folders (default 8). */
  readonly partConcurrency?: number;
  /** Files in flight across all folders (default 8). */
  readonly fileConcurrency?: number;
  readonly sizing?: TransferSizing;
  readonly bandwidth?: TokenBucket | undefined;
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
  /** Files in flight. */
  readonly transferring: boolean;
  /** A cycle (scan, listing, plan) is running. */
  readonly cycling: boolean;
  readonly paused: boolean;
  /** The folder's trees, once it has been opened. */
  readonly trees: FolderSync['trees'] | undefined;
}

/** One folder's outcome of a batch run. */
export type FolderRunOutcome =
  | { readonly folderId: string; readonly ok: true; readonly result: ConvergeResult; readonly scan: { files: number; hashed: number; seconds: number } }
  | { readonly folderId: string; readonly ok: false; readonly error: CosyncErrorInfo };

/** A folder at run time: its sync state and, in daemon mode, its loop. */
class FolderRuntime {
  watcher: FolderWatcher | undefined;
  connection: FolderConnection | undefined;
  sync: FolderSync | undefined;
  dirty = new Set<string>();
  fullScanDue = true;
  remoteScanDue = true;
  running: Promise<void> | undefined;
  again = false;
  timers = new Set<NodeJS.Timeout>();
  lastScanSeconds: number | undefined;
  lastError: CosyncError | undefined;
  degraded: string | undefined;
  /** Cuts off the folder's transfers still in flight once removing it or stopping the engine has waited long enough. */
  readonly abort = new AbortController();

  /** The folder as configured; its paused flag follows setPaused (a FolderSync opened later starts from it). */
  constructor(public config: SyncFolderConfig) {
    // Every request in flight listens to the signal; past 10 listeners Node would print a leak warning.
    setMaxListeners(1000, this.abort.signal);
  }
}

export class SyncEngine {
  readonly #options: SyncEngineOptions;
  readonly #fileQueue: PQueue;
  readonly #partQueue: PQueue;
  readonly #buffers: BufferPool;
  readonly #folders = new Map<string, FolderRuntime>();
  #stopping = false;
  #daemon = false;

  constructor(folders: ReadonlyArray<SyncFolderConfig>, options: SyncEngineOptions) {
    this.#options = options;
    const parts = options.partConcurrency ?? 8;
    this.#fileQueue = new PQueue({ concurrency: options.fileConcurrency ?? 8 });
    this.#partQueue = new PQueue({ concurrency: parts });
    this.#buffers = new BufferPool(parts);
    for (const folder of folders) this.#folders.set(folder.id, new FolderRuntime(folder));
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
      transferring: runtime.sync?.busy ?? false,
      cycling: runtime.running !== undefined,
      paused: runtime.sync?.paused ?? runtime.config.paused,
      trees: runtime.sync?.trees,
    }));
  }

  /** Upload settings for one store: the engine's shared queues, buffers and limits. */
  #uploadContext(connection: FolderConnection, target: Target): UploadContext {
    return {
      store: connection.store,
      journal: this.#options.journal,
      endpointId: target.endpoint.url,
      bucket: target.bucket,
      limits: target.dialect === 'cos' ? COS_LIMITS : S3_LIMITS,
      sizing: this.#options.sizing ?? DEFAULT_SIZING,
      partQueue: this.#partQueue,
      buffers: this.#buffers,
      crc64Parts: target.dialect === 'cos',
      storageClass: target.storageClass,
      bandwidth: this.#options.bandwidth,
      logger: this.#options.logger,
    };
  }

  async #open(runtime: FolderRuntime): Promise<FolderSync> {
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
      fileQueue: this.#fileQueue,
      // The folder's signal reaches every upload and copy (bandwidth waits, file reads, requests).
      upload: { ...this.#uploadContext(connection, target), signal: runtime.abort.signal },
      onDidFinishPlan: () => {
        if (this.#daemon) this.#kick(runtime);
      },
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
          return { folderId: runtime.config.id, ok: true, result, scan };
        } catch (error) {
          // Cut off by the caller (Ctrl-C) in whatever phase — scan, listing, uploads: say that, not how the phase noticed.
          const reason: unknown = options.signal?.aborted === true ? options.signal.reason : error;
          const info = reason instanceof CosyncError ? reason : new CosyncError('internal', (reason as Error)?.message ?? String(reason));
          this.#options.logger.log('error', 'folder-run-failed', { folder: runtime.config.id, code: info.code, message: info.message });
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

  async #startFolder(runtime: FolderRuntime): Promise<void> {
    // Opened first so the watcher can skip ignored folders; a failure is reported by the loop.
    await this.#open(runtime).catch(() => undefined);
    if (runtime.watcher === undefined) await this.#startWatcher(runtime);
    this.#kick(runtime);
  }

  /** Adds a folder while running (from the UI); a running daemon starts syncing it at once. */
  async addFolder(config: SyncFolderConfig): Promise<void> {
    if (this.#folders.has(config.id)) throw new CosyncError('usage', `folder ${config.id} is already being synced`);
    const runtime = new FolderRuntime(config);
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
    for (const timer of runtime.timers) clearTimeout(timer);
    runtime.timers.clear();
    const closed = runtime.sync?.close() ?? Promise.resolve();
    await runtime.watcher?.close().catch(() => undefined);
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
    if (runtime.sync.problem !== undefined) {
      runtime.fullScanDue = true;
      runtime.remoteScanDue = true;
    }
    this.#kick(runtime);
  }

  async #startWatcher(runtime: FolderRuntime): Promise<void> {
    const watcher = new FolderWatcher(
      runtime.config.localPath,
      {
        onDidSettle: (paths) => {
          for (const path of paths) runtime.dirty.add(path);
          this.#kick(runtime);
        },
        onRescanDue: () => {
          runtime.fullScanDue = true;
          this.#kick(runtime);
        },
        onDidDegrade: (problem) => {
          runtime.degraded = problem.message;
          this.#options.logger.log('warn', 'watch-degraded', { folder: runtime.config.id, code: problem.code, message: problem.message });
        },
      },
      {
        stabilityMs: this.#options.stabilityMs ?? 500,
        rescanIntervalMs: this.#options.localRescanMs ?? 10 * 60_000,
        isIgnored: (path, isDirectory) => runtime.sync?.isIgnored(path.normalize('NFC'), isDirectory ?? false) ?? false,
      },
    );
    try {
      await watcher.start();
      runtime.watcher = watcher;
    } catch (error) {
      // A folder that cannot be watched (missing, unreadable) is still tried by the loop, which reports why.
      runtime.degraded = `not watched: ${(error as Error).message}`;
      await watcher.close().catch(() => undefined);
    }
    const remoteTimer = setInterval(() => {
      runtime.remoteScanDue = true;
      this.#kick(runtime);
    }, this.#options.remoteRescanMs ?? 10 * 60_000);
    remoteTimer.unref();
    runtime.timers.add(remoteTimer);
  }

  /** Asks a folder's loop to run a cycle now (or right after the one running). */
  #kick(runtime: FolderRuntime): void {
    if (this.#stopping) return;
    if (runtime.running !== undefined) {
      runtime.again = true;
      return;
    }
    runtime.running = this.#cycle(runtime).finally(() => {
      runtime.running = undefined;
      if (runtime.again) {
        runtime.again = false;
        this.#kick(runtime);
      }
    });
  }

  #after(runtime: FolderRuntime, delayMs: number, change: () => void): void {
    const timer = setTimeout(() => {
      runtime.timers.delete(timer);
      change();
      this.#kick(runtime);
    }, delayMs);
    timer.unref();
    runtime.timers.add(timer);
  }

  async #cycle(runtime: FolderRuntime): Promise<void> {
    const { logger } = this.#options;
    try {
      const sync = await this.#open(runtime);
      if (sync.problem !== undefined) {
        // Retried as a whole: scan and list again.
        runtime.fullScanDue = true;
        runtime.remoteScanDue = true;
      }
      if (runtime.fullScanDue) {
        runtime.fullScanDue = false;
        runtime.dirty.clear();
        const scan = await sync.scanLocal();
        runtime.lastScanSeconds = scan.seconds;
        logger.log('info', 'scan-finished', { folder: runtime.config.id, files: scan.files, hashed: scan.hashed, seconds: scan.seconds });
      }
      if (runtime.remoteScanDue) {
        runtime.remoteScanDue = false;
        const listing = await sync.scanRemote();
        logger.log('info', 'listing-finished', { folder: runtime.config.id, objects: listing.objects, seconds: listing.seconds });
        sync.publishStatus();
      }
      if (runtime.dirty.size > 0) {
        const paths = [...runtime.dirty];
        runtime.dirty.clear();
        await sync.observePaths(paths);
      }
      runtime.lastError = undefined;
      const round = sync.startPlan();
      if (round.nextRetryAt !== undefined) this.#after(runtime, Math.max(0, round.nextRetryAt - Date.now()), () => undefined);
      if (sync.problem !== undefined) throw sync.problem;
    } catch (error) {
      runtime.lastError = error instanceof CosyncError ? error : new CosyncError('internal', (error as Error)?.message ?? String(error));
      logger.log('error', 'folder-cycle-failed', { folder: runtime.config.id, code: runtime.lastError.code, message: runtime.lastError.message });
      this.#after(runtime, this.#options.problemRetryMs ?? 60_000, () => {
        runtime.fullScanDue = true;
        runtime.remoteScanDue = true;
      });
    }
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
      { fileConcurrency: this.#fileQueue.concurrency, emit, skipped, fileQueue: this.#fileQueue },
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
  }

  /** Files and data-carrying requests in flight, at most (across all folders). */
  get concurrency(): { files: number; parts: number } {
    return { files: this.#fileQueue.concurrency, parts: this.#partQueue.concurrency };
  }

  /** Changes the caps while running: more start at once; with fewer, the ones running finish first. */
  setConcurrency(caps: { files: number; parts: number }): void {
    this.#fileQueue.concurrency = caps.files;
    this.#partQueue.concurrency = caps.parts;
    this.#buffers.setKeep(caps.parts);
  }

  /** Whether new files are held back for every folder (pauseAll). */
  get pausedAll(): boolean {
    return this.#fileQueue.isPaused;
  }

  /** Pauses every folder: nothing new starts; what is in flight finishes (or resumes after a restart). */
  pauseAll(): void {
    this.#fileQueue.pause();
  }

  resumeAll(): void {
    this.#fileQueue.start();
  }

  /**
   * Stops: no new work, watchers closed, then waits up to `drainMs` for files in flight to finish.
   * Anything cut off resumes on the next start (multipart progress is in the journal).
   */
  async stop(drainMs = 10_000): Promise<void> {
    this.#stopping = true;
    this.#fileQueue.clear();
    for (const runtime of this.#folders.values()) {
      for (const timer of runtime.timers) clearTimeout(timer);
      runtime.timers.clear();
      runtime.sync?.pause();
      await runtime.watcher?.close().catch(() => undefined);
    }
    await withDeadline(Promise.all([this.#fileQueue.onIdle(), ...[...this.#folders.values()].map((runtime) => runtime.running)]), drainMs);
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
