/**
 * The running engine as a UI sees it — one object shared by the headless daemon (`cosync serve`)
 * and the Electron shell, so both windows drive the same code. It opens the engine
 * (main/engine/engine.ts) and its sync engine over every configured folder, and puts together
 * what the window asks: folder and key management, jobs (job-registry.ts) for the restores,
 * backups and rotations of remote-use-cases.ts, drops staged for backup (drop-staging.ts), the
 * folders' ignore files (ignore-file.ts), and one stream of EngineEvents (status batches, a
 * once-a-second overview with throughput.ts's figures, job progress, log activity).
 *
 * Nothing secret leaves here: keys appear as fingerprints, credentials not at all.
 */
import { join } from 'node:path';
import type { ActivityEntry, AddFolderRequest, EngineEvent, FolderOverview, JobSummary, KeySummary, Overview, RemoteEntry, RemoteScope, StoreLocation } from '../../app/contract.js';
import { CosyncError } from '../../app/result.js';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import type { FileStatus } from '../../app/sync-status.js';
import { targetFromFields, type Target } from '../../app/target.js';
import type { TransferSizing } from '../../app/part-size.js';
import { openEngine, type Engine } from '../engine/engine.js';
import type { Session } from '../engine/session.js';
import type { Journal } from '../journal/journal.js';
import type { FolderDescription, SyncEngine } from '../sync/sync-engine.js';
import type { StatusTracker } from '../sync/status-tracker.js';
import type { TokenBucket } from '../transfer/bandwidth.js';
import { fileConcurrencyFor } from '../transfer/transfer-pool.js';
import { activityEntryOf } from './activity-log.js';
import { DropStaging } from './drop-staging.js';
import { addSyncFolder, checkStoreAccess, findFolder, removeSyncFolder, saveFolderPaused } from './folder-admin.js';
import { folderOverview } from './folder-overview.js';
import { readIgnoreFile, writeIgnoreFile } from './ignore-file.js';
import { JobRegistry } from './job-registry.js';
import { listRemote, startBackup, startKeyRotation, startRestore, verifyFolderKey, type DaemonParts } from './remote-use-cases.js';
import { ThroughputSampler } from './throughput.js';

export interface DaemonOptions {
  readonly version: string;
  /** Requests carrying data in flight (default: the config's, else 8). */
  readonly partConcurrency?: number;
  /** Upload limit in bytes per second (undefined: the config's, else none). */
  readonly bandwidthBytesPerSecond?: number | undefined;
  readonly sizing?: TransferSizing;
  /** Where files dropped on a browser window are staged before their backup (default: the state folder). */
  readonly stagingDir?: string;
  /** Daemon timings, for tests. */
  readonly stabilityMs?: number;
}

type Listener = (event: EngineEvent) => void;

export class Daemon implements DaemonParts {
  readonly sync: SyncEngine;
  readonly jobRegistry: JobRegistry;
  readonly staging: DropStaging;
  readonly #session: Session;
  readonly #version: string;
  readonly #listeners = new Set<Listener>();
  readonly #throughput = new ThroughputSampler();
  #ticker: NodeJS.Timeout | undefined;
  #lastOverview = '';
  #stopLogFeed: (() => void) | undefined;

  private constructor(
    readonly engine: Engine,
    folders: ReadonlyArray<SyncFolderConfig>,
    options: DaemonOptions,
  ) {
    this.#session = engine.session;
    this.#version = options.version;
    this.staging = new DropStaging(options.stagingDir ?? join(engine.session.paths.stateDir, 'dropped'));
    this.jobRegistry = new JobRegistry(engine.session.logger, (job, event) => this.#emit({ type: 'job', job, event }));
    this.sync = engine.openSync(folders, options.stabilityMs === undefined ? {} : { stabilityMs: options.stabilityMs });
  }

  /**
   * Loads the config, then opens the engine, claiming the config (one engine at a time: see
   * engine-lock.ts); call start() to begin syncing.
   */
  static async open(session: Session, options: DaemonOptions & { kind: 'serve' | 'desktop' }): Promise<Daemon> {
    const { folders, transfers } = await session.config.load();
    // Command-line flags win over what the window saved; then the defaults.
    const parts = options.partConcurrency ?? transfers?.partConcurrency;
    const files = options.partConcurrency === undefined ? (transfers?.fileConcurrency ?? (parts === undefined ? undefined : fileConcurrencyFor(parts))) : fileConcurrencyFor(options.partConcurrency);
    const engine = await openEngine(session, {
      claim: options.kind,
      transfers: { parts, files, bandwidthBytesPerSecond: options.bandwidthBytesPerSecond ?? transfers?.bandwidthBytesPerSecond },
      sizing: options.sizing,
    });
    try {
      return new Daemon(engine, folders, options);
    } catch (error) {
      await engine.close(0);
      throw error;
    }
  }

  get version(): string {
    return this.#version;
  }

  get journal(): Journal {
    return this.engine.journal;
  }

  get status(): StatusTracker {
    return this.engine.tracker;
  }

  get bandwidth(): TokenBucket {
    return this.engine.pool.bandwidth;
  }

  get stagingDir(): string {
    return this.staging.folder;
  }

  /** Tells CLI commands (`cosync pause`) where this engine's API is. */
  async advertise(url: string, token: string): Promise<void> {
    await this.engine.advertise(url, token);
  }

  /** Starts every folder (watching) and the once-a-second overview. */
  async start(): Promise<void> {
    // Leftovers of drops whose backup was cut off by a crash; their files were copies.
    await this.staging.clear();
    this.#stopLogFeed = this.#session.logger.onDidLog((line) => {
      if (this.#listeners.size === 0) return;
      const entry = activityEntryOf(line);
      if (entry !== undefined && entry.level !== 'debug') this.#emit({ type: 'activity', entry });
    });
    this.#ticker = setInterval(() => this.#tick(), 1000);
    this.#ticker.unref();
    await this.sync.start();
  }

