/** In-process CLI checks that need no network: usage errors, key rules, help. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../secrets/secret-store.js';
import { runCli } from './cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], store = new MemorySecretStore(), input = ''): Promise<{ code: number; stdout: string; stderr: string; store: MemorySecretStore }> {
  const configDir = mkdtempSync(join(tmpdir(), 'cosync-cli-unit-'));
  dirs.push(configDir);
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    io: {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      stdin: Readable.from([input]),
      env: { COSYNC_CONFIG_DIR: configDir },
    },
    secretStore: store,
  });
  return { code, stdout, stderr, store };
}

describe('cosync CLI (in-process)', () => {
  it('lists the commands in --help', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const command of ['key generate', 'key import', 'key export', 'credentials set', 'backup PATH', 'restore (--endpoint URL | --region COS-REGION)', '--config-dir']) expect(stdout).toContain(command);
  });

  it('exits 2 with one line for unknown commands and options, naming the help to read', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stdout: '', stderr: 'cosync: unknown command "frobnicate"; run `cosync help` for the list\n' });
    const option = await run(['key', 'list', '--nope']);
    expect(option).toMatchObject({ code: 2, stdout: '', stderr: 'cosync: unknown option --nope for `cosync key list`; run `cosync help key list`\n' });
  });

  it('generate stores the key under its name and prints only the fingerprint', async () => {
    const { code, stdout, store } = await run(['key', 'generate', 'k1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^fingerprint: \S{24}\n$/);
    expect(await store.listAccounts()).toEqual(['sse-c-key:k1']);
  });

  it('import --raw takes a 32-character text key; without --raw the same text is refused as base64 of the wrong length', async () => {
    const raw = '0123456789ABCDEF0123456789ABCDEF';
    expect((await run(['key', 'import', 'r', '--base64', raw, '--raw'])).code).toBe(0);
    const refused = await run(['key', 'import', 'r', '--base64', raw]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exactly 32 bytes .* 24 bytes/);
  });

  it('requires exactly one import source', async () => {
    expect((await run(['key', 'import', 'x'])).stderr).toMatch(/exactly one of --from KIT, --base64 B64 or --stdin/);
  });

  it('refuses to delete a key without --yes', async () => {
    const store = new MemorySecretStore();
    await run(['key', 'generate', 'keep'], store);
    const refused = await run(['key', 'delete', 'keep'], store);
    expect(refused.stderr).toMatch(/unreadable unless you kept its recovery kit; pass --yes/);
    expect(await store.listAccounts()).toEqual(['sse-c-key:keep']);
  });

  it('validates transfer flags before anything else', async () => {
    expect((await run(['backup', '/tmp', '--bucket', 'b-1'])).stderr).toMatch(/missing --endpoint URL/);
    expect((await run(['backup', '/tmp', '--endpoint', 'https://x', '--bucket', 'B'])).stderr).toMatch(/invalid bucket name "B"/);
    expect((await run(['backup', '/tmp', '--endpoint', 'https://x', '--bucket', 'bbb', '--sse', 'c'])).stderr).toMatch(/--sse c needs --key NAME/);
    expect((await run(['backup', '/tmp', '--endpoint', 'https://x', '--bucket', 'bbb', '--concurrency', '0'])).stderr).toMatch(/--concurrency must be a whole number/);
    expect((await run(['restore', '--endpoint', 'https://x', '--bucket', 'bbb'])).stderr).toMatch(/missing --to DIR/);
  });
});
