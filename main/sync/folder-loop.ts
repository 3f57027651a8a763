/**
 * One folder at run time in the engine, and — when running as a daemon — the one loop that
 * drives it. Every cycle is started here, and only here: by the watcher, the rescan timers, a
 * retry time coming due, and the end of the plan the previous cycle started.
 *
 *   watcher paths ─┐
 *   rescan timers ─┼─► wake ─► cycle: scan / list / observe what is due ─► startPlan ─┐
 *   retry due ─────┤                                                                   │
 *   plan finished ─┘◄──────────────────────────────────────────────────────────────────┘
 *
 * A cycle does not wait for its plan's actions: while a large file uploads, new watcher paths
 * are observed and planned (busy paths wait for the next plan). Failures wait for their retry
 * time; folder problems (missing folder, rejected credentials) are retried every minute. The
 * folder's state (idle | scanning | syncing | paused | error) is told to the tracker at each step.
 */
import { setMaxListeners } from 'node:events';
import { CosyncError } from '../../app/result.js';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import type { FolderSyncState, StateCounts } from '../../app/sync-status.js';
import type { Logger } from '../log/logger.js';
import type { ObjectEncryption, RemoteStore } from '../remote/remote-store.js';
import type { FolderSync } from './folder-sync.js';
import { FolderWatcher } from './folder-watcher.js';

/** How the engine reaches a folder's bucket: resolved by the caller (keychain, credentials). */
export interface FolderConnection {
  readonly store: RemoteStore;
  readonly encryption: ObjectEncryption;
}

/** Where folder states go (the StatusTracker), with the file counts that say whether files are in flight. */
export interface FolderStateSink {
  setFolderState(folderId: string, state: FolderSyncState): void;
  counts(folderId: string): StateCounts;
}

/** Daemon timings (ms). */
export interface LoopTimings {
  readonly stabilityMs?: number | undefined;
  readonly localRescanMs?: number | undefined;
  readonly remoteRescanMs?: number | undefined;
  readonly problemRetryMs?: number | undefined;
}

export interface FolderLoopServices {
  /** Opens the folder's FolderSync (once; later calls return the same). */
  open(loop: FolderLoop): Promise<FolderSync>;
  readonly states: FolderStateSink;
  readonly logger: Logger;
  readonly timings: LoopTimings;
  /** Whether every folder is held back (the engine's pauseAll): the folder is then paused too. */
  readonly pausedAll?: () => boolean;
}

export class FolderLoop {
  watcher: FolderWatcher | undefined;
  connection: FolderConnection | undefined;
  sync: FolderSync | undefined;
  lastScanSeconds: number | undefined;
  lastError: CosyncError | undefined;
  degraded: string | undefined;
  readonly #dirty = new Set<string>();
  #fullScanDue = true;
  #remoteScanDue = true;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Cuts off the folder's transfers still in flight once removing it or stopping the engine has waited long enough. */
  readonly abort = new AbortController();

  /** The folder as configured; its paused flag follows setPaused (a FolderSync opened later starts from it). */
  constructor(
    public config: SyncFolderConfig,
    private readonly services: FolderLoopServices,
  ) {
    // Every request in flight listens to the signal; past 10 listeners Node would print a leak warning.
    setMaxListeners(1000, this.abort.signal);
  }

  /** A cycle (scan, listing, plan) is running. */
  get cycling(): boolean {
    return this.#running !== undefined;
  }

  /** The cycle running now, if any (to wait for it when stopping). */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** Scans and lists again on the next cycle: how a folder problem is retried as a whole. */
  rescanAll(): void {
    this.#fullScanDue = true;
    this.#remoteScanDue = true;
  }

