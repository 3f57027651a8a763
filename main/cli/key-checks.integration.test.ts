/**
 * Wrong keys, told in fingerprints, with the built `cosync` against RGW and gnome-keyring:
 * `key import` checks the key against the folder's objects before storing it, and a restore or
 * verify with the wrong key says which key (by fingerprint) wrote the object, from the journal.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, requireServices, runCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';

let services: Services;
let work: string;
let bucket: string;
let configDir: string;
const env: Record<string, string> = {};
const rightKey = uniqueName('right');
const wrongKey = uniqueName('wrong');
const fingerprints: Record<string, string> = {};
let folderId: string;

function cosync(args: string[], extra: { configDir?: string } = {}): Promise<RunResult> {
  return runCosync(args, { configDir: extra.configDir ?? configDir, services, env });
}

function expectOneLineError(result: RunResult, message: RegExp): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(message);
}

async function kitOf(name: string): Promise<string> {
  const kit = join(work, `${name}.kit.json`);
  const exported = await cosync(['key', 'export', name, '--out', kit, '--force']);
  expect(exported.code, exported.stderr).toBe(0);
  return kit;
}

/** What the keychain and the config say about a key name: nothing, after a refused import. */
async function keyTraces(name: string): Promise<{ listed: boolean; configured: boolean }> {
  const listed = (await cosync(['key', 'list'])).stdout.includes(`${name}\t`);
  const config = JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8')) as { keys: Record<string, unknown> };
  return { listed, configured: name in config.keys };
}

const at = (): string[] => ['--endpoint', services.httpsEndpoint, '--bucket', bucket];

beforeAll(async () => {
  services = requireServices();
  work = await mkdtemp(join(tmpdir(), 'cosync-keychecks-'));
  configDir = join(work, 'config');
  bucket = await createBucket(services, 'cosync-keychecks');
  env.COSYNC_SECRET_ID = services.accessKey;
  env.COSYNC_SECRET_KEY = services.secretKey;
  for (const name of [rightKey, wrongKey]) {
    const generated = await cosync(['key', 'generate', name]);
    expect(generated.code, generated.stderr).toBe(0);
    fingerprints[name] = generated.stdout.replace('fingerprint: ', '').trim();
  }
  // One sync folder and one plain backup, both written with the right key.
  const folder = join(work, 'docs');
  await mkdir(join(folder, 'sub'), { recursive: true });
  await writeFile(join(folder, 'a.txt'), 'alpha');
  await writeFile(join(folder, 'sub', 'b.txt'), randomBytes(5000));
  await kitOf(rightKey);
  const added = await cosync(['folder', 'add', folder, ...at(), '--prefix', 'docs', '--key', rightKey, '--json']);
  expect(added.code, added.stderr).toBe(0);
  folderId = (JSON.parse(added.stdout) as { id: string }).id;
  const synced = await cosync(['sync', '--once', '--folder', folderId]);
  expect(synced.code, `${synced.stdout}\n${synced.stderr}`).toBe(0);
  const backup = await cosync(['backup', join(folder, 'a.txt'), ...at(), '--prefix', 'plain', '--key', rightKey]);
  expect(backup.code, backup.stderr).toBe(0);
});

