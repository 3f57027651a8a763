/**
 * The first vertical slice end to end: the built `cosync` binary against the real Ceph RGW and
 * the real gnome-keyring Secret Service.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../../test/support/files.js';
import { createBucket, listKeys, readObject, requireServices, runCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';

const MiB = 1024 * 1024;
let services: Services;
let work: string;
let configDir: string;
let bucket: string;
const env: Record<string, string> = {};
const outputs: string[] = [];

async function cosync(args: string[], extra: { env?: Record<string, string | undefined>; input?: string; configDir?: string } = {}): Promise<RunResult> {
  const result = await runCosync(args, { configDir: extra.configDir ?? configDir, services, env: { ...env, ...extra.env }, input: extra.input });
  outputs.push(result.stdout, result.stderr);
  return result;
}

function expectFailure(result: RunResult, message: RegExp): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).not.toBe(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^cosync: /);
  expect(lines[0]).toMatch(message);
}


beforeAll(async () => {
  services = requireServices();
  work = await mkdtemp(join(tmpdir(), 'cosync-cli-'));
  configDir = join(work, 'config');
  bucket = await createBucket(services);
  env.COSYNC_SECRET_ID = services.accessKey;
  env.COSYNC_SECRET_KEY = services.secretKey;
});

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('keys in the OS keychain', () => {
  it('generates a key, exports a kit, imports it under a new name with the same fingerprint', async () => {
    const name = uniqueName('gen');
    const generated = await cosync(['key', 'generate', name]);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toMatch(/^fingerprint: [A-Za-z0-9+/]{22}==\n$/);
    const fingerprint = generated.stdout.slice('fingerprint: '.length).trim();

    const kitFile = join(work, `${name}.kit.json`);
    const exported = await cosync(['key', 'export', name, '--out', kitFile, '--endpoint', services.httpsEndpoint, '--bucket', bucket]);
    expect(exported.code, exported.stderr).toBe(0);
    expect((await stat(kitFile)).mode & 0o777).toBe(0o600);
    const kit = JSON.parse(await readFile(kitFile, 'utf8')) as { key: string; fingerprint: string; bucket: string };
    expect(kit.fingerprint).toBe(fingerprint);
    expect(kit.bucket).toBe(bucket);
    expect(createHash('md5').update(Buffer.from(kit.key, 'base64')).digest('base64')).toBe(fingerprint);

    const again = await cosync(['key', 'export', name, '--out', kitFile]);
    expectFailure(again, /already exists.*--force/);

    const copy = uniqueName('copy');
    const imported = await cosync(['key', 'import', copy, '--from', kitFile]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout.trim()).toBe(`fingerprint: ${fingerprint}`);

    const listed = await cosync(['key', 'list']);
    expect(listed.stdout).toContain(`${name}\t${fingerprint}`);
    expect(listed.stdout).toContain(`${copy}\t${fingerprint}`);
  });

  it("accepts the example key from COS's documentation and refuses to silently replace a key", async () => {
    const name = uniqueName('cosdoc');
    const imported = await cosync(['key', 'import', name, '--base64', 'MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout.trim()).toBe(`fingerprint: ${createHash('md5').update('0123456789ABCDEF0123456789ABCDEF').digest('base64')}`);
    expectFailure(await cosync(['key', 'import', name, '--base64', randomBytes(32).toString('base64')]), /different key named .* already exists/);
  });

  it('rejects a key of the wrong length and a key that is not base64, storing nothing', async () => {
    const name = uniqueName('bad');
    expectFailure(await cosync(['key', 'import', name, '--base64', randomBytes(16).toString('base64')]), /exactly 32 bytes.*16 bytes/);
    expectFailure(await cosync(['key', 'import', name, '--stdin'], { input: 'not base64 at all!\n' }), /contains whitespace|not valid base64/);
    expectFailure(await cosync(['key', 'import', name, '--base64', 'MDEyMzQ1Njc4OUFCQ0RF#jAxMjM0NTY3ODlBQkNERUY']), /not valid base64: character "#" at position 21/);
    expect((await cosync(['key', 'list'])).stdout).not.toContain(name);
  });
});

describe('SSE-C backup and restore against RGW over HTTPS', () => {
  let keyName: string;
  let keyBytes: Buffer;
  const prefix = 'slice';

  beforeAll(async () => {
    keyName = uniqueName('backup');
    expect((await cosync(['key', 'generate', keyName])).code).toBe(0);
    const kitFile = join(work, `${keyName}.kit.json`);
    expect((await cosync(['key', 'export', keyName, '--out', kitFile])).code).toBe(0);
    keyBytes = Buffer.from((JSON.parse(await readFile(kitFile, 'utf8')) as { key: string }).key, 'base64');
  });

  it('uploads a small file and a 20 MiB file (multipart) that read back byte-exact only with the key', async () => {
    const source = join(work, 'source');
    await mkdir(join(source, 'nested'), { recursive: true });
    const small = randomBytes(1234);
    const large = randomBytes(20 * MiB + 12345);
    await writeFile(join(source, 'small.txt'), small);
    await writeFile(join(source, 'nested', 'large.bin'), large);

    const result = await cosync(['backup', source, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', prefix, '--sse', 'c', '--key', keyName]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/uploaded .*small\.txt -> slice\/source\/small\.txt .*single request/);
    expect(result.stdout).toMatch(/uploaded .*large\.bin -> slice\/source\/nested\/large\.bin .*multipart, 2 parts/);
    expect(result.stdout).toMatch(/backup: 2 uploaded, 0 failed/);

    expect(await listKeys(services, bucket, `${prefix}/`)).toEqual(['slice/source/nested/large.bin', 'slice/source/small.txt']);
    expect((await readObject(services, bucket, 'slice/source/small.txt', keyBytes)).equals(small)).toBe(true);
    expect((await readObject(services, bucket, 'slice/source/nested/large.bin', keyBytes)).equals(large)).toBe(true);
    await expect(readObject(services, bucket, 'slice/source/small.txt')).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    await expect(readObject(services, bucket, 'slice/source/nested/large.bin', randomBytes(32))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });

    const target = join(work, 'restored');
    const restored = await cosync(['restore', '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', `${prefix}/source`, '--to', target, '--key', keyName]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored .*small\.txt .*verified by digest/);
    expect(restored.stdout).toMatch(/restore: 2 restored, 0 failed/);
    expect((await readFile(join(target, 'small.txt'))).equals(small)).toBe(true);
    expect((await readFile(join(target, 'nested', 'large.bin'))).equals(large)).toBe(true);

    const again = await cosync(['restore', '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', `${prefix}/source`, '--to', target, '--key', keyName]);
    expect(again.stdout).toMatch(/unchanged .*small\.txt/);

    const one = join(work, 'one-file');
    const single = await cosync(['restore', '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', `${prefix}/source/small.txt`, '--to', one, '--key', keyName]);
    expect(single.code, single.stderr).toBe(0);
    expect((await readFile(join(one, 'small.txt'))).equals(small)).toBe(true);
    const typo = await cosync(['restore', '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'no-such-prefix', '--to', one, '--key', keyName]);
    expectFailure(typo, /nothing to restore: no objects under prefix "no-such-prefix\/"/);

    const wrongKey = uniqueName('wrong');
    expect((await cosync(['key', 'generate', wrongKey])).code).toBe(0);

    const verifyArgs = (name: string, verifyPrefix: string) => ['key', 'verify', name, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', verifyPrefix];
    const verified = await cosync(verifyArgs(keyName, `${prefix}/source`));
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/match {5}slice\/source\/small\.txt/);
    expect(verified.stdout).toMatch(/2 of 2 checked objects match, 0 encrypted with another key/);
    const mismatched = await cosync(verifyArgs(wrongKey, `${prefix}/source`));
    expect(mismatched.code).toBe(1);
    expect(mismatched.stdout).toMatch(/MISMATCH +slice\/source\/small\.txt/);
    const elsewhere = join(work, 'wrong-key-restore');
    const refused = await cosync(['restore', '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', `${prefix}/source`, '--to', elsewhere, '--key', wrongKey]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toMatch(/failed .*small\.txt.*refused the SSE-C key/);
    expect(await filesUnder(elsewhere)).toEqual([]);
  });

  it('round-trips file names that need URI encoding in signed requests', async () => {
    const source = join(work, 'odd-names');
    const names = ["dir with space/a b+c(ü)!'*~=&$@.txt", '日本語 ファイル.txt', 'percent%20literal.txt'];
    for (const name of names) {
      await mkdir(join(source, name, '..'), { recursive: true });
      await writeFile(join(source, name), name);
    }
    const backup = await cosync(['backup', source, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'odd', '--key', keyName]);
    expect(backup.code, backup.stderr).toBe(0);
    const target = join(work, 'odd-restored');
    const restore = await cosync(['restore', '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'odd', '--to', target, '--key', keyName]);
    expect(restore.code, restore.stderr).toBe(0);
    for (const name of names) expect(await readFile(join(target, 'odd-names', name), 'utf8')).toBe(name);
  });

  it('uses credentials stored in the keychain when the environment has none', async () => {
    const account = uniqueName('acct');
    const set = await cosync(['credentials', 'set', '--account', account, '--secret-id', services.accessKey], {
      input: `${services.secretKey}\n`,
      env: { COSYNC_SECRET_ID: undefined, COSYNC_SECRET_KEY: undefined },
    });
    expect(set.code, set.stderr).toBe(0);
    const file = join(work, 'keychain-creds.txt');
    await writeFile(file, 'hello');
    const result = await cosync(['backup', file, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'creds', '--account', account], {
      env: { COSYNC_SECRET_ID: undefined, COSYNC_SECRET_KEY: undefined },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(await listKeys(services, bucket, 'creds/')).toEqual(['creds/keychain-creds.txt']);
    const plain = await cosync(['key', 'verify', keyName, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'creds']);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/not SSE-C creds\/keychain-creds\.txt/);
  });

  it('never writes the key to its config, journal or logs, nor prints it', async () => {
    const forms = [keyBytes.toString('base64'), keyBytes.toString('base64').replace(/=+$/, ''), keyBytes.toString('hex'), keyBytes.toString('base64url')];
    const files = await filesUnder(configDir);
    expect(files.some((file) => file.endsWith('config.json'))).toBe(true);
    expect(files.some((file) => file.endsWith('journal.sqlite'))).toBe(true);
    expect(files.some((file) => file.endsWith('cosync.log'))).toBe(true);
    for (const file of files) {
      const content = await readFile(file);
      for (const form of forms) expect(content.includes(form), `${file} contains the key`).toBe(false);
      expect(content.includes(keyBytes), `${file} contains the raw key`).toBe(false);
      expect(content.includes(services.secretKey), `${file} contains the secret key`).toBe(false);
    }
    for (const output of outputs) for (const form of forms) expect(output).not.toContain(form);
  });
});

describe('bad input: a specific message, a non-zero exit, nothing uploaded', () => {
  let file: string;
  let keyName: string;

  beforeAll(async () => {
    file = join(work, 'bad-input.txt');
    await writeFile(file, 'payload');
    keyName = uniqueName('badinput');
    expect((await cosync(['key', 'generate', keyName])).code).toBe(0);
  });

  const backupArgs = (overrides: Record<string, string>, paths = [file]): string[] => {
    const flags: Record<string, string> = { endpoint: services.httpsEndpoint, bucket, prefix: 'bad', ...overrides };
    return ['backup', ...paths, ...Object.entries(flags).flatMap(([flag, value]) => [`--${flag}`, value])];
  };

  it.each([
    ['an unknown key name', () => backupArgs({ sse: 'c', key: 'no-such-key-anywhere' }), /no SSE-C key named "no-such-key-anywhere".*cosync key generate/],
    ['an unreachable endpoint', () => backupArgs({ endpoint: 'https://127.0.0.1:9' }), /cannot reach https:\/\/127\.0\.0\.1:9 \(connection refused\)/],
    ['a missing bucket', () => backupArgs({ bucket: 'no-such-bucket-cosync' }), /bucket "no-such-bucket-cosync" does not exist/],
    ['SSE-C over plain HTTP to a non-loopback host', () => backupArgs({ endpoint: 'http://s3.example.com', sse: 'c', key: 'whatever' }), /refusing SSE-C over plain HTTP to s3\.example\.com/],
    ['a path that does not exist', () => backupArgs({}, [file, join(work, 'missing.txt')]), /missing\.txt: no such file or folder; nothing was uploaded/],
    ['an invalid --sse value', () => backupArgs({ sse: 'aes' }), /unknown --sse value "aes"/],
  ])('%s', async (_name, args, message) => {
    expectFailure(await cosync(args()), message);
    expect(await listKeys(services, bucket, 'bad/')).toEqual([]);
  });

  it('wrong credentials', async () => {
    expectFailure(await cosync(backupArgs({}), { env: { COSYNC_SECRET_KEY: 'not-the-secret' } }), /rejected the credentials \(SignatureDoesNotMatch\)/);
    expectFailure(await cosync(backupArgs({}), { env: { COSYNC_SECRET_ID: 'nobody' } }), /rejected the credentials \(InvalidAccessKeyId\)/);
    expect(await listKeys(services, bucket, 'bad/')).toEqual([]);
  });

  it('no credentials at all', async () => {
    expectFailure(await cosync(backupArgs({}), { env: { COSYNC_SECRET_ID: undefined, COSYNC_SECRET_KEY: undefined } }), /no credentials for account default: run `cosync credentials set/);
  });

  it('an untrusted TLS certificate', async () => {
    const result = await runCosync(backupArgs({}), { configDir, services, env: { ...env, NODE_EXTRA_CA_CERTS: undefined } });
    expectFailure(result, /TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted.*NODE_EXTRA_CA_CERTS/);
  });
});
