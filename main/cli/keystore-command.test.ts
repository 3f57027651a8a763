/** `cosync keystore passphrase`, in-process against a real file keystore: the new passphrase's sources, and its refusals. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSecretStore, KEYSTORE_FILE_NAME, type ScryptParameters } from '../secrets/file-secret-store.js';
import { runCli } from './cli.js';

// The smallest cost the format accepts keeps these tests fast.
const CHEAP: ScryptParameters = { N: 2 ** 10, r: 8, p: 1 };
const CURRENT = 'the current passphrase';
const NEW = 'the new passphrase, longer';

let dir: string;
let keystoreFile: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cosync-keystore-cli-'));
  keystoreFile = join(dir, 'config', KEYSTORE_FILE_NAME);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function keystore(passphrase: string): FileSecretStore {
  return new FileSecretStore(keystoreFile, async () => passphrase, { scrypt: CHEAP });
}

interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly stdin?: string;
  readonly stdinIsTerminal?: boolean;
}

/** One invocation with the file keystore selected and the current passphrase in the environment. */
async function run(args: string[], options: RunOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [options.stdin]), { isTTY: options.stdinIsTerminal });
  const code = await runCli(args, {
    io: {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      stdin,
      env: { COSYNC_CONFIG_DIR: join(dir, 'config'), COSYNC_KEYSTORE: 'file', COSYNC_KEYSTORE_PASSPHRASE: CURRENT, ...options.env },
    },
    fileKeystoreOptions: { scrypt: CHEAP },
  });
  return { code, stdout, stderr };
}

/** A keystore holding one key, made through the CLI. */
async function keystoreWithOneKey(): Promise<string> {
  const generated = await run(['key', 'generate', 'photos']);
  expect(generated.code, generated.stderr).toBe(0);
  return (await keystore(CURRENT).get('sse-c-key:photos')) as string;
}

async function expectChangedTo(passphrase: string, key: string, result: { code: number; stdout: string; stderr: string }): Promise<void> {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toBe(`keystore ${keystoreFile} re-encrypted under the new passphrase (1 item); the old passphrase no longer opens it\n`);
  expect(result.stderr).toMatch(/^From now on COSYNC_KEYSTORE_PASSPHRASE_FILE \(or COSYNC_KEYSTORE_PASSPHRASE\) must give the new passphrase to every cosync command/);
  expect(await keystore(passphrase).get('sse-c-key:photos')).toBe(key);
  await expect(keystore(CURRENT).get('sse-c-key:photos')).rejects.toThrow(/wrong passphrase/);
  // Later commands open it with the new passphrase.
  const listed = await run(['key', 'list'], { env: { COSYNC_KEYSTORE_PASSPHRASE: passphrase } });
  expect(listed.stdout, listed.stderr).toMatch(/^photos\t/);
}

