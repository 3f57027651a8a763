/**
 * Test support for the renderer's component tests: a scriptable in-memory Transport and builders
 * for the contract's values. Only *.test.* files import it.
 *
 * Why `.mts`: renderer/tsconfig.json builds every src/**\/*.ts(x) except *.test.ts(x); a .mts file
 * matches neither pattern, so this never reaches the renderer build, while tsconfig.test.json
 * typechecks it through the tests that import it. (vitest only collects *.test.ts(x).)
 */
import { vi } from 'vitest';
import type { ActivityEntry, Channel, EngineEvent, FolderOverview, JobSummary, KeySummary, Overview, RequestOf, ResponseOf } from '../../app/contract.js';
import { err, ok, type CosyncErrorInfo, type Result } from '../../app/result.js';
import type { FileStateName, FileStatus, FileSyncState, StateCounts } from '../../app/sync-status.js';
import type { DroppedFile, Transport } from './transport.js';

/** How the fake answers one channel: a Result, or a promise of one (to hold an answer back). */
export type FakeHandler<C extends Channel> = (request: RequestOf<C>) => ResponseOf<C> | Promise<ResponseOf<C>>;
export type FakeHandlers = { [C in Channel]?: FakeHandler<C> };

export interface RecordedCall {
  readonly channel: Channel;
  readonly request: unknown;
}

/**
 * A Transport whose answers the test chooses per channel; records every call, and lets the test
 * push engine events. A channel without a handler answers an `unsupported` error, so a test sees
 * an unexpected call instead of hanging.
 */
export class FakeTransport implements Transport {
  kind: Transport['kind'] = 'browser';
  readonly calls: RecordedCall[] = [];
  readonly listeners = new Set<(event: EngineEvent) => void>();
  readonly prepareDrop = vi.fn(async (files: ReadonlyArray<DroppedFile>, onProgress: (bytesSent: number) => void): Promise<Result<string[]>> => {
    onProgress(files.reduce((sum, item) => sum + item.file.size, 0));
    return ok([...new Set(files.map((item) => `/drops/${item.relativePath.split('/')[0]}`))]);
  });

  constructor(readonly handlers: FakeHandlers = {}) {}

  /** Sets (or replaces) the answer of one channel. */
  on<C extends Channel>(channel: C, handler: FakeHandler<C>): this {
    (this.handlers as Record<Channel, unknown>)[channel] = handler;
    return this;
  }

  call = async <C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
    this.calls.push({ channel, request });
    const handler = this.handlers[channel] as FakeHandler<C> | undefined;
    if (handler === undefined) return err({ code: 'unsupported', message: `fake transport: no answer for ${channel}` });
    return handler(request);
  };

  subscribe = (listener: (event: EngineEvent) => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Pushes an event to every subscriber, as the engine does. */
  emit(event: EngineEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** The requests sent on one channel, oldest first. */
  requests<C extends Channel>(channel: C): RequestOf<C>[] {
    return this.calls.filter((call) => call.channel === channel).map((call) => call.request as RequestOf<C>);
  }
}

/** A promise with its resolve function outside, to hold an answer back until the test says so. */
export function deferred<T>(): { readonly promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

export const failure = (message: string, code: CosyncErrorInfo['code'] = 'internal') => err({ code, message });
export { ok };

export function counts(partial: Partial<Record<FileStateName, number>> = {}): StateCounts {
  return { queued: 0, hashing: 0, uploading: 0, verifying: 0, synced: 0, error: 0, ignored: 0, conflict: 0, ...partial };
}

export function folder(overrides: Partial<FolderOverview> & { readonly id: string }): FolderOverview {
  return {
    localPath: `/home/me/${overrides.id}`,
    endpoint: 'https://cos.ap-guangzhou.myqcloud.com',
    bucket: 'photos-1250000000',
    prefix: `${overrides.id}/`,
    sse: 'cos',
    keyName: undefined,
    policy: 'keep',
    activity: 'idle',
    problem: undefined,
    degraded: undefined,
    counts: counts(),
    bytesTotal: 0,
    bytesPending: 0,
    bytesPerSecond: 0,
    etaSeconds: undefined,
    ...overrides,
  };
}

export function overview(folders: ReadonlyArray<FolderOverview>, overrides: Partial<Overview> = {}): Overview {
  return { version: '1.2.3', paused: false, bandwidthLimit: null, concurrency: { files: 8, parts: 8 }, folders, throughput: [], ...overrides };
}

export function status(folderId: string, path: string, state: FileSyncState | FileStateName, changedAt = 1_000): FileStatus {
  return { folderId, path, status: typeof state === 'string' ? stateOf(state) : state, changedAt };
}

function stateOf(name: FileStateName): FileSyncState {
  switch (name) {
    case 'uploading':
      return { state: 'uploading', bytesDone: 50, bytesTotal: 100 };
    case 'error':
      return { state: 'error', code: 'access-denied', message: 'Access denied by the bucket policy', retryAt: null };
    case 'ignored':
      return { state: 'ignored', reason: 'matches .cosyncignore' };
    case 'conflict':
      return { state: 'conflict', message: 'Changed here and in the bucket' };
    default:
      return { state: name };
  }
}

export function job(overrides: Partial<JobSummary> & { readonly id: string }): JobSummary {
  return { kind: 'backup', title: `Job ${overrides.id}`, state: 'running', filesDone: 0, filesFailed: 0, files: 1, bytesDone: 0, bytes: 100, error: undefined, startedAt: 0, ...overrides };
}

export function key(overrides: Partial<KeySummary> & { readonly name: string }): KeySummary {
  return { fingerprint: `fp-${overrides.name}`, createdAt: '2026-01-01T00:00:00.000Z', kitExportedAt: undefined, folders: [], ...overrides };
}

export function activity(overrides: Partial<ActivityEntry> & { readonly text: string }): ActivityEntry {
  return { time: '2026-01-01T10:00:00.000Z', level: 'info', event: 'sync', folder: undefined, ...overrides };
}

/** A transport for a connected engine with these folders (no jobs, no activity, no keys). */
export function connectedTransport(folders: ReadonlyArray<FolderOverview> = [], overrides: Partial<Overview> = {}): FakeTransport {
  return new FakeTransport({
    'sync:overview': () => ok(overview(folders, overrides)),
    'sync:jobs': () => ok([]),
    'sync:activity': () => ok([]),
    'sync:keys': () => ok([]),
  });
}
