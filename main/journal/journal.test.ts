import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal } from './journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function journalFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cosync-journal-'));
  dirs.push(dir);
  return join(dir, 'journal.sqlite');
}

const upload = {
  endpoint: 'https://s3.example',
  bucket: 'b',
  key: 'k',
  uploadId: 'u1',
  localPath: '/tmp/f',
  sizeBytes: 100,
  mtimeMs: 5,
  partBytes: 10,
  keyFingerprint: 'fp==',
  startedAt: 1,
};

describe('Journal', () => {
  it('keeps multipart progress across a reopen (a crash) and forgets it once the object is recorded', () => {
    const file = journalFile();
    const first = new Journal(file);
    first.beginMultipart(upload);
    first.recordPart('u1', { partNumber: 2, etag: 'e2', md5Hex: 'aa' });
    first.recordPart('u1', { partNumber: 1, etag: 'e1', md5Hex: 'bb' });
    first.close();

    const second = new Journal(file);
    expect(second.getMultipart('https://s3.example', 'b', 'k')).toEqual({
      upload,
      parts: [
        { partNumber: 1, etag: 'e1', md5Hex: 'bb' },
        { partNumber: 2, etag: 'e2', md5Hex: 'aa' },
      ],
    });
    second.recordObject({ endpoint: 'https://s3.example', bucket: 'b', key: 'k', localPath: '/tmp/f', sizeBytes: 100, mtimeMs: 5, digest: 'd', keyFingerprint: 'fp==', etag: 'x-2', uploadedAt: 9 });
    expect(second.getMultipart('https://s3.example', 'b', 'k')).toBeUndefined();
    expect(second.getObject('https://s3.example', 'b', 'k')?.digest).toBe('d');
    second.close();
  });

  describe('recordObjectSoon', () => {
    const object = (key: string, digest = 'd') => ({ endpoint: 'https://s3.example', bucket: 'b', key, localPath: `/tmp/${key}`, sizeBytes: 1, mtimeMs: 5, digest, keyFingerprint: 'fp==', etag: 'e', uploadedAt: 9 });

    it('writes its records together within 200 ms, and at once for anyone reading them', async () => {
      const file = journalFile();
      const journal = new Journal(file);
      const observer = new Journal(file);
      journal.recordObjectSoon(object('a'));
      journal.recordObjectSoon(object('b'));
      // Another connection (another process) does not see them yet…
      expect(observer.getObject('https://s3.example', 'b', 'a')).toBeUndefined();
      // …this one does: reads write pending records first.
      expect(journal.getObject('https://s3.example', 'b', 'b')?.localPath).toBe('/tmp/b');
      // Time is the test's own here (a loaded machine delays real timers by seconds): just short
      // of 200 ms nothing is written, at 200 ms everything is.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        journal.recordObjectSoon(object('c'));
        vi.advanceTimersByTime(199);
        expect(observer.getObject('https://s3.example', 'b', 'c')).toBeUndefined();
        vi.advanceTimersByTime(1);
        expect(observer.getObject('https://s3.example', 'b', 'c')).toBeDefined();
      } finally {
        vi.useRealTimers();
      }
      expect(observer.getObject('https://s3.example', 'b', 'a')).toBeDefined();
      observer.close();
      journal.close();
    });

    it('writes pending records on close, and a crash loses only those', () => {
      const file = journalFile();
      const journal = new Journal(file);
      journal.recordObjectSoon(object('kept'));
      journal.close();
      const crashed = new Journal(file);
      crashed.recordObject(object('committed'));
      crashed.recordObjectSoon(object('lost'));
      // No close: the process dies here. Only what was pending is gone.
      const reopened = new Journal(file);
      expect(reopened.getObject('https://s3.example', 'b', 'kept')).toBeDefined();
      expect(reopened.getObject('https://s3.example', 'b', 'committed')).toBeDefined();
      expect(reopened.getObject('https://s3.example', 'b', 'lost')).toBeUndefined();
      reopened.close();
      crashed.close();
    });

    it('keeps the order of writes: a multipart upload begun after a pending record survives it', () => {
      const journal = new Journal(journalFile());
      journal.recordObjectSoon(object('k', 'small'));
      journal.beginMultipart(upload);
      expect(journal.getMultipart('https://s3.example', 'b', 'k')?.upload.uploadId).toBe('u1');
      journal.recordObjectSoon(object('k', 'older'));
      journal.recordObject(object('k', 'newer'));
      expect(journal.getObject('https://s3.example', 'b', 'k')?.digest).toBe('newer');
      journal.close();
    });

    it('writes at once when many are waiting', () => {
      const file = journalFile();
      const journal = new Journal(file);
      const observer = new Journal(file);
      for (let index = 0; index < 500; index++) journal.recordObjectSoon(object(`f${index}`));
      expect(observer.getObject('https://s3.example', 'b', 'f499')).toBeDefined();
      observer.close();
      journal.close();
    });
  });

  it('replaces an older upload of the same object and drops its parts', () => {
    const journal = new Journal(journalFile());
    journal.beginMultipart(upload);
    journal.recordPart('u1', { partNumber: 1, etag: 'e1', md5Hex: 'bb' });
    journal.beginMultipart({ ...upload, uploadId: 'u2' });
    expect(journal.getMultipart('https://s3.example', 'b', 'k')).toMatchObject({ upload: { uploadId: 'u2' }, parts: [] });
    journal.close();
  });
});

