/**
 * Sealed recovery kits with the built `cosync` against gnome-keyring and RGW: `key export
 * --sealed` takes its passphrase from a 0600 file, the environment or piped stdin (never argv),
 * `key import` opens the kit with it on another machine — and checks it against the objects it
 * is meant for — and every refusal (wrong passphrase, edited or cut-short kit, printable and
 * sealed at once, a weak or unsafe passphrase) leaves nothing behind: no kit file, no key.
 */
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, requireServices, runCosync, servedUrl, spawnCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';

let services: Services;
let work: string;
let bucket: string;
/** This machine, which has the key, and another one, which gets it from the kit. */
let configDir: string;
let otherMachine: string;
const keyName = uniqueName('sealed');
/** The name the kit's key is imported under on the other machine (the keychain is one for both here). */
const importedName = uniqueName('from-kit');
/** The name the window's import uses. */
const windowName = uniqueName('window');
let fingerprint: string;
let keyBase64: string;
const PASSPHRASE = 'four random words here';
const credentials = (): Record<string, string> => ({ COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey });

function cosync(args: string[], options: { configDir?: string; env?: Record<string, string>; input?: string } = {}): Promise<RunResult> {
  return runCosync(args, { configDir: options.configDir ?? configDir, services, env: { ...credentials(), ...options.env }, ...(options.input === undefined ? {} : { input: options.input }) });
}

function expectOneLineError(result: RunResult, code: number, message: RegExp): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(code);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(message);
}

const exists = (path: string): Promise<boolean> => access(path).then(
  () => true,
  () => false,
);

/** Whether the other machine knows a key by that name (keychain and config). */
async function knownElsewhere(name: string): Promise<boolean> {
  const listed = (await cosync(['key', 'list'], { configDir: otherMachine })).stdout.includes(`${name}\t`);
  const config = await readFile(join(otherMachine, 'config.json'), 'utf8').catch(() => '{"keys":{}}');
  return listed || name in (JSON.parse(config) as { keys: Record<string, unknown> }).keys;
}

let kit: string;

