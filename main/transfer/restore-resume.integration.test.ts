/**
 * Interrupted restores resume: a `cosync restore` of a large multipart SSE-C object killed with
 * SIGKILL leaves only a hidden partial file; the next run fetches just the missing ranges, checks
 * the whole, and renames it into place byte-exact.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, DIALECTS, onJsonEvents, requireServices, runCosync, spawnCosync, storeAccess, uniqueName, type Services } from '../../test/support/services.js';

const MiB = 1024 * 1024;
let services: Services;
const workDir = useWorkDir('restore-resume');

beforeAll(() => {
  services = requireServices();
});

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

it.each(DIALECTS)('resumes a killed restore of a 160 MiB SSE-C object, fetching only the missing ranges (%s dialect)', async (dialect) => {
  const access = await storeAccess(services, dialect);
  const work = join(workDir(), dialect);
  await mkdir(work, { recursive: true });
  const configDir = join(work, 'config');
  const bucket = await createBucket(services);
  const keyName = uniqueName('restore');
  expect((await runCosync(['key', 'generate', keyName], { configDir, services })).code).toBe(0);
  const env = access.env;

  const source = join(work, 'big.bin');
  const sha256 = await writeRandomFile(source, 160 * MiB);
  const upload = await runCosync(['backup', source, ...access.targetArgs(bucket), '--prefix', 'r', '--key', keyName, '--part-size', '8'], { configDir, services, env });
  expect(upload.code, upload.stderr).toBe(0);

  const target = join(work, 'restored');
  const args = ['restore', ...access.targetArgs(bucket), '--prefix', 'r', '--to', target, '--key', keyName, '--concurrency', '4', '--json'];
  const child = spawnCosync(args, { configDir, services, env });
  onJsonEvents(child, (event) => {
    if (event.type === 'file-progress' && (event.bytesDone ?? 0) >= 60 * MiB && child.exitCode === null) child.kill('SIGKILL');
  });
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
  expect(signal).toBe('SIGKILL');
  // Only the hidden partial file exists: nothing under the real name.
  const afterKill = await readdir(target);
  expect(afterKill.filter((name) => !name.endsWith('.cosync-partial'))).toEqual([]);
  expect(afterKill).toHaveLength(1);

  const resumed = await runCosync(args, { configDir, services, env });
  expect(resumed.code, resumed.stderr).toBe(0);
  const events = resumed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; partsDone?: number; partCount?: number; detail?: string });
  const resumeEvent = events.find((event) => event.type === 'file-resumed');
  expect(resumeEvent?.partCount).toBe(20);
  expect(resumeEvent?.partsDone).toBeGreaterThanOrEqual(4);
  expect(await readdir(target)).toEqual(['big.bin']);
  expect(await sha256File(join(target, 'big.bin'))).toBe(sha256);
}, 300_000);
