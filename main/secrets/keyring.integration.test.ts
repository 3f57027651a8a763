/**
 * The OS keychain for real: gnome-keyring as Secret Service, each test with a keyring of its own
 * (private D-Bus session, HOME and keyring files — the shared keyring of the other suites is
 * never stopped), driven through the built `cosync`.
 *
 * - Items survive a restart of the keyring daemon: they are in the keyring's file, not only in
 *   the daemon's memory — and that file does not hold them in clear.
 * - A new machine: a kit exported on one machine is imported on another (fresh HOME, fresh
 *   keyring, default config paths), checked against the backed-up objects, and restores the
 *   folder byte-exact.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../../test/support/files.js';
import { startPrivateKeyring, type PrivateKeyring } from '../../test/support/private-keyring.js';
import { createBucket, requireServices, runCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';

let services: Services;
let work: string;
let bucket: string;
const keyrings: PrivateKeyring[] = [];

beforeAll(async () => {
  services = requireServices();
  work = await mkdtemp(join(tmpdir(), 'cosync-keyring-'));
  bucket = await createBucket(services, 'cosync-keyring');
});

afterEach(async () => {
  for (const keyring of keyrings.splice(0)) await keyring.stop();
});

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

async function privateKeyring(password: string): Promise<PrivateKeyring> {
  const keyring = await startPrivateKeyring(password);
  keyrings.push(keyring);
  return keyring;
}

/** `cosync` as on a machine whose session is `keyring`: its HOME, its bus, default config paths. */
function cosyncOn(keyring: PrivateKeyring, args: string[], extra: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<RunResult> {
  return runCosync(args, {
    configDir: '',
    services,
    env: { HOME: keyring.home, DBUS_SESSION_BUS_ADDRESS: keyring.busAddress, COSYNC_CONFIG_DIR: undefined, COSYNC_SECRET_ID: undefined, COSYNC_SECRET_KEY: undefined, ...extra.env },
    input: extra.input,
  });
}


function expectOk(result: RunResult): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}

describe('gnome-keyring, a private instance', () => {
  it('keeps keys and credentials across a restart of the keyring daemon, encrypted in its file; deletions last too', async () => {
    const keyring = await privateKeyring('restart-test-password');
    const keyName = uniqueName('survivor');
    const generated = await cosyncOn(keyring, ['key', 'generate', keyName]);
    expectOk(generated);
    const fingerprint = generated.stdout.replace('fingerprint: ', '').trim();
    expectOk(await cosyncOn(keyring, ['credentials', 'set', '--account', 'survivor', '--secret-id', 'AKIDsurvivor0001'], { input: 'survivor-secret-key-material\n' }));
    expectOk(await cosyncOn(keyring, ['credentials', 'set', '--account', 'doomed', '--secret-id', 'AKIDdoomed000001'], { input: 'doomed-secret\n' }));

    const firstPid = keyring.keyringPid;
    await keyring.restartKeyring();
    expect(keyring.keyringPid).not.toBe(firstPid);

    const listed = await cosyncOn(keyring, ['key', 'list']);
    expectOk(listed);
    expect(listed.stdout).toContain(`${keyName}\t${fingerprint}`);
    const shown = await cosyncOn(keyring, ['credentials', 'show', '--account', 'survivor']);
    expectOk(shown);
    expect(shown.stdout).toContain('secret id AKID…0001');
    // The key itself came back, not just its name: the kit's key has the fingerprint printed before the restart.
    const kitFile = join(work, `${keyName}.kit.json`);
    expectOk(await cosyncOn(keyring, ['key', 'export', keyName, '--out', kitFile]));
    const keyBytes = Buffer.from((JSON.parse(await readFile(kitFile, 'utf8')) as { key: string }).key, 'base64');
    expect(createHash('md5').update(keyBytes).digest('base64')).toBe(fingerprint);

    // At rest, the login keyring is encrypted with its password: no secret in clear in its files.
    const keyringFiles = await filesUnder(keyring.keyringDir);
    expect(keyringFiles.map((file) => relative(keyring.keyringDir, file))).toContain('login.keyring');
    for (const file of keyringFiles) {
      const content = await readFile(file);
      for (const form of [keyBytes.toString('base64'), keyBytes.toString('hex'), 'survivor-secret-key-material', 'doomed-secret']) expect(content.includes(form), `${file}: ${form}`).toBe(false);
      expect(content.includes(keyBytes)).toBe(false);
    }

    expectOk(await cosyncOn(keyring, ['credentials', 'delete', '--account', 'doomed']));
    expectOk(await cosyncOn(keyring, ['key', 'delete', keyName, '--yes']));
    await keyring.restartKeyring();
    expect((await cosyncOn(keyring, ['key', 'list'])).stdout).not.toContain(keyName);
    expect((await cosyncOn(keyring, ['credentials', 'show', '--account', 'doomed'])).stderr).toMatch(/no credentials stored for account doomed/);
    expectOk(await cosyncOn(keyring, ['credentials', 'show', '--account', 'survivor']));
  });

  it('reports a keyring left locked (wrong unlock password) or gone as such', async () => {
    const keyring = await privateKeyring('the-right-password');
    expectOk(await cosyncOn(keyring, ['credentials', 'set', '--secret-id', 'AKIDlocked000001'], { input: 'locked-secret\n' }));
    await keyring.restartKeyring('a-wrong-password', false);
    // libsecret answers "not found" for a lookup and crashes in a search on a locked keyring; cosync asks the keyring first.
    for (const args of [['credentials', 'show'], ['key', 'list'], ['key', 'export', 'not-there', '--out', join(work, 'never.kit.json')], ['key', 'generate', uniqueName('locked')]]) {
      const locked = await cosyncOn(keyring, args);
      expect(locked.code, `${args.join(' ')}: ${locked.stderr}`).toBe(1);
      expect(locked.stderr).toMatch(/^cosync: the keyring is locked: unlock it/);
    }
    await keyring.restartKeyring();
    expectOk(await cosyncOn(keyring, ['credentials', 'show']));

    await keyring.stop();
    const gone = await cosyncOn(keyring, ['key', 'list']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^cosync: no (D-Bus session bus|Secret Service is running).*COSYNC_KEYSTORE=file/);
  });
});

