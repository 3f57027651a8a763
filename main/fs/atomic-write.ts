/**
 * Replacing a file so that a crash or a power cut leaves the old file or the new one, whole —
 * never an empty or half-written one. Every cosync write of a file that matters goes through
 * here: config.json, the engine record, recovery kits, the file keystore, .cosyncignore, and a
 * restored file's final rename.
 *
 *   write TEMP (beside the file) ─► fsync TEMP ─► rename TEMP → FILE ─► fsync the folder
 *
 * - fsync before the rename: otherwise the file system may commit the rename before the data, and
 *   after a power cut FILE exists with length zero (the kernel's ext4 documentation,
 *   Documentation/admin-guide/ext4.rst, on `auto_da_alloc`, describes exactly this pattern).
 * - fsync of the folder after it: fsync(2) says fsync of a file "does not necessarily ensure that
 *   the entry in the directory containing the file has also reached disk. For that an explicit
 *   fsync() on a file descriptor for the directory is also needed." Windows cannot open a folder
 *   for it (nor needs it).
 * - TEMP is named `FILE.<pid>-<random>.cosync-partial`: the sync engine's built-in ignore rules
 *   skip it, and a later write of the same file removes TEMPs whose process is dead (a process
 *   killed between write and rename), so leftovers never pile up or pass for data.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isProcessAlive } from './process-alive.js';

/** Suffix of every temporary file cosync writes beside its destination (ignored by the scanner). */
export const PARTIAL_SUFFIX = '.cosync-partial';

/** How to write. */
export interface AtomicWriteOptions {
  /** The file's mode, exactly (not reduced by the umask); default 0666 less the umask. */
  readonly mode?: number;
  /**
   * False: fail with EEXIST if the file exists, as open(…, 'wx') would — decided atomically, at
   * the moment the whole file appears (a hard link that refuses to replace). Default true.
   */
  readonly overwrite?: boolean;
}

/** Writes `data` to `file` atomically and durably (see the module comment). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const temporary = `${file}.${process.pid}-${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`;
  try {
    const handle = await open(temporary, 'wx', options.mode ?? 0o666);
    try {
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.overwrite === false) await linkExclusively(temporary, file);
    else await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(dirname(file));
  await removeStaleTemporaries(file);
}

/**
 * Moves a finished temporary file (written by the caller, e.g. a download) over `destination`:
 * fsync it, rename, fsync the folder.
 */
export async function commitTemporaryFile(temporary: string, destination: string): Promise<void> {
  const handle = await open(temporary, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, destination);
  await syncFolder(dirname(destination));
}

/** Gives `temporary` the name `file` unless that exists, then drops the temporary name. */
async function linkExclusively(temporary: string, file: string): Promise<void> {
  try {
    await link(temporary, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No hard links here (FAT and exFAT USB sticks, some FUSE mounts): check, then rename. Only a
    // writer racing us for the same new name between the two steps could be replaced.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    const existing = await lstat(file).catch(() => undefined);
    if (existing !== undefined) throw Object.assign(new Error(`EEXIST: file already exists, ${file}`), { code: 'EEXIST', path: file });
    await rename(temporary, file);
    return;
  }
  await rm(temporary, { force: true });
}

/** Makes the folder's entries (a rename into it) durable. */
async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems (certain FUSE and network mounts) cannot fsync a folder: EINVAL.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

/** Removes temporaries of `file` left by processes that died between their write and rename. */
async function removeStaleTemporaries(file: string): Promise<void> {
  const name = basename(file);
  const folder = dirname(file);
  const entries = await readdir(folder).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!entry.startsWith(`${name}.`) || !entry.endsWith(PARTIAL_SUFFIX)) continue;
    const match = /^(\d+)-[0-9a-f]{12}$/.exec(entry.slice(name.length + 1, -PARTIAL_SUFFIX.length));
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && !isProcessAlive(pid)) await rm(join(folder, entry), { force: true });
  }
}
