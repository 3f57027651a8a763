/**
 * Ctrl-C on `cosync backup` and `cosync restore`, from the built binary against RGW: the first
 * SIGINT (sent once a part has landed) stops the run cleanly with exit 130 and says how to
 * resume; nothing looks complete; the same command run again resumes and the bytes verify. The
 * same for `cosync sync --once`, whose run signal reaches the uploads of its plan.
 */
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, listKeys, onJsonEvents, rawClient, readObject, requireServices, runCosync, spawnCosync, storeAccess, type Services, type StoreAccess } from '../../test/support/services.js';
import { until } from '../../test/support/wait.js';
import { EXIT_CODES } from './exit-codes.js';

const MiB = 1024 * 1024;
const PART_MIB = 8;
const FILE_MIB = 40;
const work = useWorkDir('interrupt');
let services: Services;
let access: StoreAccess;

beforeAll(async () => {
  services = requireServices();
  access = await storeAccess(services, 's3');
});

interface Interrupted {
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs cosync with `args`, sends SIGINT once `landed` says so for a progress event, and waits for it to exit. */
async function interruptWhen(args: string[], configDir: string, landed: (bytesDone: number) => boolean): Promise<Interrupted> {
  const child = spawnCosync(args, { configDir, services, env: access.env });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let sent = false;
  onJsonEvents(child, (event) => {
    if (!sent && event.type === 'file-progress' && landed(event.bytesDone ?? 0)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(sent, `the run ended before it could be interrupted: ${stderr}`).toBe(true);
  return { code, stderr };
}

function events(stdout: string): Array<{ type: string; partsDone?: number; partCount?: number }> {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; partsDone?: number; partCount?: number });
}

it('Ctrl-C stops a backup and a restore cleanly (exit 130); running them again resumes and verifies', async () => {
  const configDir = join(work(), 'config');
  const bucket = await createBucket(services, 'cosync-interrupt');
  const file = join(work(), 'big.bin');
  const sha256 = await writeRandomFile(file, FILE_MIB * MiB);
  const partCount = FILE_MIB / PART_MIB;
  const backup = ['backup', file, ...access.targetArgs(bucket), '--part-size', String(PART_MIB), '--concurrency', '2', '--json'];

  // A part has landed (and is journaled) when the first progress event comes: uploads report parts.
  const stopped = await interruptWhen([...backup, '--bwlimit', '16'], configDir, () => true);
  expect(stopped.code, stopped.stderr).toBe(EXIT_CODES.interrupted.code);
  expect(stopped.stderr).toMatch(/cosync: stopping: no new file or part starts/);
  expect(stopped.stderr).toMatch(/cosync: backup interrupted: 0 files uploaded; run the same command again to resume/);
  expect(await listKeys(services, bucket)).toEqual([]);
  expect((await rawClient(services).send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads).toHaveLength(1);

  const resumed = await runCosync(backup, { configDir, services, env: access.env });
  expect(resumed.code, resumed.stderr).toBe(0);
  const resumedEvent = events(resumed.stdout).find((event) => event.type === 'file-resumed');
  expect(resumedEvent?.partCount).toBe(partCount);
  expect(resumedEvent?.partsDone).toBeGreaterThanOrEqual(1);
  expect(createHash('sha256').update(await readObject(services, bucket, 'big.bin')).digest('hex')).toBe(sha256);

  // One range at a time: past one part's bytes, the first part is written and journaled.
  const target = join(work(), 'restored');
  const restore = ['restore', ...access.targetArgs(bucket), '--to', target, '--concurrency', '1', '--json'];
  const restoreStopped = await interruptWhen([...restore, '--bwlimit', '16'], configDir, (bytesDone) => bytesDone > PART_MIB * MiB);
  expect(restoreStopped.code, restoreStopped.stderr).toBe(EXIT_CODES.interrupted.code);
  expect(restoreStopped.stderr).toMatch(/cosync: restore interrupted: 0 files restored; run the same command again to resume/);
  expect((await readdir(target)).filter((name) => !name.endsWith('.cosync-partial'))).toEqual([]);

  const restored = await runCosync(restore, { configDir, services, env: access.env });
  expect(restored.code, restored.stderr).toBe(0);
  expect(events(restored.stdout).find((event) => event.type === 'file-resumed')?.partsDone).toBeGreaterThanOrEqual(1);
  expect(createHash('sha256').update(await readFile(join(target, 'big.bin'))).digest('hex')).toBe(sha256);
}, 180_000);

it('Ctrl-C stops `sync --once` while a file uploads (exit 130, its parts journaled); the next run resumes that upload and the bytes verify', async () => {
  const configDir = join(work(), 'sync-config');
  const bucket = await createBucket(services, 'cosync-sync-interrupt');
  const root = join(work(), 'folder');
  await mkdir(root);
  const sha256 = await writeRandomFile(join(root, 'big.bin'), FILE_MIB * MiB);
  const added = await runCosync(['folder', 'add', root, ...access.targetArgs(bucket), '--prefix', 'f/'], { configDir, services, env: access.env });
  expect(added.code, added.stderr).toBe(0);
  const sync = ['sync', '--once', '--part-size', String(PART_MIB), '--concurrency', '2'];

  const child = spawnCosync([...sync, '--bwlimit', '16'], { configDir, services, env: access.env });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  // The bucket announces nothing: ask it until the upload has a part, then interrupt.
  const client = rawClient(services);
  let uploadId: string | undefined;
  await until(async () => {
    uploadId = (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.[0]?.UploadId;
    return uploadId !== undefined && ((await client.send(new ListPartsCommand({ Bucket: bucket, Key: 'f/big.bin', UploadId: uploadId }))).Parts?.length ?? 0) > 0;
  });
  child.kill('SIGINT');
  const [code] = await exited;
  expect(code, stderr).toBe(EXIT_CODES.interrupted.code);
  expect(stderr).toMatch(/cosync: stopping: no new file or part starts/);
  expect(stderr).toMatch(/cosync: sync interrupted; run `cosync sync --once` again to resume/);
  expect(await listKeys(services, bucket)).toEqual([]);
  // The upload is left to resume, not aborted or started anew.
  expect((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.map((upload) => upload.UploadId)).toEqual([uploadId]);

  const resumed = await runCosync(sync, { configDir, services, env: access.env });
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(createHash('sha256').update(await readObject(services, bucket, 'f/big.bin')).digest('hex')).toBe(sha256);
  expect((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
}, 180_000);
