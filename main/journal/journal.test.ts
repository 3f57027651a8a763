import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

  it('replaces an older upload of the same object and drops its parts', () => {
    const journal = new Journal(journalFile());
    journal.beginMultipart(upload);
    journal.recordPart('u1', { partNumber: 1, etag: 'e1', md5Hex: 'bb' });
    journal.beginMultipart({ ...upload, uploadId: 'u2' });
    expect(journal.getMultipart('https://s3.example', 'b', 'k')).toMatchObject({ upload: { uploadId: 'u2' }, parts: [] });
    journal.close();
  });
});
