/**
 * Restoring archived objects end to end through the COS gateway (test/support/cos-gateway.ts):
 * the built `cosync` backs files up, the gateway archives one as a lifecycle rule would, and a
 * restore asks for its retrieval (POST Object restore) instead of failing; once the test finishes
 * the retrieval in the gateway, the next restore downloads and verifies it without a new POST.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../cli/exit-codes.js';
import type { CosGateway } from '../../test/support/cos-gateway.js';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, requireServices, runCosync, storeAccess, type Services, type StoreAccess } from '../../test/support/services.js';
import { until } from '../../test/support/wait.js';

let services: Services;
let access: StoreAccess;
let gateway: CosGateway;
let bucket: string;
const work = useWorkDir('archive-restore');

beforeAll(async () => {
  services = requireServices();
  access = await storeAccess(services, 'cos');
  gateway = access.gateway as CosGateway;
  bucket = await createBucket(services, 'cosync-archive');
});

describe('restoring archived objects through the COS gateway', () => {
  it('retrieves the archived file instead of failing, exits 5, and downloads it once the retrieval is done', async () => {
    const source = join(work(), 'photos');
    await mkdir(source, { recursive: true });
    const files = { 'new.txt': Buffer.from('recent\n'), 'also-new.bin': randomBytes(70_000), 'old.bin': randomBytes(300_000) };
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(source, name), bytes);
    const configDir = join(work(), 'config');
    const run = (args: string[]) => runCosync(args, { configDir, services, env: access.env, timeoutMs: 300_000 });
    const backup = await run(['backup', source, ...access.targetArgs(bucket), '--prefix', 'archive', '--sse', 'cos']);
    expect(backup.code, backup.stderr).toBe(0);

    const archivedKey = 'archive/photos/old.bin';
    gateway.archiveObject(bucket, archivedKey, 'ARCHIVE');
    const target = join(work(), 'restored');
    const restore = () => run(['restore', ...access.targetArgs(bucket), '--prefix', 'archive/photos', '--to', target, '--sse', 'cos', '--restore-days', '2']);
    const requestsOf = (method: string, from: number) => gateway.requests.slice(from).filter((request) => request.method === method && request.key === archivedKey);

    let seen = gateway.requests.length;
    const first = await restore();
    const output = `${first.stdout}\n${first.stderr}`;
    expect(first.code, output).toBe(EXIT_CODES.stillRetrieving.code);
    expect(first.stdout).toMatch(/archived {2}\S*old\.bin <- archive\/photos\/old\.bin: retrieving from archive \(ARCHIVE\), ready in about 3–5 hours/);
    expect(first.stdout).toMatch(/restore: 2 restored, 0 failed/);
    expect(first.stdout).toMatch(/1 archived file is still being retrieved: run the same restore again later/);
    expect(output).not.toMatch(/access denied/i);
    const posts = requestsOf('POST', seen);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.query.map(([name]) => name)).toEqual(['restore']);
    expect(posts[0]?.status).toBe(202);
    expect(requestsOf('GET', seen)).toHaveLength(0);
    expect((await readFile(join(target, 'new.txt'))).equals(files['new.txt'])).toBe(true);
    expect((await readFile(join(target, 'also-new.bin'))).equals(files['also-new.bin'])).toBe(true);
    await expect(stat(join(target, 'old.bin'))).rejects.toMatchObject({ code: 'ENOENT' });

    // Still retrieving: HEAD says ongoing-request="true", so no second POST and the same exit code.
    seen = gateway.requests.length;
    const second = await restore();
    expect(second.code, second.stdout).toBe(EXIT_CODES.stillRetrieving.code);
    expect(second.stdout).toMatch(/retrieving from archive \(ARCHIVE\)/);
    expect(requestsOf('POST', seen)).toHaveLength(0);

    gateway.completeRestore(bucket, archivedKey);
    seen = gateway.requests.length;
    const third = await restore();
    expect(third.code, `${third.stdout}\n${third.stderr}`).toBe(EXIT_CODES.ok.code);
    expect(third.stdout).toMatch(/restored {2}\S*old\.bin -> archive\/photos\/old\.bin {2}\S+ KiB {2}\(verified by /);
    expect(third.stdout).toMatch(/restore: 3 restored, 0 failed/);
    expect(third.stdout).not.toMatch(/still being retrieved/);
    expect(requestsOf('POST', seen)).toHaveLength(0);
    expect((await readFile(join(target, 'old.bin'))).equals(files['old.bin'])).toBe(true);
  }, 300_000);

  it('--wait asks once, keeps looking (HEAD) while it is retrieved, and downloads it when the retrieval finishes', async () => {
    const source = join(work(), 'waiting');
    await mkdir(source, { recursive: true });
    const bytes = randomBytes(200_000);
    await writeFile(join(source, 'cold.bin'), bytes);
    const configDir = join(work(), 'config-wait');
    const backup = await runCosync(['backup', source, ...access.targetArgs(bucket), '--prefix', 'wait', '--sse', 'cos'], { configDir, services, env: access.env, timeoutMs: 120_000 });
    expect(backup.code, backup.stderr).toBe(0);
    const archivedKey = 'wait/waiting/cold.bin';
    gateway.archiveObject(bucket, archivedKey, 'DEEP_ARCHIVE');
    const seen = gateway.requests.length;
    const requestsOf = (method: string) => gateway.requests.slice(seen).filter((request) => request.method === method && request.key === archivedKey);
    const target = join(work(), 'restored-wait');
    // The first look after 50 ms, not a minute: the test finishes the retrieval itself.
    const waiting = runCosync(['restore', ...access.targetArgs(bucket), '--prefix', 'wait/waiting', '--to', target, '--sse', 'cos', '--restore-tier', 'Bulk', '--wait'], {
      configDir,
      services,
      env: { ...access.env, COSYNC_ARCHIVE_POLL_MS: '50' },
      timeoutMs: 120_000,
    });
    let exited = false;
    void waiting.then(() => (exited = true));
    // Retrieval asked for, then at least one more look that still finds it retrieving (or an early exit, which fails).
    await until(() => exited || (requestsOf('POST').length === 1 && requestsOf('HEAD').length >= 2));
    expect(exited, 'restore --wait ended while the object was still being retrieved').toBe(false);
    await expect(stat(join(target, 'cold.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
    gateway.completeRestore(bucket, archivedKey);
    const result = await waiting;
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(EXIT_CODES.ok.code);
    expect(result.stdout).toMatch(/retrieving from archive \(DEEP_ARCHIVE\), ready in about up to 48 hours/);
    expect(result.stdout).toMatch(/restored {2}\S*cold\.bin -> wait\/waiting\/cold\.bin/);
    expect(result.stdout).toMatch(/restore: 1 restored, 0 failed/);
    expect(requestsOf('POST')).toHaveLength(1);
    expect(requestsOf('GET').length).toBeGreaterThanOrEqual(1);
    expect((await readFile(join(target, 'cold.bin'))).equals(bytes)).toBe(true);
  }, 180_000);

  it('refuses a COSYNC_ARCHIVE_POLL_MS that is not a whole number of milliseconds, before any request', async () => {
    const seen = gateway.requests.length;
    const result = await runCosync(['restore', ...access.targetArgs(bucket), '--to', join(work(), 'never'), '--sse', 'cos', '--wait'], {
      configDir: join(work(), 'config-bad-poll'),
      services,
      env: { ...access.env, COSYNC_ARCHIVE_POLL_MS: '5s' },
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(EXIT_CODES.usage.code);
    expect(result.stderr).toMatch(/COSYNC_ARCHIVE_POLL_MS="5s" is not a whole number of milliseconds/);
    expect(gateway.requests.length).toBe(seen);
  }, 60_000);
});
