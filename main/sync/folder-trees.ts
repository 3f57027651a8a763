/**
 * The three trees of one sync folder in memory (local, remote, synced — DESIGN.md "Three trees"),
 * the failing paths beside them, and what the next plan must look at. Loaded from the journal and
 * written through to it: every change here is committed there first, so a kill loses nothing
 * that was recorded as done.
 */
import { join } from 'node:path';
import type { LocalFile, RemoteFile, SyncedFile, SyncFolderConfig, SyncTrees } from '../../app/sync-model.js';
import type { Journal, SyncErrorRecord } from '../journal/journal.js';
import type { FolderStatus } from './folder-status.js';

/** One outcome of an action: the new synced state of a path (null: none) and, when known, its object. */
export interface SyncOutcome {
  readonly path: string;
  readonly synced: SyncedFile | null;
  readonly remote?: RemoteFile | null;
}

export class FolderTrees implements SyncTrees {
  readonly local: Map<string, LocalFile>;
  readonly remote: Map<string, RemoteFile>;
  readonly synced: Map<string, SyncedFile>;
  readonly errors: Map<string, SyncErrorRecord>;
  /** Files under each folder path of the local tree, so "was anything under X?" needs no walk. */
  readonly filesUnder = new Map<string, number>();
  /** Paths observed or changed since the last plan: between full scans only these are planned. */
  readonly changed = new Set<string>();
  /** Paths with an action in flight: a second action on one of them waits for the next plan. */
  readonly busy = new Set<string>();
  /** A full plan is due (after a full scan or a listing): every path is looked at. */
  planEverything = true;

  constructor(
    readonly config: SyncFolderConfig,
    private readonly journal: Journal,
    private readonly status: FolderStatus,
  ) {
    const state = journal.loadSyncFolder(config.id);
    this.local = state.local;
    this.remote = state.remote;
    this.synced = state.synced;
    this.errors = state.errors;
    for (const path of this.local.keys()) this.adjustFolderCounts(path, 1);
  }

  /** The object key of a folder-relative path. */
  keyOf(path: string): string {
    return this.config.prefix + path;
  }

  /** The file's absolute path on disk (its own spelling there, e.g. NFD on macOS). */
  diskPathOf(path: string): string {
    return join(this.config.localPath, this.local.get(path)?.diskPath ?? path);
  }

  adjustFolderCounts(path: string, delta: 1 | -1): void {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const folder = path.slice(0, slash);
      const count = (this.filesUnder.get(folder) ?? 0) + delta;
      if (count > 0) this.filesUnder.set(folder, count);
      else this.filesUnder.delete(folder);
    }
  }

  /**
   * Records outcomes in the journal first, then in memory, clears errors of those paths, and shows
   * them synced (or forgets them when nothing is left of them). The one place an action counts as done.
   */
  commit(outcomes: ReadonlyArray<SyncOutcome>): void {
    this.journal.recordSyncOutcome(this.config.id, outcomes);
    for (const { path, synced, remote } of outcomes) {
      this.changed.add(path);
      if (synced === null) this.synced.delete(path);
      else this.synced.set(path, synced);
      if (remote === null) this.remote.delete(path);
      else if (remote !== undefined) this.remote.set(path, remote);
      this.errors.delete(path);
      if (synced !== null) this.status.synced(path);
      else if (!this.local.has(path)) this.status.forget(path);
    }
  }

  /** Records an object this folder wrote outside an outcome (a conflict copy, a move's destination). */
  recordRemote(file: RemoteFile): void {
    this.journal.writeRemoteChanges(this.config.id, [{ path: file.path, file }]);
    this.remote.set(file.path, file);
  }

  /** Records (or, with null, clears) the failure of a path. */
  recordError(path: string, record: SyncErrorRecord | null): void {
    if (record === null) this.errors.delete(path);
    else this.errors.set(path, record);
    this.journal.recordSyncError(this.config.id, path, record);
  }

  /** The journal, for observers that write whole batches of tree changes. */
  get store(): Journal {
    return this.journal;
  }
}