  /** Asks for a cycle now (or right after the one running). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#cycle().finally(() => {
      this.#running = undefined;
      this.publishState();
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
    this.publishState();
  }

  /** Stops the loop for good: no new cycles, timers cleared, watcher closed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.watcher?.close().catch(() => undefined);
  }

  /**
   * Tells the tracker what the folder is doing, by one rule: paused (the folder or all of them),
   * else a folder problem, else files in flight, else a cycle running, else idle. The tracker's
   * state is the only one: the daemon's overview reads it.
   */
  publishState(): void {
    const { id } = this.config;
    const counts = this.services.states.counts(id);
    const problem = this.sync?.problem ?? this.lastError;
    const inFlight = counts.queued + counts.hashing + counts.uploading + counts.verifying;
    const state: FolderSyncState =
      this.services.pausedAll?.() === true || (this.sync?.paused ?? this.config.paused)
        ? { state: 'paused' }
        : problem !== undefined
          ? { state: 'error', code: problem.code, message: problem.message }
          : this.sync?.busy === true || inFlight > 0
            ? { state: 'syncing', actions: inFlight }
            : this.cycling
              ? { state: 'scanning' }
              : { state: 'idle' };
    this.services.states.setFolderState(id, state);
  }

  /** Starts the watcher and the remote rescan timer. */
  async startWatching(): Promise<void> {
    if (this.watcher !== undefined) return;
    const { timings, logger } = this.services;
    const watcher = new FolderWatcher(
      this.config.localPath,
      {
        onDidSettle: (paths) => {
          for (const path of paths) this.#dirty.add(path);
          this.wake();
        },
        onRescanDue: () => {
          this.#fullScanDue = true;
          this.wake();
        },
        onDidDegrade: (problem) => {
          this.degraded = problem.message;
          logger.log('warn', 'watch-degraded', { folder: this.config.id, code: problem.code, message: problem.message });
        },
      },
      {
        stabilityMs: timings.stabilityMs ?? 500,
        rescanIntervalMs: timings.localRescanMs ?? 10 * 60_000,
        isIgnored: (path, isDirectory) => this.sync?.isIgnored(path.normalize('NFC'), isDirectory ?? false) ?? false,
      },
    );
    try {
      await watcher.start();
      this.watcher = watcher;
    } catch (error) {
      // A folder that cannot be watched (missing, unreadable) is still tried by the loop, which reports why.
      this.degraded = `not watched: ${(error as Error).message}`;
      await watcher.close().catch(() => undefined);
    }
    const remoteTimer = setInterval(() => {
      this.#remoteScanDue = true;
      this.wake();
    }, timings.remoteRescanMs ?? 10 * 60_000);
    remoteTimer.unref();
    this.#timers.add(remoteTimer);
  }

  #after(delayMs: number, change: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      change();
      this.wake();
    }, delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  async #cycle(): Promise<void> {
    const { logger } = this.services;
    const folder = this.config.id;
    try {
      const sync = await this.services.open(this);
      // Retried as a whole: scan and list again.
      if (sync.problem !== undefined) this.rescanAll();
      if (this.#fullScanDue) {
        this.#fullScanDue = false;
        this.#dirty.clear();
        const scan = await sync.scanLocal();
        this.lastScanSeconds = scan.seconds;
        logger.log('info', 'scan-finished', { folder, files: scan.files, hashed: scan.hashed, seconds: scan.seconds });
      }
      if (this.#remoteScanDue) {
        this.#remoteScanDue = false;
        const listing = await sync.scanRemote();
        logger.log('info', 'listing-finished', { folder, objects: listing.objects, seconds: listing.seconds });
        sync.publishStatus();
      }
      if (this.#dirty.size > 0) {
        const paths = [...this.#dirty];
        this.#dirty.clear();
        await sync.observePaths(paths);
      }
      this.lastError = undefined;
      const round = sync.startPlan();
      // The end of this plan is the next cycle's cue: planning looks at the whole folder, so once per plan, not per action.
      if (round.ran > 0) void round.finished.then(() => this.wake());
      if (round.nextRetryAt !== undefined) this.#after(Math.max(0, round.nextRetryAt - Date.now()), () => undefined);
      if (sync.problem !== undefined) throw sync.problem;
    } catch (error) {
      this.lastError = error instanceof CosyncError ? error : new CosyncError('internal', (error as Error)?.message ?? String(error));
      logger.log('error', 'folder-cycle-failed', { folder, code: this.lastError.code, message: this.lastError.message });
      this.#after(this.services.timings.problemRetryMs ?? 60_000, () => this.rescanAll());
    }
  }
}
