/** A job's summary follows its run's events through one reducer, and cancel(jobId) aborts its signal. */
import { describe, expect, it } from 'vitest';
import type { JobSummary } from '../../app/contract.js';
import { CosyncError } from '../../app/result.js';
import { NULL_LOGGER } from '../log/logger.js';
import { JobRegistry, reduceJob, type JobProgress } from './job-registry.js';

const fresh: JobProgress = {
  summary: { id: 'restore-1', kind: 'restore', title: 'Restore', state: 'running', filesDone: 0, filesFailed: 0, files: 0, bytesDone: 0, bytes: 0, error: undefined, startedAt: 0 },
  fileBytes: new Map(),
};

describe('reduceJob', () => {
  it('adds up runs, counts bytes once per file, and keeps the first failure as the headline', () => {
    let job = fresh;
    const apply = (...events: Parameters<typeof reduceJob>[1][]) => {
      for (const event of events) job = reduceJob(job, event).job;
    };
    apply(
      { type: 'run-started', direction: 'restore', files: 2, bytes: 300 },
      { type: 'run-started', direction: 'restore', files: 1, bytes: 50 },
      { type: 'file-progress', path: 'a', bytesDone: 60, bytes: 100 },
      { type: 'file-progress', path: 'a', bytesDone: 90, bytes: 100 },
      { type: 'file-finished', path: 'a', key: 'a', bytes: 100, result: 'restored', detail: '' },
      { type: 'file-failed', path: 'b', key: 'b', error: { code: 'key-mismatch', message: 'wrong key' } },
      { type: 'file-failed', path: 'c', key: 'c', error: { code: 'server-unavailable', message: 'reset' } },
    );
    expect(job.summary).toMatchObject({ files: 3, bytes: 350, filesDone: 1, bytesDone: 100, filesFailed: 2, error: { code: 'key-mismatch', message: 'b: wrong key' } });
    expect(job.fileBytes.size).toBe(0);
  });

  it('sends progress within its interval, finished files at once, and the end of a run not at all', () => {
    expect(reduceJob(fresh, { type: 'file-progress', path: 'a', bytesDone: 1, bytes: 2 }).send).toBe('throttled');
    expect(reduceJob(fresh, { type: 'file-finished', path: 'a', key: 'a', bytes: 2, result: 'uploaded', detail: '' }).send).toBe('now');
    expect(reduceJob(fresh, { type: 'run-finished', direction: 'backup', succeeded: 1, failed: 0, skipped: 0, bytes: 2, seconds: 1 }).send).toBe('silent');
  });
});

describe('JobRegistry', () => {
  it('cancels a running job through its signal, and says so in its summary', async () => {
    const changes: JobSummary[] = [];
    const jobs = new JobRegistry(NULL_LOGGER, (job) => changes.push(job));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const { id } = jobs.start('restore', 'Restore a', (_emit, signal) => {
      started();
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    });
    await running;
    expect(jobs.cancel(id).state).toBe('running');
    await expect.poll(() => jobs.list()[0]?.state).toBe('cancelled');
    expect(jobs.list()[0]?.error).toBeUndefined();
    expect(changes.at(-1)).toMatchObject({ id, state: 'cancelled' });
    // An ended job stays as it ended; an unknown id is a usage error.
    expect(jobs.cancel(id).state).toBe('cancelled');
    expect(() => jobs.cancel('restore-nope')).toThrow(CosyncError);
  });
});
