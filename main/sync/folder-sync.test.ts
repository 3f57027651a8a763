/**
 * How FolderSync observes the disk, without a bucket: full scans and the watcher's single paths
 * (files, folders, vanished paths, a file replaced by a folder) merged into the local tree, and
 * what the planner is then asked to look at.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { describe, expect, it } from 'vitest';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import { useWorkDir } from '../../test/support/files.js';
import { Journal } from '../journal/journal.js';
import { NULL_LOGGER } from '../log/logger.js';
import type { RemoteStore } from '../remote/remote-store.js';
import type { UploadContext } from '../transfer/upload-file.js';
import { FolderSync } from './folder-sync.js';
import { StatusTracker } from './status-tracker.js';

const work = useWorkDir('folder-sync');

function folderAt(localPath: string): SyncFolderConfig {
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

function openSync(root: string, journal: Journal): FolderSync {
  return new FolderSync(folderAt(root), {
    store: noStore,
    encryption: { mode: 'none' },
    journal,
    upload: {} as UploadContext,
    fileQueue: new PQueue({ concurrency: 1 }),
    status: new StatusTracker(),
    logger: NULL_LOGGER,
  });
}

describe('FolderSync observing the disk', () => {
  it('merges full scans and single paths into the local tree and the journal', async () => {
    const root = join(work(), 'tree');
    await mkdir(join(root, 'docs', 'deep'), { recursive: true });
    await writeFile(join(root, 'a.txt'), 'a');
    await writeFile(join(root, 'docs', 'b.txt'), 'b');
    await writeFile(join(root, 'docs', 'deep', 'c.txt'), 'c');
    const journal = new Journal(join(work(), 'tree.sqlite'));
    const sync = openSync(root, journal);
    const scan = await sync.scanLocal();
    expect(scan).toMatchObject({ files: 3, hashed: 3 });
    const paths = () => [...sync.trees.local.keys()].sort();
    expect(paths()).toEqual(['a.txt', 'docs/b.txt', 'docs/deep/c.txt']);
    expect(sync.trees.local.get('a.txt')?.hash).toBe('0cc175b9c0f1b6a831c399e269772661'); // md5("a")

    // A folder renamed: the old path is gone with everything under it, the new one is scanned whole.
    await rename(join(root, 'docs'), join(root, 'papers'));
    await sync.observePaths(['docs', 'papers']);
    expect(paths()).toEqual(['a.txt', 'papers/b.txt', 'papers/deep/c.txt']);

    // A file replaced by a folder of the same name, and a single file changed.
    await rm(join(root, 'a.txt'));
    await mkdir(join(root, 'a.txt'));
    await writeFile(join(root, 'a.txt', 'inside.txt'), 'x');
    await writeFile(join(root, 'papers', 'b.txt'), 'b, longer');
    await sync.observePaths(['a.txt', 'papers/b.txt']);
    expect(paths()).toEqual(['a.txt/inside.txt', 'papers/b.txt', 'papers/deep/c.txt']);
    expect(sync.trees.local.get('papers/b.txt')?.sizeBytes).toBe(9);

    // And back: the folder replaced by a file drops what was under it.
    await rm(join(root, 'a.txt'), { recursive: true });
    await writeFile(join(root, 'a.txt'), 'a again');
    await sync.observePaths(['a.txt']);
    expect(paths()).toEqual(['a.txt', 'papers/b.txt', 'papers/deep/c.txt']);

    // The journal holds the same tree: a restart starts from it.
    const reopened = openSync(root, journal);
    expect([...reopened.trees.local.keys()].sort()).toEqual(paths());
    // A path that vanished is forgotten, including from a reopened folder's view.
    await rm(join(root, 'papers'), { recursive: true });
    await reopened.observePaths(['papers']);
    expect([...reopened.trees.local.keys()]).toEqual(['a.txt']);
    journal.close();
  });

  it('plans uploads for what it found, and nothing twice', async () => {
    const root = join(work(), 'plan');
    await mkdir(root);
    await writeFile(join(root, 'one.txt'), '1');
    await writeFile(join(root, 'two.txt'), '2');
    const journal = new Journal(join(work(), 'plan.sqlite'));
    const sync = openSync(root, journal);
    await sync.scanLocal();
    expect(sync.plan().actions.map((action) => action.kind)).toEqual(['upload', 'upload']);
    journal.close();
  });

  it('a missing folder is a folder problem, never an empty folder', async () => {
    const journal = new Journal(join(work(), 'missing.sqlite'));
    const sync = openSync(join(work(), 'not-there'), journal);
    await expect(sync.scanLocal()).rejects.toThrow(/is missing \(moved, deleted, or on a drive that is not mounted\); nothing in the bucket is changed/);
    expect(sync.problem?.code).toBe('path-not-found');
    journal.close();
  });
});
