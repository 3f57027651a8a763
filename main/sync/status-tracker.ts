/**
 * The one place per-file sync states change. It keeps the latest status of every path (for
 * lists and counts) and delivers changes to subscribers in batches: at most about
 * `maxBatchesPerSecond` per subscriber however fast states change — an upload reports progress
 * for every chunk, a scan of 100,000 files sets 100,000 states — and, per batch, only the newest
 * status of each path. Each subscriber has its own pending set, so a new or slow one affects no other.
 */
import {
  FILE_STATE_NAMES,
  isValidTransition,
  type FileStateName,
  type FileStatus,
  type FileSyncState,
  type FolderStateChange,
  type FolderSyncState,
  type StateCounts,
  type StatusBatch,
} from '../../app/sync-status.js';

export interface StatusSubscription {
  dispose(): void;
}

const IDLE: FolderSyncState = { state: 'idle' };

/** Joins folder and path into one map key; NUL appears in neither. */
const keyOf = (folderId: string, path: string): string => `${folderId}\0${path}`;

class Subscriber {
  readonly changes = new Map<string, FileStatus>();
  readonly forgotten = new Map<string, { folderId: string; path: string }>();
  timer: NodeJS.Timeout | undefined;
  lastDeliveredAt = -Infinity;

  constructor(readonly listener: (batch: StatusBatch) => void) {}

  get pending(): boolean {
    return this.changes.size > 0 || this.forgotten.size > 0;
  }
}

export class StatusTracker {
  /** Per folder, per path: the path strings are the engine's own (100,000 files must not mean 100,000 new keys). */
  readonly #statuses = new Map<string, Map<string, FileStatus>>();
  /** Per folder: count per state, kept as states change (never by scanning). */
  readonly #counts = new Map<string, Record<FileStateName, number>>();
  readonly #subscribers = new Set<Subscriber>();
  /** Per folder: bytes uploaded so far, from the uploading states (for throughput; every set is seen, batches are not). */
  readonly #bytesSent = new Map<string, number>();
  /** Per folder: its state (absent: idle), and who hears of changes. */
  readonly #folderStates = new Map<string, FolderSyncState>();
  readonly #folderStateListeners = new Set<(change: FolderStateChange) => void>();
  readonly #intervalMs: number;
  readonly #now: () => number;
  #invalidTransitions = 0;
  #listenerFailures = 0;

  constructor(options: { maxBatchesPerSecond?: number; now?: () => number } = {}) {
    this.#intervalMs = 1000 / (options.maxBatchesPerSecond ?? 10);
    this.#now = options.now ?? Date.now;
  }

  /** Changes refused because they did not follow the state machine (app/sync-status.ts); the sync itself goes on. */
  get invalidTransitions(): number {
    return this.#invalidTransitions;
  }

  /** Listeners that threw (isolated from the tracker and from other subscribers). */
  get listenerFailures(): number {
    return this.#listenerFailures;
  }

