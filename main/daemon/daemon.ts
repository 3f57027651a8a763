/**
 * The running engine as a UI sees it — one object shared by the headless daemon (`cosync serve`)
 * and the Electron shell, so both windows drive the same code: the sync engine over every
 * configured folder, the status tracker, folder and key management, backups and restores started
 * from the window, and one stream of EngineEvents (status batches, a once-a-second overview,
 * job progress, log activity).
 *
 * Nothing secret leaves here: keys appear as fingerprints, credentials not at all.
 */
import { setMaxListeners } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ActivityEntry, AddFolderRequest, EngineEvent, FolderActivity, FolderOverview, JobSummary, KeySummary, Overview, RemoteEntry, RemoteScope, StoreLocation } from '../../app/contract.js';
import { BUILT_IN_IGNORES, parseIgnoreRules } from '../../app/ignore-rules.js';
import { CosyncError } from '../../app/result.js';
import { folderTarget, type SyncFolderConfig } from '../../app/sync-model.js';
import type { FileStatus } from '../../app/sync-status.js';
import { normalizePrefix, type Target } from '../../app/target.js';
import { describeRetrieving, type TransferEvent } from '../../app/transfer-events.js';
import { targetFromSettings, type Session } from '../session/session.js';
import type { CosyncConfig } from '../config/config-store.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Journal } from '../journal/journal.js';
import { formatLogFields } from '../log/logger.js';
import { rotateFolderKey } from '../secrets/key-rotation.js';
import { verifyKeyAgainstObjects } from '../secrets/verify-key.js';
import { TokenBucket } from '../transfer/bandwidth.js';
import { missingRestoreFolders, runRestore } from '../transfer/restore.js';
import { SyncEngine, type FolderConnection, type FolderDescription } from '../sync/sync-engine.js';
import { StatusTracker } from '../sync/status-tracker.js';
import { claimEngine, type EngineClaim } from './engine-lock.js';
import { addSyncFolder, checkStoreAccess, connectFolder, findFolder, prefixesOverlap, removeSyncFolder, saveFolderPaused } from './folder-admin.js';
import PQueue from 'p-queue';
import { COS_LIMITS, DEFAULT_SIZING, S3_LIMITS, type TransferSizing } from '../../app/part-size.js';

/** A folder's own ignore rules, at its root. */
const IGNORE_FILE = '.cosyncignore';

/** Throughput samples kept for the overview's graph: one a second. */
const THROUGHPUT_SAMPLES = 300;
/** Seconds averaged for the current speed (and the ETA). */
const SPEED_WINDOW = 5;
/** Job progress events per job and second, at most (finished/failed files always go out). */
const JOB_PROGRESS_INTERVAL_MS = 100;

export interface DaemonOptions {
  readonly version: string;
  /** Requests carrying data in flight (default 8). */
  readonly partConcurrency?: number;
  /** Upload limit in bytes per second (undefined: none). */
  readonly bandwidthBytesPerSecond?: number | undefined;
  readonly sizing?: TransferSizing;
  /** Where files dropped on a browser window are staged before their backup (default: the state folder). */
  readonly stagingDir?: string;
  /** Daemon timings, for tests. */
  readonly stabilityMs?: number;
}

interface Job {
  summary: JobSummary;
  /** Aborted by cancel(jobId): its signal reaches every request, wait and file read of the run. */
  readonly abort: AbortController;
  lastProgressAt: number;
  readonly fileBytes: Map<string, number>;
}

type Listener = (event: EngineEvent) => void;

export class Daemon {
  readonly engine: SyncEngine;
  readonly status = new StatusTracker();
  readonly journal: Journal;
  readonly bandwidth: TokenBucket;
  readonly stagingDir: string;
  readonly #session: Session;
  readonly #options: DaemonOptions;
  #partConcurrency: number;
  readonly #listeners = new Set<Listener>();
  readonly #jobs = new Map<string, Job>();
  /** Bytes sent across all folders, sampled once a second. */
  readonly #throughput: number[] = [];
  /** Per folder: the bytes-sent counter at each of the last samples. */
  readonly #sentSamples = new Map<string, number[]>();
  #lastSentTotal = 0;
  #ticker: NodeJS.Timeout | undefined;
  #lastOverview = '';
  #stopLogFeed: (() => void) | undefined;
  #claim: EngineClaim | undefined;

