/**
 * The composition root (DESIGN.md, "one composition root"; STYLE.md 7: wired by hand, with
 * constructor parameters). `cosync serve`, the desktop app, `sync --once` and the CLI's one-shot
 * commands (backup, restore, key verify, key rotate, …) all open their engine here:
 *
 *   Session (paths, logger, keychain, config)
 *      │
 *      ├── journal ─────────────┐
 *      ├── StoreFactory ────────┤   every remote store, one set of options
 *      ├── TransferPool ────────┤   files and parts queues, buffers, bandwidth: one per engine
 *      ├── StatusTracker ───────┤   per-file states, batched events
 *      └── SyncEngine (lazily) ◄┘   the folders, on the pool, tracker and stores above
 *
 * Closing the engine closes all of it: the sync engine drains, the tracker flushes, stores still
 * open close, the journal closes and the engine lock is released.
 */
import { DEFAULT_SIZING, type TransferSizing } from '../../app/part-size.js';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import type { Journal } from '../journal/journal.js';
import { StatusTracker } from '../sync/status-tracker.js';
import { SyncEngine, type SyncEngineOptions } from '../sync/sync-engine.js';
import { TransferPool, type TransferPoolSettings } from '../transfer/transfer-pool.js';
import { claimEngine, type EngineClaim, type EngineRecord } from './engine-lock.js';
import type { Session } from './session.js';
import { socketsFor, StoreFactory } from './store-factory.js';

export interface EngineOptions {
  /**
   * Which kind of engine claims the config (one at a time: engine-lock.ts). Runs that sync or
   * rotate claim it; one-shot backups and restores do not.
   */
  readonly claim?: EngineRecord['kind'] | undefined;
  readonly transfers?: TransferPoolSettings;
  readonly sizing?: TransferSizing | undefined;
}

/** The sync engine's timings (ms), for tests and the daemon. */
export type SyncTimings = Pick<SyncEngineOptions, 'stabilityMs' | 'localRescanMs' | 'remoteRescanMs' | 'problemRetryMs'>;

export class Engine {
  readonly #claim: EngineClaim | undefined;
  #sync: SyncEngine | undefined;
  #closed = false;

  constructor(
    readonly session: Session,
    readonly journal: Journal,
    readonly stores: StoreFactory,
    readonly pool: TransferPool,
    readonly tracker: StatusTracker,
    readonly sizing: TransferSizing,
    claim: EngineClaim | undefined,
  ) {
    this.#claim = claim;
  }

  /** The sync engine over `folders`, on this engine's pool, tracker and stores; one per engine. */
  openSync(folders: ReadonlyArray<SyncFolderConfig>, timings: SyncTimings = {}): SyncEngine {
    if (this.#sync !== undefined) throw new Error('this engine already runs a sync engine');
    this.#sync = new SyncEngine(folders, {
      journal: this.journal,
      logger: this.session.logger,
      status: this.tracker,
      connect: (folder) => this.stores.connect(folder),
      pool: this.pool,
      sizing: this.sizing,
      ...timings,
    });
    return this.#sync;
  }

  /** Tells CLI commands (`cosync pause`) where this engine's API is. */
  async advertise(url: string, token: string): Promise<void> {
    await this.#claim?.advertise(url, token);
  }

  /** Finishes files in flight (up to `drainMs`), then closes everything it opened. */
  async close(drainMs = 10_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#sync?.stop(drainMs);
      this.tracker.flush();
      this.tracker.dispose();
      this.stores.closeAll();
      this.journal.close();
    } finally {
      await this.#claim?.release();
    }
  }
}

/**
 * Opens an engine: claims the config when asked (refused while another engine runs), opens the
 * journal and builds the store factory, the transfer pool and the tracker.
 */
export async function openEngine(session: Session, options: EngineOptions = {}): Promise<Engine> {
  const claim = options.claim === undefined ? undefined : await claimEngine(session.paths.stateDir, { kind: options.claim });
  try {
    const journal = session.openJournal();
    const pool = new TransferPool(options.transfers);
    const stores = new StoreFactory(session, journal, { maxSockets: socketsFor(pool.parts.concurrency) });
    return new Engine(session, journal, stores, pool, new StatusTracker(), options.sizing ?? DEFAULT_SIZING, claim);
  } catch (error) {
    await claim?.release();
    throw error;
  }
}
