/**
 * Folder sync against the real RGW with SSE-C: 1,000 files created, modified, a directory of 100
 * renamed, files deleted — under each delete policy — and the bucket checked object by object,
 * read back with the key. Plus the cases that must never lose anything: someone else's changes,
 * a vanished folder, ignore rules, symlinks.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeletePolicy } from '../../app/sync-model.js';
import { useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, DIALECTS, rawClient, readObject, requireServices, storeAccess, type DialectName, type Services, type StoreAccess } from '../../test/support/services.js';
import { allKeys, bucketDigests, folderConfig, folderDigests, RecordingLogger, syncOnce } from '../../test/support/sync.js';
import { SseCustomerKey } from '../secrets/secret-values.js';

const MiB = 1024 * 1024;
let dialectWork: () => string;
/** The work folder of the dialect under test. */
const work = (): string => dialectWork();
let services: Services;
/** The dialect under test, and its bucket (by its RGW name), set by inDialect for each block. */
let access: StoreAccess;
let bucket: string;
const key = SseCustomerKey.generate();
const encryption = { mode: 'c' as const, key };

beforeAll(() => {
  services = requireServices();
});

/** Runs the enclosing block's tests in a dialect, on a bucket of their own. */
function inDialect(dialect: DialectName): void {
  const blockWork = useWorkDir(`sync-${dialect}`);
  beforeAll(async () => {
    dialectWork = blockWork;
    access = await storeAccess(services, dialect);
    bucket = await createBucket(services, `cosync-sync-${dialect}`);
  });
}

async function writeTree(root: string, directories: number, filesPerDirectory: number): Promise<void> {
  for (let d = 0; d < directories; d++) {
    await mkdir(join(root, `dir${d}`), { recursive: true });
    await Promise.all(
      Array.from({ length: filesPerDirectory }, (_, f) => writeFile(join(root, `dir${d}`, `file${f}.bin`), randomBytes(64 + ((d * 131 + f * 17) % 4000)))),
    );
  }
}

/** Every local file has an object with the same bytes (read with the key), and nothing failed. */
async function expectBucketHoldsFolder(folder: ReturnType<typeof folderConfig>): Promise<{ local: Map<string, string>; keys: string[] }> {
  const local = await folderDigests(folder.localPath);
  const remote = await bucketDigests(access, folder, [...local.keys()], key);
  for (const [path, digest] of local) expect(remote.get(path), path).toBe(digest);
  return { local, keys: await allKeys(access, folder) };
}