  private constructor(session: Session, journal: Journal, config: CosyncConfig, options: DaemonOptions) {
    const { folders, transfers } = config;
    this.#session = session;
    this.#options = options;
    this.journal = journal;
    // Command-line flags win over what the window saved; then the defaults.
    this.#partConcurrency = options.partConcurrency ?? transfers?.partConcurrency ?? 8;
    const fileConcurrency = options.partConcurrency === undefined ? (transfers?.fileConcurrency ?? Math.max(2, Math.min(this.#partConcurrency, 8))) : Math.max(2, Math.min(this.#partConcurrency, 8));
    this.bandwidth = new TokenBucket(options.bandwidthBytesPerSecond ?? transfers?.bandwidthBytesPerSecond);
    this.stagingDir = options.stagingDir ?? join(session.paths.stateDir, 'dropped');
    this.engine = new SyncEngine(folders, {
      journal,
      logger: session.logger,
      status: this.status,
      connect: (folder) => connectFolder(session, folder, this.#partConcurrency, journal),
      partConcurrency: this.#partConcurrency,
      fileConcurrency,
      bandwidth: this.bandwidth,
      sizing: options.sizing ?? DEFAULT_SIZING,
      ...(options.stabilityMs === undefined ? {} : { stabilityMs: options.stabilityMs }),
    });
  }

  /**
   * Claims the config (one engine at a time: see engine-lock.ts), loads it and opens the
   * journal; call start() to begin syncing.
   */
  static async open(session: Session, options: DaemonOptions & { kind: 'serve' | 'desktop' }): Promise<Daemon> {
    const config = await session.config.load();
    const claim = await claimEngine(session.paths.stateDir, { kind: options.kind });
    try {
      const daemon = new Daemon(session, session.openJournal(), config, options);
      daemon.#claim = claim;
      return daemon;
    } catch (error) {
      await claim.release();
      throw error;
    }
  }

  /** Tells CLI commands (`cosync pause`) where this engine's API is. */
  async advertise(url: string, token: string): Promise<void> {
    await this.#claim?.advertise(url, token);
  }

  get version(): string {
    return this.#options.version;
  }

  /** Starts every folder (watching) and the once-a-second overview. */
  async start(): Promise<void> {
    // Leftovers of drops whose backup was cut off by a crash; their files were copies.
    await rm(this.stagingDir, { recursive: true, force: true }).catch(() => undefined);
    this.#stopLogFeed = this.#session.logger.onDidLog((line) => {
      if (this.#listeners.size === 0) return;
      const entry = activityEntryOf(line);
      if (entry !== undefined && entry.level !== 'debug') this.#emit({ type: 'activity', entry });
    });
    this.#ticker = setInterval(() => this.#tick(), 1000);
    this.#ticker.unref();
    await this.engine.start();
  }

  /** Finishes files in flight (up to `drainMs`), then closes everything. */
  async stop(drainMs = 10_000): Promise<void> {
    clearInterval(this.#ticker);
    this.#stopLogFeed?.();
    await this.engine.stop(drainMs);
    this.status.flush();
    this.status.dispose();
    this.#listeners.clear();
    this.journal.close();
    await this.#claim?.release();
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
    let total = 0;
    for (const description of this.engine.describe()) {
      const id = description.config.id;
      const sent = this.status.bytesSent(id);
      total += sent;
      const samples = this.#sentSamples.get(id) ?? [];
      samples.push(sent);
      if (samples.length > SPEED_WINDOW + 1) samples.shift();
      this.#sentSamples.set(id, samples);
    }
    this.#throughput.push(Math.max(0, total - this.#lastSentTotal));
    if (this.#throughput.length > THROUGHPUT_SAMPLES) this.#throughput.shift();
    this.#lastSentTotal = total;
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
      version: this.#options.version,
      paused: this.engine.pausedAll,
      bandwidthLimit: this.bandwidth.rate ?? null,
      concurrency: this.engine.concurrency,
      folders: this.engine.describe().map((description) => this.#folderOverview(description)),
      throughput: [...this.#throughput],
    };
  }

  #folderOverview(description: FolderDescription): FolderOverview {
    const { config } = description;
    const counts = this.status.counts(config.id);
    let bytesTotal = 0;
    let bytesPending = 0;
    const local = description.trees?.local;
    if (local !== undefined) for (const file of local.values()) bytesTotal += file.sizeBytes;
    for (const entry of this.status.entries(config.id)) {
      const { status } = entry;
      if (status.state === 'uploading') bytesPending += Math.max(0, status.bytesTotal - status.bytesDone);
      else if (status.state === 'queued' || status.state === 'hashing') bytesPending += local?.get(entry.path)?.sizeBytes ?? 0;
    }
    const samples = this.#sentSamples.get(config.id) ?? [];
    const bytesPerSecond = samples.length < 2 ? 0 : ((samples.at(-1) as number) - (samples[0] as number)) / (samples.length - 1);
    const inFlight = counts.queued + counts.hashing + counts.uploading + counts.verifying;
    const activity: FolderActivity =
      description.paused || this.engine.pausedAll
        ? 'paused'
        : description.problem !== undefined
          ? 'error'
          : description.transferring || inFlight > 0
            ? 'syncing'
            : description.cycling
              ? 'scanning'
              : 'idle';
    return {
      id: config.id,
      localPath: config.localPath,
      endpoint: config.endpoint,
      bucket: config.bucket,
      prefix: config.prefix,
      sse: config.sse,
      keyName: config.keyName,
      policy: config.policy,
      storageClass: config.storageClass,
      activity,
      problem: description.problem,
      degraded: description.degraded,
      counts,
      bytesTotal,
      bytesPending,
      bytesPerSecond: Math.round(bytesPerSecond),
      etaSeconds: bytesPerSecond > 0 && bytesPending > 0 ? Math.ceil(bytesPending / bytesPerSecond) : undefined,
    };
  }

  files(folderId: string): FileStatus[] {
    this.#folder(folderId);
    return this.status.list(folderId);
  }

  async setPaused(folderId: string | null, paused: boolean): Promise<void> {
    if (folderId === null) {
      if (paused) this.engine.pauseAll();
      else this.engine.resumeAll();
      this.#session.logger.log('info', paused ? 'all-paused' : 'all-resumed', {});
    } else {
      this.#folder(folderId);
      await saveFolderPaused(this.#session, folderId, paused);
      this.engine.setPaused(folderId, paused);
    }
    this.#tick();
  }

  retry(folderId: string, path: string): void {
    this.engine.retry(folderId, path);
  }

  async setBandwidth(bytesPerSecond: number | null): Promise<void> {
    this.bandwidth.setRate(bytesPerSecond ?? undefined);
    await this.#session.config.update((config) => ({ ...config, transfers: { ...config.transfers, bandwidthBytesPerSecond: bytesPerSecond ?? undefined } }));
    this.#session.logger.log('info', 'bandwidth-set', { bytesPerSecond });
    this.#tick();
  }

  async setConcurrency(caps: { files: number; parts: number }): Promise<void> {
    this.engine.setConcurrency(caps);
    this.#partConcurrency = caps.parts;
    await this.#session.config.update((config) => ({ ...config, transfers: { ...config.transfers, fileConcurrency: caps.files, partConcurrency: caps.parts } }));
    this.#session.logger.log('info', 'concurrency-set', caps);
    this.#tick();
  }

  async addFolder(request: AddFolderRequest): Promise<FolderOverview> {
    const target = targetOf(request);
    const folder = await addSyncFolder(this.#session, {
      localPath: request.localPath,
      target,
      policy: request.policy,
      region: request.region,
      dialect: request.dialect,
      account: request.account,
      kitSaved: false,
    });
    await this.engine.addFolder(folder);
    const description = this.engine.describe().find((candidate) => candidate.config.id === folder.id);
    this.#tick();
    return this.#folderOverview(description as FolderDescription);
  }

  async removeFolder(folderId: string): Promise<void> {
    this.#folder(folderId);
    await this.engine.removeFolder(folderId);
    await removeSyncFolder(this.#session, this.journal, folderId);
    this.status.forgetFolder(folderId);
    this.#sentSamples.delete(folderId);
    this.#tick();
  }

  async testConnection(location: StoreLocation): Promise<{ description: string }> {
    const target = targetOf({ ...location, sse: 'none', keyName: undefined, kmsKeyId: undefined });
    return { description: await checkStoreAccess(this.#session, target, location.account) };
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
    const folder = this.#folder(folderId);
    if (folder.sse !== 'c' || folder.keyName === undefined) throw new CosyncError('usage', `folder ${folderId} does not use an SSE-C key (its encryption is ${folder.sse}); there is no key of yours to check`);
    const key = await this.#session.keychain.getKey(folder.keyName);
    const { connection } = await this.#connect(folder);
    try {
      const results = await verifyKeyAgainstObjects(connection.store, key, folder.prefix, 20);
      return {
        checked: results.length,
        matched: results.filter((entry) => entry.result === 'match').length,
        mismatched: results.filter((entry) => entry.result === 'mismatch').map((entry) => entry.objectKey),
        notSseC: results.filter((entry) => entry.result === 'not-sse-c').length,
      };
    } finally {
      connection.store.close();
    }
  }

  /** One level of a remote tree: files and sub-folders under `path` ("" or ending in "/"). */
  async listRemote(folderId: string, scope: RemoteScope, path: string): Promise<RemoteEntry[]> {
    const folder = this.#folder(folderId);
    if (path !== '' && !path.endsWith('/')) throw new CosyncError('usage', `${JSON.stringify(path)} is not a folder path (it must be empty or end with "/")`);
    const base = (scope === 'folder' ? folder.prefix : '') + path;
    const { connection } = await this.#connect(folder);
    const children = new Map<string, RemoteEntry>();
    try {
      for await (const object of connection.store.listObjects(base)) {
        const rest = object.key.slice(base.length);
        if (rest === '') continue;
        const slash = rest.indexOf('/');
        if (slash === -1) {
          children.set(rest, { path: path + rest, kind: 'file', sizeBytes: object.sizeBytes });
        } else {
          const name = rest.slice(0, slash + 1);
          const known = children.get(name);
          children.set(name, { path: path + name, kind: 'folder', sizeBytes: (known?.sizeBytes ?? 0) + object.sizeBytes });
        }
      }
    } finally {
      connection.store.close();
    }
    return [...children.values()].sort((a, b) => (a.kind !== b.kind ? (a.kind === 'folder' ? -1 : 1) : a.path < b.path ? -1 : 1));
  }

  /**
   * Restores files and folders of a sync folder into the folder itself (`destination` null) or
   * another local folder. Existing different files are not overwritten: they fail with a reason.
   */
  async restore(folderId: string, scope: RemoteScope, paths: ReadonlyArray<string>, destination: string | null): Promise<JobSummary> {
    const folder = this.#folder(folderId);
    if (destination !== null && !isAbsolute(destination)) throw new CosyncError('usage', `restore destination must be an absolute folder path; got ${JSON.stringify(destination)}`);
    if (destination === null && scope === 'bucket') throw new CosyncError('usage', 'objects from outside the sync folder have no place of their own: choose a folder to restore them into');
    const root = destination ?? folder.localPath;
    for (const path of paths) {
      if (path === '' || path.startsWith('/') || path.split('/').includes('..')) throw new CosyncError('usage', `${JSON.stringify(path)} is not a path inside the folder`);
    }
    // A file in the way is refused now; runRestore makes the folders once there is something to restore.
    await missingRestoreFolders(root);
    const { connection, target } = await this.#connect(folder);
    const title = `Restore ${paths.length === 1 ? paths[0] : `${paths.length} items`} to ${root}`;
    return this.#startJob('restore', title, async (emit, signal) => {
      try {
        let succeeded = 0;
        let failed = 0;
        for (const path of paths) {
          if (signal.aborted) break;
          // A folder path restores everything under it; a file path restores that one object.
          // Back in the folder, each keeps its place; elsewhere, each selected item lands at the top.
          const isFolder = path.endsWith('/');
          const segments = (isFolder ? path.slice(0, -1) : path).split('/');
          const local = destination === null ? join(root, ...(isFolder ? segments : segments.slice(0, -1))) : isFolder ? join(root, segments.at(-1) as string) : root;
          const outcome = await runRestore(
            `${scope === 'folder' ? target.prefix : ''}${isFolder ? path : `${path}/`}`,
            local,
            connection.encryption,
            { store: connection.store, overwrite: false, endpointId: target.endpoint.url, bucket: target.bucket, journal: this.journal, partQueue: new PQueue({ concurrency: this.#partConcurrency }), bandwidth: this.bandwidth, signal },
            { fileConcurrency: 4, logger: this.#session.logger, emit },
          );
          succeeded += outcome.succeeded;
          failed += outcome.failed;
        }
        return { succeeded, failed };
      } finally {
        connection.store.close();
      }
    });
  }

  /** Backs up local files or folders once into a sync folder's bucket, under `prefix`. */
  async backup(folderId: string, paths: ReadonlyArray<string>, prefix: string): Promise<JobSummary> {
    const folder = this.#folder(folderId);
    const normalized = normalizePrefix(prefix);
    for (const other of this.folderConfigs()) {
      if (other.endpoint === folder.endpoint && other.bucket === folder.bucket && prefixesOverlap(other.prefix, normalized)) {
        throw new CosyncError('usage', `backup prefix ${JSON.stringify(normalized)} overlaps sync folder ${other.id} (prefix ${JSON.stringify(other.prefix)}); choose a prefix of its own, e.g. backups/`);
      }
    }
    for (const path of paths) if (!isAbsolute(path)) throw new CosyncError('usage', `${JSON.stringify(path)} is not an absolute path`);
    const { connection, target } = await this.#connect(folder);
    const destination = { connection, target: { ...target, prefix: normalized } };
    const title = `Back up ${paths.length === 1 ? (paths[0] as string).split(sep).at(-1) : `${paths.length} items`} to ${folder.bucket}/${normalized}`;
    return this.#startJob('backup', title, async (emit, signal) => {
      try {
        return await this.engine.backup(paths, destination, emit, signal);
      } finally {
        connection.store.close();
        // Files staged from a browser drop were copies; they go once their backup is over.
        for (const path of paths) if (this.isStaged(path)) await rm(dirname(path), { recursive: true, force: true }).catch(() => undefined);
      }
    });
  }

  /**
   * Rotates a folder's SSE-C key (main/secrets/key-rotation.ts) as a job. The folder leaves the
   * engine for the duration — nothing may write with the old key meanwhile — and comes back
   * with whatever key the keychain then holds under its name (the new one once it is done).
   */
  async rotateKey(folderId: string, kitPath: string): Promise<JobSummary> {
    const folder = this.#folder(folderId);
    if (folder.sse !== 'c' || folder.keyName === undefined) throw new CosyncError('usage', `folder ${folderId} does not use an SSE-C key (its encryption is ${folder.sse}); there is no key of yours to rotate`);
    if (!isAbsolute(kitPath)) throw new CosyncError('usage', `the new key's recovery kit needs an absolute file path; got ${JSON.stringify(kitPath)}`);
    const keyName = folder.keyName;
    const { connection, target } = await this.#connect(folder);
    const allFolders = this.folderConfigs();
    await this.engine.removeFolder(folder.id);
    return this.#startJob('rotate', `Rotate key ${keyName} of ${folder.localPath}`, async (emit, signal) => {
      try {
        const result = await rotateFolderKey(
          { folder, keyName, kitOut: kitPath, forceKit: false, allFolders },
          {
            store: connection.store,
            journal: this.journal,
            keychain: this.#session.keychain,
            config: this.#session.config,
            logger: this.#session.logger,
            limits: target.dialect === 'cos' ? COS_LIMITS : S3_LIMITS,
            sizing: this.#options.sizing ?? DEFAULT_SIZING,
            concurrency: 4,
            signal,
            onEvent: (event) => {
              // Shown as a transfer: one "file" per object re-encrypted.
              if (event.type === 'rotation-started') emit({ type: 'run-started', direction: 'backup', files: event.toReEncrypt, bytes: event.bytesToReEncrypt });
              else if (event.type === 'object-re-encrypted') emit({ type: 'file-finished', path: event.key, key: event.key, bytes: event.bytes, result: 'uploaded', detail: event.method });
            },
          },
        );
        return { succeeded: result.reEncrypted + result.alreadyDone, failed: 0 };
      } finally {
        connection.store.close();
        await this.engine.addFolder((await this.#session.config.load()).folders.find((candidate) => candidate.id === folder.id) ?? folder);
      }
    });
  }

  /** A new folder for one browser drop's files, inside the staging folder. */
  async newDropFolder(): Promise<string> {
    const folder = join(this.stagingDir, randomBytes(8).toString('hex'));
    await mkdir(folder, { recursive: true, mode: 0o700 });
    return folder;
  }

  /** The folder of an earlier drop, by the id newDropFolder's name gave; undefined for anything else. */
  dropFolder(id: string): string | undefined {
    return /^[0-9a-f]{16}$/.test(id) ? join(this.stagingDir, id) : undefined;
  }

  /** Whether a path lies inside the staging folder (a browser drop). */
  isStaged(path: string): boolean {
    const inside = relative(this.stagingDir, resolve(path));
    return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
  }

  async ignoreRules(folderId: string): Promise<{ text: string; builtIn: ReadonlyArray<string> }> {
    const folder = this.#folder(folderId);
    const text = await readFile(join(folder.localPath, IGNORE_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw new CosyncError('path-unreadable', `cannot read ${join(folder.localPath, IGNORE_FILE)}: ${error.code ?? error.message}`);
    });
    return { text, builtIn: BUILT_IN_IGNORES };
  }

  /**
   * Writes a folder's .cosyncignore (atomically: the watcher never sees half a file); the
   * watcher then rescans the folder under the new rules. Rules that cannot be read are refused
   * with their line numbers, and nothing is written.
   */
  async setIgnoreRules(folderId: string, text: string): Promise<void> {
    const folder = this.#folder(folderId);
    const { problems } = parseIgnoreRules(text, IGNORE_FILE);
    if (problems.length > 0) throw new CosyncError('usage', `the rules were not saved: ${problems.join('; ')}`);
    const file = join(folder.localPath, IGNORE_FILE);
    await writeFileAtomic(file, text.endsWith('\n') || text === '' ? text : `${text}\n`);
    this.#session.logger.log('info', 'ignore-rules-saved', { folder: folderId, rules: text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')).length });
  }

  jobs(): JobSummary[] {
    return [...this.#jobs.values()].map((job) => job.summary);
  }

  /** Cancels a running job; one that has ended is left as it is. */
  cancel(jobId: string): void {
    const job = this.#jobs.get(jobId);
    if (job === undefined) throw new CosyncError('usage', `no job with id ${JSON.stringify(jobId)}; sync:jobs lists the jobs`);
    if (job.summary.state !== 'running' || job.abort.signal.aborted) return;
    this.#session.logger.log('info', `${job.summary.kind}-job-cancelling`, { job: jobId });
    job.abort.abort(new CosyncError('aborted', 'cancelled'));
  }

  async activity(limit: number): Promise<ActivityEntry[]> {
    const lines = await this.#session.logger.recentLines(limit);
    return lines.flatMap((line) => activityEntryOf(line) ?? []);
  }

  // ── helpers ──

  /** The folders being synced, as configured. */
  folderConfigs(): SyncFolderConfig[] {
    return this.engine.describe().map((description) => description.config);
  }

  #folder(folderId: string): SyncFolderConfig {
    return findFolder(this.folderConfigs(), folderId, 'a folder id');
  }

  async #connect(folder: SyncFolderConfig): Promise<{ connection: FolderConnection; target: Target }> {
    return { connection: await connectFolder(this.#session, folder, this.#partConcurrency, this.journal), target: folderTarget(folder) };
  }

  /** Runs a transfer in the background as a job; its summary follows the run's events. */
  #startJob(
    kind: JobSummary['kind'],
    title: string,
    run: (emit: (event: TransferEvent) => void, signal: AbortSignal) => Promise<{ succeeded: number; failed: number }>,
  ): JobSummary {
    const id = `${kind}-${randomBytes(4).toString('hex')}`;
    const abort = new AbortController();
    // Every request in flight listens to the signal; past 10 listeners Node would print a leak warning.
    setMaxListeners(1000, abort.signal);
    const job: Job = {
      abort,
      summary: { id, kind, title, state: 'running', filesDone: 0, filesFailed: 0, files: 0, bytesDone: 0, bytes: 0, error: undefined, startedAt: Date.now() },
      lastProgressAt: 0,
      fileBytes: new Map(),
    };
    this.#jobs.set(id, job);
    this.#session.logger.log('info', `${kind}-job-started`, { job: id, title });
    const update = (change: Partial<JobSummary>, event: TransferEvent | undefined, always: boolean): void => {
      job.summary = { ...job.summary, ...change };
      const now = Date.now();
      if (!always && now - job.lastProgressAt < JOB_PROGRESS_INTERVAL_MS) return;
      job.lastProgressAt = now;
      this.#emit({ type: 'job', job: job.summary, event });
    };
    const emit = (event: TransferEvent): void => {
      const { summary } = job;
      switch (event.type) {
        case 'run-started':
          // A restore of several paths runs several times: counts add up.
          update({ files: summary.files + event.files, bytes: summary.bytes + event.bytes }, event, true);
          break;
        case 'file-progress': {
          const before = job.fileBytes.get(event.path) ?? 0;
          job.fileBytes.set(event.path, event.bytesDone);
          update({ bytesDone: summary.bytesDone + Math.max(0, event.bytesDone - before) }, event, false);
          break;
        }
        case 'file-finished': {
          const before = job.fileBytes.get(event.path) ?? 0;
          job.fileBytes.delete(event.path);
          update({ filesDone: summary.filesDone + 1, bytesDone: summary.bytesDone + Math.max(0, event.bytes - before) }, event, true);
          break;
        }
        case 'file-failed':
          job.fileBytes.delete(event.path);
          // The first failure is the job's headline; the rest are in the activity log.
          update({ filesFailed: summary.filesFailed + 1, error: summary.error ?? { code: event.error.code, message: `${event.path}: ${event.error.message}` } }, event, true);
          break;
        case 'file-retrieving':
          job.fileBytes.delete(event.path);
          update({ retrieving: { files: (summary.retrieving?.files ?? 0) + 1, note: summary.retrieving?.note ?? `${event.path}: ${describeRetrieving(event)}` } }, event, true);
          break;
        case 'file-skipped':
        case 'file-started':
        case 'file-resumed':
          update({}, event, event.type !== 'file-started');
          break;
        case 'run-finished':
          break;
      }
    };
    const cancelled = (): boolean => {
      if (!abort.signal.aborted) return false;
      update({ state: 'cancelled' }, undefined, true);
      this.#session.logger.log('info', `${kind}-job-cancelled`, { job: id, files: job.summary.filesDone });
      return true;
    };
    void run(emit, abort.signal).then(
      ({ failed }) => {
        if (cancelled()) return;
        const first = job.summary.error;
        const more = failed > 1 ? ` (and ${failed - 1} more: see Activity)` : '';
        update({ state: failed === 0 ? 'finished' : 'failed', error: failed === 0 ? undefined : { code: first?.code ?? 'internal', message: `${first?.message ?? `${failed} files failed`}${more}` } }, undefined, true);
        this.#session.logger.log(failed === 0 ? 'info' : 'warn', `${kind}-job-finished`, { job: id, files: job.summary.filesDone, failed });
      },
      (error: unknown) => {
        if (cancelled()) return;
        const info = error instanceof CosyncError ? error.toInfo() : { code: 'internal' as const, message: (error as Error)?.message ?? String(error) };
        update({ state: 'failed', error: info }, undefined, true);
        this.#session.logger.log('error', `${kind}-job-failed`, { job: id, code: info.code, message: info.message });
      },
    );
    return job.summary;
  }
}

/** A Target from what the UI sent, validated like the CLI's flags. */
function targetOf(request: StoreLocation & { sse: AddFolderRequest['sse']; keyName: string | undefined; kmsKeyId: string | undefined; storageClass?: string | undefined }): Target {
  return targetFromSettings(
    {
      endpoint: request.endpoint.trim() === '' ? undefined : request.endpoint.trim(),
      region: request.region,
      bucket: request.bucket.trim(),
      prefix: request.prefix,
      sse: request.sse,
      key: request.sse === 'c' ? request.keyName : undefined,
      'kms-key-id': request.sse === 'kms' ? request.kmsKeyId : undefined,
      'path-style': request.pathStyle,
      dialect: request.dialect,
      'storage-class': request.storageClass,
    },
    'none',
  );
}

/** A log line as an activity entry; undefined for lines that are not cosync records. */
function activityEntryOf(line: string): ActivityEntry | undefined {
  try {
    const { time, level, event, folder, ...fields } = JSON.parse(line) as Record<string, unknown>;
    if (typeof time !== 'string' || typeof event !== 'string') return undefined;
    const text = formatLogFields(fields);
    return {
      time,
      level: level === 'debug' || level === 'warn' || level === 'error' ? level : 'info',
      event,
      folder: typeof folder === 'string' ? folder : undefined,
      text,
    };
  } catch {
    return undefined;
  }
}