describe('a new machine', () => {
  it('imports the kit exported elsewhere into a fresh keyring, checks it against the bucket, and restores a folder byte-exact', async () => {
    // The old machine: the shared keyring of the test services, its own config dir.
    const oldConfig = join(work, 'old-machine');
    const oldEnv = { COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey };
    const onOldMachine = (args: string[]): Promise<RunResult> => runCosync(args, { configDir: oldConfig, services, env: oldEnv });
    const keyName = uniqueName('laptop');
    const generated = await onOldMachine(['key', 'generate', keyName]);
    expectOk(generated);
    const fingerprint = generated.stdout.replace('fingerprint: ', '').trim();
    const kitFile = join(work, 'laptop.kit.json');
    expectOk(await onOldMachine(['key', 'export', keyName, '--out', kitFile, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'laptop']));

    const folder = join(work, 'Photos');
    const files = new Map<string, Buffer>([
      ['cover.jpg', randomBytes(200_000)],
      [join('2024', 'trip', 'day 1.raw'), randomBytes(18 * 1024 * 1024 + 3)],
      [join('2024', 'notes ü.txt'), Buffer.from('written on the old machine\n')],
    ]);
    for (const [path, content] of files) {
      await mkdir(join(folder, path, '..'), { recursive: true });
      await writeFile(join(folder, path), content);
    }
    const backup = await onOldMachine(['backup', folder, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'laptop', '--key', keyName]);
    expectOk(backup);
    expect(backup.stdout).toMatch(/backup: 3 uploaded, 0 failed/);
    // The old machine is lost: its keyring item goes (its journal never travels anyway).
    expectOk(await onOldMachine(['key', 'delete', keyName, '--yes']));

    // The new machine: nothing but the kit and the credentials.
    const newMachine = await privateKeyring('new-machine-password');
    expect((await cosyncOn(newMachine, ['key', 'list'])).stdout).toMatch(/^no keys/);
    expectOk(await cosyncOn(newMachine, ['credentials', 'set', '--secret-id', services.accessKey], { input: `${services.secretKey}\n` }));
    const kit = JSON.parse(await readFile(kitFile, 'utf8')) as { endpoint: string; bucket: string; prefix: string };
    const imported = await cosyncOn(newMachine, ['key', 'import', keyName, '--from', kitFile, '--endpoint', kit.endpoint, '--bucket', kit.bucket, '--prefix', kit.prefix]);
    expectOk(imported);
    expect(imported.stdout).toBe(`fingerprint: ${fingerprint}\n`);
    expect(imported.stderr).toMatch(/the key decrypts the 3 SSE-C objects checked under prefix "laptop\/"/);

    const restoredTo = join(work, 'Restored');
    const restored = await cosyncOn(newMachine, ['restore', '--endpoint', kit.endpoint, '--bucket', kit.bucket, '--prefix', 'laptop/Photos', '--to', restoredTo, '--key', keyName]);
    expectOk(restored);
    expect(restored.stdout).toMatch(/restore: 3 restored, 0 failed/);
    expect((await filesUnder(restoredTo)).map((file) => relative(restoredTo, file)).sort()).toEqual([...files.keys()].sort());
    for (const [path, content] of files) expect((await readFile(join(restoredTo, path))).equals(content), path).toBe(true);

    // Default paths under the fresh HOME; no copy of the key in anything cosync wrote there.
    const keyBytes = Buffer.from((JSON.parse(await readFile(kitFile, 'utf8')) as { key: string }).key, 'base64');
    const written = await filesUnder(newMachine.home);
    expect(written.some((file) => file.endsWith(join('.config', 'cosync', 'config.json')))).toBe(true);
    expect(written.some((file) => file.endsWith(join('.local', 'state', 'cosync', 'journal.sqlite')))).toBe(true);
    for (const file of written) {
      const content = await readFile(file);
      for (const form of [keyBytes.toString('base64'), keyBytes.toString('base64').replace(/=+$/, ''), keyBytes.toString('hex')]) expect(content.includes(form), file).toBe(false);
      expect(content.includes(keyBytes), file).toBe(false);
      expect(content.includes(services.secretKey), file).toBe(false);
    }
  });
});