describe.each(DIALECTS)('%s dialect', (dialect) => {
  inDialect(dialect);

  describe.each<DeletePolicy>(['keep', 'mirror', 'trash'])('1,000 files under policy %s', (policy) => {
    it('creates, modifies, renames a directory of 100, deletes — bucket checked object by object', async () => {
      const root = join(work(), policy);
      const journalFile = join(work(), `${policy}.sqlite`);
      await writeTree(root, 10, 100);
      await writeRandomFile(join(root, 'big.bin'), 12 * MiB); // multipart (5 MiB parts here)
      const folder = folderConfig(access, { id: policy, localPath: root, bucket, prefix: `${policy}/`, policy });

      const first = await syncOnce(access, folder, journalFile, encryption);
      expect(first.ok && first.result.failed).toEqual([]);
      expect(first.ok && first.result.actionsRun).toBe(1001);
      // The first state is checked by keys and sizes here; every object's bytes are checked at the end.
      expect(await allKeys(access, folder)).toHaveLength(1001);

      // A second run with nothing changed does nothing.
      const idle = await syncOnce(access, folder, journalFile, encryption);
      expect(idle.ok && idle.result.actionsRun).toBe(0);

      // Modify 50, rename a directory of 100, delete 30, create 20.
      for (let f = 0; f < 50; f++) await writeFile(join(root, 'dir1', `file${f}.bin`), randomBytes(300 + f));
      await rename(join(root, 'dir3'), join(root, 'dir3-renamed'));
      for (let f = 0; f < 30; f++) await rm(join(root, 'dir5', `file${f}.bin`));
      await mkdir(join(root, 'new'));
      for (let f = 0; f < 20; f++) await writeFile(join(root, 'new', `n${f}.txt`), `new file ${f}\n`);
      const logger = new RecordingLogger();
      const second = await syncOnce(access, folder, journalFile, encryption, logger);
      expect(second.ok && second.result.failed).toEqual([]);
      // The rename is 100 server-side moves, not 100 uploads.
      expect(logger.count('moved')).toBe(100);
      expect(logger.count('uploaded')).toBe(70);

      const after = await expectBucketHoldsFolder(folder);
      const live = after.keys.filter((k) => !k.startsWith(`${policy}/.cosync-trash/`));
      const oldRenamed = Array.from({ length: 100 }, (_, f) => `${policy}/dir3/file${f}.bin`);
      const deleted = Array.from({ length: 30 }, (_, f) => `${policy}/dir5/file${f}.bin`);
      const trashed = after.keys.filter((k) => k.startsWith(`${policy}/.cosync-trash/`));
      if (policy === 'keep') {
        // Nothing is ever deleted: the old names and the deleted files stay, with their last content.
        expect(live).toEqual(expect.arrayContaining([...oldRenamed, ...deleted]));
        expect(live).toHaveLength(1001 + 20 + 100);
        expect(trashed).toEqual([]);
        const kept = await readObject(services, bucket, `${policy}/dir5/file0.bin`, Buffer.from(key.revealBytes()));
        expect(kept.length).toBe(64 + ((5 * 131) % 4000));
      } else {
        // The bucket mirrors the folder exactly.
        expect(live).toEqual([...after.local.keys()].map((path) => `${policy}/${path}`).sort());
        if (policy === 'trash') {
          // Deleted files are in the dated trash; a rename is not a deletion.
          expect(trashed).toHaveLength(30);
          expect(trashed.map((k) => k.replace(/^.*\.cosync-trash\/[^/]+\//, '')).sort()).toEqual(deleted.map((k) => k.slice(policy.length + 1)).sort());
        } else {
          expect(trashed).toEqual([]);
        }
      }
    }, 240_000);
  });

  describe('never loses anything', () => {
    it('keeps a copy of an object someone else replaced, re-uploads one someone deleted', async () => {
      const root = join(work(), 'others');
      await mkdir(root);
      await writeFile(join(root, 'shared.txt'), 'ours v1\n');
      await writeFile(join(root, 'deleted.txt'), 'ours\n');
      const folder = folderConfig(access, { id: 'others', localPath: root, bucket, prefix: 'others/', policy: 'mirror' });
      const journalFile = join(work(), 'others.sqlite');
      await syncOnce(access, folder, journalFile, encryption);

      // Someone else overwrites one object (without our key) and deletes another.
      await rawClient(services).send(new PutObjectCommand({ Bucket: bucket, Key: 'others/shared.txt', Body: 'theirs\n' }));
      await rawClient(services).send(new DeleteObjectCommand({ Bucket: bucket, Key: 'others/deleted.txt' }));
      const outcome = await syncOnce(access, folder, journalFile, encryption);
      expect(outcome.ok && outcome.result.failed).toEqual([]);

      await expectBucketHoldsFolder(folder);
      const keys = await allKeys(access, folder);
      const conflict = keys.find((k) => /^others\/shared\.cosync-conflict-.+\.txt$/.test(k));
      expect(conflict, keys.join(', ')).toBeDefined();
      expect((await readObject(services, bucket, conflict as string)).toString()).toBe('theirs\n');
    });

    it.each<DeletePolicy>(['mirror', 'trash', 'keep'])('an object of ours the journal never recorded (a commit cut off by a kill) follows the delete policy %s; others stay', async (policy) => {
      const root = join(work(), `orphans-${policy}`);
      await mkdir(root);
      await writeFile(join(root, 'kept.txt'), 'kept\n');
      const folder = folderConfig(access, { id: `orphans-${policy}`, localPath: root, bucket, prefix: `orphans-${policy}/`, policy });
      const journalFile = join(work(), `orphans-${policy}.sqlite`);
      await syncOnce(access, folder, journalFile, encryption);
      // What a kill between "object written" and "journal committed" leaves, after the file was deleted too:
      // an object with this folder's writer mark and no journal record. Beside it, one someone else wrote.
      const customer = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.revealBase64(), SSECustomerKeyMD5: key.fingerprint };
      await rawClient(services).send(new PutObjectCommand({ Bucket: bucket, Key: `orphans-${policy}/gone.txt`, Body: 'ours, cut off\n', Metadata: { 'cosync-writer': folder.id }, ...customer }));
      await rawClient(services).send(new PutObjectCommand({ Bucket: bucket, Key: `orphans-${policy}/theirs.txt`, Body: 'theirs\n', Metadata: { 'cosync-writer': 'another-folder' }, ...customer }));
      const outcome = await syncOnce(access, folder, journalFile, encryption);
      expect(outcome.ok && outcome.result.failed).toEqual([]);
      const keys = await allKeys(access, folder);
      expect(keys).toContain(`orphans-${policy}/kept.txt`);
      expect(keys).toContain(`orphans-${policy}/theirs.txt`);
      if (policy === 'keep') expect(keys).toContain(`orphans-${policy}/gone.txt`);
      else expect(keys).not.toContain(`orphans-${policy}/gone.txt`);
      const trashed = keys.filter((candidate) => candidate.startsWith(`orphans-${policy}/.cosync-trash/`));
      expect(trashed.map((candidate) => candidate.split('/').at(-1))).toEqual(policy === 'trash' ? ['gone.txt'] : []);
    });

    it('a missing folder stops the sync with a clear error and deletes nothing', async () => {
      const root = join(work(), 'vanishing');
      await mkdir(root);
      await writeFile(join(root, 'a.txt'), 'a');
      const folder = folderConfig(access, { id: 'vanishing', localPath: root, bucket, prefix: 'vanishing/', policy: 'mirror' });
      const journalFile = join(work(), 'vanishing.sqlite');
      await syncOnce(access, folder, journalFile, encryption);
      await rm(root, { recursive: true });
      const outcome = await syncOnce(access, folder, journalFile, encryption);
      expect(outcome.ok).toBe(false);
      expect(!outcome.ok && outcome.error.code).toBe('path-not-found');
      expect(!outcome.ok && outcome.error.message).toMatch(/is missing .*not mounted.*nothing in the bucket is changed/);
      expect(await allKeys(access, folder)).toEqual(['vanishing/a.txt']);
    });

    it('honours .cosyncignore and built-in ignores, skips symlinks, and keeps objects of newly ignored files', async () => {
      const root = join(work(), 'ignores');
      await mkdir(join(root, 'build'), { recursive: true });
      await writeFile(join(root, 'keep.txt'), 'k');
      await writeFile(join(root, 'notes.log'), 'log');
      await writeFile(join(root, 'build', 'out.o'), 'o');
      await writeFile(join(root, '~$report.docx'), 'lock');
      await writeFile(join(root, '.DS_Store'), 'x');
      await writeFile(join(root, 'edit.swp'), 'x');
      await symlink('/etc/hostname', join(root, 'link'));
      await writeFile(join(root, '.cosyncignore'), 'build/\n');
      const folder = folderConfig(access, { id: 'ignores', localPath: root, bucket, prefix: 'ignores/', policy: 'mirror' });
      const journalFile = join(work(), 'ignores.sqlite');
      const first = await syncOnce(access, folder, journalFile, encryption);
      expect(first.ok && first.result.skipped).toEqual([{ path: 'link', reason: 'symbolic link (not followed)' }]);
      expect(await allKeys(access, folder)).toEqual(['ignores/.cosyncignore', 'ignores/keep.txt', 'ignores/notes.log']);

      // A new rule excludes a synced file: it is no longer synced, and its object is not deleted even under mirror.
      await writeFile(join(root, '.cosyncignore'), 'build/\n*.log\n');
      await utimes(join(root, '.cosyncignore'), new Date(), new Date(Date.now() + 5000));
      await rm(join(root, 'notes.log'));
      await syncOnce(access, folder, journalFile, encryption);
      expect(await allKeys(access, folder)).toEqual(['ignores/.cosyncignore', 'ignores/keep.txt', 'ignores/notes.log']);
    });

    it('a fresh journal (new machine, re-added folder) adopts objects with the same content instead of re-uploading', async () => {
      const root = join(work(), 'adopt');
      await writeTree(root, 2, 10);
      await writeRandomFile(join(root, 'big.bin'), 11 * MiB);
      const folder = folderConfig(access, { id: 'adopt', localPath: root, bucket, prefix: 'adopt/', policy: 'mirror' });
      await syncOnce(access, folder, join(work(), 'adopt-1.sqlite'), encryption);
      await writeFile(join(root, 'dir0', 'file0.bin'), 'changed meanwhile');
      // Re-added (a new folder id, a fresh journal): identical objects are adopted; the one that differs was
      // written by another folder as far as this one knows, so it is kept beside the new upload.
      const readded = { ...folder, id: 'adopt-again' };
      const logger = new RecordingLogger();
      const outcome = await syncOnce(access, readded, join(work(), 'adopt-2.sqlite'), encryption, logger);
      expect(outcome.ok && outcome.result.failed).toEqual([]);
      expect(logger.count('adopted')).toBe(20);
      expect(logger.count('uploaded')).toBe(1);
      expect(logger.count('conflict-copy')).toBe(1);
      await expectBucketHoldsFolder(readded);

      // Its journal lost (same folder id): its own older write (file0, uploaded just above) is replaced, not kept.
      await writeFile(join(root, 'dir0', 'file0.bin'), 'changed again');
      const sameFolder = new RecordingLogger();
      await syncOnce(access, readded, join(work(), 'adopt-3.sqlite'), encryption, sameFolder);
      expect(sameFolder.count('uploaded')).toBe(1);
      expect(sameFolder.count('conflict-copy')).toBe(0);
      await expectBucketHoldsFolder(readded);
    });
  });
});

describe('manual backup through the engine', () => {
  inDialect('s3');
  it('uses the same queues and journal as the folders, and checks like cosync backup', async () => {
    const { Journal } = await import('../journal/journal.js');
    const { StatusTracker } = await import('./status-tracker.js');
    const { SyncEngine } = await import('./sync-engine.js');
    const { storeFor } = await import('../../test/support/sync.js');
    const { parseEndpoint } = await import('../../app/target.js');
    const dropped = join(work(), 'dropped');
    await mkdir(join(dropped, 'album'), { recursive: true });
    await writeFile(join(dropped, 'album', 'one.jpg'), randomBytes(1000));
    await writeRandomFile(join(dropped, 'album', 'two.raw'), 7 * MiB);
    const folder = folderConfig(access, { id: 'drop', localPath: dropped, bucket, prefix: 'dropped/' });
    const journal = new Journal(join(work(), 'drop.sqlite'));
    const engine = new SyncEngine([], { journal, logger: new RecordingLogger(), status: new StatusTracker(), connect: async () => ({ store: storeFor(access, folder), encryption }), sizing: { multipartThresholdBytes: 5 * MiB, preferredPartBytes: 5 * MiB } });
    const events: string[] = [];
    const store = storeFor(access, folder);
    try {
      const target = { endpoint: parseEndpoint(services.httpsEndpoint), bucket, prefix: 'dropped/', region: 'us-east-1', pathStyle: true, dialect: 's3' as const, sse: 'c' as const, keyName: 'test', kmsKeyId: undefined };
      const result = await engine.backup([join(dropped, 'album')], { connection: { store, encryption }, target }, (event) => events.push(event.type));
      expect(result).toEqual({ succeeded: 2, failed: 0 });
      expect(events.filter((type) => type === 'file-finished')).toHaveLength(2);
      expect(journal.getObject(services.httpsEndpoint, bucket, 'dropped/album/two.raw')?.sizeBytes).toBe(7 * MiB);
      const read = await readObject(services, bucket, 'dropped/album/one.jpg', Buffer.from(key.revealBytes()));
      expect(read.length).toBe(1000);
      await expect(engine.backup([join(dropped, 'missing')], { connection: { store, encryption }, target }, () => undefined)).rejects.toThrow(/no such file or folder; nothing was uploaded/);
    } finally {
      store.close();
      await engine.stop(0);
      journal.close();
    }
  });
});
