import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import { ConfigStore } from './config-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function storeWith(content: unknown): ConfigStore {
  const dir = mkdtempSync(join(tmpdir(), 'cosync-config-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(content));
  return new ConfigStore(dir);
}

const folder = {
  id: 'docs-1a2b',
  localPath: '/home/me/Documents',
  endpoint: 'https://cos.ap-guangzhou.myqcloud.com',
  bucket: 'examplebucket-1250000000',
  prefix: 'laptop/docs/',
  sse: 'c',
  keyName: 'photos',
  policy: 'trash',
  createdAt: '2026-11-26T00:00:00.000Z',
};

describe('config folders', () => {
  it('loads a valid folder with defaults for optional fields', async () => {
    const config = await storeWith({ version: 1, keys: {}, folders: [folder] }).load();
    expect(config.folders).toEqual([
      { ...folder, region: undefined, pathStyle: false, kmsKeyId: undefined, account: undefined, paused: false },
    ]);
  });

  it('keeps a folder’s storage class and COS traffic limit, and refuses values no store knows', async () => {
    const loaded = await storeWith({ version: 1, keys: {}, folders: [{ ...folder, storageClass: 'ARCHIVE', trafficLimitBits: 8388608 }] }).load();
    expect(loaded.folders[0]).toMatchObject({ storageClass: 'ARCHIVE', trafficLimitBits: 8388608 });
    await expect(storeWith({ version: 1, keys: {}, folders: [{ ...folder, storageClass: 'COLD' }] }).load()).rejects.toThrow(/storageClass: unknown storage class "COLD"/);
    await expect(storeWith({ version: 1, keys: {}, folders: [{ ...folder, trafficLimitBits: 1000 }] }).load()).rejects.toThrow(/trafficLimitBits: must be a whole number of bit\/s from 819200 to 838860800/);
  });

  it('keeps transfer settings, and has none in an older config', async () => {
    expect((await storeWith({ version: 1, keys: {}, transfers: { fileConcurrency: 4, partConcurrency: 16, bandwidthBytesPerSecond: 1048576 } }).load()).transfers).toEqual({
      fileConcurrency: 4,
      partConcurrency: 16,
      bandwidthBytesPerSecond: 1048576,
    });
    expect((await storeWith({ version: 1, keys: {} }).load()).transfers).toBeUndefined();
  });

  it('a config without folders (older cosync) has none', async () => {
    expect((await storeWith({ version: 1, keys: {} }).load()).folders).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['not a list', { folders: {} }, /"folders" must be a list/],
    ['bad id', { folders: [{ ...folder, id: 'Has Spaces' }] }, /folders\[0\]\.id "Has Spaces" must be 1–40 lowercase/],
    ['relative path', { folders: [{ ...folder, localPath: 'docs' }] }, /folders\[0\]\.localPath must be an absolute path/],
    ['bad endpoint', { folders: [{ ...folder, endpoint: 'ftp://x' }] }, /folders\[0\]\.endpoint: invalid endpoint "ftp:\/\/x"/],
    ['bad sse', { folders: [{ ...folder, sse: 'rot13' }] }, /folders\[0\]\.sse: unknown --sse value "rot13"/],
    ['sse c without key', { folders: [{ ...folder, keyName: undefined }] }, /folders\[0\]\.keyName is required when sse is "c"/],
    ['bad policy', { folders: [{ ...folder, policy: 'sometimes' }] }, /folders\[0\]\.policy must be keep, mirror or trash \(got "sometimes"\)/],
    ['missing bucket', { folders: [{ ...folder, bucket: '' }] }, /folders\[0\]\.bucket must be a non-empty string/],
    ['duplicate ids', { folders: [folder, { ...folder, localPath: '/elsewhere' }] }, /two folders have the id "docs-1a2b"/],
    ['transfers not an object', { transfers: 'fast' }, /"transfers" must be an object/],
    ['zero files at once', { transfers: { fileConcurrency: 0 } }, /transfers\.fileConcurrency must be a whole number from 1 to 64/],
    ['fractional requests', { transfers: { partConcurrency: 2.5 } }, /transfers\.partConcurrency must be a whole number from 1 to 64/],
    ['a tiny upload limit', { transfers: { bandwidthBytesPerSecond: 10 } }, /transfers\.bandwidthBytesPerSecond must be a whole number from 1024/],
  ])('refuses %s with a message naming the field and the fix', async (_name, change, message) => {
    const error = await storeWith({ version: 1, keys: {}, ...(change as object) }).load().catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/fix or remove the file$/);
  });
});

describe('config changes', () => {
  it('each change starts from the file as it is now, so a copy held in memory is never written back', async () => {
    const [added] = (await storeWith({ version: 1, keys: {}, folders: [folder] }).load()).folders;
    const first = storeWith({ version: 1, keys: {}, folders: [] });
    const second = new ConfigStore(first.directory);
    const stale = await second.load();
    await first.update((config) => ({ ...config, folders: [...config.folders, added as SyncFolderConfig] }));
    // `second` still holds `stale` (no folders); its change must see the folder `first` added.
    await second.update((config) => ({ ...config, transfers: { fileConcurrency: 2 } }));
    const now = await first.load();
    expect(stale.folders).toEqual([]);
    expect(now.folders.map((item) => item.id)).toEqual([folder.id]);
    expect(now.transfers?.fileConcurrency).toBe(2);
  });

  it('changes started together from two stores are all kept, and a refused change writes nothing', async () => {
    const store = storeWith({ version: 1, keys: {}, folders: [] });
    const other = new ConfigStore(store.directory);
    const info = { fingerprint: 'f', createdAt: '2026-11-26T00:00:00.000Z', origin: 'generated' } as const;
    await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? store : other).update((config) => ({ ...config, keys: { ...config.keys, [`key-${index}`]: info } }))));
    expect(Object.keys((await store.load()).keys).sort()).toEqual(Array.from({ length: 10 }, (_, index) => `key-${index}`).sort());
    await expect(
      store.update(() => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(Object.keys((await store.load()).keys)).toHaveLength(10);
  });
});
