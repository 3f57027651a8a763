/**
 * openEngine's wiring: one transfer pool that sync, backups, restores and rotations draw from,
 * every store from one factory with one set of options, and close() closing all of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SIZING } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import { targetFromFields } from '../../app/target.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { StoreCredentials } from '../secrets/secret-values.js';
import { openEngine, type Engine } from './engine.js';
import { Session } from './session.js';

const sink = { write: () => true };
const target = targetFromFields({ endpoint: 'http://127.0.0.1:9', bucket: 'photos', prefix: 'laptop/' }, 'none');
const credentials = new StoreCredentials('AKIDtest', 'secret');

let configDir: string;
let session: Session;
const opened: Engine[] = [];

async function open(options: Parameters<typeof openEngine>[1] = {}): Promise<Engine> {
  const engine = await openEngine(session, options);
  opened.push(engine);
  return engine;
}

beforeEach(async () => {
  configDir = await mkdtemp(join(tmpdir(), 'cosync-engine-'));
  session = new Session({ io: { stdout: sink, stderr: sink, stdin: process.stdin, env: { COSYNC_CONFIG_DIR: configDir } } });
});

afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close(0);
  session.close();
  vi.restoreAllMocks();
  await rm(configDir, { recursive: true, force: true });
});

describe('openEngine', () => {
  it('gives sync, uploads and downloads one pool, sized by the options', async () => {
    const engine = await open({ transfers: { parts: 5, bandwidthBytesPerSecond: 1024 * 1024 } });
    const store = await engine.stores.open(target, credentials);
    const upload = engine.pool.uploadContext(store, target, { journal: engine.journal, sizing: engine.sizing, logger: session.logger });
    const download = engine.pool.downloadContext(store, target, { journal: engine.journal, overwrite: false });
    expect(upload.partQueue).toBe(engine.pool.parts);
    expect(upload.buffers).toBe(engine.pool.buffers);
    expect(download.partQueue).toBe(engine.pool.parts);
    expect(upload.bandwidth).toBe(engine.pool.bandwidth);
    expect(download.bandwidth).toBe(engine.pool.bandwidth);
    expect(engine.pool.bandwidth.rate).toBe(1024 * 1024);
    expect(engine.sizing).toEqual(DEFAULT_SIZING);

    const sync = engine.openSync([]);
    expect(sync.concurrency).toEqual({ files: 5, parts: 5 });
    // A change made through the sync engine (the window's setting) is the pool's, so backups and restores follow it.
    sync.setConcurrency({ files: 3, parts: 7 });
    expect(engine.pool.concurrency).toEqual({ files: 3, parts: 7 });
    sync.pauseAll();
    expect(engine.pool.files.isPaused).toBe(true);
    expect(() => engine.openSync([])).toThrow(/already/);
  });

  it('makes every store in its factory and closes the ones left open', async () => {
    const closed = vi.spyOn(S3RemoteStore.prototype, 'close');
    const engine = await open();
    const first = await engine.stores.open(target, credentials);
    const second = await engine.stores.open(target, credentials);
    expect(first).toBeInstanceOf(S3RemoteStore);
    expect(engine.stores.openCount).toBe(2);
    first.close();
    expect(engine.stores.openCount).toBe(1);
    await engine.close(0);
    expect(engine.stores.openCount).toBe(0);
    expect(closed.mock.contexts).toEqual([first, second]);
  });

  it('closes the journal and the tracker, and releases its claim on the config', async () => {
    const engine = await open({ claim: 'sync-once' });
    await expect(openEngine(session, { claim: 'serve' })).rejects.toThrow(CosyncError);
    const told: unknown[] = [];
    engine.tracker.subscribe((batch) => told.push(batch));
    await engine.close(0);
    expect(() => engine.journal.loadSyncFolder('any')).toThrow();
    engine.tracker.set('folder', 'a.txt', { state: 'queued' });
    engine.tracker.flush();
    expect(told).toEqual([]);
    // Closing twice is harmless; the config can be claimed again.
    await engine.close(0);
    await open({ claim: 'serve' });
  });
});
