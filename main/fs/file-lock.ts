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
 * STALE_LOCK_MS (a holder on another host, or a pid reused by an unrelated process). A verdict
 * of stale is acted on only under a second lock (`config.json.lock.break`) and only if the same
 * lock is still in place — see breakStale for the lost change it prevents. Holders are
 * milliseconds long; a waiter gives up with a clear error only when one holder keeps the lock
 * for `waitMs` — a long queue of holders that come and go is progress, not a reason to fail.
 *
 * Not an engine lock: a config change never waits for a running sync (main/engine/engine-lock.ts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
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

function newRecord(): LockRecord {
  return { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex'), takenAt: new Date().toISOString() };
}

async function acquire(lockFile: string, options: FileLockOptions): Promise<string> {
  const record = newRecord();
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
    if (holder.stale && (await breakStale(lockFile, holder, options))) continue;
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

/** Who holds a lock, as one read saw it: the record and the file it was read from (its inode). */
type Holder = { readonly record: LockRecord | undefined; readonly inode: number; readonly stale: boolean } | 'gone';

/**
 * Who holds the lock, and whether that holder is gone for good. Content, age and inode come from
 * one open file, so they describe the same lock even if it is replaced meanwhile.
 */
async function readHolder(lockFile: string): Promise<Holder> {
  let text: string;
  let ageMs: number;
  let inode: number;
  try {
    const handle = await open(lockFile, 'r');
    try {
      const info = await handle.stat();
      text = await handle.readFile('utf8');
      ageMs = Date.now() - info.mtimeMs;
      inode = info.ino;
    } finally {
      await handle.close();
    }
  } catch {
    // Released between our attempt and this look: try again at once.
    return 'gone';
  }
  const record = parseRecord(text);
  if (ageMs > STALE_LOCK_MS) return { record, inode, stale: true };
  // Empty or unreadable: a lock being taken in place (no hard links), or an old format; only age ends it.
  if (record === undefined || record.host !== hostname()) return { record, inode, stale: false };
  if (record.pid === process.pid) return { record, inode, stale: !heldHere.has(record.token) };
  return { record, inode, stale: !isProcessAlive(record.pid) };
}

/** Whether two reads saw the same lock (not a later one that took its place). */
function sameLock(first: Holder, second: Holder): boolean {
  return first !== 'gone' && second !== 'gone' && first.inode === second.inode && first.record?.token === second.record?.token;
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
 * Removes the lock `stale` saw, if it is still the one in place; true if the lock may be free now.
 *
 * The verdict came from a read that may be old by now: its holder may have released the lock
 * normally and exited since (an ordinary CLI command does exactly that), and the lock in place is
 * then a live one taken after it. Removing "the lock file" on that verdict removed a live lock,
 * and two processes changed the config at once — one of their changes was lost. So the lock is
 * removed only by the one waiter that holds the break lock (`LOCK.break`), and only if a read made
 * under it, after the verdict, still finds the same lock: its holder was dead before that read,
 * and a dead holder cannot release, so nothing but this waiter can replace it until it is removed.
 */
async function breakStale(lockFile: string, stale: Holder, options: FileLockOptions): Promise<boolean> {
  const breakFile = `${lockFile}.break`;
  const breaker = newRecord();
  if (!(await create(breakFile, breaker, options))) {
    // Another waiter is breaking it — or died doing so (killed within those milliseconds): then its
    // break lock is stale, and confirmed by a second read after the verdict, as above.
    const other = await readHolder(breakFile);
    if (other !== 'gone' && other.stale && sameLock(other, await readHolder(breakFile))) await removeAside(breakFile, other.record?.token);
    return false;
  }
  heldHere.add(breaker.token);
  try {
    if (!sameLock(stale, await readHolder(lockFile))) return true;
    await rm(lockFile, { force: true });
    return true;
  } finally {
    await release(breakFile, breaker.token);
  }
}

/**
 * Removes a stale break lock: renamed aside first (atomic, so of two waiters removing it only one
 * succeeds), then checked; if a fresh one was moved instead, it is linked back. Of two breakers
 * left at once by that, each still removes only a lock it found dead, so the worst case needs a
 * breaker killed mid-break plus three waiters within the same microseconds.
 */
async function removeAside(file: string, staleToken: string | undefined): Promise<void> {
  const aside = `${file}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(file, aside);
  } catch {
    return; // Someone else removed it first.
  }
  try {
    const moved = parseRecord(await readFile(aside, 'utf8').catch(() => ''));
    if (moved !== undefined && moved.token !== staleToken) await link(aside, file).catch(() => undefined);
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
