/**
 * Observes a sync folder on disk: walks it (or part of it), stats every file, and hashes only
 * the files whose size or mtime differ from what is already known — so a no-change rescan of
 * 100,000 files is a walk and a stat each, nothing more.
 *
 * The walk uses synchronous readdir/lstat in slices, yielding to the event loop between slices:
 * for tens of thousands of tiny calls that is several times faster than one promise per call,
 * and uploads in flight keep moving.
 *
 * Safety: a folder that cannot be read is reported, never treated as empty — otherwise a
 * permissions glitch or an unmounted drive would look like "every file was deleted".
 *
 * Files that cannot become objects are refused, each with its own error (the folder reports them
 * as failed files): names that are not UTF-8 (see transfer/file-names.ts), the second of two names
 * that differ only in Unicode normalization (one key for both: the one spelled in NFC on disk wins,
 * so repeated scans always pick the same one), and keys over the store's length limit.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, lstatSync, openSync, readdirSync, readSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IgnoreRules } from '../../app/ignore-rules.js';
import { keyLengthProblem, normalizationTwinProblem } from '../../app/object-key.js';
import type { CosyncError } from '../../app/result.js';
import type { LocalFile, SyncedFile } from '../../app/sync-model.js';
import { readDirectorySync, undecodableNameProblem, type NamedEntry } from '../transfer/file-names.js';

/** Files read whole to hash them; larger ones are streamed. */
const WHOLE_READ_LIMIT = 4 * 1024 * 1024;
/** Files up to this size are hashed in the walk itself, synchronously: far cheaper than a promise chain each. */
const INLINE_HASH_LIMIT = 256 * 1024;
/** How many directory entries are handled between yields to the event loop. */
const ENTRIES_PER_SLICE = 2000;

/** What a scan found. */
export interface ScanResult {
  /** Files by folder-relative NFC path. */
  readonly files: Map<string, LocalFile>;
  /** Folder-relative paths of directories that could not be read: what was known under them still stands. */
  readonly unreadable: Array<{ path: string; reason: string }>;
  /** Entries not synced and why (symbolic links, special files). */
  readonly skipped: Array<{ path: string; reason: string }>;
  /** Files (or folders) that cannot be stored, by their disk path (printable for names that are not UTF-8). */
  readonly refused: Array<{ path: string; error: CosyncError }>;
  /** Files and folders excluded by ignore rules. */
  ignored: number;
  /** Files hashed because they were new or changed. */
  hashed: number;
}

/** What is already known about files, to avoid hashing unchanged ones. */
export interface KnownFiles {
  readonly local: ReadonlyMap<string, LocalFile>;
  readonly synced: ReadonlyMap<string, SyncedFile>;
  /** Told before a file too large to hash inline is read whole (it can take a while: the UI shows it). */
  readonly onWillHash?: (path: string) => void;
  /** The object key of a folder-relative path, to refuse files whose key the store cannot take (default: the path). */
  readonly keyOf?: (path: string) => string;
}

/** An empty scan result, to fill. */
export function emptyScan(): ScanResult {
  return { files: new Map(), unreadable: [], skipped: [], refused: [], ignored: 0, hashed: 0 };
}

/** `path` followed by `name`, '/'-separated ('' is the folder itself). */
function childPath(directory: string, name: string): string {
  return directory === '' ? name : `${directory}/${name}`;
}

/**
 * Of several disk names that normalize to one path, the one stored: the one spelled in NFC on disk,
 * else the one already known, else the first in code-unit order — the same choice on every scan.
 */
function preferredTwin(diskPaths: ReadonlyArray<string>, knownDiskPath: string | undefined): string {
  return diskPaths.find((candidate) => candidate === candidate.normalize('NFC')) ?? diskPaths.find((candidate) => candidate === knownDiskPath) ?? ([...diskPaths].sort()[0] as string);
}

function fileIdOf(info: Stats): string {
  return `${info.dev}:${info.ino}`;
}

/** The hash to reuse for a file with this size and mtime, if any observation already has it. */
function knownHash(known: KnownFiles, path: string, sizeBytes: number, mtimeMs: number): string | null {
  const local = known.local.get(path);
  if (local !== undefined && local.hash !== null && local.sizeBytes === sizeBytes && local.mtimeMs === mtimeMs) return local.hash;
  const synced = known.synced.get(path);
  if (synced !== undefined && synced.hash !== null && synced.sizeBytes === sizeBytes && synced.mtimeMs === mtimeMs) return synced.hash;
  return null;
}

