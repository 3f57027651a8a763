/**
 * One sync folder at run time: its three trees in memory (loaded from and written through to the
 * journal), the observers that fill them (disk scan, bucket listing) and the executors that carry
 * out the planner's actions.
 *
 *   scan disk ─┐                       ┌─► upload / adopt / move / delete / trash / forget / refresh
 *   list bucket ┼─► trees ─► planSync ─┤      (through the shared file queue, small files first)
 *   watcher ───┘     ▲                 └─► each outcome committed to the journal, then the trees
 *                    └──────────────── re-plan until nothing is left to do ◄──┘
 *
 * Crash safety comes from the order of commits: an object is written (atomically: PUT, Complete
 * or Copy) before the journal says it is synced, and a source is deleted only after its copy is
 * recorded. After a kill, the trees are observed again and the plan recomputed; anything done
 * but not recorded is recognised (adopt compares the object with the file) rather than redone blindly.
 */
import { join } from 'node:path';
import type PQueue from 'p-queue';
import { DEFAULT_IGNORE_RULES, parseIgnoreRules, type IgnoreRules } from '../../app/ignore-rules.js';
import { CosyncError, type CosyncErrorInfo } from '../../app/result.js';
import { conflictCopyPath, pathStamp, TRASH_PREFIX, type LocalFile, type RemoteFile, type SyncAction, type SyncedFile, type SyncFolderConfig } from '../../app/sync-model.js';
import { keyLengthProblem } from '../../app/object-key.js';
import { holdsSyncedContent, pathsOf, planSync } from '../../app/sync-planner.js';
import type { FileSyncState } from '../../app/sync-status.js';
import type { Journal, SyncErrorRecord, TreeChange } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { ObjectEncryption, RemoteObjectDetails, RemoteStore } from '../remote/remote-store.js';
import { isRunFatal } from '../transfer/backup.js';
import { contentDigest, METADATA, multipartEtag, PartHasher } from '../transfer/content-digest.js';
import { copyObjectWithFallback } from '../transfer/copy-object.js';
import { uploadFile, type UploadContext } from '../transfer/upload-file.js';
import { readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { mayBeUndecodable } from '../transfer/file-names.js';
import { emptyScan, hashFile, scanPath, scanTree, type KnownFiles, type ScanResult } from './local-scanner.js';

/** Where per-file states go (the StatusTracker). */
export interface StatusSink {
  set(folderId: string, path: string, status: FileSyncState): void;
  forget(folderId: string, path: string): void;
}

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
  readonly now?: () => number;
  /**
   * Called when every action of a plan has finished (the daemon plans again then). Not after each
   * action: planning looks at the whole folder, and 100,000 files must not mean 100,000 plans.
   */
  readonly onDidFinishPlan?: (folder: FolderSync) => void;
}

/** Failures of one path are retried after 2, 4, 8 … seconds, at most this long apart. */
/** How long the disposal of a path the watcher saw vanish waits for its other half of a rename. */
const RENAME_GRACE_MS = 3000;
const MAX_RETRY_DELAY_MS = 10 * 60_000;

/** The outcome of running a folder until nothing more can be done now. */
export interface ConvergeResult {
  readonly actionsRun: number;
  /** Paths that still fail after their attempts, with the last error. */
  readonly failed: Array<{ path: string; error: CosyncErrorInfo }>;
  readonly remoteOnly: number;
  readonly skipped: Array<{ path: string; reason: string }>;
}

export class FolderSync {
  readonly #local: Map<string, LocalFile>;
  readonly #filesUnder = new Map<string, number>();
  readonly #remote: Map<string, RemoteFile>;
  readonly #synced: Map<string, SyncedFile>;
  readonly #errors: Map<string, SyncErrorRecord>;
  #rules: IgnoreRules = DEFAULT_IGNORE_RULES;
  /** Paths with an action in flight: a second action on one of them waits for the next plan. */
  readonly #busy = new Set<string>();
  /** Actions running now, and who waits for none to be (close()). */
  #running = 0;
  readonly #idleWaiters: Array<() => void> = [];
  #closed = false;
  /**
   * When the watcher saw a path vanish. A rename reaches us as "old path gone" and "new path
   * appeared", possibly in separate batches: the disposal of the old object waits a moment for
   * the new path, so the pair is planned as a server-side move instead of a delete and an upload.
   */
  readonly #vanishedAt = new Map<string, number>();
  /** Objects already checked for our writer mark (path → ETag), so each is looked at once. */
  readonly #orphanChecks = new Map<string, string | null>();
  #skipped: Array<{ path: string; reason: string }> = [];
  #unreadable: Array<{ path: string; reason: string }> = [];
  #remoteOnly = 0;
  /**
   * What the next plan must look at. A full plan walks every path (100,000 files: a tenth of a
   * second); between full scans only paths observed to change, paths whose actions are still
   * waiting, and failing paths can have anything to do — so a watcher event plans a handful.
   */
  #planEverything = true;
  readonly #changed = new Set<string>();
  #waitingPaths = new Set<string>();
  /** A problem that stops the whole folder (missing root, rejected credentials…) until the next attempt. */
  #problem: CosyncError | undefined;
  #paused: boolean;
  readonly #now: () => number;

