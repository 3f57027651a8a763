/**
 * Jobs started from a window (restores, backups, key rotations): each runs in the background
 * with its own AbortController, and its summary follows the run's transfer events through one
 * reducer (reduceJob). Progress is sent at most every JOB_PROGRESS_INTERVAL_MS per job; a file
 * that finishes, fails or is retrieved from archive always goes out.
 */
import { randomBytes } from 'node:crypto';
import type { JobSummary } from '../../app/contract.js';
import { CosyncError } from '../../app/result.js';
import { describeRetrieving, type TransferEvent } from '../../app/transfer-events.js';
import type { Logger } from '../log/logger.js';

/** Job progress events per job and second, at most (finished/failed files always go out). */
const JOB_PROGRESS_INTERVAL_MS = 100;

/** What a job's run is given: where its events go, and the signal that cancels it. */
export type JobRun = (emit: (event: TransferEvent) => void, signal: AbortSignal) => Promise<{ succeeded: number; failed: number }>;

/** A job's summary with the bytes done so far of each file in flight (progress comes as totals per file). */
export interface JobProgress {
  readonly summary: JobSummary;
  readonly fileBytes: ReadonlyMap<string, number>;
}

/** Whether a change goes out at once, within the progress interval, or not at all. */
export type JobUpdate = 'now' | 'throttled' | 'silent';

/** The job after one transfer event, and when the change goes out. */
export function reduceJob(job: JobProgress, event: TransferEvent): { job: JobProgress; send: JobUpdate } {
  const { summary, fileBytes } = job;
  const without = (path: string): Map<string, number> => {
    const next = new Map(fileBytes);
    next.delete(path);
    return next;
  };
  switch (event.type) {
    case 'run-started':
      // A restore of several paths runs several times: counts add up.
      return { job: { summary: { ...summary, files: summary.files + event.files, bytes: summary.bytes + event.bytes }, fileBytes }, send: 'now' };
    case 'file-progress': {
      const before = fileBytes.get(event.path) ?? 0;
      const next = new Map(fileBytes).set(event.path, event.bytesDone);
      return { job: { summary: { ...summary, bytesDone: summary.bytesDone + Math.max(0, event.bytesDone - before) }, fileBytes: next }, send: 'throttled' };
    }
    case 'file-finished': {
      const before = fileBytes.get(event.path) ?? 0;
      return { job: { summary: { ...summary, filesDone: summary.filesDone + 1, bytesDone: summary.bytesDone + Math.max(0, event.bytes - before) }, fileBytes: without(event.path) }, send: 'now' };
    }
    case 'file-failed':
      // The first failure is the job's headline; the rest are in the activity log.
      return {
        job: { summary: { ...summary, filesFailed: summary.filesFailed + 1, error: summary.error ?? { code: event.error.code, message: `${event.path}: ${event.error.message}` } }, fileBytes: without(event.path) },
        send: 'now',
      };
    case 'file-retrieving':
      return {
        job: { summary: { ...summary, retrieving: { files: (summary.retrieving?.files ?? 0) + 1, note: summary.retrieving?.note ?? `${event.path}: ${describeRetrieving(event)}` } }, fileBytes: without(event.path) },
        send: 'now',
      };
    case 'file-skipped':
    case 'file-started':
    case 'file-resumed':
      return { job, send: event.type === 'file-started' ? 'throttled' : 'now' };
    case 'run-finished':
      return { job, send: 'silent' };
  }
}

/** The summary of a job whose run ended with `failed` files failing. */
export function finishedSummary(summary: JobSummary, failed: number): JobSummary {
  if (failed === 0) return { ...summary, state: 'finished', error: undefined };
  const first = summary.error;
  const more = failed > 1 ? ` (and ${failed - 1} more: see Activity)` : '';
  return { ...summary, state: 'failed', error: { code: first?.code ?? 'internal', message: `${first?.message ?? `${failed} files failed`}${more}` } };
}

interface RunningJob {
  progress: JobProgress;
  lastSentAt: number;
  readonly controller: AbortController;
}

/** The jobs of one daemon, by id. */
export class JobRegistry {
  readonly #jobs = new Map<string, RunningJob>();

  constructor(
    private readonly logger: Logger,
    /** Told about every change that goes out (the daemon's `job` events). */
    private readonly onDidChange: (job: JobSummary, event: TransferEvent | undefined) => void,
  ) {}

  /** Every job of this run, oldest first. */
  list(): JobSummary[] {
    return [...this.#jobs.values()].map((job) => job.progress.summary);
  }

  /** Runs `run` in the background as a job; returns its first summary. */
  start(kind: JobSummary['kind'], title: string, run: JobRun): JobSummary {
    const id = `${kind}-${randomBytes(4).toString('hex')}`;
    const job: RunningJob = {
      progress: { summary: { id, kind, title, state: 'running', filesDone: 0, filesFailed: 0, files: 0, bytesDone: 0, bytes: 0, error: undefined, startedAt: Date.now() }, fileBytes: new Map() },
      lastSentAt: 0,
      controller: new AbortController(),
    };
    this.#jobs.set(id, job);
    this.logger.log('info', `${kind}-job-started`, { job: id, title });
    const settle = (summary: JobSummary): void => {
      job.progress = { summary, fileBytes: new Map() };
      this.onDidChange(summary, undefined);
    };
    const emit = (event: TransferEvent): void => {
      const { job: next, send } = reduceJob(job.progress, event);
      job.progress = next;
      const now = Date.now();
      if (send === 'silent' || (send === 'throttled' && now - job.lastSentAt < JOB_PROGRESS_INTERVAL_MS)) return;
      job.lastSentAt = now;
      this.onDidChange(next.summary, event);
    };
    // A cancelled job ends as 'cancelled' however its run noticed (it returned early or threw the abort).
    const cancelled = (): boolean => {
      if (!job.controller.signal.aborted) return false;
      settle({ ...job.progress.summary, state: 'cancelled', error: undefined });
      this.logger.log('info', `${kind}-job-cancelled`, { job: id, files: job.progress.summary.filesDone });
      return true;
    };
    void run(emit, job.controller.signal).then(
      ({ failed }) => {
        if (cancelled()) return;
        settle(finishedSummary(job.progress.summary, failed));
        this.logger.log(failed === 0 ? 'info' : 'warn', `${kind}-job-finished`, { job: id, files: job.progress.summary.filesDone, failed });
      },
      (error: unknown) => {
        if (cancelled()) return;
        const info = error instanceof CosyncError ? error.toInfo() : { code: 'internal' as const, message: (error as Error)?.message ?? String(error) };
        settle({ ...job.progress.summary, state: 'failed', error: info });
        this.logger.log('error', `${kind}-job-failed`, { job: id, code: info.code, message: info.message });
      },
    );
    return job.progress.summary;
  }

  /**
   * Cancels a running job: its signal aborts, and the run stops as its transfers notice. A job
   * that already ended is left as it is; an unknown id is a usage error.
   */
  cancel(jobId: string): JobSummary {
    const job = this.#jobs.get(jobId);
    if (job === undefined) throw new CosyncError('usage', `no job with id ${JSON.stringify(jobId)}; sync:jobs lists the jobs`);
    if (job.progress.summary.state === 'running') job.controller.abort(new CosyncError('aborted', 'cancelled'));
    return job.progress.summary;
  }

  /** Cancels every running job (the daemon is stopping). */
  cancelAll(): void {
    for (const job of this.#jobs.values()) if (job.progress.summary.state === 'running') job.controller.abort(new CosyncError('aborted', 'the engine is stopping'));
  }
}
