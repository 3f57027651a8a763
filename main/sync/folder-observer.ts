/**
 * Observation: what fills a folder's local and remote trees. A full disk scan, the watcher's
 * settled paths, and the bucket listing are merged into the trees (and the journal), marking what
 * changed for the next plan. Nothing here writes to the bucket.
 *
 *   disk scan / watcher paths ─► scanTree / scanPath ─► local tree  ┐
 *   bucket listing ─────────────────────────────────► remote tree  ┴─► changed paths ─► scheduler
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_IGNORE_RULES, parseIgnoreRules, type IgnoreRules } from '../../app/ignore-rules.js';
import { CosyncError } from '../../app/result.js';
import { TRASH_PREFIX, type LocalFile, type RemoteFile, type SyncedFile } from '../../app/sync-model.js';
import type { SyncErrorRecord, TreeChange } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { ObjectEncryption, RemoteStore } from '../remote/remote-store.js';
import { mayBeUndecodable } from '../transfer/file-names.js';
import { writtenByThisFolder } from './executor-context.js';
import type { FolderStatus } from './folder-status.js';
import type { FolderTrees } from './folder-trees.js';
import { emptyScan, scanPath, scanTree, type KnownFiles, type ScanResult } from './local-scanner.js';

/** What observing needs from its surroundings. */
export interface ObserverServices {
  readonly trees: FolderTrees;
  readonly status: FolderStatus;
  readonly store: RemoteStore;
  readonly encryption: ObjectEncryption;
  readonly logger: Logger;
  readonly now: () => number;
}

export class FolderObserver {
  #rules: IgnoreRules = DEFAULT_IGNORE_RULES;
  /**
   * When the watcher saw a path vanish. A rename reaches us as "old path gone" and "new path
   * appeared", possibly in separate batches: the disposal of the old object waits a moment for
   * the new path, so the pair is planned as a server-side move instead of a delete and an upload.
   */
  readonly vanishedAt = new Map<string, number>();
  /** Objects already checked for our writer mark (path → ETag), so each is looked at once. */
  readonly #orphanChecks = new Map<string, string | null>();
  /** Entries the last full scan skipped (links, special files) and folders it could not read. */
  skipped: Array<{ path: string; reason: string }> = [];
  unreadable: Array<{ path: string; reason: string }> = [];

  constructor(private readonly services: ObserverServices) {}

  get rules(): IgnoreRules {
    return this.#rules;
  }

