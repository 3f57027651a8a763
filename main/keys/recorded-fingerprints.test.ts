/** Which key wrote an object, from the journal: sync folders' synced state first, then upload records. */
import { describe, expect, it } from 'vitest';
import { Journal } from '../journal/journal.js';
import { recordedKeyFingerprints } from './recorded-fingerprints.js';

const ENDPOINT = 'https://s3.example.com';

describe('recordedKeyFingerprints', () => {
  it('finds the fingerprint of an uploaded object and of a synced file; nothing for unknown objects or other buckets', () => {
    const journal = new Journal(':memory:');
    journal.recordObject({
      endpoint: ENDPOINT, bucket: 'photos', key: 'backup/a.jpg', localPath: '/a.jpg', sizeBytes: 1, mtimeMs: 1, digest: 'd', keyFingerprint: 'UPLOADED==', etag: 'e', uploadedAt: 1,
    });
    journal.recordSyncOutcome('docs-1', [
      { path: 'moved/b.txt', synced: { path: 'moved/b.txt', sizeBytes: 1, mtimeMs: 1, fileId: null, hash: null, etag: 'e', keyFingerprint: 'SYNCED==' } },
      { path: 'plain.txt', synced: { path: 'plain.txt', sizeBytes: 1, mtimeMs: 1, fileId: null, hash: null, etag: 'e', keyFingerprint: null } },
    ]);
    const folders = [{ id: 'docs-1', endpoint: ENDPOINT, bucket: 'photos', prefix: 'laptop/docs/' }];
    const lookup = recordedKeyFingerprints(journal, folders, ENDPOINT, 'photos');
    expect(lookup('backup/a.jpg')).toBe('UPLOADED==');
    expect(lookup('laptop/docs/moved/b.txt')).toBe('SYNCED==');
    expect(lookup('laptop/docs/plain.txt')).toBeUndefined();
    expect(lookup('laptop/docs/unknown.txt')).toBeUndefined();
    expect(recordedKeyFingerprints(journal, folders, ENDPOINT, 'other')('laptop/docs/moved/b.txt')).toBeUndefined();

    journal.close();
    // A closed journal: the lookup only serves messages, so it answers "unknown" rather than failing.
    expect(recordedKeyFingerprints(journal, folders, ENDPOINT, 'photos')('backup/a.jpg')).toBeUndefined();
  });
});
