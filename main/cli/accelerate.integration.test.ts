/**
 * `--accelerate` end to end through the COS gateway: requests go to the global acceleration host
 * BUCKET-APPID.cos.accelerate.myqcloud.com (Global Acceleration,
 * https://cloud.tencent.com/document/product/436/38866), signed for the bucket's own region; a
 * bucket without acceleration is refused with what to do, and nothing is uploaded.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CosGateway } from '../../test/support/cos-gateway.js';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, listKeys, requireServices, runCosync, storeAccess, type Services, type StoreAccess } from '../../test/support/services.js';
import { EXIT_CODES } from './exit-codes.js';

let services: Services;
let access: StoreAccess;
let gateway: CosGateway;
let bucket: string;
const work = useWorkDir('accelerate');

beforeAll(async () => {
  services = requireServices();
  access = await storeAccess(services, 'cos');
  gateway = access.gateway as CosGateway;
  bucket = await createBucket(services, 'cosync-accelerate');
});

describe('--accelerate (COS global acceleration)', () => {
  it('is refused with advice until the bucket has acceleration, then backs up (multipart too) through the acceleration host', async () => {
    const source = join(work(), 'photos');
    await mkdir(source, { recursive: true });
    const files = { 'small.txt': Buffer.from('accelerated\n'), 'big.bin': randomBytes(6 * 1024 * 1024 + 17) };
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(source, name), bytes);
    const configDir = join(work(), 'config');
    const run = (args: string[]) => runCosync(args, { configDir, services, env: access.env, timeoutMs: 120_000 });
    // The region comes from the regional endpoint given (the gateway's port is kept).
    const backup = () => run(['backup', source, ...access.targetArgs(bucket), '--accelerate', '--prefix', 'fast', '--sse', 'cos', '--multipart-threshold', '5', '--part-size', '5']);

    let seen = gateway.requests.length;
    const refused = await backup();
    expect(refused.code, refused.stderr).toBe(EXIT_CODES.usage.code);
    expect(refused.stderr).toMatch(/global acceleration is not enabled for bucket "[^"]+" \(BucketAccelerateNotEnabled\): enable it in the COS console .* or leave out --accelerate/);
    expect(gateway.requests.slice(seen).length).toBeGreaterThan(0);
    expect(await listKeys(services, bucket, 'fast/')).toEqual([]);

    gateway.enableAcceleration(bucket);
    seen = gateway.requests.length;
    const accelerated = await backup();
    expect(accelerated.code, `${accelerated.stdout}\n${accelerated.stderr}`).toBe(EXIT_CODES.ok.code);
    const sent = gateway.requests.slice(seen);
    expect(sent.some((request) => request.method === 'POST' && request.query.some(([name]) => name === 'uploads'))).toBe(true);
    expect(sent.filter((request) => request.accelerated !== true)).toEqual([]);
    expect(await listKeys(services, bucket, 'fast/')).toEqual(['fast/photos/big.bin', 'fast/photos/small.txt']);

    // Read back by the regional endpoint: the same objects.
    const target = join(work(), 'restored');
    const restore = await run(['restore', ...access.targetArgs(bucket), '--prefix', 'fast/photos', '--to', target, '--sse', 'cos']);
    expect(restore.code, restore.stderr).toBe(EXIT_CODES.ok.code);
    for (const [name, bytes] of Object.entries(files)) expect((await readFile(join(target, name))).equals(bytes), name).toBe(true);
  }, 180_000);

  it('is refused for a store that is not Tencent COS, before any request', async () => {
    const result = await runCosync(['backup', work(), '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--accelerate'], {
      configDir: join(work(), 'config-s3'),
      services,
      env: { COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey },
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(EXIT_CODES.usage.code);
    expect(result.stderr).toMatch(/--accelerate cannot be used with 127\.0\.0\.1: it is Tencent COS's global acceleration/);
  }, 60_000);
});
