/**
 * Scheduling of one folder's actions: plan what may have something to do, hold back what must
 * wait (paths busy, failures before their retry time, a vanished path's rename grace), and feed
 * the rest to the shared file queue, small files first. `converge` plans and runs until nothing
 * is left (`cosync sync --once`); the daemon's loop calls `startPlan` once per cycle.
 *
 *   trees.changed + waiting + failing ─► planSync ─► hold back ─► file queue ─► executor
 *                                                                   └─ outcome → trees (changed)
 */
import type PQueue from 'p-queue';
import type { CosyncErrorInfo } from '../../app/result.js';
import { pathStamp, type LocalFile, type RemoteFile, type SyncAction, type SyncedFile } from '../../app/sync-model.js';
import { holdsSyncedContent, pathsOf, planSync } from '../../app/sync-planner.js';
import type { SyncErrorRecord } from '../journal/journal.js';
import type { Clock } from './clock.js';
import type { ExecutorContext } from './executor-context.js';
import type { FolderObserver } from './folder-observer.js';
import type { FolderTrees } from './folder-trees.js';
import { executeAction, primaryPath, recordFailure } from './run-action.js';

/** How long the disposal of a path the watcher saw vanish waits for its other half of a rename. */
const RENAME_GRACE_MS = 3000;

/** What one plan started. */
export interface PlanRound {
  readonly ran: number;
  readonly waiting: number;
  readonly nextRetryAt: number | undefined;
  /** Settles when every action started has finished. */
  readonly finished: Promise<void>;
}

/** What the scheduler needs from the folder around it. */
export interface SchedulerServices {
  readonly trees: FolderTrees;
  readonly observer: FolderObserver;
  readonly fileQueue: PQueue;
  readonly clock: Clock;
  /** The executors' context for a plan run under `signal`. */
  executorContext(signal: AbortSignal | undefined): ExecutorContext;
  /** Whether a plan may start (not paused or closed, no folder problem). */
  mayPlan(): boolean;
  /** Whether a started plan may feed more actions to the queue (not paused or closed). */
  mayFeed(): boolean;
  /** An action failed: a run-fatal error stops the folder; a changed file is observed again. */
  onDidFail(path: string, error: CosyncErrorInfo & { readonly code: string }): void;
}

export class FolderScheduler {
  /** Paths of the last plan's actions that did not start: looked at again by the next plan. */
  #waitingPaths = new Set<string>();
  #remoteOnly = 0;
  /** Actions running now, and who waits for none to be (close()). */
  #running = 0;
  readonly #idleWaiters: Array<() => void> = [];
  #closed = false;

  constructor(private readonly services: SchedulerServices) {}

  /** Objects in the bucket with no local file (found by the last full plan). */
  get remoteOnly(): number {
    return this.#remoteOnly;
  }

