/** A FolderSync that only observes the disk (no bucket), for tests of scanning and the watcher path. */
import PQueue from 'p-queue';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import type { Journal } from '../../main/journal/journal.js';
import { NULL_LOGGER } from '../../main/log/logger.js';
import type { RemoteStore } from '../../main/remote/remote-store.js';
import { FolderSync } from '../../main/sync/folder-sync.js';
import { StatusTracker } from '../../main/sync/status-tracker.js';
import type { UploadContext } from '../../main/transfer/upload-file.js';

/** Folder `f` at `localPath`, prefix `p/`, policy mirror, no encryption. */
export function folderAt(localPath: string): SyncFolderConfig {
  return {
    id: 'f',
    localPath,
    endpoint: 'http://127.0.0.1:9',
    bucket: 'b',
    prefix: 'p/',
    region: undefined,
    pathStyle: true,
    sse: 'none',
    keyName: undefined,
    kmsKeyId: undefined,
    account: undefined,
    policy: 'mirror',
    paused: false,
    createdAt: '',
  };
}

/** Observation only: nothing here may reach the bucket. */
const noStore = new Proxy({}, { get: () => () => Promise.reject(new Error('no bucket in this test')) }) as unknown as RemoteStore;

/** Opens the folder at `root` with a store that refuses every request. */
export function openObservingFolder(root: string, journal: Journal, status = new StatusTracker(), now?: () => number, config: Partial<SyncFolderConfig> = {}): FolderSync {
  return new FolderSync({ ...folderAt(root), ...config }, {
    store: noStore,
    encryption: { mode: 'none' },
    journal,
    upload: {} as UploadContext,
    fileQueue: new PQueue({ concurrency: 1 }),
    status,
    logger: NULL_LOGGER,
    ...(now === undefined ? {} : { now }),
  });
}