  /**
   * Sets the state of a path, if the state machine allows the change; refused changes are
   * counted (invalidTransitions) and leave the path as it was. Returns whether it was applied.
   */
  set(folderId: string, path: string, status: FileSyncState): boolean {
    const key = keyOf(folderId, path);
    const previous = this.#statuses.get(folderId)?.get(path);
    if (!isValidTransition(previous?.status.state, status.state)) {
      this.#invalidTransitions++;
      return false;
    }
    let folder = this.#statuses.get(folderId);
    if (folder === undefined) {
      folder = new Map();
      this.#statuses.set(folderId, folder);
    }
    const sent = bytesSentBetween(previous?.status, status);
    if (sent > 0) this.#bytesSent.set(folderId, (this.#bytesSent.get(folderId) ?? 0) + sent);
    const counts = this.#countsOf(folderId);
    if (previous !== undefined) counts[previous.status.state]--;
    counts[status.state]++;
    const entry: FileStatus = { folderId, path, status, changedAt: this.#now() };
    folder.set(path, entry);
    for (const subscriber of this.#subscribers) {
      subscriber.forgotten.delete(key);
      subscriber.changes.set(key, entry);
      this.#schedule(subscriber);
    }
    return true;
  }

  /** The state of a folder (idle until told otherwise). */
  folderState(folderId: string): FolderSyncState {
    return this.#folderStates.get(folderId) ?? IDLE;
  }

  /** Sets the state of a folder; listeners hear of it when it differs from the one before. */
  setFolderState(folderId: string, state: FolderSyncState): void {
    if (JSON.stringify(this.folderState(folderId)) === JSON.stringify(state)) return;
    this.#folderStates.set(folderId, state);
    for (const listener of this.#folderStateListeners) {
      try {
        listener({ folderId, state });
      } catch {
        this.#listenerFailures++;
      }
    }
  }

  /** Hears of every change of a folder's state, as it happens (they are few: no batching). */
  onDidChangeFolderState(listener: (change: FolderStateChange) => void): StatusSubscription {
    this.#folderStateListeners.add(listener);
    return { dispose: () => this.#folderStateListeners.delete(listener) };
  }

  forget(folderId: string, path: string): void {
    const key = keyOf(folderId, path);
    const folder = this.#statuses.get(folderId);
    const previous = folder?.get(path);
    if (folder === undefined || previous === undefined) return;
    folder.delete(path);
    this.#countsOf(folderId)[previous.status.state]--;
    for (const subscriber of this.#subscribers) {
      subscriber.changes.delete(key);
      subscriber.forgotten.set(key, { folderId, path });
      this.#schedule(subscriber);
    }
  }

  get(folderId: string, path: string): FileStatus | undefined {
    return this.#statuses.get(folderId)?.get(path);
  }

  /** Bytes uploaded for a folder since start (only grows). */
  bytesSent(folderId: string): number {
    return this.#bytesSent.get(folderId) ?? 0;
  }

  /** Every known path of a folder, unsorted (cheap). */
  entries(folderId: string): IterableIterator<FileStatus> {
    return (this.#statuses.get(folderId) ?? new Map<string, FileStatus>()).values();
  }

  /** Every known path of a folder, sorted by path. */
  list(folderId: string): FileStatus[] {
    const result = [...(this.#statuses.get(folderId)?.values() ?? [])];
    return result.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  counts(folderId: string): StateCounts {
    // Asking about a folder never seen must not create an entry for it.
    const counts = this.#counts.get(folderId);
    return counts === undefined ? (Object.fromEntries(FILE_STATE_NAMES.map((name) => [name, 0])) as Record<FileStateName, number>) : { ...counts };
  }

  forgetFolder(folderId: string): void {
    for (const status of this.list(folderId)) this.forget(folderId, status.path);
    this.#statuses.delete(folderId);
    this.#counts.delete(folderId);
    this.#bytesSent.delete(folderId);
    this.#folderStates.delete(folderId);
  }

  subscribe(listener: (batch: StatusBatch) => void): StatusSubscription {
    const subscriber = new Subscriber(listener);
    this.#subscribers.add(subscriber);
    return {
      dispose: () => {
        clearTimeout(subscriber.timer);
        this.#subscribers.delete(subscriber);
      },
    };
  }

  /** Delivers every pending batch now (shutdown, tests). */
  flush(): void {
    for (const subscriber of this.#subscribers) this.#deliver(subscriber);
  }

  dispose(): void {
    for (const subscriber of this.#subscribers) clearTimeout(subscriber.timer);
    this.#subscribers.clear();
  }

  #countsOf(folderId: string): Record<FileStateName, number> {
    let counts = this.#counts.get(folderId);
    if (counts === undefined) {
      counts = Object.fromEntries(FILE_STATE_NAMES.map((name) => [name, 0])) as Record<FileStateName, number>;
      this.#counts.set(folderId, counts);
    }
    return counts;
  }

  /** The first change after a quiet spell goes out on the next tick; later ones wait for the interval. */
  #schedule(subscriber: Subscriber): void {
    if (subscriber.timer !== undefined) return;
    const wait = Math.max(0, subscriber.lastDeliveredAt + this.#intervalMs - this.#now());
    subscriber.timer = setTimeout(() => {
      subscriber.timer = undefined;
      this.#deliver(subscriber);
    }, wait);
    subscriber.timer.unref?.();
  }

  #deliver(subscriber: Subscriber): void {
    clearTimeout(subscriber.timer);
    subscriber.timer = undefined;
    if (!subscriber.pending || !this.#subscribers.has(subscriber)) return;
    const batch: StatusBatch = { changes: [...subscriber.changes.values()], forgotten: [...subscriber.forgotten.values()] };
    subscriber.changes.clear();
    subscriber.forgotten.clear();
    subscriber.lastDeliveredAt = this.#now();
    try {
      subscriber.listener(batch);
    } catch {
      this.#listenerFailures++;
    }
  }
}

/** Bytes an upload advanced by between two states of one path: progress, or the rest when it finished. */
function bytesSentBetween(previous: FileSyncState | undefined, next: FileSyncState): number {
  if (previous?.state !== 'uploading') return 0;
  if (next.state === 'uploading') return Math.max(0, next.bytesDone - previous.bytesDone);
  if (next.state === 'verifying' || next.state === 'synced') return Math.max(0, previous.bytesTotal - previous.bytesDone);
  return 0;
}
