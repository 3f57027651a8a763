/**
 * Names a bucket cannot hold, seen by folder sync on real files (no bucket: observation only):
 * names that are not UTF-8, NFC/NFD twins, keys over the length limit. Each is refused with its
 * own error (state `error`, in the journal for `cosync status`), none stops the scan, and none is
 * planned; a scan that sees the name fixed clears the error.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_OBJECT_KEY_BYTES, utf8ByteLength } from '../../app/object-key.js';
import { useWorkDir } from '../../test/support/files.js';
import { openObservingFolder } from '../../test/support/observing-folder.js';
import { Journal } from '../journal/journal.js';
import { printableName } from '../transfer/file-names.js';
import type { FolderSync } from './folder-sync.js';
import { FolderWatcher } from './folder-watcher.js';
import { StatusTracker } from './status-tracker.js';

const work = useWorkDir('file-names');
const NFC = 'caf\u00e9.txt';
const NFD = 'cafe\u0301.txt';
/** `bad\xFF\xFEname.txt`: not UTF-8, as a Latin-1 system would write "badÿþname.txt". */
const BAD_NAME = Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xfe]), Buffer.from('name.txt')]);

function pathBytes(directory: string, name: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${directory}/`), name]);
}

const openFolder = openObservingFolder;

function errorsOf(sync: FolderSync): Record<string, string> {
  return Object.fromEntries([...sync.errors].map(([path, error]) => [path, `${error.code}: ${error.message}`]));
}

describe('names a bucket cannot hold', () => {
  it('prints undecodable bytes as \\xNN and keeps valid UTF-8 (U+FFFD included) as text', () => {
    expect(printableName(BAD_NAME)).toBe('bad\\xFF\\xFEname.txt');
    expect(printableName(Buffer.from('ok \u00e9 \u{1F600} \uFFFD'))).toBe('ok \u00e9 \u{1F600} \uFFFD');
    expect(printableName(Buffer.from([0x61, 0xe2, 0x82, 0x62, 0xf0, 0x9f, 0x98]))).toBe('a\\xE2\\x82b\\xF0\\x9F\\x98');
    expect(printableName(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]))).toBe('\\xC0\\xAF\\xED\\xA0\\x80'); // overlong "/", a lone surrogate
  });

  it('counts UTF-8 bytes as Buffer does', () => {
    for (const text of ['', 'abc', '\u00e9', '\u4e2d\u6587', '\u{1F600}x', '\ud800 lone', 'z\udc00']) expect(utf8ByteLength(text), text).toBe(Buffer.byteLength(text, 'utf8'));
  });

  it('a full scan refuses each one with its own error and goes on with the others', async () => {
    const root = join(work(), 'full');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'ok.txt'), 'ok');
    await writeFile(join(root, 'sub', 'fine.txt'), 'fine');
    await writeFile(pathBytes(root, BAD_NAME), 'bad');
    await mkdir(pathBytes(root, Buffer.from([0x64, 0x69, 0x72, 0xe9])), { recursive: true }); // "dir\xE9": Latin-1 é
    await writeFile(Buffer.concat([pathBytes(root, Buffer.from([0x64, 0x69, 0x72, 0xe9])), Buffer.from('/inner.txt')]), 'inner');
    await writeFile(join(root, NFD), 'decomposed');
    await writeFile(join(root, NFC), 'composed');
    // Each segment under the OS's 255-byte limit, the key (prefix "p/" included) over 1,024 bytes.
    const deep = ['a'.repeat(250), 'b'.repeat(250), 'c'.repeat(250), 'd'.repeat(250)];
    await mkdir(join(root, ...deep), { recursive: true });
    const longPath = [...deep, 'x'.repeat(30)].join('/');
    await writeFile(join(root, longPath), 'long');
    expect(utf8ByteLength(`p/${longPath}`)).toBeGreaterThan(MAX_OBJECT_KEY_BYTES);

    const journal = new Journal(join(work(), 'full.sqlite'));
    const status = new StatusTracker();
    const sync = openFolder(root, journal, status);
    const scan = await sync.scanLocal();
    expect(scan.files).toBe(3);
    expect([...sync.trees.local.values()].map((file) => `${file.path}${file.diskPath === undefined ? '' : ` (on disk ${file.diskPath})`}`).sort()).toEqual([NFC, 'ok.txt', 'sub/fine.txt']);
    expect(sync.trees.local.get(NFC)?.sizeBytes).toBe('composed'.length); // the NFC spelling, whatever the readdir order
    const errors = errorsOf(sync);
    expect(Object.keys(errors).sort()).toEqual([longPath, 'bad\\xFF\\xFEname.txt', 'dir\\xE9', NFD].sort());
    expect(errors['bad\\xFF\\xFEname.txt']).toMatch(/^name-unsupported: the file name is not valid UTF-8 .*this file is not backed up — rename it to UTF-8/);
    expect(errors['dir\\xE9']).toMatch(/^name-unsupported: the folder name is not valid UTF-8 .*nothing in this folder is backed up/);
    expect(errors[NFD]).toBe(`name-unsupported: its name differs from ${NFC} only in Unicode normalization (NFC/NFD), so both map to the object key "p/${NFC}"; ${NFC} is backed up there and this file is not — rename one of them`);
    expect(errors[longPath]).toMatch(/^name-unsupported: its object key would be 1036 bytes, over the store's limit of 1024 bytes \(prefix included\); not uploaded/);

    // Only the storable files are planned; the refused ones show as errors, and are on record for `cosync status`.
    expect(sync.plan().actions.map((action) => `${action.kind} ${'path' in action ? action.path : ''}`).sort()).toEqual([`upload ${NFC}`, 'upload ok.txt', 'upload sub/fine.txt']);
    sync.publishStatus();
    for (const path of Object.keys(errors)) expect(status.get('f', path)?.status.state, path).toBe('error');
    expect(status.invalidTransitions).toBe(0);
    expect([...journal.loadSyncFolder('f').errors.keys()].sort()).toEqual(Object.keys(errors).sort());

    // Fixed names: the next scan clears the errors and finds the files.
    await rename(pathBytes(root, BAD_NAME), join(root, 'bad-renamed.txt'));
    await rm(join(root, NFD));
    await rm(join(root, 'a'.repeat(250)), { recursive: true });
    await rm(pathBytes(root, Buffer.from([0x64, 0x69, 0x72, 0xe9])), { recursive: true });
    await sync.scanLocal();
    expect(errorsOf(sync)).toEqual({});
    expect([...journal.loadSyncFolder('f').errors.keys()]).toEqual([]);
    expect([...sync.trees.local.keys()].sort()).toEqual(['bad-renamed.txt', NFC, 'ok.txt', 'sub/fine.txt']);
    journal.close();
  });

  it('a name the watcher reports with U+FFFD (not UTF-8) is refused, not taken for a vanished file', async () => {
    const root = join(work(), 'watched');
    await mkdir(root);
    await writeFile(join(root, 'ok.txt'), 'ok');
    const journal = new Journal(join(work(), 'watched.sqlite'));
    const sync = openFolder(root, journal);
    await sync.scanLocal();
    const settled = new Promise<string[]>((resolve) => {
      const watcher = new FolderWatcher(root, {
        onDidSettle: (paths) => {
          void watcher.close();
          resolve(paths);
        },
        onRescanDue: () => undefined,
        onDidDegrade: () => undefined,
      }, { stabilityMs: 50 });
      void watcher.start().then(() => writeFile(pathBytes(root, BAD_NAME), 'bad'));
    });
    const paths = await settled;
    expect(paths).toEqual([BAD_NAME.toString('utf8')]); // fs.watch decodes the name lossily: it names no file
    await sync.observePaths(paths);
    expect(Object.keys(errorsOf(sync))).toEqual(['bad\\xFF\\xFEname.txt']);
    expect([...sync.trees.local.keys()]).toEqual(['ok.txt']);
    journal.close();
  });

  it('NFC/NFD twins reported by the watcher one by one: the NFC spelling is stored, the other refused, and takes over when it goes', async () => {
    const root = join(work(), 'twins');
    await mkdir(root);
    await writeFile(join(root, NFD), 'decomposed');
    const journal = new Journal(join(work(), 'twins.sqlite'));
    const sync = openFolder(root, journal);
    await sync.scanLocal();
    expect(sync.trees.local.get(NFC)?.diskPath).toBe(NFD);

    await writeFile(join(root, NFC), 'composed!');
    await sync.observePaths([NFC]);
    expect(sync.trees.local.get(NFC)).toMatchObject({ diskPath: undefined, sizeBytes: 9 });
    expect(Object.keys(errorsOf(sync))).toEqual([NFD]);
    // The refused twin changing again does not take the key over.
    await writeFile(join(root, NFD), 'decomposed, again');
    await sync.observePaths([NFD]);
    expect(sync.trees.local.get(NFC)).toMatchObject({ diskPath: undefined, sizeBytes: 9 });
    expect(Object.keys(errorsOf(sync))).toEqual([NFD]);
    // A full scan chooses the same one.
    await sync.scanLocal();
    expect(sync.trees.local.get(NFC)).toMatchObject({ diskPath: undefined, sizeBytes: 9 });

    await rm(join(root, NFC));
    await sync.observePaths([NFC]);
    expect(sync.trees.local.get(NFC)).toMatchObject({ diskPath: NFD, sizeBytes: 17 });
    expect(errorsOf(sync)).toEqual({});
    journal.close();
  });

  it('a file whose key would be too long, reported by the watcher, is refused before any request', async () => {
    const root = join(work(), 'long');
    const deep = ['a'.repeat(250), 'b'.repeat(250), 'c'.repeat(250), 'd'.repeat(250)];
    await mkdir(join(root, ...deep), { recursive: true });
    const journal = new Journal(join(work(), 'long.sqlite'));
    const sync = openFolder(root, journal);
    await sync.scanLocal();
    const longPath = [...deep, 'x'.repeat(30)].join('/');
    await writeFile(join(root, longPath), 'long');
    await sync.observePaths([longPath]);
    expect(Object.keys(errorsOf(sync))).toEqual([longPath]);
    expect(sync.plan().actions).toEqual([]);
    await rm(join(root, longPath));
    await sync.observePaths([longPath]);
    expect(errorsOf(sync)).toEqual({});
    journal.close();
  });

  it('a trash copy whose key would be too long fails with that reason, before any request', async () => {
    const root = join(work(), 'trash');
    await mkdir(root);
    const journal = new Journal(join(work(), 'trash.sqlite'));
    // A key of 1,000 bytes: fine for the file, too long once ".cosync-trash/STAMP/" goes in front.
    const path = ['a'.repeat(250), 'b'.repeat(250), 'c'.repeat(250), 'd'.repeat(244)].join('/');
    journal.recordSyncOutcome('f', [{ path, synced: { path, sizeBytes: 1, mtimeMs: 1, fileId: null, hash: null, etag: 'e1', keyFingerprint: null }, remote: { path, sizeBytes: 1, etag: 'e1' } }]);
    const sync = openFolder(root, journal, new StatusTracker(), undefined, { policy: 'trash' });
    await sync.scanLocal();
    expect(sync.plan().actions.map((action) => action.kind)).toEqual(['trash-remote']);
    await sync.startPlan().finished;
    // The bucket of this test refuses every request: the error is cosync's own, from before the copy.
    expect(sync.errors.get(path)).toMatchObject({ code: 'name-unsupported', message: expect.stringMatching(/^cannot copy it to \.cosync-trash\/\S+: its object key would be 10\d\d bytes, over the store's limit of 1024 bytes/) as unknown });
    journal.close();
  });
});
