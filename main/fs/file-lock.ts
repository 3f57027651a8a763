/**
 * A short-lived lock between processes, for read-modify-write of a small file that several cosync
 * processes share (config.json, the file keystore): the CLI, `serve` and the desktop app may
 * change the same file at the same moment, and without the lock one of them writes back a copy
 * that lacks the other's change.
 *
 * The lock is a file beside the data (`config.json.lock`) holding who took it:
 * `{"pid", "host", "token", "takenAt"}`. It appears whole — written to a temporary name first,
 * then hard-linked into place, which fails if the lock exists (link(2) is atomic and exclusive,
 * also on NFS) — so a half-written lock is never seen.
 *
 * A lock is stale, and taken over, when its holder ran on this host and is dead (kill -9, power
 * cut: the kernel answers ESRCH at once, no waiting), when it names this process without being
 * one this process holds (a pid reused after a restart), or when it is older than
 * STALE_LOCK_MS (a holder on another host, or a pid reused by an unrelated process). Holders are
 * milliseconds long; a waiter gives up with a clear error only when one holder keeps the lock
 * for `waitMs` — a long queue of holders that come and go is progress, not a reason to fail.
 *
 * Not an engine lock: a config change never waits for a running sync (main/engine/engine-lock.ts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { CosyncError, type ErrorCode } from '../../app/result.js';
import { isProcessAlive } from './process-alive.js';

/** How long one holder may keep a lock before a waiter gives up. */
const DEFAULT_WAIT_MS = 10_000;
/** A lock older than this is left over, whoever it names (a change takes milliseconds). */
const STALE_LOCK_MS = 60_000;

/** What the lock protects, for the error a waiter reports. */
export interface FileLockOptions {
  /** Names the protected file in messages, e.g. `the config /home/a/.config/cosync/config.json`. */
  readonly subject: string;
  /** The code of the error when the lock cannot be taken. */
  readonly code: ErrorCode;
  /** How long one holder may keep the lock before we give up (default 10 s). */
  readonly waitMs?: number;
}

interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly takenAt: string;
}

/** Tokens of the locks this process holds now. */
const heldHere = new Set<string>();
/** Callers in this process queue here first, so they do not poll against each other. */
const queues = new Map<string, Promise<unknown>>();

/** Runs `critical` holding the lock file `lockFile` (exclusive across processes and within this one). */
export async function withFileLock<T>(lockFile: string, options: FileLockOptions, critical: () => Promise<T>): Promise<T> {
  const before = queues.get(lockFile) ?? Promise.resolve();
  const turn = before.then(async () => {
    const token = await acquire(lockFile, options);
    try {
      return await critical();
    } finally {
      await release(lockFile, token);
    }
  });
  const settled = turn.catch(() => undefined);
  queues.set(lockFile, settled);
  void settled.then(() => {
    if (queues.get(lockFile) === settled) queues.delete(lockFile);
  });
  return turn;
}

async function acquire(lockFile: string, options: FileLockOptions): Promise<string> {
  const record: LockRecord = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex'), takenAt: new Date().toISOString() };
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  let holderToken: string | undefined;
  let holderSince = Date.now();
  for (;;) {
    if (await create(lockFile, record, options)) {
      heldHere.add(record.token);
      return record.token;
    }
    const holder = await readHolder(lockFile);
    if (holder === 'gone') continue;
    if (holder.stale) {
      await breakStale(lockFile, holder.record?.token);
      continue;
    }
    const token = holder.record?.token;
    if (token !== holderToken) {
      holderToken = token;
      holderSince = Date.now();
    } else if (Date.now() - holderSince > waitMs) {
      const pid = holder.record?.pid;
      throw new CosyncError(
        options.code,
        `${options.subject} is being changed by another cosync process${pid === undefined ? '' : ` (pid ${pid})`} that has held its lock for over ${waitMs >= 1000 ? `${Math.round(waitMs / 1000)} s` : `${waitMs} ms`}; try again, or delete ${lockFile} if no cosync is running`,
      );
    }
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 10 + Math.random() * 30));
  }
}

/** Creates the lock whole; false when another holder has it. */
async function create(lockFile: string, record: LockRecord, options: FileLockOptions): Promise<boolean> {
  const draft = `${lockFile}.${record.token}`;
  const failure = (error: unknown): CosyncError =>
    new CosyncError(options.code, `cannot lock ${options.subject} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message} on ${lockFile})`);
  try {
    const handle = await open(draft, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record));
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw failure(error);
  }
  try {
    await link(draft, lockFile);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // File systems without hard links (FAT, some FUSE mounts): an exclusive create of the lock
    // itself; its content follows a moment later, and readHolder treats an empty lock as being taken.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') return createInPlace(lockFile, record, failure);
    throw failure(error);
  } finally {
    await rm(draft, { force: true });
  }
}

async function createInPlace(lockFile: string, record: LockRecord, failure: (error: unknown) => CosyncError): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockFile, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw failure(error);
  }
  try {
    await handle.writeFile(JSON.stringify(record));
  } finally {
    await handle.close();
  }
  return true;
}

type Holder = { readonly record: LockRecord | undefined; readonly stale: boolean } | 'gone';

/** Who holds the lock, and whether that holder is gone for good. */
async function readHolder(lockFile: string): Promise<Holder> {
  let text: string;
  let ageMs: number;
  try {
    const [content, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
    text = content;
    ageMs = Date.now() - info.mtimeMs;
  } catch {
    // Released between our attempt and this look: try again at once.
    return 'gone';
  }
  const record = parseRecord(text);
  if (ageMs > STALE_LOCK_MS) return { record, stale: true };
  // Empty or unreadable: a lock being taken in place (no hard links), or an old format; only age ends it.
  if (record === undefined || record.host !== hostname()) return { record, stale: false };
  if (record.pid === process.pid) return { record, stale: !heldHere.has(record.token) };
  return { record, stale: !isProcessAlive(record.pid) };
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') return value as LockRecord;
  } catch {
    // Not ours, or half written.
  }
  // The keystore's older locks held just the pid.
  const pid = Number(text);
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, host: hostname(), token: `pid:${pid}`, takenAt: '' } : undefined;
}

/**
 * Removes a stale lock — but only the one judged stale: it is first renamed aside (atomic, so of
 * two waiters breaking it only one succeeds), then checked. If a fresh lock was moved instead
 * (another waiter broke the stale one and took the lock in between), it is linked back.
 */
async function breakStale(lockFile: string, staleToken: string | undefined): Promise<void> {
  const aside = `${lockFile}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockFile, aside);
  } catch {
    return; // Someone else broke it first.
  }
  try {
    const moved = parseRecord(await readFile(aside, 'utf8').catch(() => ''));
    if (moved !== undefined && moved.token !== staleToken) {
      // A live holder's lock: put it back. If yet another process took the lock meanwhile, two
      // processes now hold it — that needs a dead holder plus three processes in the same
      // milliseconds, and the price is one lost change of the two, never a damaged file.
      await link(aside, lockFile).catch(() => undefined);
    }
  } finally {
    await rm(aside, { force: true });
  }
}

/** Removes our lock (only if it is still ours). */
async function release(lockFile: string, token: string): Promise<void> {
  heldHere.delete(token);
  const current = parseRecord(await readFile(lockFile, 'utf8').catch(() => ''));
  if (current?.token === token) await rm(lockFile, { force: true });
}
