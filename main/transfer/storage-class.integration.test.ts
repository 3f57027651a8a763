/**
 * Storage classes and COS's traffic limit end to end: through the COS gateway (which records the
 * class as COS does and answers it on HEAD) and on Ceph RGW in the S3 dialect (whose default
 * placement offers STANDARD only and answers any other class with a bare 400 InvalidArgument).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CosGateway } from '../../test/support/cos-gateway.js';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, requireServices, runCosync, storeAccess, type Services, type StoreAccess } from '../../test/support/services.js';
import { allKeys, folderConfig, RecordingLogger, storeFor, syncOnce } from '../../test/support/sync.js';

const work = useWorkDir('storage-class');
let services: Services;

beforeAll(() => {
  services = requireServices();
});

describe('COS dialect, through the gateway', () => {
  let access: StoreAccess;
  let gateway: CosGateway;
  let bucket: string;
  beforeAll(async () => {
    access = await storeAccess(services, 'cos');
    gateway = access.gateway as CosGateway;
    bucket = await createBucket(services, 'cosync-sclass');
  });

  it('a backup with --storage-class STANDARD_IA and --traffic-limit stores the class (HEAD says so) and sends the limit in bit/s; restore sends it on GET', async () => {
    const source = join(work(), 'ia');
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'small.bin'), randomBytes(1000));
    await writeFile(join(source, 'large.bin'), randomBytes(11 * 1024 * 1024));
    const configDir = join(work(), 'config-ia');
    const run = (args: string[]) => runCosync(args, { configDir, services, env: access.env, timeoutMs: 300_000 });
    const firstRequest = gateway.requests.length;
    const backup = await run(['backup', source, ...access.targetArgs(bucket), '--prefix', 'ia', '--sse', 'cos', '--part-size', '5', '--multipart-threshold', '5', '--storage-class', 'STANDARD_IA', '--traffic-limit', '50']);
    expect(backup.code, backup.stderr).toBe(0);
    const store = storeFor(access, folderConfig(access, { localPath: source, bucket, prefix: 'ia/', sse: 'cos' }));
    for (const name of ['small.bin', 'large.bin']) {
      expect((await store.headObject(`ia/ia/${name}`, { mode: 'cos' }))?.storageClass, name).toBe('STANDARD_IA');
    }
    store.close();
    const writes = gateway.requests.slice(firstRequest).filter((request) => request.method === 'PUT');
    expect(writes.length).toBe(1 + 3); // one PUT, three parts
    for (const request of writes) expect(request.trafficLimit).toBe(String(50 * 8 * 1024 * 1024));

    const beforeRestore = gateway.requests.length;
    const restored = await run(['restore', ...access.targetArgs(bucket), '--prefix', 'ia/ia', '--to', join(work(), 'ia-restored'), '--sse', 'cos', '--traffic-limit', '0.5']);
    expect(restored.code, `${restored.stdout}\n${restored.stderr}`).toBe(0);
    const reads = gateway.requests.slice(beforeRestore).filter((request) => request.method === 'GET' && request.key !== undefined);
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const request of reads) expect(request.trafficLimit).toBe(String(0.5 * 8 * 1024 * 1024));
  }, 300_000);

  it('a sync folder of STANDARD_IA keeps the class through a rename and a trash move', async () => {
    const root = join(work(), 'folder');
    await mkdir(join(root, 'dir'), { recursive: true });
    await writeFile(join(root, 'dir', 'moved.bin'), randomBytes(3000));
    await writeFile(join(root, 'gone.bin'), randomBytes(2000));
    const folder = folderConfig(access, { id: 'sclass', localPath: root, bucket, prefix: 'folder/', policy: 'trash', sse: 'cos', keyName: undefined, storageClass: 'STANDARD_IA' });
    const journalFile = join(work(), 'folder.sqlite');
    const first = await syncOnce(access, folder, journalFile, { mode: 'cos' });
    expect(first.ok && first.result.failed).toEqual([]);
    expect(gateway.storageClassOf(bucket, 'folder/gone.bin')).toBe('STANDARD_IA');

    await rename(join(root, 'dir'), join(root, 'dir-renamed'));
    await rm(join(root, 'gone.bin'));
    const logger = new RecordingLogger();
    const second = await syncOnce(access, folder, journalFile, { mode: 'cos' }, logger);
    expect(second.ok && second.result.failed).toEqual([]);
    expect(logger.count('moved')).toBe(1);
    const keys = await allKeys(access, folder);
    const trashed = keys.filter((key) => key.startsWith('folder/.cosync-trash/'));
    expect(trashed).toHaveLength(1);
    const store = storeFor(access, folder);
    for (const key of ['folder/dir-renamed/moved.bin', trashed[0] as string]) {
      expect((await store.headObject(key, { mode: 'cos' }))?.storageClass, key).toBe('STANDARD_IA');
    }
    store.close();
  }, 300_000);

  it('a MAZ class in a single-AZ bucket fails with a message that says why, and nothing is stored', async () => {
    const source = join(work(), 'maz');
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'a.txt'), 'a\n');
    const run = await runCosync(['backup', source, ...access.targetArgs(bucket), '--prefix', 'maz', '--sse', 'cos', '--storage-class', 'MAZ_STANDARD'], { configDir: join(work(), 'config-maz'), services, env: access.env });
    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toMatch(/refused storage class MAZ_STANDARD .*MAZ_ classes are only for multi-AZ buckets/);
    expect(await allKeys(access, folderConfig(access, { localPath: source, bucket, prefix: 'maz/' }))).toEqual([]);
  }, 120_000);
});

describe('S3 dialect, on Ceph RGW', () => {
  let access: StoreAccess;
  let bucket: string;
  beforeAll(async () => {
    access = await storeAccess(services, 's3');
    bucket = await createBucket(services, 'cosync-sclass-s3');
  });

  it('STANDARD is stored and reported; a class RGW lacks is refused with a clear message; COS names and --traffic-limit are refused before any request', async () => {
    const source = join(work(), 's3');
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'a.txt'), 'a\n');
    const configDir = join(work(), 'config-s3');
    const run = (args: string[]) => runCosync(args, { configDir, services, env: access.env, timeoutMs: 120_000 });
    const standard = await run(['backup', source, ...access.targetArgs(bucket), '--prefix', 'std', '--sse', 'none', '--storage-class', 'STANDARD']);
    expect(standard.code, standard.stderr).toBe(0);
    const store = storeFor(access, folderConfig(access, { localPath: source, bucket, prefix: 'std/', sse: 'none' }));
    expect((await store.headObject('std/s3/a.txt', { mode: 'none' }))?.storageClass ?? 'STANDARD').toBe('STANDARD');
    store.close();

    const infrequent = await run(['backup', source, ...access.targetArgs(bucket), '--prefix', 'ia', '--sse', 'none', '--storage-class', 'STANDARD_IA']);
    expect(infrequent.code).toBe(1);
    expect(`${infrequent.stdout}${infrequent.stderr}`).toMatch(/refused storage class STANDARD_IA .*Ceph RGW: STANDARD unless configured/);

    const cosName = await run(['backup', source, ...access.targetArgs(bucket), '--sse', 'none', '--storage-class', 'MAZ_STANDARD']);
    expect(cosName.code).toBe(2);
    expect(cosName.stderr).toMatch(/unknown --storage-class "MAZ_STANDARD" \(MAZ_STANDARD is Tencent COS's name/);
    const limited = await run(['backup', source, ...access.targetArgs(bucket), '--sse', 'none', '--traffic-limit', '1']);
    expect(limited.code).toBe(2);
    expect(limited.stderr).toMatch(/--traffic-limit is a Tencent COS feature/);
  }, 300_000);
});
