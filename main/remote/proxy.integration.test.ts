/**
 * Every request to the store through a real forward proxy (Debian's tinyproxy on loopback): the
 * built `cosync` binary backs up, restores and adds a sync folder (whose connection test is a
 * request of its own) with HTTP_PROXY/HTTPS_PROXY set, against the real RGW.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS, startFaultProxy, type ProxiedRequest } from '../../test/support/fault-proxy.js';
import { freePort, startForwardProxy } from '../../test/support/forward-proxy.js';
import { createBucket, requireServices, runCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';

let services: Services;
let work: string;
let bucket: string;
let keyName: string;
let files: string;
const PASSWORD = 'pr0xy-s3cret';

function cosync(args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<RunResult> {
  return runCosync(args, { configDir: join(work, 'config'), services, env: { COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey, ...env } });
}

function expectOk(result: RunResult): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}

/** Every file the runs left in the config folder (logs, journal), as text, to look for the password. */
async function configText(): Promise<string> {
  const entries = await readdir(join(work, 'config'), { withFileTypes: true, recursive: true });
  const texts = await Promise.all(entries.filter((entry) => entry.isFile()).map((entry) => readFile(join(entry.parentPath, entry.name), 'latin1')));
  return texts.join('\n');
}

beforeAll(async () => {
  services = requireServices();
  work = await mkdtemp(join(tmpdir(), 'cosync-proxy-'));
  bucket = await createBucket(services);
  keyName = uniqueName('proxy');
  expectOk(await cosync(['key', 'generate', keyName]));
  files = join(work, 'files');
  await mkdir(files);
  await writeFile(join(files, 'a.txt'), 'through the proxy\n');
  await writeFile(join(files, 'b.bin'), Buffer.alloc(300_000, 7));
});

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('requests to the store through a forward proxy', () => {
  it("sends every request of a backup, a restore and folder add's connection test through HTTP_PROXY, none around it", async () => {
    const proxy = await startForwardProxy();
    // The store's address is a pass-through to RGW that sees each request as it arrives: one
    // that came through tinyproxy carries its Via header, one that went around it does not.
    const arrived: ProxiedRequest[] = [];
    const store = await startFaultProxy(services.httpEndpoint, NO_FAULTS, 1, { beforeForward: (request) => void arrived.push(request) });
    try {
      const env = { HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,10.0.0.0/8' };
      const target = ['--endpoint', store.url, '--bucket', bucket, '--sse', 'c', '--key', keyName];
      expectOk(await cosync(['backup', files, ...target, '--prefix', 'http'], env));
      const restored = join(work, 'restored-http');
      expectOk(await cosync(['restore', ...target, '--prefix', 'http', '--to', restored], env));
      expect(await readFile(join(restored, 'files', 'a.txt'), 'utf8')).toBe('through the proxy\n');
      expectOk(await cosync(['folder', 'add', files, ...target, '--prefix', 'synced', '--kit-saved'], env));

      expect(arrived.length).toBeGreaterThanOrEqual(6);
      expect(arrived.filter((request) => !/tinyproxy/.test(String(request.headers.via))).map((request) => `${request.method} ${request.url}`)).toEqual([]);
      const proxied = await proxy.requestLines();
      expect(proxied).toHaveLength(arrived.length);
      expect(proxied.every((line) => line.includes(`${store.url}/${bucket}`))).toBe(true);
    } finally {
      await Promise.all([proxy.close(), store.close()]);
    }
  });

  it('tunnels HTTPS with CONNECT, authenticated with the credentials in HTTPS_PROXY, which are never shown or logged', async () => {
    const proxy = await startForwardProxy({ credentials: { user: 'alice', password: PASSWORD } });
    try {
      const env = { HTTPS_PROXY: `http://alice:${PASSWORD}@127.0.0.1:${proxy.port}` };
      const target = ['--endpoint', services.httpsEndpoint, '--bucket', bucket, '--sse', 'c', '--key', keyName];
      const backup = await cosync(['backup', files, ...target, '--prefix', 'https'], env);
      expectOk(backup);
      const restored = join(work, 'restored-https');
      const restore = await cosync(['restore', ...target, '--prefix', 'https', '--to', restored], env);
      expectOk(restore);
      expect(await readFile(join(restored, 'files', 'b.bin'))).toEqual(Buffer.alloc(300_000, 7));

      const tunnels = await proxy.requestLines();
      expect(tunnels.length).toBeGreaterThanOrEqual(2);
      expect(tunnels.every((line) => line === `CONNECT ${new URL(services.httpsEndpoint).host} HTTP/1.1`)).toBe(true);
      for (const text of [backup.stdout, backup.stderr, restore.stdout, restore.stderr, await configText()]) expect(text).not.toContain(PASSWORD);
    } finally {
      await proxy.close();
    }
  });

  it('says the proxy refused the request (407 without credentials; tinyproxy says 401 to wrong ones, over HTTP and to CONNECT), naming the proxy and not the password', async () => {
    const proxy = await startForwardProxy({ credentials: { user: 'alice', password: PASSWORD } });
    try {
      const backup = (endpoint: string, env: Record<string, string>) => cosync(['backup', files, '--endpoint', endpoint, '--bucket', bucket, '--sse', 'c', '--key', keyName], env);
      const named = (variable: string) => `cosync: the proxy http://127\\.0\\.0\\.1:${proxy.port} \\(from ${variable}\\) refused the request: `;
      const none = await backup(services.httpEndpoint, { HTTP_PROXY: proxy.url });
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(new RegExp(`^${named('HTTP_PROXY')}407 Proxy Authentication Required, and the proxy URL carries no user name and password; set HTTP_PROXY=http://USER:PASSWORD@127\\.0\\.0\\.1:${proxy.port}`));
      const wrong = `http://alice:not-${PASSWORD}@127.0.0.1:${proxy.port}`;
      const overHttp = await backup(services.httpEndpoint, { HTTP_PROXY: wrong });
      expect(overHttp.code).toBe(1);
      expect(overHttp.stderr).toMatch(new RegExp(`^${named('HTTP_PROXY')}401 Unauthorized, the user name or password in the proxy URL was not accepted`));
      const overHttps = await backup(services.httpsEndpoint, { HTTPS_PROXY: wrong });
      expect(overHttps.code).toBe(1);
      expect(overHttps.stderr).toMatch(new RegExp(`^${named('HTTPS_PROXY')}401 Unauthorized, the user name or password in the proxy URL was not accepted`));
      for (const text of [overHttp.stderr, overHttps.stderr]) expect(text).not.toContain(PASSWORD);
    } finally {
      await proxy.close();
    }
  });

  it('says the proxy cannot be reached when nothing listens on its port, and goes direct for a store in NO_PROXY', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const target = ['--endpoint', services.httpsEndpoint, '--bucket', bucket, '--sse', 'c', '--key', keyName, '--prefix', 'direct'];
    const refused = await cosync(['backup', join(files, 'a.txt'), ...target], { HTTPS_PROXY: dead });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(new RegExp(`cannot reach the proxy ${dead.replace(/\./g, '\\.')} \\(from HTTPS_PROXY\\) \\(connection refused\\): check the proxy's address in HTTPS_PROXY`));
    expectOk(await cosync(['backup', join(files, 'a.txt'), ...target], { HTTPS_PROXY: dead, NO_PROXY: 'localhost,127.0.0.1,::1' }));
  });
});
