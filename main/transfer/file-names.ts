/**
 * File names that are not UTF-8. Linux allows any bytes but "/" and NUL in a name; Node reads
 * names as UTF-8 and replaces every undecodable byte with U+FFFD, so such a name read as a
 * string names no file (lstat of it is ENOENT) and cannot be an object key (keys are UTF-8).
 *
 * cosync does not back such files up: it reports each as a failed file with its own error. A
 * reversible key encoding (rclone's encoder quotes each bad byte, e.g. `‛FF`) was considered and
 * not taken: the escape character would itself have to be escaped in every ordinary name that
 * holds it (changing the keys of files already backed up), other tools reading the bucket would
 * show the escapes, and a restore to macOS or Windows could not recreate the bytes anyway. Renaming
 * the file (`convmv -f latin1 -t utf8`) is the fix the error names.
 *
 * Hot paths stay on strings: only a directory with a U+FFFD in some name is read again as bytes.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { CosyncError } from '../../app/result.js';

/** What the scanners use of a directory entry. */
export interface NamedEntry {
  readonly name: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** An entry whose name is not UTF-8, by its printable name. */
export interface UndecodableEntry {
  /** Valid UTF-8 kept as it is, every other byte as `\xNN` (e.g. `bad\xFF\xFEname.txt`). */
  readonly printableName: string;
  readonly isDirectory: boolean;
}

/** Whether a name read as UTF-8 may have lost bytes (cheap: one scan for U+FFFD). */
export function mayBeUndecodable(name: string): boolean {
  return name.includes('\uFFFD');
}

/** Whether these bytes are valid UTF-8 (decoding and encoding again gives them back). */
function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

/** The printable form of a name's bytes: decodable sequences as text, every other byte as `\xNN`. */
export function printableName(bytes: Buffer): string {
  let text = '';
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index] as number;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    const sequence = length === 0 ? undefined : bytes.subarray(index, index + length);
    if (sequence !== undefined && sequence.length === length && isUtf8(sequence)) {
      text += sequence.toString('utf8');
      index += length;
    } else {
      text += `\\x${lead.toString(16).toUpperCase().padStart(2, '0')}`;
      index++;
    }
  }
  return text;
}

function split(entries: ReadonlyArray<Dirent<Buffer>>): { entries: NamedEntry[]; undecodable: UndecodableEntry[] } {
  const decodable: NamedEntry[] = [];
  const undecodable: UndecodableEntry[] = [];
  for (const entry of entries) {
    if (isUtf8(entry.name)) {
      const name = entry.name.toString('utf8');
      decodable.push({ name, isFile: () => entry.isFile(), isDirectory: () => entry.isDirectory(), isSymbolicLink: () => entry.isSymbolicLink() });
    } else {
      undecodable.push({ printableName: printableName(entry.name), isDirectory: entry.isDirectory() });
    }
  }
  return { entries: decodable, undecodable };
}

/**
 * A directory's entries, the undecodable ones apart. Reads names as strings, and a second time as
 * bytes only when some name holds U+FFFD (which a valid name may hold too: the bytes decide).
 */
export function readDirectorySync(absoluteDirectory: string): { entries: NamedEntry[]; undecodable: UndecodableEntry[] } {
  const entries = readdirSync(absoluteDirectory, { withFileTypes: true });
  if (!entries.some((entry) => mayBeUndecodable(entry.name))) return { entries, undecodable: [] };
  return split(readdirSync(absoluteDirectory, { withFileTypes: true, encoding: 'buffer' }));
}

/** readDirectorySync, without blocking (manual backups). */
export async function readDirectory(absoluteDirectory: string): Promise<{ entries: NamedEntry[]; undecodable: UndecodableEntry[] }> {
  const entries = await readdir(absoluteDirectory, { withFileTypes: true });
  if (!entries.some((entry) => mayBeUndecodable(entry.name))) return { entries, undecodable: [] };
  return split(await readdir(absoluteDirectory, { withFileTypes: true, encoding: 'buffer' }));
}

/** The error reported for a file (or a folder, with everything in it) whose name is not UTF-8; its printable path goes beside it. */
export function undecodableNameProblem(isDirectory: boolean): CosyncError {
  const what = isDirectory ? 'folder name' : 'file name';
  const consequence = isDirectory ? 'nothing in this folder is backed up' : 'this file is not backed up';
  return new CosyncError(
    'name-unsupported',
    `the ${what} is not valid UTF-8 (bytes shown as \\xNN), and object keys must be UTF-8; ${consequence} — rename it to UTF-8 (e.g. convmv -f latin1 -t utf8 --notest)`,
  );
}
