/**
 * A server without a keyring: no D-Bus session at all, secrets in the passphrase file keystore
 * (`COSYNC_KEYSTORE=file`), end to end with the built `cosync` against RGW — credentials set,
 * key generate, kit export, SSE-C backup, restore byte-exact.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, readObject, requireServices, runCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';

let services: Services;
let work: string;
let bucket: string;
let configDir: string;
let passphraseFile: string;

/** No session bus, a HOME of its own, no credentials in the environment: only the file keystore can hold secrets. */
function serverEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DBUS_SESSION_BUS_ADDRESS: undefined,
    HOME: join(work, 'home'),
    COSYNC_SECRET_ID: undefined,
    COSYNC_SECRET_KEY: undefined,
    COSYNC_KEYSTORE: 'file',
    COSYNC_KEYSTORE_PASSPHRASE_FILE: passphraseFile,
    ...extra,
  };
}

function cosync(args: string[], extra: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<RunResult> {
  return runCosync(args, { configDir, services, env: serverEnv(extra.env), input: extra.input });
}

function expectOneLineError(result: RunResult, code: number, message: RegExp): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(code);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(message);
}

beforeAll(async () => {
  services = requireServices();
  work = await mkdtemp(join(tmpdir(), 'cosync-filestore-'));
  await mkdir(join(work, 'home'), { mode: 0o700 });
  configDir = join(work, 'config');
  passphraseFile = join(work, 'keystore-passphrase');
  await writeFile(passphraseFile, `${randomBytes(12).toString('base64')}\n`, { mode: 0o600 });
  bucket = await createBucket(services);
});

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the file keystore on a machine without a keyring', () => {
  it('without it, the keychain error says that no D-Bus session is reachable and points to the file keystore', async () => {
    const result = await cosync(['key', 'generate', 'nope'], { env: { COSYNC_KEYSTORE: undefined } });
    expectOneLineError(result, 1, /no D-Bus session bus, so the Secret Service keychain cannot be reached.*COSYNC_KEYSTORE=file \(or pass --keystore file\) and COSYNC_KEYSTORE_PASSPHRASE_FILE/);
  });

  it('asks for a passphrase source, never an argument', async () => {
    const result = await cosync(['key', 'generate', 'nope'], { env: { COSYNC_KEYSTORE_PASSPHRASE_FILE: undefined } });
    expectOneLineError(result, 1, /the file keystore needs its passphrase: .*COSYNC_KEYSTORE_PASSPHRASE_FILE.*never taken as a command-line argument/);
    expectOneLineError(await cosync(['key', 'list', '--keystore', 'vault']), 2, /unknown --keystore value "vault": use os .* or file/);
  });

  it('credentials set → key generate → kit export → SSE-C backup → restore, byte-exact, with every secret in the encrypted file', async () => {
    const set = await cosync(['credentials', 'set', '--secret-id', services.accessKey], { input: `${services.secretKey}\n` });
    expect(set.code, set.stderr).toBe(0);

    const keyName = uniqueName('server');
    const generated = await cosync(['key', 'generate', keyName]);
    expect(generated.code, generated.stderr).toBe(0);
    const fingerprint = generated.stdout.replace('fingerprint: ', '').trim();
    const kitFile = join(work, 'server.kit.json');
    const exported = await cosync(['key', 'export', keyName, '--out', kitFile, '--endpoint', services.httpsEndpoint, '--bucket', bucket]);
    expect(exported.code, exported.stderr).toBe(0);
    const keyBytes = Buffer.from((JSON.parse(await readFile(kitFile, 'utf8')) as { key: string }).key, 'base64');
    expect(createHash('md5').update(keyBytes).digest('base64')).toBe(fingerprint);

    const source = join(work, 'source');
    await mkdir(join(source, 'sub'), { recursive: true });
    const files = new Map([
      ['a.txt', randomBytes(3000)],
      [join('sub', 'b.bin'), randomBytes(17 * 1024 * 1024 + 5)],
    ]);
    for (const [path, content] of files) await writeFile(join(source, path), content);
    const backup = await cosync(['backup', source, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'server', '--key', keyName]);
    expect(backup.code, `${backup.stdout}\n${backup.stderr}`).toBe(0);
    expect(backup.stdout).toMatch(/backup: 2 uploaded, 0 failed/);
    // Encrypted under the key that lives only in the file keystore.
    expect((await readObject(services, bucket, 'server/source/a.txt', keyBytes)).equals(files.get('a.txt') as Buffer)).toBe(true);

    const target = join(work, 'restored');
    const restore = await cosync(['restore', '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'server/source', '--to', target, '--key', keyName]);
    expect(restore.code, `${restore.stdout}\n${restore.stderr}`).toBe(0);
    for (const [path, content] of files) expect((await readFile(join(target, path))).equals(content), path).toBe(true);

    // The flag selects the keystore as well as the environment does.
    const listed = await cosync(['key', 'list', '--keystore', 'file'], { env: { COSYNC_KEYSTORE: undefined } });
    expect(listed.stdout).toContain(`${keyName}\t${fingerprint}`);

    const keystore = join(configDir, 'keystore.json');
    expect((await stat(keystore)).mode & 0o777).toBe(0o600);
    const forms = [keyBytes.toString('base64'), keyBytes.toString('base64').replace(/=+$/, ''), keyBytes.toString('hex'), keyBytes.toString('base64url')];
    const written = await readdir(configDir, { recursive: true, withFileTypes: true });
    expect(written.some((entry) => entry.name === 'keystore.json')).toBe(true);
    for (const entry of written.filter((candidate) => candidate.isFile())) {
      const content = await readFile(join(entry.parentPath, entry.name));
      for (const form of forms) expect(content.includes(form), `${entry.name} holds the key`).toBe(false);
      expect(content.includes(keyBytes), `${entry.name} holds the raw key`).toBe(false);
      expect(content.includes(services.secretKey), `${entry.name} holds the secret key`).toBe(false);
    }
    expect((await readFile(keystore, 'utf8')).includes((await readFile(passphraseFile, 'utf8')).trim())).toBe(false);
  });

  it('a wrong passphrase opens nothing and says so', async () => {
    const result = await cosync(['key', 'list'], { env: { COSYNC_KEYSTORE_PASSPHRASE_FILE: undefined, COSYNC_KEYSTORE_PASSPHRASE: 'not the passphrase' } });
    expectOneLineError(result, 1, /^cosync: wrong passphrase for the keystore .*keystore\.json/);
  });
});
