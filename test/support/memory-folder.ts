/**
 * A FolderSync over real files in a temporary folder and a real journal, with the bucket in
 * memory (MemoryRemoteStore) and time faked (FakeClock): for unit tests of the scheduler and the
 * executors. Parts are 1 KiB and files from 4 KiB go multipart, so multipart cases stay tiny.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import type { FileSyncState } from '../../app/sync-status.js';
import { Journal } from '../../main/journal/journal.js';
import type { Logger, LogLevel } from '../../main/log/logger.js';
import type { ObjectEncryption } from '../../main/remote/remote-store.js';
import { FolderSync } from '../../main/sync/folder-sync.js';
import { StatusTracker } from '../../main/sync/status-tracker.js';
import { BufferPool } from '../../main/transfer/buffer-pool.js';
import { FakeClock } from './fake-clock.js';
import { MemoryRemoteStore } from './memory-remote-store.js';
import { folderAt } from './observing-folder.js';

/** Log events by name, to see what an executor did. */
export class EventLog implements Logger {
  readonly events: string[] = [];
  log(_level: LogLevel, event: string): void {
    this.events.push(event);
  }
}

export interface MemoryFolder {
  readonly root: string;
  readonly sync: FolderSync;
  readonly store: MemoryRemoteStore;
  readonly journal: Journal;
  readonly status: StatusTracker;
  readonly clock: FakeClock;
  readonly log: EventLog;
  /** Every state set, as "path:state", in order. */
  readonly states: string[];
  /** Opens the same folder again over the same journal and bucket (as after a restart). */
  reopen(): FolderSync;
  close(): void;
}

/** Opens folder `f` (prefix `p/`) at `<work>/<name>`, created empty. */
export async function openMemoryFolder(
  work: string,
  name: string,
  options: { config?: Partial<SyncFolderConfig>; encryption?: ObjectEncryption; store?: MemoryRemoteStore } = {},
): Promise<MemoryFolder> {
  const root = join(work, name);
  await mkdir(root, { recursive: true });
  const clock = new FakeClock(1_700_000_000_000);
  const store = options.store ?? new MemoryRemoteStore(() => clock.now());
  const journal = new Journal(join(work, `${name}.sqlite`));
  const status = new StatusTracker({ now: () => clock.now() });
  const states: string[] = [];
  const sink = {
    set: (folderId: string, path: string, state: FileSyncState) => {
      states.push(`${path}:${state.state}`);
      status.set(folderId, path, state);
    },
    forget: (folderId: string, path: string) => status.forget(folderId, path),
  };
  const log = new EventLog();
  const config: SyncFolderConfig = { ...folderAt(root), ...options.config };
  const open = (): FolderSync =>
    new FolderSync(config, {
      store,
      encryption: options.encryption ?? { mode: 'none' },
      journal,
      upload: {
        store,
        journal,
        endpointId: 'memory://bucket',
        bucket: 'b',
        limits: { minPartBytes: 1024, maxPartBytes: 1024 * 1024, maxParts: 10_000, maxSinglePutBytes: 1024 * 1024 },
        sizing: { multipartThresholdBytes: 4096, preferredPartBytes: 1024 },
        partQueue: new PQueue({ concurrency: 2 }),
        buffers: new BufferPool(2),
        crc64Parts: false,
        logger: log,
      },
      fileQueue: new PQueue({ concurrency: 2 }),
      status: sink,
      logger: log,
      clock,
    });
  return {
    root,
    sync: open(),
    store,
    journal,
    status,
    clock,
    log,
    states,
    reopen: open,
    close: () => {
      status.dispose();
      journal.close();
    },
  };
}

/** Scans the disk and the bucket, then runs to convergence, as `sync --once` does. */
export async function syncOnce(folder: Pick<MemoryFolder, 'sync'>, options: { maxAttempts?: number; signal?: AbortSignal } = {}): ReturnType<FolderSync['converge']> {
  await folder.sync.scanLocal(options.signal);
  await folder.sync.scanRemote(options.signal);
  return folder.sync.converge({ maxAttempts: options.maxAttempts ?? 3, ...(options.signal === undefined ? {} : { signal: options.signal }) });
}
