/**
 * The completion scripts of the built `cosync` binary, loaded and driven by the real shells:
 * bash (its `_cosync` function fed COMP_WORDS/COMP_CWORD, as bash(1) "Programmable Completion"
 * does), zsh (the same function fed $words/$CURRENT, with zsh's completion builtins standing in
 * as printers) and fish (`complete -C`, which asks fish for the completions of a line).
 * scripts/services.sh installs zsh and fish with the other test packages.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_OPTIONS } from './cli-options.js';
import { TOP_LEVEL } from './commands.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/cosync.js', import.meta.url));
/** `cosync` for the shells: the built binary, run by this Node. */
const COSYNC = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cosync-completion-'));
  await writeFile(join(work, 'photo one.jpg'), '');
  await writeFile(join(work, 'photos.kit.json'), '');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const TOP_WORDS = TOP_LEVEL.map((entry) => entry.name).join(' ');
const KEY_WORDS = 'generate import export list verify delete rotate';

/** What completing each line offers: [line, expected candidates]. The last word is the one being completed. */
const CASES: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
  [['ke'], 'key keystore'],
  [[''], TOP_WORDS],
  [['key', ''], KEY_WORDS],
  [['--config-dir', '/tmp', 'key', ''], KEY_WORDS],
  [['key', 'import', 'photos', '--fr'], '--from'],
  [['backup', '--sse', ''], 'none cos kms c'],
  [['folder', 'add', '.', '--policy', ''], 'keep mirror trash'],
  [['--keystore', ''], 'os file'],
  [['help', 'key', ''], KEY_WORDS],
  [['completion', ''], 'bash zsh fish'],
];

describe('bash', () => {
  it('loads without errors and registers _cosync', async () => {
    const { stdout, stderr } = await run('bash', ['--norc', '-c', `source <(${COSYNC} completion bash) && complete -p cosync`]);
    expect(stderr).toBe('');
    expect(stdout).toBe('complete -F _cosync cosync\n');
  });

  it.each(CASES)('completes %j', async (words, expected) => {
    expect(await bashComplete(words)).toBe(expected);
  });

  it('completes file names for path options and positionals, folders for --to', async () => {
    expect(await bashComplete(['key', 'import', 'photos', '--from', join(work, 'photos.')])).toBe(join(work, 'photos.kit.json'));
    expect(await bashComplete(['backup', join(work, 'photo')])).toBe(`${join(work, 'photo one.jpg')} ${join(work, 'photos.kit.json')}`);
    expect(await bashComplete(['restore', '--to', join(work, 'ph')])).toBe('');
    expect(await bashComplete(['restore', `--to`, '=', work.slice(0, -2)])).toBe(work);
  });

  it('offers every option of a command, the global ones too', async () => {
    const options = (await bashComplete(['restore', '-'])).split(' ');
    for (const option of ['--to', '--overwrite', '--endpoint', '--bucket', '--key', '--json', ...Object.keys(GLOBAL_OPTIONS).map((name) => `--${name}`)]) expect(options).toContain(option);
    expect(options).not.toContain('--part-size');
  });
});

describe('zsh', () => {
  it('passes zsh -n', async () => {
    const script = join(work, '_cosync');
    await writeFile(script, (await run(process.execPath, [BIN, 'completion', 'zsh'])).stdout);
    expect((await run('zsh', ['-n', script])).stderr).toBe('');
  });

  it.each(CASES)('completes %j', async (words, expected) => {
    expect(await zshComplete(words)).toBe(expected);
  });
});

describe('fish', () => {
  it('passes fish -n', async () => {
    const script = join(work, 'cosync.fish');
    await writeFile(script, (await run(process.execPath, [BIN, 'completion', 'fish'])).stdout);
    expect((await run('fish', ['-n', script])).stderr).toBe('');
  });

  it.each(CASES)('completes %j', async (words, expected) => {
    // fish sorts and filters by the typed prefix itself.
    expect(await fishComplete(words)).toBe(expected.split(' ').sort().join(' '));
  });
});

/** What bash's _cosync offers for `cosync WORDS…`. */
async function bashComplete(words: ReadonlyArray<string>): Promise<string> {
  const line = ['cosync', ...words].map((word) => shellQuote(word)).join(' ');
  const { stdout } = await run('bash', ['--norc', '-c', `source <(${COSYNC} completion bash) && COMP_WORDS=(${line}) && COMP_CWORD=${words.length} && _cosync && echo "\${COMPREPLY[*]}"`]);
  return stdout.trim();
}

/**
 * What zsh's _cosync offers: outside a completion widget $words and $CURRENT are plain
 * variables, and the builtins it calls print what they were given (_describe: the names).
 */
async function zshComplete(words: ReadonlyArray<string>): Promise<string> {
  const line = ['cosync', ...words].map((word) => shellQuote(word)).join(' ');
  const stubs = [
    'compdef() { :; }',
    '_describe() { local -a names offered; names=("${(@)${(P)4}%%:*}"); offered=("${(@M)names:#${words[CURRENT]}*}"); print -r -- "${(j: :)offered}"; }',
    'compadd() { shift; local -a offered; offered=("${(@M)@:#${words[CURRENT]}*}"); print -r -- "${(j: :)offered}"; }',
    '_files() { print -r -- "files $*"; }',
    'compset() { :; }',
  ].join('\n');
  const { stdout } = await run('zsh', ['-f', '-c', `${stubs}\nsource <(${COSYNC} completion zsh)\nwords=(${line}); CURRENT=${words.length + 1}; _cosync`]);
  return stdout.trim();
}

/** What fish offers for the line (`complete -C`), one candidate per line before a tab and its description. */
async function fishComplete(words: ReadonlyArray<string>): Promise<string> {
  const line = ['cosync', ...words].join(' ');
  const { stdout } = await run('fish', ['--no-config', '-c', `${COSYNC} completion fish | source; complete -C ${shellQuote(line)}`]);
  return stdout
    .split('\n')
    .filter((entry) => entry !== '')
    .map((entry) => entry.split('\t')[0])
    .sort()
    .join(' ');
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
