/**
 * How FolderSync observes the disk, without a bucket: full scans and the watcher's single paths
 * (files, folders, vanished paths, a file replaced by a folder) merged into the local tree, and
 * what the planner is then asked to look at.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useWorkDir } from '../../test/support/files.js';
import { openObservingFolder } from '../../test/support/observing-folder.js';
import { Journal } from '../journal/journal.js';
import { StatusTracker } from './status-tracker.js';

const work = useWorkDir('folder-sync');

const openSync = openObservingFolder;

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

  it('shows large files as hashing while they are read, small ones (hashed inline) not', async () => {
    const root = join(work(), 'hashing');
    await mkdir(root);
    await writeFile(join(root, 'small.txt'), 'small');
    await writeFile(join(root, 'large.bin'), Buffer.alloc(300 * 1024, 7));
    const status = new StatusTracker();
    const seen: string[] = [];
    status.subscribe(() => undefined);
    const original = status.set.bind(status);
    status.set = (folderId, path, state) => {
      seen.push(`${path}:${state.state}`);
      return original(folderId, path, state);
    };
    const journal = new Journal(join(work(), 'hashing.sqlite'));
    const sync = openSync(root, journal, status);
    await sync.scanLocal();
    expect(seen).toEqual(['large.bin:hashing']);
    sync.publishStatus();
    expect(seen.slice(1).sort()).toEqual(['large.bin:queued', 'small.txt:queued']);
    // Changed later and reported by the watcher: hashed again, visibly.
    await writeFile(join(root, 'large.bin'), Buffer.alloc(300 * 1024, 8));
    await sync.observePaths(['large.bin', 'small.txt']);
    expect(seen.filter((entry) => entry.endsWith(':hashing'))).toEqual(['large.bin:hashing', 'large.bin:hashing']);
    expect(status.invalidTransitions).toBe(0);
    journal.close();
  });

  it('a rename the watcher reports in two batches is still a move: the old path waits for the new one', async () => {
    const root = join(work(), 'rename');
    await mkdir(join(root, 'old'), { recursive: true });
    await writeFile(join(root, 'old', 'a.txt'), 'a');
    const journal = new Journal(join(work(), 'rename.sqlite'));
    let now = 1_000_000;
    const sync = openSync(root, journal, new StatusTracker(), () => now);
    await sync.scanLocal();
    // As if old/a.txt had been uploaded: its synced state and object.
    const file = sync.trees.local.get('old/a.txt');
    journal.recordSyncOutcome('f', [{ path: 'old/a.txt', synced: { path: 'old/a.txt', sizeBytes: 1, mtimeMs: file?.mtimeMs ?? 0, fileId: file?.fileId ?? null, hash: file?.hash ?? null, etag: 'e1', keyFingerprint: null }, remote: { path: 'old/a.txt', sizeBytes: 1, etag: 'e1' } }]);
    const reopened = openSync(root, journal, new StatusTracker(), () => now);
    await rename(join(root, 'old'), join(root, 'new'));
    // First batch: only the old path. Its deletion (policy mirror) is held back, not run.
    await reopened.observePaths(['old']);
    const first = reopened.startPlan();
    expect(first).toMatchObject({ ran: 0, waiting: 1, nextRetryAt: 1_003_000 });
    // Second batch: the new path. Now the pair is one server-side move.
    now += 800;
    await reopened.observePaths(['new']);
    expect(reopened.plan().actions).toEqual([{ kind: 'move', from: 'old/a.txt', to: 'new/a.txt', sizeBytes: 1, deleteSource: true }]);
    // A path that stays gone is disposed of once the grace has passed (here the bucket refuses: it is the attempt that counts).
    await rm(join(root, 'new'), { recursive: true });
    await reopened.observePaths(['new']);
    expect(reopened.startPlan()).toMatchObject({ ran: 0, waiting: 1 });
    now += 3000;
    const due = reopened.startPlan();
    expect(due).toMatchObject({ ran: 1, waiting: 0 });
    await due.finished;
    expect(reopened.errors.get('old/a.txt')?.message).toMatch(/no bucket in this test/);
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