beforeAll(async () => {
  services = requireServices();
  work = await mkdtemp(join(tmpdir(), 'cosync-sealed-'));
  configDir = join(work, 'config');
  otherMachine = join(work, 'other-machine');
  bucket = await createBucket(services, 'cosync-sealed');
  keyBase64 = randomBytes(32).toString('base64');
  const imported = await cosync(['key', 'import', keyName, '--base64', keyBase64]);
  expect(imported.code, imported.stderr).toBe(0);
  fingerprint = imported.stdout.replace('fingerprint: ', '').trim();
  kit = join(work, 'photos.sealed.json');
  const passphraseFile = join(work, 'kit-passphrase');
  await writeFile(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  const exported = await cosync(['key', 'export', keyName, '--out', kit, '--sealed', '--bucket', bucket, '--prefix', 'docs'], { env: { COSYNC_KIT_PASSPHRASE_FILE: passphraseFile } });
  expect(exported.code, exported.stderr).toBe(0);
  expect(exported.stdout).toBe(`sealed recovery kit written to ${kit} (fingerprint ${fingerprint}); it opens only with its passphrase, so it may be kept online (a cloud drive, a mail to yourself); keep the passphrase somewhere else — forgotten, it makes the kit useless\n`);
  // One object written with the key, for the import check on the other machine.
  const file = join(work, 'a.txt');
  await writeFile(file, 'alpha');
  const backup = await cosync(['backup', file, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'docs', '--key', keyName]);
  expect(backup.code, `${backup.stdout}\n${backup.stderr}`).toBe(0);
});

afterAll(async () => {
  if (services === undefined) return;
  await cosync(['key', 'delete', keyName, '--yes']);
  await cosync(['key', 'delete', importedName, '--yes'], { configDir: otherMachine });
  await cosync(['key', 'delete', windowName, '--yes']);
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('cosync key export --sealed', () => {
  it('writes a 0600 kit that shows what it is for and holds neither key nor passphrase in clear', async () => {
    expect((await stat(kit)).mode & 0o777).toBe(0o600);
    const text = await readFile(kit, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ format: 'cosync-sealed-recovery-kit', version: 1, name: keyName, fingerprint, bucket, prefix: 'docs/', kdf: { algorithm: 'scrypt', N: 2 ** 17, r: 8, p: 1 } });
    expect(text).not.toContain(keyBase64);
    expect(text).not.toContain(Buffer.from(keyBase64, 'base64').toString('hex'));
    expect(text).not.toContain(PASSPHRASE);
  });

  it('takes the passphrase from piped stdin too; a missing, short or unsafe one writes no file', async () => {
    const piped = join(work, 'piped.json');
    const fromStdin = await cosync(['key', 'export', keyName, '--out', piped, '--sealed'], { input: `${PASSPHRASE}\n` });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(JSON.parse(await readFile(piped, 'utf8'))).toMatchObject({ format: 'cosync-sealed-recovery-kit', fingerprint });

    const refusedOut = join(work, 'refused.json');
    expectOneLineError(
      await cosync(['key', 'export', keyName, '--out', refusedOut, '--sealed']),
      2,
      /^cosync: no kit passphrase on stdin \(its first line is empty\): put the kit passphrase in a file only you can read \(chmod 600\) and set COSYNC_KIT_PASSPHRASE_FILE/,
    );
    expectOneLineError(await cosync(['key', 'export', keyName, '--out', refusedOut, '--sealed'], { env: { COSYNC_KIT_PASSPHRASE: 'short' } }), 2, /^cosync: the kit passphrase is too short; choose one of at least 8 characters/);
    const readable = join(work, 'readable-passphrase');
    await writeFile(readable, PASSPHRASE);
    await chmod(readable, 0o644);
    expectOneLineError(
      await cosync(['key', 'export', keyName, '--out', refusedOut, '--sealed'], { env: { COSYNC_KIT_PASSPHRASE_FILE: readable } }),
      1,
      /^cosync: the kit passphrase file .*readable-passphrase can be read by other users \(mode 644\); run `chmod 600/,
    );
    expectOneLineError(
      await cosync(['key', 'export', keyName, '--out', refusedOut, '--sealed', '--printable'], { input: `${PASSPHRASE}\n` }),
      2,
      /^cosync: a kit is either printable or sealed, not both/,
    );
    expect(await exists(refusedOut)).toBe(false);
  });

  it('without --sealed still writes the clear kit, as scripts expect', async () => {
    const clear = join(work, 'clear.json');
    const exported = await cosync(['key', 'export', keyName, '--out', clear], { input: `${PASSPHRASE}\n` });
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(await readFile(clear, 'utf8'))).toMatchObject({ format: 'cosync-recovery-kit', key: keyBase64 });
  });
});

describe('cosync key import --from SEALED-KIT', () => {
  it('refuses a wrong passphrase, and stores nothing', async () => {
    expectOneLineError(
      await cosync(['key', 'import', importedName, '--from', kit], { configDir: otherMachine, input: 'not the passphrase\n' }),
      1,
      new RegExp(`^cosync: wrong passphrase for the sealed recovery kit .*photos\\.sealed\\.json \\(key "${keyName}"\\); nothing was imported`),
    );
    expect(await knownElsewhere(importedName)).toBe(false);
  });

  it('asks for the passphrase the way export does, and stores nothing without it', async () => {
    expectOneLineError(await cosync(['key', 'import', importedName, '--from', kit], { configDir: otherMachine }), 2, /^cosync: no kit passphrase on stdin \(its first line is empty\)/);
    expect(await knownElsewhere(importedName)).toBe(false);
  });

  it('refuses an edited or a cut-short kit, telling which, and stores nothing', async () => {
    const sealed = JSON.parse(await readFile(kit, 'utf8')) as Record<string, unknown>;
    const edited = join(work, 'edited.json');
    await writeFile(edited, JSON.stringify({ ...sealed, prefix: 'elsewhere/' }));
    expectOneLineError(
      await cosync(['key', 'import', importedName, '--from', edited], { configDir: otherMachine, input: `${PASSPHRASE}\n` }),
      1,
      /^cosync: the sealed recovery kit .*edited\.json was changed after it was sealed .*the passphrase is right, but the content does not authenticate; nothing was imported/,
    );
    const cut = join(work, 'cut.json');
    const text = await readFile(kit, 'utf8');
    await writeFile(cut, text.slice(0, text.length - 200));
    expectOneLineError(
      await cosync(['key', 'import', importedName, '--from', cut], { configDir: otherMachine, input: `${PASSPHRASE}\n` }),
      1,
      /^cosync: the sealed recovery kit .*cut\.json is damaged \(it is not complete JSON: cut short or edited\); nothing was imported/,
    );
    expect(await knownElsewhere(importedName)).toBe(false);
  });

  it('opens with the right passphrase (environment), checks the key against the bucket, and stores it', async () => {
    const imported = await cosync(['key', 'import', importedName, '--from', kit, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'docs'], {
      configDir: otherMachine,
      env: { COSYNC_KIT_PASSPHRASE: PASSPHRASE },
    });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe(`fingerprint: ${fingerprint}\n`);
    expect(imported.stderr).toMatch(/the key decrypts the 1 SSE-C object checked under prefix "docs\/" of bucket/);
    expect(await knownElsewhere(importedName)).toBe(true);
    // The key that came out of the kit reads the object the first machine wrote.
    const restored = join(work, 'restored');
    const restore = await cosync(['restore', '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'docs', '--to', restored, '--key', importedName], { configDir: otherMachine });
    expect(restore.code, `${restore.stdout}\n${restore.stderr}`).toBe(0);
    expect(await readFile(join(restored, 'a.txt'), 'utf8')).toBe('alpha');
  });
});

describe('the window: sync:export-kit and sync:import-key through cosync serve', () => {
  it('seals with the passphrase given, and an import without one asks for it; a wrong one is refused and stores nothing', async () => {
    const child = spawnCosync(['serve', '--port', '0'], { configDir, services, env: credentials() });
    try {
      const base = await servedUrl(child);
      const token = base.searchParams.get('token') as string;
      const call = async (channel: string, body: unknown): Promise<{ ok: boolean; value?: { name: string; fingerprint: string }; error?: { code: string; message: string } }> =>
        (await fetch(new URL(`/api/call/${channel}`, base), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as never;

      const windowKit = join(work, 'window.sealed.json');
      expect(await call('sync:export-kit', { name: keyName, path: windowKit, passphrase: 'short' })).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringMatching(/^the kit passphrase is too short/) as unknown } });
      expect(await exists(windowKit)).toBe(false);
      expect(await call('sync:export-kit', { name: keyName, path: windowKit, passphrase: PASSPHRASE })).toMatchObject({ ok: true, value: { name: keyName } });
      expect(JSON.parse(await readFile(windowKit, 'utf8'))).toMatchObject({ format: 'cosync-sealed-recovery-kit', fingerprint });

      expect(await call('sync:import-key', { name: windowName, kitPath: windowKit })).toMatchObject({ ok: false, error: { code: 'kit-passphrase-needed', message: expect.stringContaining('is a sealed recovery kit') as unknown } });
      expect(await call('sync:import-key', { name: windowName, kitPath: windowKit, passphrase: 'not the passphrase' })).toMatchObject({ ok: false, error: { code: 'kit-passphrase-wrong' } });
      expect((await cosync(['key', 'list'])).stdout).not.toContain(`${windowName}\t`);
      expect(await call('sync:import-key', { name: windowName, kitPath: windowKit, passphrase: PASSPHRASE })).toMatchObject({ ok: true, value: { name: windowName, fingerprint } });
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolvePromise) => child.on('close', resolvePromise));
    }
    // Each scrypt run takes 128 MiB and about a second; on a loaded 2-core box, many.
  }, 180_000);
});