/** Hex MD5 of a file's content. */
export async function hashFile(absolutePath: string, sizeBytes: number, signal?: AbortSignal): Promise<string> {
  if (sizeBytes <= WHOLE_READ_LIMIT) return createHash('md5').update(await readFile(absolutePath, { signal })).digest('hex');
  const hash = createHash('md5');
  for await (const chunk of createReadStream(absolutePath, { highWaterMark: 1024 * 1024, signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Hashes a small file in one read, or returns null if it changed while being read (its size or
 * mtime moved) — then the hash would describe no version in particular.
 */
function hashSmallFileSync(absolutePath: string, before: Stats): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(absolutePath, 'r');
    const bytes = Buffer.allocUnsafe(before.size);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (read === 0) return null;
      filled += read;
    }
    const after = fstatSync(fd);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) return null;
    return createHash('md5').update(bytes).digest('hex');
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Hashes a file of any size, or returns null if it changed while being read or vanished: a hash
 * taken while a file is written describes no version in particular. The stat stands either way;
 * an upload reports a precise error if the file stays unreadable.
 */
async function hashIfUnchanged(absolutePath: string, sizeBytes: number, mtimeMs: number): Promise<string | null> {
  try {
    const hash = await hashFile(absolutePath, sizeBytes);
    const after = await stat(absolutePath);
    return after.size === sizeBytes && after.mtimeMs === mtimeMs ? hash : null;
  } catch {
    return null;
  }
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Scans the subtree at `relativeDirectory` ('' for the whole folder) under `root`.
 * Throws only when `root` itself is missing or unreadable.
 */
export async function scanTree(root: string, relativeDirectory: string, rules: IgnoreRules, known: KnownFiles, signal?: AbortSignal): Promise<ScanResult> {
  const result = emptyScan();
  const keyOf = known.keyOf ?? ((path: string) => path);
  const toHash: Array<{ path: string; absolute: string; file: LocalFile }> = [];
  const pending: string[] = [relativeDirectory];
  let sinceYield = 0;

  while (pending.length > 0) {
    const directory = pending.pop() as string;
    const absoluteDirectory = directory === '' ? root : join(root, directory);
    let entries: NamedEntry[];
    try {
      const listing = readDirectorySync(absoluteDirectory);
      entries = listing.entries;
      for (const entry of listing.undecodable) {
        const printable = childPath(directory, entry.printableName);
        if (rules.isIgnored(printable.normalize('NFC'), entry.isDirectory)) result.ignored++;
        else result.refused.push({ path: printable, error: undecodableNameProblem(entry.isDirectory) });
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      if (directory === relativeDirectory) throw error;
      result.unreadable.push({ path: directory.normalize('NFC'), reason: code });
      continue;
    }
    for (const entry of entries) {
      if (++sinceYield >= ENTRIES_PER_SLICE) {
        sinceYield = 0;
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
      const diskPath = childPath(directory, entry.name);
      const path = diskPath.normalize('NFC');
      const isDirectory = entry.isDirectory();
      if (rules.isIgnored(path, isDirectory)) {
        result.ignored++;
        continue;
      }
      if (isDirectory) {
        pending.push(diskPath);
      } else if (entry.isSymbolicLink()) {
        result.skipped.push({ path, reason: 'symbolic link (not followed)' });
      } else if (!entry.isFile()) {
        result.skipped.push({ path, reason: 'not a regular file' });
      } else {
        const absolute = join(root, diskPath);
        let info: Stats;
        try {
          info = lstatSync(absolute);
        } catch {
          continue; // Deleted between readdir and lstat: a later event or rescan settles it.
        }
        const twin = result.files.get(path);
        if (twin !== undefined) {
          const twinDiskPath = twin.diskPath ?? path;
          const kept = preferredTwin([twinDiskPath, diskPath], known.local.get(path)?.diskPath ?? (known.local.has(path) ? path : undefined));
          const refusedPath = kept === diskPath ? twinDiskPath : diskPath;
          result.refused.push({ path: refusedPath, error: normalizationTwinProblem(kept, keyOf(path)) });
          if (kept !== diskPath) continue;
          result.files.delete(path); // this one is stored instead; a hash queued for the other is dropped below
        }
        const tooLong = keyLengthProblem(keyOf(path));
        if (tooLong !== undefined) {
          result.refused.push({ path: diskPath, error: tooLong });
          continue;
        }
        let hash = knownHash(known, path, info.size, info.mtimeMs);
        if (hash === null && info.size <= INLINE_HASH_LIMIT) {
          hash = hashSmallFileSync(absolute, info);
          if (hash !== null) result.hashed++;
        }
        const file: LocalFile = { path, diskPath: diskPath === path ? undefined : diskPath, sizeBytes: info.size, mtimeMs: info.mtimeMs, fileId: fileIdOf(info), hash };
        result.files.set(path, file);
        if (hash === null && info.size > INLINE_HASH_LIMIT) toHash.push({ path, absolute, file });
      }
    }
  }

  // New and changed files are hashed (for rename detection and touch-only changes), a few at a time.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < toHash.length) {
      const item = toHash[next++] as (typeof toHash)[number];
      signal?.throwIfAborted();
      if (result.files.get(item.path) !== item.file) continue; // replaced by its normalization twin
      known.onWillHash?.(item.path);
      const hash = await hashIfUnchanged(item.absolute, item.file.sizeBytes, item.file.mtimeMs);
      if (hash !== null) {
        result.files.set(item.path, { ...item.file, hash });
        result.hashed++;
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return result;
}

/** Disk paths of the entries beside `diskPath` whose names normalize to the same NFC path (itself included). */
function normalizationTwins(root: string, diskPath: string): string[] {
  const slash = diskPath.lastIndexOf('/');
  const directory = slash === -1 ? '' : diskPath.slice(0, slash);
  const name = diskPath.slice(slash + 1).normalize('NFC');
  try {
    return readdirSync(directory === '' ? root : join(root, directory))
      .filter((candidate) => candidate.normalize('NFC') === name)
      .map((candidate) => childPath(directory, candidate));
  } catch {
    return [diskPath];
  }
}

/**
 * Observes single paths reported by the watcher: a file, a folder (scanned whole) or a path that
 * no longer exists. Returns the files now under each path (empty when gone) for the caller to merge.
 */
export async function scanPath(root: string, reportedDiskPath: string, rules: IgnoreRules, known: KnownFiles): Promise<ScanResult | 'gone'> {
  let diskPath = reportedDiskPath;
  const path = diskPath.normalize('NFC');
  let info: Stats;
  try {
    info = lstatSync(join(root, diskPath));
  } catch {
    return 'gone';
  }
  if (info.isDirectory()) {
    if (rules.isIgnored(path, true)) return { ...emptyScan(), ignored: 1 };
    try {
      return await scanTree(root, diskPath, rules, known);
    } catch (error) {
      return { ...emptyScan(), unreadable: [{ path, reason: (error as NodeJS.ErrnoException).code ?? 'unknown error' }] };
    }
  }
  const result = emptyScan();
  const key = (known.keyOf ?? ((relative: string) => relative))(path);
  // A name not in NFC, or another spelling than the one known, may have a twin beside it: the one
  // stored is chosen as a full scan chooses, so that the two never take turns in the bucket.
  const knownDiskPath = known.local.get(path)?.diskPath ?? (known.local.has(path) ? path : undefined);
  if (info.isFile() && (diskPath !== path || (knownDiskPath !== undefined && knownDiskPath !== diskPath))) {
    const twins = normalizationTwins(root, diskPath);
    if (twins.length > 1) {
      const kept = preferredTwin(twins, knownDiskPath);
      for (const twin of twins) if (twin !== kept) result.refused.push({ path: twin, error: normalizationTwinProblem(kept, key) });
      if (kept !== diskPath) {
        try {
          info = lstatSync(join(root, kept));
          diskPath = kept;
        } catch {
          // The twin went away meanwhile: this file is the only one, its own event follows.
        }
      }
    }
  }
  const tooLong = keyLengthProblem(key);
  if (rules.isIgnored(path, false)) {
    result.ignored++;
  } else if (info.isSymbolicLink()) {
    result.skipped.push({ path, reason: 'symbolic link (not followed)' });
  } else if (!info.isFile()) {
    result.skipped.push({ path, reason: 'not a regular file' });
  } else if (tooLong !== undefined) {
    result.refused.push({ path: diskPath, error: tooLong });
  } else {
    let hash = knownHash(known, path, info.size, info.mtimeMs);
    if (hash === null) {
      const absolute = join(root, diskPath);
      if (info.size > INLINE_HASH_LIMIT) known.onWillHash?.(path);
      hash = info.size <= INLINE_HASH_LIMIT ? hashSmallFileSync(absolute, info) : await hashIfUnchanged(absolute, info.size, info.mtimeMs);
      if (hash !== null) result.hashed++;
    }
    result.files.set(path, { path, diskPath: diskPath === path ? undefined : diskPath, sizeBytes: info.size, mtimeMs: info.mtimeMs, fileId: fileIdOf(info), hash });
  }
  return result;
}