describe('cosync keystore passphrase', () => {
  it('takes the new passphrase from a 0600 file named by COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE', async () => {
    const key = await keystoreWithOneKey();
    const newPassphraseFile = join(dir, 'new-passphrase');
    await writeFile(newPassphraseFile, `${NEW}\n`, { mode: 0o600 });
    await expectChangedTo(NEW, key, await run(['keystore', 'passphrase'], { env: { COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE: newPassphraseFile } }));
  });

  it('takes it from COSYNC_KEYSTORE_NEW_PASSPHRASE, with the current one from its file and --keystore file', async () => {
    const key = await keystoreWithOneKey();
    const currentPassphraseFile = join(dir, 'passphrase');
    await writeFile(currentPassphraseFile, CURRENT, { mode: 0o600 });
    const result = await run(['keystore', 'passphrase', '--keystore', 'file'], {
      env: { COSYNC_KEYSTORE: undefined, COSYNC_KEYSTORE_PASSPHRASE: undefined, COSYNC_KEYSTORE_PASSPHRASE_FILE: currentPassphraseFile, COSYNC_KEYSTORE_NEW_PASSPHRASE: NEW },
    });
    await expectChangedTo(NEW, key, result);
  });

  it('takes it from the first line of a piped stdin', async () => {
    const key = await keystoreWithOneKey();
    await expectChangedTo(NEW, key, await run(['keystore', 'passphrase'], { stdin: `${NEW}\r\nsecond line is ignored\n` }));
  });

  it('refuses a new passphrase file others can read, as it does the current one, changing nothing', async () => {
    await keystoreWithOneKey();
    const before = await readFile(keystoreFile);
    const newPassphraseFile = join(dir, 'new-passphrase');
    await writeFile(newPassphraseFile, NEW, { mode: 0o644 });
    const result = await run(['keystore', 'passphrase'], { env: { COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE: newPassphraseFile } });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^cosync: the new keystore passphrase file .*new-passphrase can be read by other users \(mode 644\); run `chmod 600 .*`\n$/);
    expect((await readFile(keystoreFile)).equals(before)).toBe(true);
  });

  it('with a wrong current passphrase says so and changes nothing', async () => {
    await keystoreWithOneKey();
    const before = await readFile(keystoreFile);
    const result = await run(['keystore', 'passphrase'], { env: { COSYNC_KEYSTORE_PASSPHRASE: 'not the passphrase', COSYNC_KEYSTORE_NEW_PASSPHRASE: NEW } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^cosync: wrong passphrase for the keystore .*keystore\.json/);
    expect((await readFile(keystoreFile)).equals(before)).toBe(true);
  });

  it('says when there is no keystore yet', async () => {
    const result = await run(['keystore', 'passphrase'], { env: { COSYNC_KEYSTORE_NEW_PASSPHRASE: NEW } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^cosync: there is no keystore .*keystore\.json, so there is no passphrase to change/);
  });

  it('refuses the OS keychain: its password is the login password, changed by the OS', async () => {
    for (const env of [{ COSYNC_KEYSTORE: undefined }, { COSYNC_KEYSTORE: 'os' }]) {
      const result = await run(['keystore', 'passphrase'], { env: { ...env, COSYNC_KEYSTORE_NEW_PASSPHRASE: NEW } });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^cosync: cosync keystore passphrase changes the passphrase of the file keystore .*the OS keychain has no passphrase of its own: it is unlocked by your login password, which you change with the OS/);
    }
  });

  it('never takes the passphrase from the command line, and never repeats what was typed there', async () => {
    await keystoreWithOneKey();
    const before = await readFile(keystoreFile);
    const typed = 'Hunter2-typed-on-the-command-line';
    for (const args of [
      ['keystore', 'passphrase', typed],
      ['keystore', 'passphrase', `--${typed}`],
      ['keystore', 'passphrase', '--new-passphrase', typed],
      ['keystore', 'passphrase', '--', `-${typed}`],
      ['keystore', typed],
      ['keystore'],
    ]) {
      const result = await run(args, { env: { COSYNC_KEYSTORE_NEW_PASSPHRASE: NEW } });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^cosync: (cosync keystore passphrase takes no arguments: the new passphrase is never read from the command line|expected: cosync keystore passphrase)/);
      expect(result.stderr).not.toContain(typed);
      expect(result.stderr.toLowerCase()).not.toContain('hunter2');
    }
    expect((await readFile(keystoreFile)).equals(before)).toBe(true);
  });

  it('at a terminal with no new passphrase in the environment, or with empty stdin, says where to put one', async () => {
    await keystoreWithOneKey();
    const atTerminal = await run(['keystore', 'passphrase'], { stdinIsTerminal: true });
    expect(atTerminal.code).toBe(2);
    expect(atTerminal.stderr).toMatch(/^cosync: no new passphrase given: .*COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE.*COSYNC_KEYSTORE_NEW_PASSPHRASE.*pipe it on stdin \(at least 8 characters\)\n$/);
    const empty = await run(['keystore', 'passphrase'], { stdin: '\n' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^cosync: no new passphrase on stdin \(its first line is empty\)/);
    const short = await run(['keystore', 'passphrase'], { stdin: 'short\n' });
    expect(short.code).toBe(2);
    expect(short.stderr).toBe('cosync: the new keystore passphrase is too short; choose one of at least 8 characters (a few random words make a good one)\n');
  });

  it('is listed in --help', async () => {
    const { stdout } = await run(['--help']);
    expect(stdout).toMatch(/keystore passphrase +re-encrypt it under a new passphrase/);
    expect(stdout).toContain('COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE');
  });
});