describe('sync trees', () => {
  const local = { path: 'a/b.txt', diskPath: undefined, sizeBytes: 3, mtimeMs: 10, fileId: '1:2', hash: 'h' };
  const synced = { path: 'a/b.txt', sizeBytes: 3, mtimeMs: 10, fileId: '1:2', hash: 'h', etag: 'e', keyFingerprint: 'fp==' };

  it('round-trips the three trees and errors of a folder, per folder', () => {
    const file = journalFile();
    const journal = new Journal(file);
    journal.writeLocalChanges('f1', [{ path: local.path, file: local }, { path: 'nfd', file: { ...local, path: 'nfd', diskPath: 'nfd-on-disk' } }]);
    journal.writeRemoteChanges('f1', [{ path: 'remote-only', file: { path: 'remote-only', sizeBytes: 1, etag: null } }]);
    journal.recordSyncOutcome('f1', [{ path: local.path, synced, remote: { path: local.path, sizeBytes: 3, etag: 'e' } }]);
    journal.recordSyncError('f1', 'nfd', { code: 'server', message: 'boom', attempts: 2, retryAt: 99 });
    journal.writeLocalChanges('f2', [{ path: 'other', file: { ...local, path: 'other' } }]);
    journal.close();

    const reopened = new Journal(file);
    const state = reopened.loadSyncFolder('f1');
    expect([...state.local.values()]).toEqual([local, { ...local, path: 'nfd', diskPath: 'nfd-on-disk' }]);
    expect(state.remote.get('remote-only')).toEqual({ path: 'remote-only', sizeBytes: 1, etag: null });
    expect(state.remote.get('a/b.txt')).toEqual({ path: 'a/b.txt', sizeBytes: 3, etag: 'e' });
    expect(state.synced.get('a/b.txt')).toEqual(synced);
    expect(state.errors.get('nfd')).toEqual({ code: 'server', message: 'boom', attempts: 2, retryAt: 99 });
    expect(reopened.loadSyncFolder('f2').local.size).toBe(1);
    reopened.close();
  });

  it('a success clears the error; rows nothing mentions any more are dropped', () => {
    const journal = new Journal(journalFile());
    journal.recordSyncError('f', 'x', { code: 'server', message: 'boom', attempts: 1, retryAt: null });
    journal.recordSyncOutcome('f', [{ path: 'x', synced: { ...synced, path: 'x' } }]);
    expect(journal.loadSyncFolder('f').errors.size).toBe(0);
    journal.writeLocalChanges('f', [{ path: 'x', file: { ...local, path: 'x' } }]);
    journal.recordSyncOutcome('f', [{ path: 'x', synced: null, remote: null }]);
    journal.writeLocalChanges('f', [{ path: 'x', file: null }]);
    const state = journal.loadSyncFolder('f');
    expect([state.local.size, state.remote.size, state.synced.size, state.errors.size]).toEqual([0, 0, 0, 0]);
    journal.deleteSyncFolder('f');
    journal.close();
  });

  it('deleteSyncFolder forgets one folder only', () => {
    const journal = new Journal(journalFile());
    journal.writeLocalChanges('a', [{ path: 'p', file: { ...local, path: 'p' } }]);
    journal.writeLocalChanges('b', [{ path: 'p', file: { ...local, path: 'p' } }]);
    journal.deleteSyncFolder('a');
    expect(journal.loadSyncFolder('a').local.size).toBe(0);
    expect(journal.loadSyncFolder('b').local.size).toBe(1);
    journal.close();
  });
});