  /** Finishes files in flight (up to `drainMs`), then closes the engine and everything in it. */
  async stop(drainMs = 10_000): Promise<void> {
    clearInterval(this.#ticker);
    this.#stopLogFeed?.();
    this.jobRegistry.cancelAll();
    await this.engine.close(drainMs);
    this.#listeners.clear();
  }

  /**
   * Receives every engine event from now on: status batches (its own batching, ≤ 10/s), the
   * overview when it changes (≤ 1/s), job progress and log activity. Returns the unsubscribe function.
   */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    const statusFeed = this.status.subscribe((batch) => listener({ type: 'status', batch }));
    return () => {
      statusFeed.dispose();
      this.#listeners.delete(listener);
    };
  }

  #emit(event: EngineEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // One broken connection must not stop the others.
      }
    }
  }

  #tick(): void {
    this.#throughput.sample(this.sync.describe().map(({ config }) => ({ folderId: config.id, sent: this.status.bytesSent(config.id) })));
    if (this.#listeners.size === 0) return;
    const overview = this.overview();
    const text = JSON.stringify(overview);
    if (text === this.#lastOverview) return;
    this.#lastOverview = text;
    this.#emit({ type: 'overview', overview });
  }

  // ── what the UI asks ──

  overview(): Overview {
    return {
      version: this.#version,
      paused: this.sync.pausedAll,
      bandwidthLimit: this.bandwidth.rate ?? null,
      concurrency: this.sync.concurrency,
      folders: this.sync.describe().map((description) => folderOverview(description, this.status, this.#throughput.bytesPerSecond(description.config.id))),
      throughput: this.#throughput.history(),
    };
  }

  files(folderId: string): FileStatus[] {
    this.folder(folderId);
    return this.status.list(folderId);
  }

  async setPaused(folderId: string | null, paused: boolean): Promise<void> {
    if (folderId === null) {
      if (paused) this.sync.pauseAll();
      else this.sync.resumeAll();
      this.#session.logger.log('info', paused ? 'all-paused' : 'all-resumed', {});
    } else {
      this.folder(folderId);
      await saveFolderPaused(this.#session, folderId, paused);
      this.sync.setPaused(folderId, paused);
    }
    this.#tick();
  }

  retry(folderId: string, path: string): void {
    this.sync.retry(folderId, path);
  }

  async setBandwidth(bytesPerSecond: number | null): Promise<void> {
    this.bandwidth.setRate(bytesPerSecond ?? undefined);
    await this.#session.config.update((config) => ({ ...config, transfers: { ...config.transfers, bandwidthBytesPerSecond: bytesPerSecond ?? undefined } }));
    this.#session.logger.log('info', 'bandwidth-set', { bytesPerSecond });
    this.#tick();
  }

  async setConcurrency(caps: { files: number; parts: number }): Promise<void> {
    this.sync.setConcurrency(caps);
    await this.#session.config.update((config) => ({ ...config, transfers: { ...config.transfers, fileConcurrency: caps.files, partConcurrency: caps.parts } }));
    this.#session.logger.log('info', 'concurrency-set', caps);
    this.#tick();
  }

  async addFolder(request: AddFolderRequest): Promise<FolderOverview> {
    const target = targetOf(request);
    const folder = await addSyncFolder(this.engine, {
      localPath: request.localPath,
      target,
      policy: request.policy,
      region: request.region,
      dialect: request.dialect,
      account: request.account,
      kitSaved: false,
    });
    await this.sync.addFolder(folder);
    const description = this.sync.describe().find((candidate) => candidate.config.id === folder.id) as FolderDescription;
    this.#tick();
    return folderOverview(description, this.status, this.#throughput.bytesPerSecond(folder.id));
  }

  async removeFolder(folderId: string): Promise<void> {
    this.folder(folderId);
    await this.sync.removeFolder(folderId);
    await removeSyncFolder(this.#session, this.journal, folderId);
    this.status.forgetFolder(folderId);
    this.#throughput.forget(folderId);
    this.#tick();
  }

  async testConnection(location: StoreLocation): Promise<{ description: string }> {
    const target = targetOf({ ...location, sse: 'none', keyName: undefined, kmsKeyId: undefined });
    return { description: await checkStoreAccess(this.engine, target, location.account) };
  }

  async keys(): Promise<KeySummary[]> {
    const config = await this.#session.config.load();
    const stored = await this.#session.keychain.listKeys();
    return stored
      .map(({ name, fingerprint }) => ({
        name,
        fingerprint,
        createdAt: config.keys[name]?.createdAt,
        kitExportedAt: config.keys[name]?.kitExportedAt,
        folders: config.folders.filter((folder) => folder.keyName === name).map((folder) => folder.id),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async keySummary(name: string): Promise<KeySummary> {
    const summary = (await this.keys()).find((key) => key.name === name);
    if (summary === undefined) throw new CosyncError('key-not-found', `no SSE-C key named ${JSON.stringify(name)} in the keychain`);
    return summary;
  }

  async verifyKey(folderId: string): Promise<{ checked: number; matched: number; mismatched: string[]; notSseC: number }> {
    return verifyFolderKey(this, folderId);
  }

  /** One level of a remote tree: files and sub-folders under `path` ("" or ending in "/"). */
  async listRemote(folderId: string, scope: RemoteScope, path: string): Promise<RemoteEntry[]> {
    return listRemote(this, folderId, scope, path);
  }

  async restore(folderId: string, scope: RemoteScope, paths: ReadonlyArray<string>, destination: string | null): Promise<JobSummary> {
    return startRestore(this, folderId, scope, paths, destination);
  }

  async backup(folderId: string, paths: ReadonlyArray<string>, prefix: string): Promise<JobSummary> {
    return startBackup(this, folderId, paths, prefix);
  }

  async rotateKey(folderId: string, kitPath: string): Promise<JobSummary> {
    return startKeyRotation(this, folderId, kitPath);
  }

  /** Cancels a running job (its transfers stop as they notice the signal). */
  cancel(jobId: string): JobSummary {
    return this.jobRegistry.cancel(jobId);
  }

  async newDropFolder(): Promise<string> {
    return this.staging.newDropFolder();
  }

  dropFolder(id: string): string | undefined {
    return this.staging.dropFolder(id);
  }

  isStaged(path: string): boolean {
    return this.staging.isStaged(path);
  }

  async ignoreRules(folderId: string): Promise<{ text: string; builtIn: ReadonlyArray<string> }> {
    return readIgnoreFile(this.folder(folderId).localPath);
  }

  async setIgnoreRules(folderId: string, text: string): Promise<void> {
    await writeIgnoreFile(folderId, this.folder(folderId).localPath, text, this.#session.logger);
  }

  jobs(): JobSummary[] {
    return this.jobRegistry.list();
  }

  async activity(limit: number): Promise<ActivityEntry[]> {
    const lines = await this.#session.logger.recentLines(limit);
    return lines.flatMap((line) => activityEntryOf(line) ?? []);
  }

  // ── helpers ──

  /** The folders being synced, as configured. */
  folderConfigs(): SyncFolderConfig[] {
    return this.sync.describe().map((description) => description.config);
  }

  folder(folderId: string): SyncFolderConfig {
    return findFolder(this.folderConfigs(), folderId, 'a folder id');
  }
}

/** A Target from what the window sent, in the target model's own terms. */
function targetOf(request: StoreLocation & { sse: AddFolderRequest['sse']; keyName: string | undefined; kmsKeyId: string | undefined; storageClass?: string | undefined }): Target {
  return targetFromFields(
    {
      endpoint: request.endpoint.trim() === '' ? undefined : request.endpoint.trim(),
      region: request.region,
      bucket: request.bucket.trim(),
      prefix: request.prefix,
      sse: request.sse,
      keyName: request.sse === 'c' ? request.keyName : undefined,
      kmsKeyId: request.sse === 'kms' ? request.kmsKeyId : undefined,
      pathStyle: request.pathStyle,
      dialect: request.dialect,
      storageClass: request.storageClass,
    },
    'none',
  );
}
