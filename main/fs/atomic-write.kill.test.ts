/**
 * A process killed (SIGKILL) in the middle of an atomic write leaves the old file or the new one,
 * each whole — never an empty or partial file — and the temporary it left is removed by the next
 * write. The writer is a separate process running the built helper (test/support/write-child.mjs);
 * it is killed on what it reports, never after a guessed delay.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useWorkDir } from '../../test/support/files.js';
import { killChild, startWriteChild, waitForLine } from '../../test/support/write-child.js';
import { PARTIAL_SUFFIX, writeFileAtomic } from './atomic-write.js';

const work = useWorkDir('atomic-write');

/** The version a test file holds, after checking it is whole (its body matches the header's hash). */
function wholeVersion(text: Buffer): number {
  const newline = text.indexOf('\n');
  expect(newline, `not a whole file (${text.length} bytes)`).toBeGreaterThan(0);
  const header = JSON.parse(text.subarray(0, newline).toString()) as { version: number; sha256: string };
  expect(createHash('sha256').update(text.subarray(newline + 1)).digest('hex'), `version ${header.version} is partial`).toBe(header.sha256);
  return header.version;
}

/** The temporaries of `file` in its folder. */
async function temporaries(file: string): Promise<string[]> {
  return (await readdir(dirname(file))).filter((name) => name.startsWith(`${basename(file)}.`) && name.endsWith(PARTIAL_SUFFIX));
}

describe('writeFileAtomic under SIGKILL', () => {
  it('killed between its write and its rename: the old file stays whole, the next write removes the leftover', async () => {
    const file = join(work(), 'stalled.json');
    await writeFileAtomic(file, 'old, complete\n', { mode: 0o600 });
    const child = startWriteChild('stall-rename', file, '7');
    await waitForLine(child, (line) => line === 'renaming');
    // The helper is now past write and fsync, before its rename: the new version sits whole in its temporary.
    const [leftover, ...more] = await temporaries(file);
    expect(more).toEqual([]);
    expect(leftover).toMatch(new RegExp(`^stalled\\.json\\.${child.pid}-[0-9a-f]{12}\\.cosync-partial$`));
    expect(wholeVersion(await readFile(join(work(), leftover as string)))).toBe(7);
    await killChild(child);

    expect(await readFile(file, 'utf8')).toBe('old, complete\n');
    await writeFileAtomic(file, 'new, complete\n', { mode: 0o600 });
    expect(await readFile(file, 'utf8')).toBe('new, complete\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await temporaries(file)).toEqual([]);
  });

  it('killed at any point of a loop of writes: the file is always a whole version, at least the last one reported', async () => {
    const file = join(work(), 'looped.json');
    // Each writer is killed just after it reports its third write, somewhere in the fourth. The
    // kill lands between system calls wherever it falls, so a writer that truncates and rewrites
    // in place fails here only now and then (0 of 4 runs measured); the test above is the one
    // that catches every non-atomic writer. This one checks the whole loop under kills.
    for (let round = 0; round < 5; round++) {
      const first = round * 10;
      const child = startWriteChild('loop', file, String(first));
      await waitForLine(child, (line) => line === `wrote ${first + 2}`);
      await killChild(child);
      expect(wholeVersion(await readFile(file))).toBeGreaterThanOrEqual(first + 2);
    }
    // A leftover of a killed writer never counts as the file, and the next write clears it away.
    await writeFile(join(work(), `looped.json.999999999-0123456789ab${PARTIAL_SUFFIX}`), 'half');
    await writeFileAtomic(file, 'done\n');
    expect(await temporaries(file)).toEqual([]);
  });
});
