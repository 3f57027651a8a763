/**
 * sync:cancel-job through the daemon's HTTP API (`cosync serve`, the built binary, against RGW):
 * a backup job cancelled once its first part has landed ends as 'cancelled', not failed; no object
 * looks complete; a bad or unknown job id gets a clear usage error.
 */
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { JobSummary } from '../../app/contract.js';
import { useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, listKeys, rawClient, requireServices, servedUrl, spawnCosync, type Services } from '../../test/support/services.js';
import { until } from '../../test/support/wait.js';

const MiB = 1024 * 1024;
const work = useWorkDir('cancel-job');
let services: Services;
let bucket: string;

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-cancel-job');
});

it('a backup job cancelled over the HTTP API stops as cancelled, and leaves no object', async () => {
  const root = join(work(), 'folder');
  await mkdir(root);
  const file = join(work(), 'big.bin');
  await writeRandomFile(file, 48 * MiB);
  const env = { COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey };
  // One part of 8 MiB at a time, paced: the first lands soon, and the job still runs when the cancel comes.
  const child = spawnCosync(['serve', '--port', '0', '--bwlimit', '16', '--concurrency', '1', '--part-size', '8', '--multipart-threshold', '8'], { configDir: join(work(), 'config'), services, env });
  try {
    const base = await servedUrl(child);
    const token = base.searchParams.get('token') as string;
    const call = async <T>(channel: string, body: unknown): Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }> =>
      (await fetch(new URL(`/api/call/${channel}`, base), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as never;
    const jobs = async (): Promise<JobSummary[]> => {
      const answer = await call<JobSummary[]>('sync:jobs', null);
      return answer.ok ? answer.value : [];
    };

    const folder = await call<{ id: string }>('sync:add-folder', { endpoint: services.httpsEndpoint, bucket, prefix: 'synced/', pathStyle: true, localPath: root, sse: 'none', policy: 'keep' });
    expect(folder.ok).toBe(true);
    const started = await call<JobSummary>('sync:backup', { folderId: folder.ok ? folder.value.id : '', paths: [file], prefix: 'backups/' });
    if (!started.ok) throw new Error(started.error.message);
    const jobId = started.value.id;
    // An upload reports bytes as its parts land.
    await until(async () => ((await jobs()).find((job) => job.id === jobId)?.bytesDone ?? 0) > 0);

    expect(await call('sync:cancel-job', { jobId })).toEqual({ ok: true, value: null });
    await until(async () => (await jobs()).find((job) => job.id === jobId)?.state !== 'running');
    const ended = (await jobs()).find((job) => job.id === jobId);
    expect(ended?.state).toBe('cancelled');
    expect(ended?.error).toBeUndefined();
    expect(ended?.bytesDone).toBeLessThan(48 * MiB);
    expect(await listKeys(services, bucket, 'backups/')).toEqual([]);
    // The upload is kept for the next backup of the same file to resume.
    expect((await rawClient(services).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'backups/' }))).Uploads).toHaveLength(1);
    // Cancelling a job that has ended changes nothing.
    expect(await call('sync:cancel-job', { jobId })).toEqual({ ok: true, value: null });

    expect(await call('sync:cancel-job', { jobId: 7 })).toEqual({ ok: false, error: { code: 'usage', message: 'sync:cancel-job: invalid request (jobId must be a string)' } });
    expect(await call('sync:cancel-job', { jobId: 'backup-nope' })).toEqual({ ok: false, error: { code: 'usage', message: 'no job with id "backup-nope"; sync:jobs lists the jobs' } });
  } finally {
    child.kill('SIGTERM');
  }
}, 120_000);