  #planOptions(): Parameters<typeof planSync>[1] {
    const { trees, observer, clock } = this.services;
    return { policy: trees.config.policy, trashStamp: pathStamp(clock.now()), isIgnored: (path: string) => observer.rules.isIgnored(path, false) };
  }

  /** Computes the plan for the whole folder now (for status and dry runs). */
  plan(): ReturnType<typeof planSync> {
    return planSync(this.services.trees, this.#planOptions());
  }

  /** The plan for what may have something to do: everything after a full scan, else the candidates. */
  #nextPlan(): ReturnType<typeof planSync> {
    const { trees } = this.services;
    let plan: ReturnType<typeof planSync>;
    if (trees.planEverything) {
      trees.planEverything = false;
      trees.changed.clear();
      plan = planSync(trees, this.#planOptions());
      this.#remoteOnly = plan.remoteOnly;
    } else {
      const candidates = new Set([...trees.changed, ...this.#waitingPaths, ...trees.errors.keys()]);
      trees.changed.clear();
      const local = new Map<string, LocalFile>();
      const remote = new Map<string, RemoteFile>();
      const synced = new Map<string, SyncedFile>();
      for (const path of candidates) {
        const l = trees.local.get(path);
        const r = trees.remote.get(path);
        const s = trees.synced.get(path);
        if (l !== undefined) local.set(path, l);
        if (r !== undefined) remote.set(path, r);
        if (s !== undefined) synced.set(path, s);
      }
      plan = planSync({ local, remote, synced }, this.#planOptions());
    }
    this.#waitingPaths = new Set(plan.actions.flatMap(pathsOf));
    return plan;
  }

  /** Publishes the state of every known path (after loading or a full scan). */
  publishStatus(status: ExecutorContext['status']): void {
    const { trees, observer } = this.services;
    const pending = new Set(this.plan().actions.flatMap((action) => (action.kind === 'forget' || action.kind === 'refresh' ? [] : pathsOf(action))));
    for (const [path, file] of trees.local) {
      const error = trees.errors.get(path);
      const synced = trees.synced.get(path);
      if (error !== undefined) status.failed(path, error);
      else if (pending.has(path)) status.queued(path);
      else if (synced !== undefined && holdsSyncedContent(file, synced)) status.synced(path);
    }
    for (const skipped of observer.skipped) status.ignored(skipped.path, skipped.reason);
    for (const [path, error] of trees.errors) if (observer.isRefusal(path, error)) status.failed(path, error);
  }

  /**
   * Starts one plan: every action whose paths are free and not waiting for a retry goes to the
   * file queue. Returns at once with what started; `finished` settles when those actions have.
   */
  startPlan(options: { maxAttempts?: number | undefined; signal?: AbortSignal | undefined } = {}): PlanRound {
    if (!this.services.mayPlan()) return { ran: 0, waiting: 0, nextRetryAt: undefined, finished: Promise.resolve() };
    const { trees, observer, clock } = this.services;
    const plan = this.#nextPlan();
    const context = this.services.executorContext(options.signal);
    this.#clearSettledErrors(plan.actions, context);
    const now = clock.now();
    for (const [path, vanishedAt] of observer.vanishedAt) if (vanishedAt + RENAME_GRACE_MS <= now || trees.local.has(path)) observer.vanishedAt.delete(path);
    const runnable: SyncAction[] = [];
    let waiting = 0;
    let nextRetryAt: number | undefined;
    for (const action of plan.actions) {
      const paths = pathsOf(action);
      if (paths.some((path) => trees.busy.has(path))) {
        waiting++;
        continue;
      }
      if (action.kind === 'delete-remote' || action.kind === 'trash-remote' || action.kind === 'forget') {
        const vanishedAt = observer.vanishedAt.get(action.path);
        if (vanishedAt !== undefined && vanishedAt + RENAME_GRACE_MS > now && !trees.local.has(action.path)) {
          waiting++;
          nextRetryAt = Math.min(nextRetryAt ?? Infinity, vanishedAt + RENAME_GRACE_MS);
          continue;
        }
        observer.vanishedAt.delete(action.path);
      }
      const blocked = paths
        .map((path) => trees.errors.get(path))
        .find((error) => error !== undefined && (isHeld(error) || (options.maxAttempts !== undefined && error.attempts >= options.maxAttempts) || (error.retryAt ?? 0) > now));
      if (blocked !== undefined) {
        // An error the policy never retries waits for someone to act (retryNow, a change of the file), not for a time.
        if (!isHeld(blocked) && (options.maxAttempts === undefined || blocked.attempts < options.maxAttempts)) {
          waiting++;
          nextRetryAt = Math.min(nextRetryAt ?? Infinity, blocked.retryAt ?? now);
        }
        continue;
      }
      runnable.push(action);
    }
    // Started actions mark their paths changed when they finish; only the others must be looked at again.
    for (const action of runnable) for (const path of pathsOf(action)) this.#waitingPaths.delete(path);
    // Small files first: many finish quickly, and a big file does not hold up a folder of small ones.
    runnable.sort((a, b) => sizeOf(a) - sizeOf(b));
    for (const action of runnable) {
      for (const path of pathsOf(action)) trees.busy.add(path);
      if (action.kind !== 'forget' && action.kind !== 'refresh') context.status.queued(primaryPath(action));
    }
    return { ran: runnable.length, waiting, nextRetryAt, finished: this.#feed(runnable, context, options.signal) };
  }

  /**
   * Feeds the shared queue a few actions at a time, so 100,000 actions are an array, not 100,000
   * queued closures and promises; the queue's own cap still decides how many run. Pausing or
   * cancelling stops the feeding; what already started finishes (or is cut off by the signal).
   */
  async #feed(runnable: ReadonlyArray<SyncAction>, context: ExecutorContext, signal: AbortSignal | undefined): Promise<void> {
    const { trees, fileQueue } = this.services;
    let next = 0;
    const feeder = async (): Promise<void> => {
      while (next < runnable.length && this.services.mayFeed() && signal?.aborted !== true) {
        const action = runnable[next++] as SyncAction;
        try {
          await fileQueue.add(() => this.#execute(action, context), { priority: action.kind === 'forget' || action.kind === 'refresh' ? 2 : sizeOf(action) < 1024 * 1024 ? 1 : 0 });
        } finally {
          for (const path of pathsOf(action)) trees.busy.delete(path);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(runnable.length, Math.max(1, fileQueue.concurrency) * 2) }, feeder));
    // Actions never started (paused, cancelled) are free again and planned anew next time.
    for (const action of runnable.slice(next)) {
      for (const path of pathsOf(action)) {
        trees.busy.delete(path);
        trees.changed.add(path);
      }
    }
  }

  async #execute(action: SyncAction, context: ExecutorContext): Promise<void> {
    // Queued before the folder was removed: nothing of it may run (or write its journal rows back).
    if (this.#closed) return;
    const { trees } = this.services;
    // Queued before the run was cancelled: it never starts, and is planned again next time.
    if (isCancelled(context.signal)) {
      for (const path of pathsOf(action)) trees.changed.add(path);
      return;
    }
    this.#running++;
    try {
      await executeAction(context, action);
    } catch (error) {
      const path = primaryPath(action);
      if (isCancelled(context.signal)) {
        // Cancelled, not failed: no error, no backoff; the next run plans it again (a multipart upload resumes from the journal).
        trees.changed.add(path);
        context.status.queued(path);
      } else {
        this.services.onDidFail(path, recordFailure(context, path, error));
      }
    } finally {
      this.#running--;
      if (this.#running === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /** An error of a path with nothing left to do (deleted, ignored, or fixed from outside) is history. */
  #clearSettledErrors(actions: ReadonlyArray<SyncAction>, context: ExecutorContext): void {
    const { trees, observer } = this.services;
    if (trees.errors.size === 0) return;
    const planned = new Set(actions.flatMap(pathsOf));
    for (const [path, error] of [...trees.errors]) {
      if (planned.has(path) || trees.busy.has(path) || observer.isRefusal(path, error)) continue;
      trees.recordError(path, null);
      if (!trees.local.has(path)) context.status.forget(path);
    }
  }

  /**
   * Plans and runs until nothing is left (or only failures that used their attempts). For
   * `cosync sync --once`: failures are retried after their backoff, at most `maxAttempts` times.
   * `problem` is asked after each round: a folder problem ends the run.
   */
  async converge(options: { maxAttempts: number; signal?: AbortSignal | undefined }, problem: () => Error | undefined): Promise<number> {
    let actionsRun = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const round = this.startPlan(options);
      await round.finished;
      options.signal?.throwIfAborted();
      actionsRun += round.ran;
      const stop = problem();
      if (stop !== undefined) throw stop;
      if (round.ran > 0) continue;
      if (round.waiting === 0 || round.nextRetryAt === undefined) break;
      await this.services.clock.sleep(Math.max(0, round.nextRetryAt - this.services.clock.now()), options.signal);
    }
    return actionsRun;
  }

  /** Stops for good: nothing new starts, queued actions are dropped, and it resolves once those in flight have finished. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#running === 0 ? Promise.resolve() : new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}

/** A failure recorded with no retry time (error policy `never`): held until someone acts. */
function isHeld(error: SyncErrorRecord): boolean {
  return error.retryAt === null;
}

/** A function, not an inline test: TypeScript would keep `aborted` narrowed to false across the await in between. */
function isCancelled(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function sizeOf(action: SyncAction): number {
  return 'sizeBytes' in action ? action.sizeBytes : 0;
}
