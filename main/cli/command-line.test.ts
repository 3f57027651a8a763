/**
 * The command line's conventions, in-process: global options before or after the command (as
 * `git -C`, `rclone --config`, `aws --profile`), `--help` and `help` for every command from the
 * same table the parser uses, "did you mean" for typos, and usage errors as one line with exit 2.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../secrets/secret-store.js';
import { runCli } from './cli.js';
import { GLOBAL_OPTIONS } from './cli-options.js';
import { closestWord, type CommandSpec } from './command-spec.js';
import { TOP_LEVEL } from './commands.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cosync-command-line-'));
  dirs.push(dir);
  return dir;
}

/** Runs the CLI with no COSYNC_CONFIG_DIR: the config dir comes from the flags or a throwaway HOME. */
async function run(args: string[], store = new MemorySecretStore()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, stdin: Readable.from(['']), env: { HOME: tempDir() } },
    secretStore: store,
  });
  return { code, stdout, stderr };
}

/** Every command of the table, groups' commands included. */
const COMMANDS: CommandSpec[] = TOP_LEVEL.flatMap((entry) => (entry.kind === 'group' ? entry.commands : [entry]));

describe('global options', () => {
  it.each([
    ['before the command', (dir: string) => ['--config-dir', dir, 'key', 'generate', 'k1']],
    ['before the command, with =', (dir: string) => [`--config-dir=${dir}`, 'key', 'generate', 'k1']],
    ['between the group and its command', (dir: string) => ['key', '--config-dir', dir, 'generate', 'k1']],
    ['after the command', (dir: string) => ['key', 'generate', 'k1', '--config-dir', dir]],
  ])('--config-dir works %s', async (_where, args) => {
    const dir = tempDir();
    const store = new MemorySecretStore();
    expect((await run(args(dir), store)).code).toBe(0);
    // The key's record (name, fingerprint, when made) is in DIR's config.json, and only there.
    const record = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { keys: Record<string, { fingerprint: string }> }).keys.k1;
    expect(record?.fingerprint).toMatch(/^\S{24}$/);
    const listed = await run(['--config-dir', dir, 'key', 'list'], store);
    expect(listed).toEqual({ code: 0, stdout: `k1\t${record?.fingerprint}\n`, stderr: '' });
  });

  it('--keystore before the command is checked like after it', async () => {
    for (const args of [['--keystore', 'vault', 'key', 'list'], ['key', 'list', '--keystore', 'vault']]) {
      expect(await run(args)).toMatchObject({ code: 2, stderr: expect.stringMatching(/^cosync: unknown --keystore value "vault": use os .* or file/) });
    }
  });

  it('a global option without its value, or an unknown one before the command, is a usage error', async () => {
    expect(await run(['--config-dir'])).toMatchObject({ code: 2, stdout: '', stderr: 'cosync: --config-dir needs a value (--config-dir DIR); run `cosync help`\n' });
    expect(await run(['--confg-dir', '/tmp', 'key', 'list'])).toMatchObject({
      code: 2,
      stderr: "cosync: unknown global option --confg-dir (did you mean --config-dir?); a command's own options come after its name; run `cosync help`\n",
    });
  });
});

describe('help', () => {
  it.each(COMMANDS.map((command) => [command.name, command] as const))('cosync %s --help, -h and `cosync help` show its usage, options and examples', async (name, command) => {
    const words = name.split(' ');
    const help = await run([...words, '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(new RegExp(`^Usage: cosync ${escape(`${name} ${command.synopsis}`.trim())}`));
    // Every option of the table is there, with its description.
    for (const [option, spec] of Object.entries({ ...command.options, ...GLOBAL_OPTIONS })) {
      expect(help.stdout).toMatch(new RegExp(`--${escape(option)}${spec.type === 'string' ? ` ${escape(spec.value ?? '')}` : ''} +${escape(spec.description.split(' ').slice(0, 3).join(' '))}`));
    }
    expect(help.stdout).toContain(`Examples:\n  ${command.examples[0] ?? 'none'}`);
    expect((await run([...words, '-h'])).stdout).toBe(help.stdout);
    expect((await run(['help', ...words])).stdout).toBe(help.stdout);
    // --help wins over arguments and options that would be refused.
    expect((await run([...words, 'extra', '--not-an-option', '--help'])).stdout).toBe(help.stdout);
  });

  it.each(TOP_LEVEL.filter((entry) => entry.kind === 'group').map((group) => [group.name, group] as const))('cosync %s --help lists its commands', async (name, group) => {
    const help = await run([name, '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(new RegExp(`^Usage: cosync ${name} <command>`));
    for (const command of group.commands) expect(help.stdout).toMatch(new RegExp(`\n  ${escape(command.name.slice(name.length + 1))} `));
    expect(help.stdout).toContain('Examples:');
    expect((await run(['help', name])).stdout).toBe(help.stdout);
    expect((await run(['--help', name])).stdout).toBe(help.stdout);
  });

  it('cosync --help lists every command and the exit codes; cosync alone shows it as a usage error', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toContain(`  ${`${command.name} ${command.synopsis}`.trim()}`);
    expect(help.stdout).toMatch(/Exit codes:\n {2}0 {2}success[^]*\n {2}3 {2}finished, but some files failed[^]*\n {2}4 {2}temporary error, try again/);
    expect(await run([])).toMatchObject({ code: 2, stdout: help.stdout });
    expect(await run(['help'])).toMatchObject({ code: 0, stdout: help.stdout });
  });
});

describe('typos', () => {
  it.each([
    [['bakcup'], 'cosync: unknown command "bakcup" (did you mean `cosync backup`?); run `cosync help` for the list\n'],
    [['ke', 'list'], 'cosync: unknown command "ke" (did you mean `cosync key`?); run `cosync help` for the list\n'],
    [['key', 'lst'], 'cosync: unknown key command "lst": use generate, import, export, list, verify, delete or rotate (did you mean `cosync key list`?); run `cosync help key`\n'],
    [['help', 'folder', 'ad'], 'cosync: unknown folder command "ad": use add, list, remove, pause or resume (did you mean `cosync folder add`?); run `cosync help folder`\n'],
    [['folder', 'list', '--jsn'], 'cosync: unknown option --jsn for `cosync folder list` (did you mean --json?); run `cosync help folder list`\n'],
    [['key'], 'cosync: cosync key needs a command: generate, import, export, list, verify, delete or rotate; run `cosync help key`\n'],
    [['backup', '/tmp', '--bucket'], 'cosync: --bucket needs a value (--bucket B); run `cosync help backup`\n'],
    [['key', 'delete', 'k', '--yes=no'], 'cosync: --yes takes no value; run `cosync help key delete`\n'],
  ])('cosync %j', async (args, message) => {
    expect(await run(args)).toEqual({ code: 2, stdout: '', stderr: message });
  });

  it('suggests only close words', () => {
    expect(closestWord('frobnicate', ['backup', 'restore'])).toBeUndefined();
    expect(closestWord('stat', ['serve', 'status'])).toBe('status');
    expect(closestWord('restroe', ['restore', 'resume'])).toBe('restore');
    expect(closestWord('--prefx', ['--prefix', '--profile'])).toBe('--prefix');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
