/** Real files in temporary folders for integration tests. */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** A fresh temporary folder for the test file, removed after it; call the result for its path. */
export function useWorkDir(stem: string): () => string {
  let work: string | undefined;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), `cosync-${stem}-`));
  });
  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });
  return () => {
    if (work === undefined) throw new Error('useWorkDir: the folder exists only inside tests');
    return work;
  };
}

/** Writes `bytes` random bytes, a MiB at a time; returns their SHA-256 (hex). */
export async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const MiB = 1024 * 1024;
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += MiB) {
    const chunk = randomBytes(Math.min(MiB, bytes - written));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

/** Every file under `dir`, at any depth (to scan what a run left behind, e.g. for a leaked secret). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}
