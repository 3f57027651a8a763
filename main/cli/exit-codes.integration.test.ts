/**
 * The exit codes of the README's table, each from the built `cosync` binary against RGW (and a
 * fault proxy in front of it where the store must fail): 0 done, 1 failed, 2 usage, 3 finished
 * with some files failed, 4 temporary error (unreachable, or 5xx/throttling after every retry).
 */
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../test/support/fault-proxy.js';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, listKeys, rawClient, requireServices, runCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';
import { EXIT_CODES } from './exit-codes.js';

const work = useWorkDir('exit-codes');
let services: Services;
let bucket: string;
const env: Record<string, string> = {};
const keys = { right: uniqueName('exit-right'), other: uniqueName('exit-other') };

function cosync(args: string[], configDir = join(work(), 'config')): Promise<RunResult> {
  return runCosync(args, { configDir, services, env });
}

function expectExit(result: RunResult, code: number): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(code);
}

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-exit');
  env.COSYNC_SECRET_ID = services.accessKey;
  env.COSYNC_SECRET_KEY = services.secretKey;
  for (const key of Object.values(keys)) expect((await cosync(['key', 'generate', key])).code).toBe(0);
});

afterAll(async () => {
  for (const key of Object.values(keys)) await cosync(['key', 'delete', key, '--yes']);
});

describe('backup and restore', () => {
  it('0 when every file is done; 3 when some failed and the others were done; 1 when none was', async () => {
    // Two files under one prefix, each encrypted with another key.
    const mixed = join(work(), 'mixed');
    await mkdir(mixed);
    await writeFile(join(mixed, 'right.txt'), 'readable with the right key');
    await writeFile(join(mixed, 'other.txt'), 'readable with the other key');
    const target = ['--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'mixed'];
    expectExit(await cosync(['backup', join(mixed, 'right.txt'), ...target, '--key', keys.right]), EXIT_CODES.ok.code);
    expectExit(await cosync(['backup', join(mixed, 'other.txt'), ...target, '--key', keys.other]), EXIT_CODES.ok.code);
    expect(await listKeys(services, bucket, 'mixed/')).toEqual(['mixed/other.txt', 'mixed/right.txt']);

    const partial = await cosync(['restore', ...target, '--to', join(work(), 'restored'), '--key', keys.right]);
    expectExit(partial, EXIT_CODES.someFailed.code);
    expect(partial.stdout).toMatch(/restore: 1 restored, 1 failed/);
    expect(partial.stdout).toMatch(/failed +\S*other\.txt -> mixed\/other\.txt: .*refused the SSE-C key/);

    const restoreAll = (key: string) => cosync(['restore', ...target, '--prefix', 'mixed/right.txt', '--to', join(work(), `only-${key}`), '--key', key]);
    expectExit(await restoreAll(keys.right), EXIT_CODES.ok.code);
    expectExit(await restoreAll(keys.other), EXIT_CODES.failure.code);
  });

  it('1 when the command fails as a whole (a missing bucket), 2 for a usage error', async () => {
    const file = join(work(), 'one.txt');
    await writeFile(file, 'one');
    expectExit(await cosync(['backup', file, '--endpoint', services.httpsEndpoint, '--bucket', 'no-such-bucket-exit']), EXIT_CODES.failure.code);
    const usage = await cosync(['backup', file, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefx', 'p']);
    expectExit(usage, EXIT_CODES.usage.code);
    expect(usage.stderr).toBe('cosync: unknown option --prefx for `cosync backup` (did you mean --prefix?); run `cosync help backup`\n');
  });

  it('4 when the store cannot be reached, or answers 503 SlowDown through every retry; nothing is uploaded', async () => {
    const file = join(work(), 'temporary.txt');
    await writeFile(file, 'try me later');
    const refused = await cosync(['backup', file, '--endpoint', 'http://127.0.0.1:9', '--bucket', bucket, '--prefix', 'temporary']);
    expectExit(refused, EXIT_CODES.temporary.code);
    expect(refused.stderr).toMatch(/^cosync: cannot reach http:\/\/127\.0\.0\.1:9 \(connection refused\)/);

    const throttling = await startFaultProxy(services.httpEndpoint, { slowDown: 1, internalError: 0, reset: 0, delay: 0 }, 1);
    try {
      const throttled = await cosync(['backup', file, '--endpoint', throttling.url, '--bucket', bucket, '--prefix', 'temporary']);
      expectExit(throttled, EXIT_CODES.temporary.code);
      expect(throttled.stderr).toMatch(/HTTP 503 SlowDown\); try again later\n$/);
      // Every retry was made before giving up.
      expect(throttling.counts.slowDown).toBeGreaterThan(1);
    } finally {
      await throttling.close();
    }
    expect(await listKeys(services, bucket, 'temporary/')).toEqual([]);
  });
});

describe('sync --once', () => {
  it('0 when every folder converged; 3 when one folder failed and another is in sync', async () => {
    const configDir = join(work(), 'sync-config');
    const good = join(work(), 'good');
    const doomed = join(work(), 'doomed');
    for (const root of [good, doomed]) {
      await mkdir(root);
      await writeFile(join(root, 'a.txt'), root);
    }
    const doomedBucket = await createBucket(services, 'cosync-exit-doomed');
    expectExit(await cosync(['folder', 'add', good, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'good'], configDir), EXIT_CODES.ok.code);
    expectExit(await cosync(['sync', '--once'], configDir), EXIT_CODES.ok.code);

    expectExit(await cosync(['folder', 'add', doomed, '--endpoint', services.httpsEndpoint, '--bucket', doomedBucket], configDir), EXIT_CODES.ok.code);
    await rawClient(services).send(new DeleteBucketCommand({ Bucket: doomedBucket }));
    const partial = await cosync(['sync', '--once'], configDir);
    expectExit(partial, EXIT_CODES.someFailed.code);
    expect(partial.stderr).toMatch(new RegExp(`bucket "${doomedBucket}" does not exist`));
  });

  it('4 when the only folder\'s store went away', async () => {
    const configDir = join(work(), 'gone-config');
    const root = join(work(), 'gone');
    await mkdir(root);
    await writeFile(join(root, 'a.txt'), 'a');
    const proxy = await startFaultProxy(services.httpEndpoint, { slowDown: 0, internalError: 0, reset: 0, delay: 0 }, 1);
    try {
      expectExit(await cosync(['folder', 'add', root, '--endpoint', proxy.url, '--bucket', bucket, '--prefix', 'gone'], configDir), EXIT_CODES.ok.code);
    } finally {
      await proxy.close();
    }
    const unreachable = await cosync(['sync', '--once'], configDir);
    expectExit(unreachable, EXIT_CODES.temporary.code);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
  });
});