afterAll(async () => {
  for (const name of [rightKey, wrongKey]) await cosync(['key', 'delete', name, '--yes']);
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('key import checks the key against the objects it is meant for', () => {
  it('refuses a kit that decrypts none of the folder\'s objects, naming both fingerprints, and stores nothing', async () => {
    const wrongKit = await kitOf(wrongKey);
    const name = uniqueName('imported');
    const refused = await cosync(['key', 'import', name, '--from', wrongKit, '--folder', folderId]);
    expectOneLineError(
      refused,
      new RegExp(
        `^cosync: this key does not decrypt "docs/[^"]+" \\(it was encrypted with key fingerprint ${escape(fingerprints[rightKey])}; you supplied ${escape(fingerprints[wrongKey])}\\); key "${name}" was not stored`,
      ),
    );
    expect(await keyTraces(name)).toEqual({ listed: false, configured: false });
  });

  it('with target flags too; without a journal record it says the fingerprint is unknown', async () => {
    const name = uniqueName('imported');
    const elsewhere = join(work, 'other-machine');
    const refused = await cosync(['key', 'import', name, '--base64', randomBytes(32).toString('base64'), ...at(), '--prefix', 'plain'], { configDir: elsewhere });
    expectOneLineError(refused, /this key does not decrypt "plain\/a\.txt" \(it was encrypted with another key, whose fingerprint this machine has no record of; you supplied \S+\)/);
    expect((await cosync(['key', 'list'], { configDir: elsewhere })).stdout).not.toContain(name);
  });

  it('stores a kit that decrypts the folder, and says what it checked', async () => {
    const name = uniqueName('imported');
    const imported = await cosync(['key', 'import', name, '--from', await kitOf(rightKey), '--folder', folderId]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe(`fingerprint: ${fingerprints[rightKey]}\n`);
    expect(imported.stderr).toMatch(new RegExp(`the key decrypts the 2 SSE-C objects checked under folder ${folderId} \\(prefix "docs/" of bucket`));
    expect(await keyTraces(name)).toEqual({ listed: true, configured: true });
    await cosync(['key', 'delete', name, '--yes']);
  });

  it('stores a key unchecked where there is nothing to check, and refuses contradictory flags', async () => {
    const name = uniqueName('imported');
    const imported = await cosync(['key', 'import', name, '--base64', randomBytes(32).toString('base64'), ...at(), '--prefix', 'nothing-here']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/no SSE-C object under prefix "nothing-here\/" .* to check the key against; stored it unchecked/);
    await cosync(['key', 'delete', name, '--yes']);
    const both = await cosync(['key', 'import', uniqueName('x'), '--base64', randomBytes(32).toString('base64'), '--folder', folderId, '--bucket', bucket]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--folder takes the endpoint, bucket and prefix from the folder; leave out --bucket/);
  });
});

describe('a wrong key is reported with fingerprints', () => {
  it('restore: "this object was encrypted with key fingerprint X; you supplied Y", and no file is written', async () => {
    const target = join(work, 'wrong-restore');
    const restore = await cosync(['restore', ...at(), '--prefix', 'docs', '--to', target, '--key', wrongKey]);
    expect(restore.code).toBe(1);
    const failures = restore.stdout.split('\n').filter((line) => line.startsWith('failed'));
    expect(failures, restore.stdout).toHaveLength(2);
    for (const line of failures) {
      expect(line).toContain(`refused the SSE-C key`);
      expect(line).toContain(`this object was encrypted with key fingerprint ${fingerprints[rightKey]}; you supplied ${fingerprints[wrongKey]}`);
    }
    expect(await readdir(target, { recursive: true })).toEqual([]);

    // Objects of a plain backup are recorded too.
    const plain = await cosync(['restore', ...at(), '--prefix', 'plain', '--to', join(work, 'wrong-plain'), '--key', wrongKey]);
    expect(plain.stdout).toContain(`this object was encrypted with key fingerprint ${fingerprints[rightKey]}; you supplied ${fingerprints[wrongKey]}`);
  });

  it('restore on a machine with no record still names the key it supplied', async () => {
    const restore = await cosync(['restore', ...at(), '--prefix', 'plain', '--to', join(work, 'wrong-elsewhere'), '--key', wrongKey], { configDir: join(work, 'fresh-config') });
    expect(restore.code).toBe(1);
    expect(restore.stdout).toContain(`you supplied key fingerprint ${fingerprints[wrongKey]} (this machine has no record of its key`);
  });

  it('key verify shows which key each mismatched object was written with', async () => {
    const verified = await cosync(['key', 'verify', wrongKey, ...at(), '--prefix', 'docs']);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(new RegExp(`MISMATCH +docs/a\\.txt \\(encrypted with key fingerprint ${escape(fingerprints[rightKey])}\\)`));
  });
});

function escape(text: string | undefined): string {
  return (text ?? '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
