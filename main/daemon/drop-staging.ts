/**
 * Where files dropped on a browser window wait for their backup: one folder per drop inside the
 * staging folder, named by random hex (the drop's id). The files are copies, so a drop's folder
 * goes once its backup is over, and the whole staging folder at the next start (leftovers of a
 * backup cut off by a crash).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

export class DropStaging {
  constructor(readonly folder: string) {}

  /** Removes what earlier runs left behind. */
  async clear(): Promise<void> {
    await rm(this.folder, { recursive: true, force: true }).catch(() => undefined);
  }

  /** A new folder for one browser drop's files. */
  async newDropFolder(): Promise<string> {
    const folder = join(this.folder, randomBytes(8).toString('hex'));
    await mkdir(folder, { recursive: true, mode: 0o700 });
    return folder;
  }

  /** The folder of an earlier drop, by the id newDropFolder's name gave; undefined for anything else. */
  dropFolder(id: string): string | undefined {
    return /^[0-9a-f]{16}$/.test(id) ? join(this.folder, id) : undefined;
  }

  /** Whether a path lies inside the staging folder (a browser drop). */
  isStaged(path: string): boolean {
    const inside = relative(this.folder, resolve(path));
    return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
  }

  /** Removes the drops of these backed-up paths (paths outside the staging folder are left alone). */
  async discard(paths: ReadonlyArray<string>): Promise<void> {
    for (const path of paths) if (this.isStaged(path)) await rm(dirname(path), { recursive: true, force: true }).catch(() => undefined);
  }
}
