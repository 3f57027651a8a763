/**
 * The executors against an in-memory bucket: uploads (single and multipart, shown verifying),
 * renames as server-side copies, each delete policy, conflicts with someone else's object, and
 * cancellation in the middle of a part.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useWorkDir } from '../../test/support/files.js';
import { openMemoryFolder, syncOnce } from '../../test/support/memory-folder.js';
import { METADATA } from '../transfer/content-digest.js';

const work = useWorkDir('executors');

describe('upload executor', () => {
  it('uploads a small file in one PUT marked as this folder’s, and shows it queued → uploading → synced', async () => {
    const folder = await openMemoryFolder(work(), 'single');
    await writeFile(join(folder.root, 'a.txt'), 'hello');
    const result = await syncOnce(folder);
    expect(result).toMatchObject({ actionsRun: 1, failed: [] });
    const object = folder.store.objects.get('p/a.txt');
    expect(object?.body.toString()).toBe('hello');
    expect(object?.metadata[METADATA.writer]).toBe('f');
    expect(folder.states).toEqual(['a.txt:queued', 'a.txt:uploading', 'a.txt:uploading', 'a.txt:synced']);
    expect(folder.status.invalidTransitions).toBe(0);
    folder.close();
  });

  it('shows a multipart upload as verifying while Complete and the HEAD check run', async () => {
    const folder = await openMemoryFolder(work(), 'multipart');
    await writeFile(join(folder.root, 'big.bin'), Buffer.alloc(5000, 1));
    let stateAtComplete: string | undefined;
    folder.store.onCall = (call) => {
      if (call.operation === 'complete') stateAtComplete = folder.status.get('f', 'big.bin')?.status.state;
    };
    await syncOnce(folder);
    expect(stateAtComplete).toBe('verifying');
    expect(folder.states.slice(-2)).toEqual(['big.bin:verifying', 'big.bin:synced']);
    expect(folder.store.objects.get('p/big.bin')?.etag).toMatch(/-5$/);
    // The upload is committed once: one synced row, and the bytes counted once.
    expect(folder.journal.loadSyncFolder('f').synced.get('big.bin')).toMatchObject({ sizeBytes: 5000 });
    expect(folder.status.bytesSent('f')).toBe(5000);
    folder.close();
  });

  it('cancelled in the middle of a part: no error recorded, and the next run sends only the parts not yet on the server', async () => {
    const folder = await openMemoryFolder(work(), 'cancel');
    await writeFile(join(folder.root, 'big.bin'), Buffer.alloc(5000, 2));
    const abort = new AbortController();
    const sent: number[] = [];
    folder.store.onCall = async (call) => {
      if (call.operation !== 'upload-part') return;
      sent.push(call.partNumber ?? 0);
      if (call.partNumber !== 3) return;
      // Part 3 is on the wire when the user cancels: the request must see the signal.
      abort.abort(new Error('cancelled by the user'));
      await new Promise((resolve) => call.signal?.addEventListener('abort', resolve, { once: true }) ?? resolve(undefined));
    };
    await expect(syncOnce(folder, { signal: abort.signal })).rejects.toThrow(/cancelled by the user/);
    expect(folder.sync.errors.size).toBe(0);
    expect(folder.status.get('f', 'big.bin')?.status.state).toBe('queued');
    expect(folder.store.objects.has('p/big.bin')).toBe(false);
    const done = [...(folder.journal.getMultipart('memory://bucket', 'b', 'p/big.bin')?.parts ?? [])].map((part) => part.partNumber).sort();
    expect(done.length).toBeGreaterThan(0);
    expect(done).not.toContain(3);

    sent.length = 0;
    folder.store.onCall = (call) => {
      if (call.operation === 'upload-part') sent.push(call.partNumber ?? 0);
    };
    await syncOnce({ sync: folder.reopen() });
    expect(sent.sort()).toEqual([1, 2, 3, 4, 5].filter((part) => !done.includes(part)));
    expect(folder.store.objects.get('p/big.bin')?.body.equals(Buffer.alloc(5000, 2))).toBe(true);
    folder.close();
  });
});

describe('copy executor (renames)', () => {
  it('a renamed file is copied on the server, not uploaded again, and the old object goes (policy mirror)', async () => {
    const folder = await openMemoryFolder(work(), 'rename');
    await writeFile(join(folder.root, 'old.txt'), 'content');
    await syncOnce(folder);
    await rename(join(folder.root, 'old.txt'), join(folder.root, 'new.txt'));
    folder.store.calls.length = 0;
    await syncOnce(folder);
    expect(folder.store.calls.filter((call) => /^(put|copy|delete) /.test(call))).toEqual(['copy p/new.txt', 'delete p/old.txt']);
    expect([...folder.store.objects.keys()]).toEqual(['p/new.txt']);
    expect(folder.log.events).toContain('moved');
    folder.close();
  });

  it('a rename whose server-side copy fails is uploaded instead, and the old object still goes', async () => {
    const folder = await openMemoryFolder(work(), 'rename-fallback');
    await writeFile(join(folder.root, 'old.txt'), 'content');
    await syncOnce(folder);
    await rename(join(folder.root, 'old.txt'), join(folder.root, 'new.txt'));
    folder.store.onCall = (call) => {
      if (call.operation === 'head' && call.key === 'p/old.txt') throw new Error('the source vanished');
    };
    await syncOnce(folder);
    expect(folder.log.events).toEqual(expect.arrayContaining(['move-copy-failed', 'uploaded', 'moved']));
    expect([...folder.store.objects.keys()]).toEqual(['p/new.txt']);
    expect(folder.store.objects.get('p/new.txt')?.body.toString()).toBe('content');
    folder.close();
  });
});

describe('delete executor, by policy', () => {
  const deleted = async (policy: 'mirror' | 'trash' | 'keep'): Promise<string[]> => {
    const folder = await openMemoryFolder(work(), `delete-${policy}`, { config: { policy } });
    await writeFile(join(folder.root, 'gone.txt'), 'bye');
    await syncOnce(folder);
    await rm(join(folder.root, 'gone.txt'));
    await syncOnce(folder);
    expect(folder.sync.trees.synced.has('gone.txt')).toBe(false);
    expect(folder.status.get('f', 'gone.txt')).toBeUndefined();
    const keys = [...folder.store.objects.keys()];
    folder.close();
    return keys;
  };

  it('mirror deletes the object', async () => {
    expect(await deleted('mirror')).toEqual([]);
  });

  it('trash moves it into the dated trash', async () => {
    expect(await deleted('trash')).toEqual([expect.stringMatching(/^p\/\.cosync-trash\/[0-9T-]+Z\/gone\.txt$/)]);
  });

  it('keep leaves it and only forgets it', async () => {
    expect(await deleted('keep')).toEqual(['p/gone.txt']);
  });
});

describe('conflicts', () => {
  it('someone else’s object at a new file’s path is kept as a conflict copy before the file is uploaded', async () => {
    const folder = await openMemoryFolder(work(), 'conflict');
    folder.store.seed('p/report.txt', 'theirs');
    await writeFile(join(folder.root, 'report.txt'), 'mine');
    await syncOnce(folder);
    const keys = [...folder.store.objects.keys()].sort();
    expect(keys).toEqual([expect.stringMatching(/^p\/report\.cosync-conflict-[0-9T-]+Z\.txt$/), 'p/report.txt']);
    expect(folder.store.objects.get(keys[0] as string)?.body.toString()).toBe('theirs');
    expect(folder.store.objects.get('p/report.txt')?.body.toString()).toBe('mine');
    folder.close();
  });

  it('an object with the file’s own content is adopted, nothing uploaded', async () => {
    const folder = await openMemoryFolder(work(), 'adopt');
    await writeFile(join(folder.root, 'same.txt'), 'same');
    await syncOnce(folder);
    const reopened = await openMemoryFolder(work(), 'adopt-again', { store: folder.store });
    await writeFile(join(reopened.root, 'same.txt'), 'same');
    reopened.store.calls.length = 0;
    await syncOnce(reopened);
    expect(reopened.log.events).toContain('adopted');
    expect(reopened.states).toEqual(['same.txt:queued', 'same.txt:verifying', 'same.txt:synced']);
    expect(reopened.store.calls.filter((call) => call.startsWith('put '))).toEqual([]);
    folder.close();
    reopened.close();
  });

  it('a conflict copy that cannot be made leaves their object alone and shows the file in conflict', async () => {
    const folder = await openMemoryFolder(work(), 'conflict-refused');
    folder.store.seed('p/report.txt', 'theirs');
    await writeFile(join(folder.root, 'report.txt'), 'mine');
    folder.store.onCall = (call) => {
      if (call.operation === 'copy') throw new Error('copy refused');
    };
    const result = await syncOnce(folder, { maxAttempts: 1 });
    expect(result.failed).toEqual([{ path: 'report.txt', error: { code: 'local-conflict', message: expect.stringMatching(/could not be kept as a conflict copy \(copy refused\)/) } }]);
    expect(folder.status.get('f', 'report.txt')?.status.state).toBe('conflict');
    expect(folder.store.objects.get('p/report.txt')?.body.toString()).toBe('theirs');
    folder.close();
  });
});
