/**
 * The folder-sync commands end to end: the built `cosync` binary against RGW and gnome-keyring —
 * folder add (with its checks), sync --once, status, logs, pause, remove, and `serve` picking up
 * a new file through the watcher.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, listKeys, readObject, requireServices, runCosync, servedUrl, spawnCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';
import { until } from '../../test/support/wait.js';

const work = useWorkDir('sync-cli');
let services: Services;
let bucket: string;
let configDir: string;
const keyName = uniqueName('synccli');
const env: Record<string, string> = {};
const outputs: string[] = [];

async function cosync(args: string[]): Promise<RunResult> {
  const result = await runCosync(args, { configDir, services, env });
  outputs.push(result.stdout, result.stderr);
  return result;
}

function expectFailure(result: RunResult, message: RegExp): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).not.toBe(0);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
}

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-sync-cli');
  configDir = join(work(), 'config');
  env.COSYNC_SECRET_ID = services.accessKey;
  env.COSYNC_SECRET_KEY = services.secretKey;
  expect((await cosync(['key', 'generate', keyName])).code).toBe(0);
});

afterAll(async () => {
  await cosync(['key', 'delete', keyName, '--yes']);
});

describe('cosync folder / sync / status / logs', () => {
  it('refuses bad folders with specific messages and adds a good one', async () => {
    const root = join(work(), 'docs');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'a.txt'), 'alpha\n');
    await writeFile(join(root, 'sub', 'b.txt'), 'beta\n');
    const target = ['--endpoint', services.httpsEndpoint, '--bucket', bucket, '--sse', 'c', '--key', keyName];

    expectFailure(await cosync(['folder', 'add', join(work(), 'nope'), ...target]), /no such folder/);
    expectFailure(await cosync(['folder', 'add', join(root, 'a.txt'), ...target]), /is a file; folder add takes a folder/);
    expectFailure(await cosync(['folder', 'add', root, ...target, '--policy', 'sometimes']), /--policy must be keep .* mirror .* or trash/);
    expectFailure(await cosync(['folder', 'add', root, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--sse', 'c', '--key', 'no-such-key-xyz']), /no-such-key-xyz/);
    expectFailure(await cosync(['folder', 'add', root, ...target.slice(0, 3), 'missing-bucket-xyz', ...target.slice(4)]), /missing-bucket-xyz/);

    // The safety gate: no SSE-C folder before the key's recovery kit exists (or is acknowledged).
    expectFailure(await cosync(['folder', 'add', root, ...target, '--prefix', 'docs']), new RegExp(`key ${keyName} has no recovery kit yet: .*cosync key export ${keyName} --out FILE`));
    expect((await cosync(['key', 'export', keyName, '--out', join(work(), 'kit.json')])).code).toBe(0);
    const added = await cosync(['folder', 'add', root, ...target, '--prefix', 'docs', '--policy', 'mirror']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^added docs-[0-9a-f]{4} {2}.*docs\/ {2}\(SSE-C key .*, deletes: mirror\)/);

    expectFailure(await cosync(['folder', 'add', join(root, 'sub'), ...target, '--prefix', 'other']), /overlaps folder docs-/);
    await mkdir(join(work(), 'elsewhere'));
    expectFailure(await cosync(['folder', 'add', join(work(), 'elsewhere'), ...target, '--prefix', 'docs/inner']), /overlaps the prefix "docs\/"/);

    const list = await cosync(['folder', 'list', '--json']);
    const folders = JSON.parse(list.stdout) as Array<{ id: string; localPath: string; policy: string }>;
    expect(folders).toHaveLength(1);
    expect(folders[0]).toMatchObject({ policy: 'mirror', localPath: root });
    // The config names the key; it never holds it.
    const config = await readFile(join(configDir, 'config.json'), 'utf8');
    expect(config).toContain(`"keyName": "${keyName}"`);
  });

  it('sync --once uploads, status agrees, a second run is idle, logs hold no secret', async () => {
    const first = await cosync(['sync', '--once']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/docs-[0-9a-f]{4}: 2 files, 2 changes applied, 0 failed/);
    expect(await listKeys(services, bucket, 'docs/')).toEqual(['docs/a.txt', 'docs/sub/b.txt']);

    const status = await cosync(['status', '--json']);
    const [report] = JSON.parse(status.stdout) as Array<{ counts: Record<string, number>; files: Array<{ path: string; state: string }> }>;
    expect(report?.counts).toEqual({ synced: 2, pending: 0, error: 0 });
    expect(report?.files.map((file) => `${file.path}:${file.state}`)).toEqual(['a.txt:synced', 'sub/b.txt:synced']);

    const again = await cosync(['sync', '--once', '--json']);
    const event = JSON.parse(again.stdout.trim()) as { type: string; actions: number };
    expect(event).toMatchObject({ type: 'folder-synced', actions: 0 });

    const root = join(work(), 'docs');
    await writeFile(join(root, 'a.txt'), 'alpha, changed\n');
    const human = await cosync(['status']);
    expect(human.stdout).toMatch(/2 synced, 0 pending/); // as of the last scan: status does not scan
    await cosync(['sync', '--once']);
    const logs = await cosync(['logs', '--lines', '200']);
    expect(logs.stdout).toMatch(/info {2}uploaded folder=docs-[0-9a-f]{4} key=docs\/a\.txt/);
    const kit = join(work(), 'kit.json');
    const { key } = JSON.parse(await readFile(kit, 'utf8')) as { key: string };
    const logText = await readFile(join(configDir, 'logs', 'cosync.log'), 'utf8');
    for (const text of [logText, ...outputs]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(services.secretKey);
    }
  });

  it('pause skips a folder; remove forgets it and deletes nothing', async () => {
    const [folder] = JSON.parse((await cosync(['folder', 'list', '--json'])).stdout) as Array<{ id: string }>;
    expect((await cosync(['folder', 'pause', folder!.id])).code).toBe(0);
    await writeFile(join(work(), 'docs', 'while-paused.txt'), 'x');
    await cosync(['sync', '--once']);
    expect(await listKeys(services, bucket, 'docs/')).not.toContain('docs/while-paused.txt');
    expect((await cosync(['folder', 'resume', folder!.id])).code).toBe(0);
    await cosync(['sync', '--once']);
    expect(await listKeys(services, bucket, 'docs/')).toContain('docs/while-paused.txt');

    const removed = await cosync(['folder', 'remove', folder!.id]);
    expect(removed.stdout).toMatch(/nothing was deleted locally or in the bucket/);
    expect((await cosync(['folder', 'list'])).stdout).toMatch(/no sync folders/);
    expectFailure(await cosync(['folder', 'remove', folder!.id]), /no folder with id/);
    expect(await listKeys(services, bucket, 'docs/')).toHaveLength(3);
  });
});

describe('cosync serve', () => {
  it('serves the API behind a token and syncs a new file through the watcher', async () => {
    const root = join(work(), 'served');
    await mkdir(root);
    await writeFile(join(root, 'first.txt'), 'first\n');
    const added = await cosync(['folder', 'add', root, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'served', '--key', keyName]);
    expect(added.code, added.stderr).toBe(0);

    const child = spawnCosync(['serve', '--port', '0'], { configDir, services, env });
    try {
      const base = await servedUrl(child);
      const token = base.searchParams.get('token') as string;
      expect(token.length).toBeGreaterThan(20);
      const call = (channel: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(new URL(`/api/call/${channel}`, base), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      // No token, a wrong one, the token only in the query (not accepted for calls), another origin, GET: all refused.
      expect((await fetch(new URL('/api/call/sync:overview', base), { method: 'POST' })).status).toBe(401);
      expect((await call('sync:overview', null, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await fetch(new URL(`/api/call/sync:overview?token=${token}`, base), { method: 'POST', headers: { 'content-type': 'application/json' } })).status).toBe(401);
      expect((await call('sync:overview', null, { origin: 'http://evil.example' })).status).toBe(403);
      expect((await fetch(new URL(`/api/call/sync:overview?token=${token}`, base))).status).toBe(405);
      expect((await call('sync:nope', null)).status).toBe(404);
      expect(await (await call('sync:files', { folderId: 1 })).json()).toEqual({ ok: false, error: { code: 'usage', message: 'sync:files: invalid request (folderId must be a string)' } });
      expect((await fetch(new URL('/api/events', base))).status).toBe(401);

      const waitForKey = (wanted: string): Promise<void> => until(async () => (await listKeys(services, bucket, 'served/')).includes(wanted));
      await waitForKey('served/first.txt');
      // A file written after start is picked up by the watcher.
      const body = randomBytes(5000);
      await writeFile(join(root, 'later.bin'), body);
      await waitForKey('served/later.bin');
      const { key } = JSON.parse(await readFile(join(work(), 'kit.json'), 'utf8')) as { key: string };
      expect((await readObject(services, bucket, 'served/later.bin', Buffer.from(key, 'base64'))).equals(body)).toBe(true);

      const overview = (await (await call('sync:overview', null)).json()) as { ok: true; value: { folders: Array<{ id: string; counts: Record<string, number>; sse: string; keyName: string }> } };
      expect(overview.value.folders).toHaveLength(1);
      const [folder] = overview.value.folders;
      expect(folder).toMatchObject({ sse: 'c', keyName });
      expect(folder?.counts.synced).toBe(2);
      const files = (await (await call('sync:files', { folderId: folder?.id })).json()) as { ok: true; value: Array<{ path: string; status: { state: string } }> };
      expect(files.value.map((file) => `${file.path}:${file.status.state}`)).toEqual(['first.txt:synced', 'later.bin:synced']);
      // One engine per config: a second one refuses; CLI commands reach the running one instead.
      expectFailure(await cosync(['sync', '--once']), /`cosync serve` is already syncing these folders \(pid \d+, http:\/\/127\.0\.0\.1:\d+\/\); stop it first/);
      expectFailure(await cosync(['key', 'rotate', keyName, '--folder', folder?.id as string, '--kit-out', join(work(), 'rotated.kit.json')]), /`cosync serve` is already syncing these folders/);
      await expect(readFile(join(work(), 'rotated.kit.json'))).rejects.toThrow(/ENOENT/);
      expect((await cosync(['pause'])).stdout).toMatch(/all folders paused \(in the running engine, pid \d+\)/);
      expect(((await (await call('sync:overview', null)).json()) as { value: { paused: boolean } }).value.paused).toBe(true);
      expect((await cosync(['resume'])).code).toBe(0);
      expect(((await (await call('sync:overview', null)).json()) as { value: { paused: boolean } }).value.paused).toBe(false);
      expect((await cosync(['folder', 'pause', folder?.id as string])).stdout).toMatch(/paused \(in the running engine/);
      const pausedFolder = (await (await call('sync:overview', null)).json()) as { value: { folders: Array<{ activity: string }> } };
      expect(pausedFolder.value.folders[0]?.activity).toBe('paused');
      expect((await cosync(['folder', 'resume', folder?.id as string])).code).toBe(0);

      // Nothing the API answers holds the key.
      const keysAnswer = await (await call('sync:keys', null)).text();
      expect(keysAnswer).toContain(keyName);
      expect(keysAnswer).not.toContain(key);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('close', resolve));
    }
    // Stopped: its record is gone, and there is nothing to pause any more.
    expectFailure(await cosync(['pause']), /no cosync engine is running to pause/);
  });
});

describe('cosync sync --once, interrupted', () => {
  it('Ctrl-C stops feeding new files, exits 130 (interrupted), and the next run finishes the job', async () => {
    const root = join(work(), 'many');
    await mkdir(root);
    for (let index = 0; index < 2000; index++) await writeFile(join(root, `f${index}.txt`), `file ${index}\n`);
    const added = await cosync(['folder', 'add', root, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'many', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const id = (JSON.parse(added.stdout) as { id: string }).id;

    const child = spawnCosync(['sync', '--once', '--folder', id, '--concurrency', '1'], { configDir, services, env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Interrupted once it is surely under way (its first file is in the bucket), however slow the start.
    await until(async () => (await listKeys(services, bucket, 'many/')).length > 0);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(new RegExp(`${id}: interrupted`));
    const partial = (await listKeys(services, bucket, 'many/')).length;
    expect(partial).toBeLessThan(2000);

    const rest = await cosync(['sync', '--once', '--folder', id]);
    expect(rest.code, rest.stderr).toBe(0);
    // The one file in flight at the interrupt (concurrency 1) may be in the bucket but not yet in
    // the journal: the next run then adopts it (a HEAD proves it is the same), one change more.
    const applied = Number(new RegExp(`${id}: 2000 files, (\\d+) changes applied, 0 failed`).exec(rest.stdout)?.[1]);
    expect([2000 - partial, 2000 - partial + 1], rest.stdout).toContain(applied);
    expect(await listKeys(services, bucket, 'many/')).toHaveLength(2000);
  }, 360_000); // 2,000 files at concurrency 1, twice: minutes on a loaded box
});