  /** What the scanner may reuse (hashes of unchanged files), and where it says that it hashes a large file. */
  #known(): KnownFiles {
    const { trees, status } = this.services;
    return { local: trees.local, synced: trees.synced, onWillHash: (path) => status.hashing(path), keyOf: (path) => trees.keyOf(path) };
  }

  /** Reads .cosyncignore (a missing file means built-ins only; an unreadable one stops the scan). */
  async #loadIgnoreRules(): Promise<void> {
    const file = join(this.services.trees.config.localPath, '.cosyncignore');
    try {
      this.#rules = parseIgnoreRules(await readFile(file, 'utf8'), file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') this.#rules = DEFAULT_IGNORE_RULES;
      else if (code === 'EISDIR') throw new CosyncError('path-unreadable', `cannot read ${file} (EISDIR): it is a folder; .cosyncignore must be a file of ignore rules — rename the folder so cosync knows what to ignore`);
      else throw new CosyncError('path-unreadable', `cannot read ${file} (${code ?? (error as Error).message}); fix its permissions so cosync knows what to ignore`);
    }
  }

  /** Scans the whole folder into the local tree (throws what the scan hit; the caller makes it a folder problem). */
  async scanLocal(signal?: AbortSignal): Promise<{ files: number; hashed: number }> {
    await this.#loadIgnoreRules();
    const result = await scanTree(this.services.trees.config.localPath, '', this.#rules, this.#known(), signal);
    this.#applyScan('', result);
    this.#applyRefusals('', result.refused);
    this.services.trees.planEverything = true; // the safety net: after a full scan, every path is planned
    this.skipped = result.skipped;
    this.unreadable = result.unreadable;
    return { files: result.files.size, hashed: result.hashed };
  }

  /**
   * Observes paths the watcher reported as settled (disk-relative, '/'-separated). Returns true
   * when that took a full scan instead (new ignore rules, a name fs.watch could not decode).
   */
  async observePaths(diskPaths: ReadonlyArray<string>, signal?: AbortSignal): Promise<boolean> {
    // New rules can include or exclude anything; a name the watcher could only report with U+FFFD
    // (not UTF-8: fs.watch decodes it lossily) names no file: look at everything again. Both are rare.
    if (diskPaths.some((diskPath) => diskPath === '.cosyncignore' || mayBeUndecodable(diskPath))) return true;
    const { trees } = this.services;
    for (const diskPath of diskPaths) {
      signal?.throwIfAborted();
      const path = diskPath.normalize('NFC');
      const result = await scanPath(trees.config.localPath, diskPath, this.#rules, this.#known());
      const gone = this.#applyScan(path, result === 'gone' ? emptyScan() : result);
      this.#applyRefusals(diskPath, result === 'gone' ? [] : result.refused);
      const now = this.services.now();
      for (const vanished of gone) this.vanishedAt.set(vanished, now);
      // The stored one of two normalization twins went away: the other one can be stored now.
      if (gone.length > 0) {
        const twins = [...trees.errors].filter(([refused, error]) => this.isRefusal(refused, error) && refused !== diskPath && gone.includes(refused.normalize('NFC')));
        if (twins.length > 0 && (await this.observePaths(twins.map(([twin]) => twin), signal))) return true;
      }
    }
    return false;
  }

  /** A file the scanner refused (its name or key), not a failed attempt: kept until a scan sees it fixed, not cleared by plans. */
  isRefusal(path: string, error: SyncErrorRecord): boolean {
    return error.code === 'name-unsupported' && !this.services.trees.local.has(path);
  }

  /**
   * Records files a scan refused (see local-scanner.ts) as failing paths — state `error`, in
   * `cosync status` and in the failed count of a run — and clears those a scan of `scope` (a disk
   * path, '' for the whole folder) no longer refuses (renamed, deleted).
   */
  #applyRefusals(scope: string, refused: ScanResult['refused']): void {
    const { trees, status, logger } = this.services;
    const current = new Map(refused.map((entry) => [entry.path, entry.error]));
    for (const [path, error] of trees.errors) {
      if (!this.isRefusal(path, error) || current.has(path)) continue;
      if (scope !== '' && path !== scope && !path.startsWith(`${scope}/`)) continue;
      trees.recordError(path, null);
      status.forget(path);
    }
    for (const [path, error] of current) {
      if (trees.errors.get(path)?.message === error.message) continue;
      const record: SyncErrorRecord = { code: error.code, message: error.message, attempts: 1, retryAt: null };
      trees.recordError(path, record);
      status.failed(path, record);
      logger.log('error', 'sync-refused', { folder: trees.config.id, path, code: error.code, message: error.message });
    }
  }

  /** Merges a scan of the subtree (or single path) at `path` into the local tree and the journal; returns the paths that are gone. */
  #applyScan(path: string, result: ScanResult): string[] {
    const { trees } = this.services;
    const underUnreadable = (candidate: string): boolean => result.unreadable.some((entry) => candidate === entry.path || candidate.startsWith(`${entry.path}/`));
    const changes: Array<TreeChange<LocalFile>> = [];
    // What was known at or under `path` and is no longer there. A single file needs no walk of the tree.
    const previously =
      path === '' || trees.filesUnder.has(path) ? [...trees.local.keys()].filter((known) => path === '' || known === path || known.startsWith(`${path}/`)) : trees.local.has(path) ? [path] : [];
    const gone: string[] = [];
    for (const known of previously) {
      if (result.files.has(known) || underUnreadable(known)) continue;
      gone.push(known);
      trees.local.delete(known);
      trees.adjustFolderCounts(known, -1);
      changes.push({ path: known, file: null });
      trees.changed.add(known);
    }
    for (const [key, file] of result.files) {
      const before = trees.local.get(key);
      if (before !== undefined && sameObservation(before, file)) continue;
      if (before === undefined) trees.adjustFolderCounts(key, 1);
      trees.local.set(key, file);
      changes.push({ path: key, file });
      trees.changed.add(key);
      // A failure the policy never retries by itself (retryAt null) is due again once the file changed: someone acted.
      const held = trees.errors.get(key);
      if (before !== undefined && held !== undefined && held.retryAt === null && !this.isRefusal(key, held)) trees.recordError(key, { ...held, retryAt: this.services.now() });
    }
    trees.store.writeLocalChanges(trees.config.id, changes);
    return gone;
  }

  /** Lists the bucket under the folder's prefix into the remote tree (the trash is left out). */
  async scanRemote(signal?: AbortSignal): Promise<{ objects: number }> {
    const { trees, store } = this.services;
    const { prefix } = trees.config;
    const seen = new Map<string, RemoteFile>();
    for await (const object of store.listObjects(prefix, { signal })) {
      const path = object.key.slice(prefix.length);
      if (path === '' || path.endsWith('/') || path.startsWith(TRASH_PREFIX)) continue;
      seen.set(path, { path, sizeBytes: object.sizeBytes, etag: object.etag ?? null });
    }
    const changes: Array<TreeChange<RemoteFile>> = [];
    for (const path of trees.remote.keys()) {
      if (!seen.has(path)) {
        trees.remote.delete(path);
        changes.push({ path, file: null });
        trees.changed.add(path);
      }
    }
    for (const [path, file] of seen) {
      const before = trees.remote.get(path);
      if (before !== undefined && before.sizeBytes === file.sizeBytes && before.etag === file.etag) continue;
      trees.remote.set(path, file);
      changes.push({ path, file });
      trees.changed.add(path);
    }
    trees.store.writeRemoteChanges(trees.config.id, changes);
    await this.#claimOrphans(signal);
    return { objects: seen.size };
  }

  /**
   * Objects carrying this folder's writer mark that the journal knows nothing of are writes whose
   * journal commit a kill cut off — an upload or the copy of a move — of a file that has gone
   * since. They are ours, so they go into the synced tree, and the delete policy then treats them
   * like any file deleted here (mirror: deleted; trash: moved to the trash). Without this, a kill
   * at the wrong moment left them in the bucket for good. With `keep` they would only be
   * forgotten again, so nobody is asked. Each object is looked at once per ETag.
   */
  async #claimOrphans(signal: AbortSignal | undefined): Promise<void> {
    const { trees } = this.services;
    if (trees.config.policy === 'keep') return;
    const unclaimed = (path: string): boolean => !trees.local.has(path) && !trees.synced.has(path) && !trees.busy.has(path);
    for (const [path, remote] of trees.remote) {
      if (!unclaimed(path) || this.#rules.isIgnored(path, false)) continue;
      if (this.#orphanChecks.has(path) && this.#orphanChecks.get(path) === remote.etag) continue;
      this.#orphanChecks.set(path, remote.etag);
      if (!(await writtenByThisFolder({ ...this.services, signal }, path))) continue;
      // Checked again after the HEAD: a file may have appeared, or an action started, meanwhile.
      if (!unclaimed(path)) continue;
      const synced: SyncedFile = { path, sizeBytes: remote.sizeBytes, mtimeMs: 0, fileId: null, hash: null, etag: remote.etag, keyFingerprint: null };
      trees.store.recordSyncOutcome(trees.config.id, [{ path, synced }]);
      trees.synced.set(path, synced);
      trees.changed.add(path);
      this.services.logger.log('info', 'orphan-claimed', { folder: trees.config.id, path, policy: trees.config.policy });
    }
  }
}

function sameObservation(a: LocalFile, b: LocalFile): boolean {
  return a.sizeBytes === b.sizeBytes && a.mtimeMs === b.mtimeMs && a.fileId === b.fileId && a.hash === b.hash && a.diskPath === b.diskPath;
}