  constructor(readonly config: SyncFolderConfig, private readonly services: FolderSyncServices) {
    const state = services.journal.loadSyncFolder(config.id);
    this.#local = state.local;
    for (const path of this.#local.keys()) this.#adjustFolderCounts(path, 1);
    this.#remote = state.remote;
    this.#synced = state.synced;
    this.#errors = state.errors;
    this.#paused = config.paused;
    this.#now = services.now ?? Date.now;
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
    this.#paused = false;
  }

  /** What the scanner may reuse (hashes of unchanged files), and where it says that it hashes a large file. */
  #known(): KnownFiles {
    return { local: this.#local, synced: this.#synced, onWillHash: (path) => this.services.status.set(this.id, path, { state: 'hashing' }), keyOf: (path) => this.keyOf(path) };
  }

  /** Makes a failing path due for another attempt now; false when it has no error. */
  retryNow(path: string): boolean {
    const error = this.#errors.get(path);
    if (error === undefined && this.#problem === undefined) return false;
    if (error !== undefined) {
      const record: SyncErrorRecord = { ...error, retryAt: this.#now() };
      this.#errors.set(path, record);
      this.services.journal.recordSyncError(this.config.id, path, record);
    }
    this.#changed.add(path);
    return true;
  }

  /** Read-only views for status reporting and tests. */
  get trees(): { local: ReadonlyMap<string, LocalFile>; remote: ReadonlyMap<string, RemoteFile>; synced: ReadonlyMap<string, SyncedFile> } {
    return { local: this.#local, remote: this.#remote, synced: this.#synced };
  }

  get errors(): ReadonlyMap<string, SyncErrorRecord> {
    return this.#errors;
  }

  keyOf(path: string): string {
    return this.config.prefix + path;
  }

  #diskPathOf(path: string): string {
    return join(this.config.localPath, this.#local.get(path)?.diskPath ?? path);
  }

  // ── observing ──

  /** Reads .cosyncignore (a missing file means built-ins only; an unreadable one stops the scan). */
  async #loadIgnoreRules(): Promise<void> {
    const file = join(this.config.localPath, '.cosyncignore');
    try {
      this.#rules = parseIgnoreRules(await readFile(file, 'utf8'), file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') this.#rules = DEFAULT_IGNORE_RULES;
      else if (code === 'EISDIR') throw new CosyncError('path-unreadable', `cannot read ${file} (EISDIR): it is a folder; .cosyncignore must be a file of ignore rules — rename the folder so cosync knows what to ignore`);
      else throw new CosyncError('path-unreadable', `cannot read ${file} (${code ?? (error as Error).message}); fix its permissions so cosync knows what to ignore`);
    }
  }

  isIgnored(path: string, isDirectory: boolean): boolean {
    return this.#rules.isIgnored(path, isDirectory);
  }

  /**
   * Scans the whole folder. A missing or unreadable root is a folder problem, never "everything
   * was deleted": the bucket is left untouched until the folder is back.
   */
  async scanLocal(signal?: AbortSignal): Promise<{ files: number; hashed: number; seconds: number }> {
    const started = this.#now();
    try {
      await this.#loadIgnoreRules();
      const result = await scanTree(this.config.localPath, '', this.#rules, this.#known(), signal);
      this.#applyScan('', result);
      this.#applyRefusals('', result.refused);
      this.#planEverything = true; // the safety net: after a full scan, every path is planned
      this.#skipped = result.skipped;
      this.#unreadable = result.unreadable;
      if (this.#problem?.code === 'path-not-found' || this.#problem?.code === 'path-unreadable') this.#problem = undefined;
      return { files: result.files.size, hashed: result.hashed, seconds: (this.#now() - started) / 1000 };
    } catch (error) {
      if (error instanceof CosyncError) throw this.#setProblem(error);
      const code = (error as NodeJS.ErrnoException).code;
      const message =
        code === 'ENOENT' || code === 'ENOTDIR'
          ? `sync folder ${this.config.localPath} is missing (moved, deleted, or on a drive that is not mounted); nothing in the bucket is changed until it is back`
          : `cannot read sync folder ${this.config.localPath} (${code ?? (error as Error).message}); nothing in the bucket is changed until it can be read`;
      throw this.#setProblem(new CosyncError(code === 'ENOENT' || code === 'ENOTDIR' ? 'path-not-found' : 'path-unreadable', message));
    }
  }

  /** Observes paths the watcher reported as settled (disk-relative, '/'-separated). */
  async observePaths(diskPaths: ReadonlyArray<string>): Promise<void> {
    // New rules can include or exclude anything; a name the watcher could only report with U+FFFD
    // (not UTF-8: fs.watch decodes it lossily) names no file: look at everything again. Both are rare.
    if (diskPaths.some((diskPath) => diskPath === '.cosyncignore' || mayBeUndecodable(diskPath))) {
      await this.scanLocal();
      return;
    }
    for (const diskPath of diskPaths) {
      const path = diskPath.normalize('NFC');
      const result = await scanPath(this.config.localPath, diskPath, this.#rules, this.#known());
      const gone = this.#applyScan(path, result === 'gone' ? emptyScan() : result);
      this.#applyRefusals(diskPath, result === 'gone' ? [] : result.refused);
      const now = this.#now();
      for (const vanished of gone) this.#vanishedAt.set(vanished, now);
      // The stored one of two normalization twins went away: the other one can be stored now.
      if (gone.length > 0) {
        const twins = [...this.#errors].filter(([refused, error]) => this.#isRefusal(refused, error) && refused !== diskPath && gone.includes(refused.normalize('NFC')));
        if (twins.length > 0) await this.observePaths(twins.map(([twin]) => twin));
      }
    }
  }

  /** A file the scanner refused (its name or key), not a failed attempt: kept until a scan sees it fixed, not cleared by plans. */
  #isRefusal(path: string, error: SyncErrorRecord): boolean {
    return error.code === 'name-unsupported' && !this.#local.has(path);
  }

  /**
   * Records files a scan refused (see local-scanner.ts) as failing paths — state `error`, in
   * `cosync status` and in the failed count of a run — and clears those a scan of `scope` (a disk
   * path, '' for the whole folder) no longer refuses (renamed, deleted).
   */
  #applyRefusals(scope: string, refused: ScanResult['refused']): void {
    const current = new Map(refused.map((entry) => [entry.path, entry.error]));
    for (const [path, error] of this.#errors) {
      if (!this.#isRefusal(path, error) || current.has(path)) continue;
      if (scope !== '' && path !== scope && !path.startsWith(`${scope}/`)) continue;
      this.#errors.delete(path);
      this.services.journal.recordSyncError(this.config.id, path, null);
      this.services.status.forget(this.id, path);
    }
    for (const [path, error] of current) {
      if (this.#errors.get(path)?.message === error.message) continue;
      const record: SyncErrorRecord = { code: error.code, message: error.message, attempts: 1, retryAt: null };
      this.#errors.set(path, record);
      this.services.journal.recordSyncError(this.config.id, path, record);
      this.services.status.set(this.id, path, errorState(record));
      this.services.logger.log('error', 'sync-refused', { folder: this.id, path, code: error.code, message: error.message });
    }
  }

  /** Counts files under each folder path of the local tree, so "was anything under X?" needs no walk. */
  #adjustFolderCounts(path: string, delta: 1 | -1): void {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const folder = path.slice(0, slash);
      const count = (this.#filesUnder.get(folder) ?? 0) + delta;
      if (count > 0) this.#filesUnder.set(folder, count);
      else this.#filesUnder.delete(folder);
    }
  }

  /** Merges a scan of the subtree (or single path) at `path` into the local tree and the journal. */
  /** Merges a scan into the local tree and the journal; returns the paths that are gone. */
  #applyScan(path: string, result: ScanResult): string[] {
    const underUnreadable = (candidate: string): boolean => result.unreadable.some((entry) => candidate === entry.path || candidate.startsWith(`${entry.path}/`));
    const changes: Array<TreeChange<LocalFile>> = [];
    // What was known at or under `path` and is no longer there. A single file needs no walk of the tree.
    const previously =
      path === '' || this.#filesUnder.has(path) ? [...this.#local.keys()].filter((known) => path === '' || known === path || known.startsWith(`${path}/`)) : this.#local.has(path) ? [path] : [];
    const gone: string[] = [];
    for (const known of previously) {
      if (result.files.has(known) || underUnreadable(known)) continue;
      gone.push(known);
      this.#local.delete(known);
      this.#adjustFolderCounts(known, -1);
      changes.push({ path: known, file: null });
      this.#changed.add(known);
    }
    for (const [key, file] of result.files) {
      const before = this.#local.get(key);
      if (before !== undefined && sameObservation(before, file)) continue;
      if (before === undefined) this.#adjustFolderCounts(key, 1);
      this.#local.set(key, file);
      changes.push({ path: key, file });
      this.#changed.add(key);
    }
    this.services.journal.writeLocalChanges(this.config.id, changes);
    return gone;
  }

  /** Lists the bucket under the folder's prefix into the remote tree (the trash is left out). */
  async scanRemote(signal?: AbortSignal): Promise<{ objects: number; seconds: number }> {
    const started = this.#now();
    const seen = new Map<string, RemoteFile>();
    try {
      for await (const object of this.services.store.listObjects(this.config.prefix, { signal })) {
        const path = object.key.slice(this.config.prefix.length);
        if (path === '' || path.endsWith('/') || path.startsWith(TRASH_PREFIX)) continue;
        seen.set(path, { path, sizeBytes: object.sizeBytes, etag: object.etag ?? null });
      }
    } catch (error) {
      throw error instanceof CosyncError && isRunFatal(error) ? this.#setProblem(error) : error;
    }
    const changes: Array<TreeChange<RemoteFile>> = [];
    for (const path of this.#remote.keys()) {
      if (!seen.has(path)) {
        this.#remote.delete(path);
        changes.push({ path, file: null });
        this.#changed.add(path);
      }
    }
    for (const [path, file] of seen) {
      const before = this.#remote.get(path);
      if (before !== undefined && before.sizeBytes === file.sizeBytes && before.etag === file.etag) continue;
      this.#remote.set(path, file);
      changes.push({ path, file });
      this.#changed.add(path);
    }
    this.services.journal.writeRemoteChanges(this.config.id, changes);
    if (this.#problem !== undefined && isRunFatal(this.#problem)) this.#problem = undefined;
    await this.#claimOrphans();
    return { objects: seen.size, seconds: (this.#now() - started) / 1000 };
  }

  /**
   * Objects carrying this folder's writer mark that the journal knows nothing of are writes whose
   * journal commit a kill cut off — an upload or the copy of a move — of a file that has gone
   * since. They are ours, so they go into the synced tree, and the delete policy then treats them
   * like any file deleted here (mirror: deleted; trash: moved to the trash). Without this, a kill
   * at the wrong moment left them in the bucket for good. With `keep` they would only be
   * forgotten again, so nobody is asked. Each object is looked at once per ETag.
   */
  async #claimOrphans(): Promise<void> {
    if (this.config.policy === 'keep') return;
    for (const [path, remote] of this.#remote) {
      if (this.#local.has(path) || this.#synced.has(path) || this.#busy.has(path) || this.#rules.isIgnored(path, false)) continue;
      if (this.#orphanChecks.has(path) && this.#orphanChecks.get(path) === remote.etag) continue;
      this.#orphanChecks.set(path, remote.etag);
      if (!(await this.#writtenByThisFolder(path))) continue;
      // Checked again after the HEAD: a file may have appeared, or an action started, meanwhile.
      if (this.#local.has(path) || this.#synced.has(path) || this.#busy.has(path)) continue;
      const synced: SyncedFile = { path, sizeBytes: remote.sizeBytes, mtimeMs: 0, fileId: null, hash: null, etag: remote.etag, keyFingerprint: null };
      this.services.journal.recordSyncOutcome(this.config.id, [{ path, synced }]);
      this.#synced.set(path, synced);
      this.#changed.add(path);
      this.services.logger.log('info', 'orphan-claimed', { folder: this.id, path, policy: this.config.policy });
    }
  }

  #setProblem(error: CosyncError): CosyncError {
    this.#problem = error;
    this.services.logger.log('error', 'folder-problem', { folder: this.id, code: error.code, message: error.message });
    return error;
  }

  // ── planning and running ──

  /** Computes the plan now (for status and dry runs). */
  plan(): ReturnType<typeof planSync> {
    return planSync(
      { local: this.#local, remote: this.#remote, synced: this.#synced },
      { policy: this.config.policy, trashStamp: pathStamp(this.#now()), isIgnored: (path) => this.#rules.isIgnored(path, false) },
    );
  }

  /** The plan for what may have something to do: everything after a full scan, else the candidates. */
  #nextPlan(): ReturnType<typeof planSync> {
    const options = { policy: this.config.policy, trashStamp: pathStamp(this.#now()), isIgnored: (path: string) => this.#rules.isIgnored(path, false) };
    let plan: ReturnType<typeof planSync>;
    if (this.#planEverything) {
      this.#planEverything = false;
      this.#changed.clear();
      plan = planSync({ local: this.#local, remote: this.#remote, synced: this.#synced }, options);
      this.#remoteOnly = plan.remoteOnly;
    } else {
      const candidates = new Set([...this.#changed, ...this.#waitingPaths, ...this.#errors.keys()]);
      this.#changed.clear();
      const local = new Map<string, LocalFile>();
      const remote = new Map<string, RemoteFile>();
      const synced = new Map<string, SyncedFile>();
      for (const path of candidates) {
        const l = this.#local.get(path);
        const r = this.#remote.get(path);
        const s = this.#synced.get(path);
        if (l !== undefined) local.set(path, l);
        if (r !== undefined) remote.set(path, r);
        if (s !== undefined) synced.set(path, s);
      }
      plan = planSync({ local, remote, synced }, options);
    }
    this.#waitingPaths = new Set(plan.actions.flatMap(pathsOf));
    return plan;
  }

  /** Publishes the state of every known path (after loading or a full scan). */
  publishStatus(): void {
    const { status } = this.services;
    const pending = new Set(this.plan().actions.flatMap((action) => (action.kind === 'forget' || action.kind === 'refresh' ? [] : pathsOf(action))));
    for (const [path, file] of this.#local) {
      const error = this.#errors.get(path);
      const synced = this.#synced.get(path);
      if (error !== undefined) status.set(this.id, path, errorState(error));
      else if (pending.has(path)) status.set(this.id, path, { state: 'queued' });
      else if (synced !== undefined && holdsSyncedContent(file, synced)) status.set(this.id, path, { state: 'synced' });
    }
    for (const skipped of this.#skipped) status.set(this.id, skipped.path, { state: 'ignored', reason: skipped.reason });
    for (const [path, error] of this.#errors) if (this.#isRefusal(path, error)) status.set(this.id, path, errorState(error));
  }

  /**
   * Starts one plan: every action whose paths are free and not waiting for a retry goes to the
   * file queue. Returns at once with what started; `finished` settles when those actions have.
   */
  startPlan(options: { maxAttempts?: number; signal?: AbortSignal | undefined } = {}): { ran: number; waiting: number; nextRetryAt: number | undefined; finished: Promise<void> } {
    if (this.#paused || this.#problem !== undefined) return { ran: 0, waiting: 0, nextRetryAt: undefined, finished: Promise.resolve() };
    const plan = this.#nextPlan();
    this.#clearSettledErrors(plan.actions);
    const now = this.#now();
    for (const [path, vanishedAt] of this.#vanishedAt) if (vanishedAt + RENAME_GRACE_MS <= now || this.#local.has(path)) this.#vanishedAt.delete(path);
    const runnable: SyncAction[] = [];
    let waiting = 0;
    let nextRetryAt: number | undefined;
    for (const action of plan.actions) {
      const paths = pathsOf(action);
      if (paths.some((path) => this.#busy.has(path))) {
        waiting++;
        continue;
      }
      if (action.kind === 'delete-remote' || action.kind === 'trash-remote' || action.kind === 'forget') {
        const vanishedAt = this.#vanishedAt.get(action.path);
        if (vanishedAt !== undefined && vanishedAt + RENAME_GRACE_MS > now && !this.#local.has(action.path)) {
          waiting++;
          nextRetryAt = Math.min(nextRetryAt ?? Infinity, vanishedAt + RENAME_GRACE_MS);
          continue;
        }
        this.#vanishedAt.delete(action.path);
      }
      const blocked = paths
        .map((path) => this.#errors.get(path))
        .find((error) => error !== undefined && ((options.maxAttempts !== undefined && error.attempts >= options.maxAttempts) || (error.retryAt ?? 0) > now));
      if (blocked !== undefined) {
        if (options.maxAttempts === undefined || blocked.attempts < options.maxAttempts) {
          waiting++;
          nextRetryAt = Math.min(nextRetryAt ?? Infinity, blocked.retryAt ?? now);
        }
        continue;
      }
      runnable.push(action);
    }
    // Started actions mark their paths changed when they finish; only the others must be looked at again.
    for (const action of runnable) for (const path of pathsOf(action)) this.#waitingPaths.delete(path);
    // Small files first: many finish quickly, and a big file does not hold up a folder of small ones.
    runnable.sort((a, b) => sizeOf(a) - sizeOf(b));
    for (const action of runnable) {
      for (const path of pathsOf(action)) this.#busy.add(path);
      if (action.kind !== 'forget' && action.kind !== 'refresh') this.services.status.set(this.id, primaryPath(action), { state: 'queued' });
    }
    // Fed to the shared queue a few at a time, so 100,000 actions are an array, not 100,000
    // queued closures and promises; the queue's own cap still decides how many run.
    // Pausing or cancelling stops the feeding; what already started finishes.
    let next = 0;
    const feed = async (): Promise<void> => {
      while (next < runnable.length && !this.#paused && options.signal?.aborted !== true) {
        const action = runnable[next++] as SyncAction;
        try {
          await this.services.fileQueue.add(() => this.#execute(action), { priority: action.kind === 'forget' || action.kind === 'refresh' ? 2 : sizeOf(action) < 1024 * 1024 ? 1 : 0 });
        } finally {
          for (const path of pathsOf(action)) this.#busy.delete(path);
        }
      }
    };
    const feeders = Math.min(runnable.length, Math.max(1, this.services.fileQueue.concurrency) * 2);
    const finished = Promise.all(Array.from({ length: feeders }, feed)).then(() => {
      // Actions never started (paused, cancelled) are free again and planned anew next time.
      for (const action of runnable.slice(next)) {
        for (const path of pathsOf(action)) {
          this.#busy.delete(path);
          this.#changed.add(path);
        }
      }
      if (runnable.length > 0) this.services.onDidFinishPlan?.(this);
    });
    return { ran: runnable.length, waiting, nextRetryAt, finished };
  }

  /** Whether actions are in flight. */
  get busy(): boolean {
    return this.#busy.size > 0;
  }

  /** An error of a path with nothing left to do (deleted, ignored, or fixed from outside) is history. */
  #clearSettledErrors(actions: ReadonlyArray<SyncAction>): void {
    if (this.#errors.size === 0) return;
    const planned = new Set(actions.flatMap(pathsOf));
    for (const [path, error] of [...this.#errors]) {
      if (planned.has(path) || this.#busy.has(path) || this.#isRefusal(path, error)) continue;
      this.#errors.delete(path);
      this.services.journal.recordSyncError(this.config.id, path, null);
      if (!this.#local.has(path)) this.services.status.forget(this.id, path);
    }
  }

  /**
   * Plans and runs until nothing is left (or only failures that used their attempts). For
   * `cosync sync --once`: failures are retried after their backoff, at most `maxAttempts` times.
   */
  async converge(options: { maxAttempts: number; signal?: AbortSignal }): Promise<ConvergeResult> {
    let actionsRun = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const round = this.startPlan({ maxAttempts: options.maxAttempts, signal: options.signal });
      await round.finished;
      options.signal?.throwIfAborted();
      actionsRun += round.ran;
      if (this.#problem !== undefined) throw this.#problem;
      if (round.ran > 0) continue;
      if (round.waiting === 0 || round.nextRetryAt === undefined) break;
      await sleep(Math.max(0, round.nextRetryAt - this.#now()), options.signal);
    }
    const failed = [...this.#errors].map(([path, error]) => ({ path, error: { code: error.code as CosyncErrorInfo['code'], message: error.message } }));
    return { actionsRun, failed, remoteOnly: this.#remoteOnly, skipped: [...this.#skipped, ...this.#unreadable.map((entry) => ({ path: entry.path, reason: `folder cannot be read (${entry.reason}); what was synced under it is kept` }))] };
  }

  // ── executors ──

  async #execute(action: SyncAction): Promise<void> {
    // Queued before the folder was removed: nothing of it may run (or write its journal rows back).
    if (this.#closed) return;
    this.#running++;
    try {
      await this.#executeAction(action);
    } finally {
      this.#running--;
      if (this.#running === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /**
   * Stops for good (the folder is being removed): nothing new starts, actions already queued are
   * dropped, and the promise resolves once those in flight have finished.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#paused = true;
    return this.#running === 0 ? Promise.resolve() : new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #executeAction(action: SyncAction): Promise<void> {
    const path = primaryPath(action);
    try {
      switch (action.kind) {
        case 'upload':
          await this.#upload(action.path, action.preserveRemote);
          break;
        case 'adopt':
          await this.#adopt(action.path);
          break;
        case 'move':
          await this.#move(action.from, action.to, action.deleteSource);
          break;
        case 'delete-remote':
          await this.services.store.deleteObject(this.keyOf(action.path));
          this.#commit([{ path: action.path, synced: null, remote: null }]);
          this.services.logger.log('info', 'deleted-remote', { folder: this.id, key: this.keyOf(action.path) });
          break;
        case 'trash-remote':
          await this.#copy(action.path, action.trashPath);
          await this.services.store.deleteObject(this.keyOf(action.path));
          this.#commit([{ path: action.path, synced: null, remote: null }]);
          this.services.logger.log('info', 'trashed-remote', { folder: this.id, key: this.keyOf(action.path), trash: this.keyOf(action.trashPath) });
          break;
        case 'forget':
          this.#commit([{ path: action.path, synced: null }]);
          this.services.logger.log('info', 'forgot', { folder: this.id, path: action.path, reason: action.reason });
          break;
        case 'refresh': {
          const local = this.#local.get(action.path);
          const synced = this.#synced.get(action.path);
          if (local !== undefined && synced !== undefined) this.#commit([{ path: action.path, synced: { ...synced, mtimeMs: local.mtimeMs, fileId: local.fileId } }]);
          break;
        }
      }
    } catch (error) {
      this.#fail(path, error);
    }
  }

  /** Records outcomes in the journal first, then in memory, and clears errors of those paths. */
  #commit(outcomes: Array<{ path: string; synced: SyncedFile | null; remote?: RemoteFile | null }>): void {
    this.services.journal.recordSyncOutcome(this.config.id, outcomes);
    for (const { path, synced, remote } of outcomes) {
      this.#changed.add(path);
      if (synced === null) this.#synced.delete(path);
      else this.#synced.set(path, synced);
      if (remote === null) this.#remote.delete(path);
      else if (remote !== undefined) this.#remote.set(path, remote);
      this.#errors.delete(path);
      if (synced !== null) this.services.status.set(this.id, path, { state: 'synced' });
      else if (!this.#local.has(path)) this.services.status.forget(this.id, path);
    }
  }

  #fail(path: string, error: unknown): void {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const info =
      error instanceof CosyncError
        ? error
        : code === 'ENOENT'
          ? new CosyncError('local-changed', `${path} disappeared while it was being synced; it is looked at again`)
          : new CosyncError('internal', (error as Error)?.message ?? String(error));
    if (isRunFatal(info)) this.#setProblem(info);
    const attempts = (this.#errors.get(path)?.attempts ?? 0) + 1;
    // A file that changed under the upload is not a failure: it is observed again and re-planned soon.
    const delay = info.code === 'local-changed' ? 1000 : Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** attempts);
    const record: SyncErrorRecord = { code: info.code, message: info.message, attempts, retryAt: this.#now() + delay };
    this.#errors.set(path, record);
    this.#changed.add(path);
    this.services.journal.recordSyncError(this.config.id, path, record);
    this.services.status.set(this.id, path, info.code === 'local-conflict' ? { state: 'conflict', message: info.message } : errorState(record));
    this.services.logger.log(info.code === 'local-changed' ? 'info' : 'error', 'sync-failed', { folder: this.id, path, code: info.code, message: info.message, attempts });
    if (info.code === 'local-changed') {
      void this.observePaths([this.#local.get(path)?.diskPath ?? path]).catch((observeError: unknown) =>
        this.services.logger.log('warn', 'observe-failed', { folder: this.id, path, message: (observeError as Error).message }),
      );
    }
  }

  /** Uploads the local file at `path`, first keeping someone else's object there as a conflict copy if asked. */
  async #upload(path: string, preserveRemote: boolean, knownNotOurs = false): Promise<void> {
    const local = this.#local.get(path);
    if (local === undefined) return; // Gone since the plan: the next plan decides.
    const key = this.keyOf(path);
    // The scanner refuses such files; this catches a path known from before (an older journal).
    const tooLong = keyLengthProblem(key);
    if (tooLong !== undefined) throw tooLong;
    if (preserveRemote) await this.#preserveTheirs(path, knownNotOurs);
    let bytesDone = 0;
    this.services.status.set(this.id, path, { state: 'uploading', bytesDone: 0, bytesTotal: local.sizeBytes });
    const outcome = await uploadFile(
      this.#diskPathOf(path),
      key,
      this.services.encryption,
      this.services.upload,
      {
        onDidTransfer: (bytes) => {
          bytesDone += bytes;
          this.services.status.set(this.id, path, { state: 'uploading', bytesDone, bytesTotal: local.sizeBytes });
        },
      },
      { sizeBytes: local.sizeBytes, mtimeMs: local.mtimeMs },
      { [METADATA.writer]: this.config.id },
    );
    this.#commit([
      {
        path,
        synced: {
          path,
          sizeBytes: outcome.sizeBytes,
          mtimeMs: outcome.mtimeMs,
          fileId: local.fileId,
          hash: outcome.md5Hex ?? local.hash,
          etag: outcome.etag,
          keyFingerprint: this.#keyFingerprint(),
        },
        remote: { path, sizeBytes: outcome.sizeBytes, etag: outcome.etag },
      },
    ]);
    this.services.logger.log('info', 'uploaded', { folder: this.id, key, bytes: outcome.sizeBytes, kind: outcome.kind });
  }

  #keyFingerprint(): string | null {
    return this.services.encryption.mode === 'c' ? this.services.encryption.key.fingerprint : null;
  }

  /**
   * An object we have no record of sits where a local file maps to (a journal lost, a folder
   * re-added, or someone else's file). If its content provably equals the file's, it is ours:
   * record it. Otherwise keep it as a conflict copy and upload the file.
   */
  async #adopt(path: string): Promise<void> {
    const local = this.#local.get(path);
    if (local === undefined) return;
    this.services.status.set(this.id, path, { state: 'verifying' });
    let head: RemoteObjectDetails | undefined;
    try {
      head = await this.services.store.headObject(this.keyOf(path), this.services.encryption);
    } catch (error) {
      // Encrypted with another key (or not with ours): it cannot be our content.
      if (!(error instanceof CosyncError) || isRunFatal(error)) throw error;
      head = undefined;
    }
    if (head !== undefined && head.sizeBytes === local.sizeBytes && (await this.#contentMatches(path, local, head))) {
      this.#commit([
        {
          path,
          synced: { path, sizeBytes: local.sizeBytes, mtimeMs: local.mtimeMs, fileId: local.fileId, hash: local.hash, etag: head.etag ?? null, keyFingerprint: this.#keyFingerprint() },
          remote: { path, sizeBytes: head.sizeBytes, etag: head.etag ?? null },
        },
      ]);
      this.services.logger.log('info', 'adopted', { folder: this.id, key: this.keyOf(path) });
      return;
    }
    // An older write of this folder (the file changed since) is replaced; anyone else's is kept as a conflict copy.
    const ours = head?.metadata[METADATA.writer] === this.config.id;
    await this.#upload(path, !ours, true);
  }

  /** Proves (or not) that the object holds the local file's bytes, using what cosync stored beside it. */
  async #contentMatches(path: string, local: LocalFile, head: RemoteObjectDetails): Promise<boolean> {
    const customerKey = this.services.encryption.mode === 'c' ? this.services.encryption.key : undefined;
    const absolute = this.#diskPathOf(path);
    const recorded = head.metadata[METADATA.digest];
    if (recorded !== undefined) {
      const md5 = local.hash ?? (await hashFile(absolute, local.sizeBytes));
      return contentDigest(Buffer.from(md5, 'hex'), customerKey) === recorded;
    }
    const partBytes = Number(head.metadata[METADATA.partBytes]);
    const etag = head.etag ?? '';
    if (Number.isSafeInteger(partBytes) && partBytes > 0 && /^[0-9a-f]{32}-\d+$/.test(etag)) {
      const hasher = new PartHasher(partBytes);
      for await (const chunk of createReadStream(absolute, { highWaterMark: 1024 * 1024 })) hasher.update(chunk as Buffer);
      return multipartEtag(hasher.finish().partMd5s) === etag;
    }
    return false;
  }

  /** Whether the object at `path` carries this folder's writer mark (read with our key; unreadable → no). */
  async #writtenByThisFolder(path: string): Promise<boolean> {
    try {
      const head = await this.services.store.headObject(this.keyOf(path), this.services.encryption);
      return head?.metadata[METADATA.writer] === this.config.id;
    } catch (error) {
      if (error instanceof CosyncError && isRunFatal(error)) throw error;
      return false;
    }
  }

  /** Server-side copy (streamed through us where the server cannot), then the destination's listing entry. */
  async #copy(fromPath: string, toPath: string): Promise<RemoteFile> {
    const { store, encryption, upload } = this.services;
    // A trash path adds a folder in front of the key: it can be over the limit where the file's own key was not.
    const tooLong = keyLengthProblem(this.keyOf(toPath));
    if (tooLong !== undefined) throw new CosyncError(tooLong.code, `cannot copy it to ${toPath}: ${tooLong.message}`);
    await copyObjectWithFallback(store, this.keyOf(fromPath), this.keyOf(toPath), { source: encryption, destination: encryption }, upload);
    const head = await store.headObject(this.keyOf(toPath), encryption);
    if (head === undefined) throw new CosyncError('integrity', `the copy ${JSON.stringify(this.keyOf(toPath))} is missing right after it was made`);
    const copied: RemoteFile = { path: toPath, sizeBytes: head.sizeBytes, etag: head.etag ?? null };
    // The trash is not part of the mirrored tree (scanRemote leaves it out too).
    if (!toPath.startsWith(TRASH_PREFIX)) {
      this.services.journal.writeRemoteChanges(this.config.id, [{ path: toPath, file: copied }]);
      this.#remote.set(toPath, copied);
    }
    return copied;
  }

  /** A rename or move: copy the object on the server, record the new path, then dispose of the old one. */
  async #move(fromPath: string, toPath: string, deleteSource: boolean): Promise<void> {
    const local = this.#local.get(toPath);
    const source = this.#synced.get(fromPath);
    if (local === undefined || source === undefined) return;
    this.services.status.set(this.id, toPath, { state: 'uploading', bytesDone: 0, bytesTotal: local.sizeBytes });
    let copied: RemoteFile | undefined;
    try {
      copied = await this.#copy(fromPath, toPath);
    } catch (error) {
      if (error instanceof CosyncError && isRunFatal(error)) throw error;
      this.services.logger.log('warn', 'move-copy-failed', { folder: this.id, from: fromPath, to: toPath, message: (error as Error).message });
    }
    if (copied !== undefined && copied.sizeBytes === local.sizeBytes) {
      this.#commit([
        {
          path: toPath,
          synced: { path: toPath, sizeBytes: local.sizeBytes, mtimeMs: local.mtimeMs, fileId: local.fileId, hash: local.hash ?? source.hash, etag: copied.etag, keyFingerprint: source.keyFingerprint },
        },
      ]);
    } else {
      // The copy failed or does not look like the file: the local file is the truth, send it.
      await this.#upload(toPath, false);
    }
    if (deleteSource) {
      await this.services.store.deleteObject(this.keyOf(fromPath));
      this.#commit([{ path: fromPath, synced: null, remote: null }]);
    } else {
      this.#commit([{ path: fromPath, synced: null }]);
    }
    this.services.logger.log('info', 'moved', { folder: this.id, from: this.keyOf(fromPath), to: this.keyOf(toPath), deleteSource });
  }

  /** Keeps the object someone else wrote at `path` as a conflict copy beside it, or refuses to overwrite it. */
  async #preserveTheirs(path: string, knownNotOurs: boolean): Promise<void> {
    const theirs = this.#remote.get(path);
    if (theirs === undefined) return;
    // Killed after an upload but before its journal commit, the object is our own write: nothing to keep.
    if (!knownNotOurs && (await this.#writtenByThisFolder(path))) return;
    const copyPath = conflictCopyPath(path, pathStamp(this.#now()));
    const tooLong = keyLengthProblem(this.keyOf(copyPath));
    if (tooLong !== undefined) {
      throw new CosyncError('local-conflict', `${path}: the object in the bucket was changed by someone else and cannot be kept as the conflict copy ${copyPath} (${tooLong.message}); it is not overwritten until the file has a shorter name`);
    }
    const { store, encryption, upload } = this.services;
    const attempts: ObjectEncryption[] = [encryption];
    // Someone else may have written it without our key; the copy then reads it as they wrote it.
    if (encryption.mode === 'c') attempts.push({ mode: 'none' });
    let lastError: unknown;
    for (const source of attempts) {
      try {
        await copyObjectWithFallback(store, this.keyOf(path), this.keyOf(copyPath), { source, destination: source }, upload);
        this.#remote.set(copyPath, { path: copyPath, sizeBytes: theirs.sizeBytes, etag: null });
        this.services.journal.writeRemoteChanges(this.config.id, [{ path: copyPath, file: this.#remote.get(copyPath) ?? null }]);
        this.services.logger.log('warn', 'conflict-copy', { folder: this.id, key: this.keyOf(path), copy: this.keyOf(copyPath) });
        return;
      } catch (error) {
        if (error instanceof CosyncError && error.code === 'object-not-found') return; // Gone meanwhile: nothing to keep.
        if (error instanceof CosyncError && isRunFatal(error)) throw error;
        lastError = error;
      }
    }
    throw new CosyncError(
      'local-conflict',
      `${path}: the object in the bucket was changed by someone else and could not be kept as a conflict copy (${(lastError as Error)?.message}); it is not overwritten until that works`,
    );
  }
}

function sameObservation(a: LocalFile, b: LocalFile): boolean {
  return a.sizeBytes === b.sizeBytes && a.mtimeMs === b.mtimeMs && a.fileId === b.fileId && a.hash === b.hash && a.diskPath === b.diskPath;
}

function primaryPath(action: SyncAction): string {
  return action.kind === 'move' ? action.to : action.path;
}

function sizeOf(action: SyncAction): number {
  return 'sizeBytes' in action ? action.sizeBytes : 0;
}

function errorState(error: SyncErrorRecord): FileSyncState {
  return { state: 'error', code: error.code, message: error.message, retryAt: error.retryAt };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
