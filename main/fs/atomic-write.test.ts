/**
 * The order that makes a write survive a power cut — data fsynced before the rename, the folder
 * fsynced after it — recorded on the real file system through a pass-through of node:fs/promises
 * (a crash test cannot see a missing fsync: only a power cut would), and the callers' semantics:
 * exact mode, no overwrite when asked.
 */
import type * as FsPromises from 'node:fs/promises';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const steps: string[] = [];

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const name = (path: unknown): string => String(path).split('/').pop() ?? '';
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const label = name(args[0]).replace(/\.\d+-[0-9a-f]{12}\.cosync-partial$/, '.TEMP');
      const { sync, writeFile: write } = handle;
      handle.sync = async () => {
        steps.push(`fsync ${label}`);
        return sync.call(handle);
      };
      handle.writeFile = async (...writeArgs: Parameters<typeof handle.writeFile>) => {
        steps.push(`write ${label}`);
        return write.apply(handle, writeArgs);
      };
      return handle;
    },
    rename: async (...args: Parameters<typeof actual.rename>) => {
      steps.push('rename');
      return actual.rename(...args);
    },
    link: async (...args: Parameters<typeof actual.link>) => {
      steps.push('link');
      return actual.link(...args);
    },
  };
});

const { commitTemporaryFile, writeFileAtomic } = await import('./atomic-write.js');

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cosync-atomic-'));
  steps.length = 0;
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes and fsyncs the temporary, renames it over the file, then fsyncs the folder', async () => {
    const file = join(folder, 'config.json');
    await writeFileAtomic(file, '{}\n', { mode: 0o600 });
    const folderName = folder.split('/').pop() as string;
    expect(steps).toEqual(['write config.json.TEMP', 'fsync config.json.TEMP', 'rename', `fsync ${folderName}`]);
    expect(await readFile(file, 'utf8')).toBe('{}\n');
    expect(await readdir(folder)).toEqual(['config.json']);
  });

  it('gives the exact mode, whatever the umask', async () => {
    const file = join(folder, 'kit.json');
    const umask = process.umask(0o077);
    try {
      await writeFileAtomic(file, 'a', { mode: 0o640 });
    } finally {
      process.umask(umask);
    }
    expect((await stat(file)).mode & 0o777).toBe(0o640);
  });

  it('with overwrite false refuses an existing file (EEXIST) and leaves it and the folder as they were', async () => {
    const file = join(folder, 'kit.json');
    await writeFile(file, 'the old kit');
    await expect(writeFileAtomic(file, 'a new kit', { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(file, 'utf8')).toBe('the old kit');
    expect(await readdir(folder)).toEqual(['kit.json']);

    const fresh = join(folder, 'new-kit.json');
    steps.length = 0;
    await writeFileAtomic(fresh, 'a new kit', { overwrite: false });
    expect(steps).toEqual(['write new-kit.json.TEMP', 'fsync new-kit.json.TEMP', 'link', `fsync ${folder.split('/').pop() as string}`]);
    expect(await readFile(fresh, 'utf8')).toBe('a new kit');
    expect((await readdir(folder)).sort()).toEqual(['kit.json', 'new-kit.json']);
  });

  it('a failed write leaves no temporary behind', async () => {
    await expect(writeFileAtomic(join(folder, 'missing', 'config.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(join(folder, 'a-file'), '');
    await expect(writeFileAtomic(join(folder, 'a-file', 'config.json'), 'x')).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(await readdir(folder)).toEqual(['a-file']);
  });
});

describe('commitTemporaryFile', () => {
  it('fsyncs the finished temporary, renames it, then fsyncs the folder', async () => {
    const temporary = join(folder, '.photo.jpg.0123456789ab.cosync-partial');
    await writeFile(temporary, 'restored bytes');
    await commitTemporaryFile(temporary, join(folder, 'photo.jpg'));
    expect(steps).toEqual(['fsync .photo.jpg.0123456789ab.cosync-partial', 'rename', `fsync ${folder.split('/').pop() as string}`]);
    expect(await readdir(folder)).toEqual(['photo.jpg']);
  });
});
