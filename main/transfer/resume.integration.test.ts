/**
 * Crash safety of multipart uploads: a `cosync backup` killed with SIGKILL in the middle resumes
 * on restart from the journal, re-sending at most the parts that were in flight, and the object
 * reads back byte-exact with the key.
 */
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { beforeAll, expect, it } from 'vitest';
import { useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, DIALECTS, onJsonEvents, rawClient, readObject, requireServices, runCosync, spawnCosync, storeAccess, uniqueName, type Services } from '../../test/support/services.js';

const MiB = 1024 * 1024;
const PART_MIB = 8;
const CONCURRENCY = 4;
let services: Services;
const workDir = useWorkDir('resume');

beforeAll(() => {
  services = requireServices();
});

it.each(DIALECTS)('resumes a 200 MiB SSE-C upload after kill -9, re-sending at most the parts in flight (%s dialect)', async (dialect) => {
  const access = await storeAccess(services, dialect);
  const work = join(workDir(), dialect);
  await mkdir(work, { recursive: true });
  const configDir = join(work, 'config');
  const bucket = await createBucket(services);
  const keyName = uniqueName('resume');
  expect((await runCosync(['key', 'generate', keyName], { configDir, services })).code).toBe(0);
  const kit = join(work, 'kit.json');
  expect((await runCosync(['key', 'export', keyName, '--out', kit], { configDir, services })).code).toBe(0);
  const keyBytes = Buffer.from((JSON.parse(await readFile(kit, 'utf8')) as { key: string }).key, 'base64');

  const file = join(work, 'big.bin');
  const sha256 = await writeRandomFile(file, 200 * MiB);
  const partCount = Math.ceil(200 / PART_MIB);
  const args = ['backup', file, ...access.targetArgs(bucket), '--key', keyName, '--part-size', String(PART_MIB), '--concurrency', String(CONCURRENCY), '--json'];
  const env = access.env;

  // First run: kill -9 once a third of the parts are committed.
  const child = spawnCosync(args, { configDir, services, env });
  let committedBeforeKill = 0;
  onJsonEvents(child, (event) => {
    if (event.type === 'file-progress' && event.bytesDone !== undefined) {
      committedBeforeKill = Math.floor(event.bytesDone / (PART_MIB * MiB));
      if (committedBeforeKill >= partCount / 3 && child.exitCode === null) child.kill('SIGKILL');
    }
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  expect(signal, `the first run finished before it could be killed (exit ${code})`).toBe('SIGKILL');

  // What the server holds now: every part the killed process finished, including ones it had not yet recorded.
  const client = rawClient(services);
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  expect(uploads.Uploads).toHaveLength(1);
  const parts = await client.send(new ListPartsCommand({ Bucket: bucket, Key: 'big.bin', UploadId: uploads.Uploads?.[0]?.UploadId }));
  const partsOnServer = parts.Parts?.length ?? 0;
  expect(partsOnServer).toBeGreaterThanOrEqual(committedBeforeKill);

  // Second run: resumes.
  const resumed = await runCosync(args, { configDir, services, env });
  expect(resumed.code, resumed.stderr).toBe(0);
  const events = resumed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; partsDone?: number; partCount?: number });
  const resumeEvent = events.find((event) => event.type === 'file-resumed');
  expect(resumeEvent).toMatchObject({ partCount: partCount });
  const reused = resumeEvent?.partsDone ?? 0;
  expect(reused).toBeGreaterThanOrEqual(committedBeforeKill);
  // Parts on the server that the journal had not yet recorded are sent again: at most those in flight.
  expect(partsOnServer - reused).toBeLessThanOrEqual(CONCURRENCY);

  const object = await readObject(services, bucket, 'big.bin', keyBytes);
  expect(object.length).toBe(200 * MiB);
  expect(createHash('sha256').update(object).digest('hex')).toBe(sha256);
  expect((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
}, 300_000);
