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
});
