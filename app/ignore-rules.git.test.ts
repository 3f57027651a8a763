/**
 * Conformance of ignore-rules.ts with git itself: generated pattern sets (a seeded generator, so a
 * failure names a reproducible case) are written as the .gitignore of a real temporary repository
 * whose tree holds real files and folders, and every path is asked of `git check-ignore
 * --no-index -v -n -z --stdin` (one git process per pattern set) and of parseIgnoreRules. Any
 * difference is a bug in ignore-rules.ts, or a deliberate one listed in its header.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../test/support/random.js';
import { BUILT_IN_IGNORES, parseIgnoreRules } from './ignore-rules.js';

const SEED = 20261201;
const PATTERN_SETS = 160;

/** Names of files and folders: plain, dotted, hidden, spaced, accented, and ones holding glob characters. */
const NAMES = ['a', 'b', 'ab', 'abc', 'a.txt', 'b.log', 'x.y.z', '.hidden', 'sp ace', 'é', 'E', '1', '42', '[x]', '#h', '!b', 'a*', 'q?', 'tail ', 'foo', 'foo.bar', 'build', 'A.TXT', 'x-1'];

/** Pieces of one pattern segment, meant to hit every branch of the glob syntax. */
const SEGMENT_PIECES = [
  'a', 'b', 'ab', 'foo', 'build', 'é', '1', '.hidden', 'x.y.z',
  '*', '*', '?', '**', '***', 'a*', '*b', '*.txt', '*.log', '*.*', 'a?', '?b', 'a?c', '*o*',
  '[abc]', '[a-c]', '[!a]', '[^a]', '[]a]', '[!]]', '[a-]', '[[:digit:]]', '[[:upper:]]*', '[[:alpha:][:digit:]]', '[c-a]', '[.]*', '[é]',
  '\\*', '\\?', '\\[x]', '[x]', '\\!b', '!b', '\\#h', '#h', 'a\\*', 'sp\\ ace', 'sp ace', 'tail\\ ', 'q\\?', 'q?', '[', 'a[b',
];

function pick<T>(random: () => number, items: ReadonlyArray<T>): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** One pattern line: optional `!`, optional anchoring `/`, one to three segments, optional trailing `/` or spaces. */
function patternLine(random: () => number): string {
  if (random() < 0.04) return `#${pick(random, NAMES)}`;
  const segments = Array.from({ length: 1 + Math.floor(random() * random() * 3.5) }, () => {
    const first = pick(random, SEGMENT_PIECES);
    return random() < 0.15 ? first + pick(random, SEGMENT_PIECES) : first;
  });
  let line = segments.join('/');
  if (random() < 0.25) line = `/${line}`;
  if (random() < 0.25) line += '/';
  if (random() < 0.05) line += '  ';
  if (random() < 0.3) line = `!${line}`;
  return line;
}

/** Fisher–Yates, with the seeded generator, so every run asks the same questions. */
function shuffled<T>(items: ReadonlyArray<T>, random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

const NON_ASCII = /[^\p{ASCII}]/u;

interface Entry {
  readonly path: string;
  readonly isDirectory: boolean;
}

/** A tree of real files and folders (four levels), the same for every pattern set. */
function makeTree(root: string, random: () => number): Entry[] {
  const entries: Entry[] = [];
  const fill = (folder: string, depth: number): void => {
    const shape = [[6, 8], [3, 4], [2, 3], [0, 3]][depth] as [number, number];
    const names = shuffled(NAMES, random).slice(0, shape[0] + shape[1]);
    names.forEach((name, index) => {
      const path = folder === '' ? name : `${folder}/${name}`;
      const isDirectory = index < shape[0];
      if (isDirectory) mkdirSync(join(root, path));
      else writeFileSync(join(root, path), '');
      entries.push({ path, isDirectory });
      if (isDirectory) fill(path, depth + 1);
    });
  };
  fill('', 0);
  return entries;
}

let repository: string;
let entries: Entry[];

beforeAll(() => {
  repository = mkdtempSync(join(tmpdir(), 'cosync-ignore-git-'));
  // No global or system config (no core.excludesFile, no core.ignoreCase): only the .gitignore counts.
  const init = spawnSync('git', ['init', '-q', repository], { env: gitEnvironment() });
  if (init.error !== undefined) throw new Error(`this test runs git, which could not be started (${init.error.message}): install git`);
  if (init.status !== 0) throw new Error(`git init failed: ${init.stderr.toString()}`);
  entries = makeTree(repository, seededRandom(SEED));
});

afterAll(() => {
  rmSync(repository, { recursive: true, force: true });
});

function gitEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: repository, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
}

/** What git says of every entry under this .gitignore: ignored or not. */
function gitVerdicts(gitignore: string): Map<string, boolean> {
  writeFileSync(join(repository, '.gitignore'), gitignore);
  const answer = spawnSync('git', ['-c', 'core.excludesFile=/dev/null', 'check-ignore', '--no-index', '-v', '-n', '-z', '--stdin'], {
    cwd: repository,
    env: gitEnvironment(),
    input: entries.map((entry) => `${entry.path}\0`).join(''),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (answer.status !== 0 && answer.status !== 1) throw new Error(`git check-ignore failed (${answer.status}): ${answer.stderr.toString()}`);
  // With -v -n -z: source, line number, pattern, path, each NUL-terminated; an empty source for no match.
  const fields = answer.stdout.toString('utf8').split('\0');
  const verdicts = new Map<string, boolean>();
  for (let index = 0; index + 3 < fields.length; index += 4) {
    const pattern = fields[index + 2] as string;
    verdicts.set(fields[index + 3] as string, fields[index] !== '' && !pattern.startsWith('!'));
  }
  return verdicts;
}

describe('ignore rules against git check-ignore', () => {
  it(`agree on ${PATTERN_SETS} generated pattern sets over a tree of real files and folders`, () => {
    const random = seededRandom(SEED + 1);
    const differences: string[] = [];
    let compared = 0;
    for (let set = 0; set < PATTERN_SETS; set++) {
      const userText = Array.from({ length: 1 + Math.floor(random() * 5) }, () => patternLine(random)).join('\n');
      // The built-ins come first, as parseIgnoreRules applies them.
      const git = gitVerdicts(`${BUILT_IN_IGNORES.join('\n')}\n${userText}\n`);
      const ours = parseIgnoreRules(userText);
      // `?` and `[…]` match one character here and one byte in git (see ignore-rules.ts): only where
      // neither meets a non-ASCII name can the two be compared.
      const matchesSingleCharacters = /[?[]/.test(userText);
      for (const entry of entries) {
        if (matchesSingleCharacters && NON_ASCII.test(entry.path)) continue;
        const expected = git.get(entry.path);
        if (expected === undefined) throw new Error(`git gave no answer for ${JSON.stringify(entry.path)}`);
        const actual = ours.isIgnored(entry.path, entry.isDirectory);
        compared++;
        if (actual !== expected) differences.push(`${JSON.stringify(userText)}: ${JSON.stringify(entry.path)}${entry.isDirectory ? '/' : ''} git ${expected ? 'ignores' : 'keeps'} it, cosync ${actual ? 'ignores' : 'keeps'} it`);
      }
    }
    expect(compared).toBeGreaterThan(PATTERN_SETS * 150);
    expect(differences.slice(0, 30)).toEqual([]);
  });
});
