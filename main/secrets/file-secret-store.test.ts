/** The passphrase file keystore: round trips, wrong passphrase, tampering, file mode, no plaintext, changing the passphrase. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CosyncError } from '../../app/result.js';
import { DEFAULT_SCRYPT, FileSecretStore, newPassphraseFromEnvironment, passphraseFromEnvironment, type ScryptParameters } from './file-secret-store.js';
import { Keychain } from './keychain.js';
import { SseCustomerKey, StoreCredentials } from './secret-values.js';

// The smallest cost the format accepts keeps these tests fast; one test covers the defaults.
const CHEAP: ScryptParameters = { N: 2 ** 10, r: 8, p: 1 };
const PASSPHRASE = 'correct horse battery staple';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cosync-keystore-'));
  file = join(dir, 'config', 'keystore.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function store(passphrase = PASSPHRASE, scrypt = CHEAP): FileSecretStore {
  return new FileSecretStore(file, async () => passphrase, { scrypt });
}

async function expectRefused(promise: Promise<unknown>, message: RegExp, code = 'keychain-unavailable'): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CosyncError);
  expect((error as CosyncError).code).toBe(code);
  expect((error as CosyncError).message).toMatch(message);
}

type StoredFile = { format: string; version: number; kdf: Record<string, unknown>; cipher: Record<string, unknown>; ciphertext: string };

async function storedFile(): Promise<StoredFile> {
  return JSON.parse(await readFile(file, 'utf8')) as StoredFile;
}

async function rewrite(change: (stored: StoredFile) => void): Promise<void> {
  const stored = await storedFile();
  change(stored);
  await writeFile(file, JSON.stringify(stored));
}

describe('FileSecretStore', () => {
  it('round-trips items across instances: set, get, list, replace, delete', async () => {
    const first = store();
    expect(await first.get('nothing')).toBeUndefined();
    expect(await first.listAccounts()).toEqual([]);
    await first.set('sse-c-key:photos', 'secret-one');
    await first.set('credentials:default', '{"secretId":"AKID","secretKey":"sk"}');
    await first.set('sse-c-key:photos', 'secret-two');

    const second = store();
    expect(await second.get('sse-c-key:photos')).toBe('secret-two');
    expect(await second.listAccounts()).toEqual(['credentials:default', 'sse-c-key:photos']);
    expect(await second.delete('sse-c-key:photos')).toBe(true);
    expect(await second.delete('sse-c-key:photos')).toBe(false);
    expect(await store().listAccounts()).toEqual(['credentials:default']);
  });

  it('backs the Keychain: keys and credentials come back intact', async () => {
    const keychain = new Keychain(store());
    const key = SseCustomerKey.generate();
    await keychain.putKey('photos', key);
    await keychain.setCredentials('default', new StoreCredentials('AKIDexample', 'the-secret-key', 'a-token'));
    const reopened = new Keychain(store());
    expect((await reopened.getKey('photos')).revealBase64()).toBe(key.revealBase64());
    expect((await reopened.getCredentials('default'))?.revealForSigning()).toEqual({ accessKeyId: 'AKIDexample', secretAccessKey: 'the-secret-key', sessionToken: 'a-token' });
  });

  it('writes mode 0600 through a temporary file, leaving nothing else behind', async () => {
    await store().set('a', 'b');
    await store().set('c', 'd');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'config'))).toEqual(['keystore.json']);
  });

  it('holds no secret, account name or passphrase in clear, and pads away the number of items', async () => {
    const key = SseCustomerKey.generate();
    const secrets = [key.revealBase64(), Buffer.from(key.revealBytes()).toString('hex'), 'super-secret-key-material'];
    await store().set('sse-c-key:photos', key.revealBase64());
    const oneItemSize = (await stat(file)).size;
    await store().set('credentials:default', JSON.stringify({ secretId: 'AKIDexample', secretKey: 'super-secret-key-material' }));
    const raw = await readFile(file);
    for (const text of [...secrets, 'sse-c-key', 'photos', 'credentials', 'AKIDexample', PASSPHRASE]) expect(raw.includes(text), text).toBe(false);
    expect(raw.includes(Buffer.from(key.revealBytes()))).toBe(false);
    expect((await stat(file)).size).toBe(oneItemSize);
  });

  it('records a versioned header with the scrypt parameters and a random salt and IV', async () => {
    await store().set('a', 'b');
    const first = await storedFile();
    expect(first).toMatchObject({ format: 'cosync-keystore', version: 1, kdf: { algorithm: 'scrypt', ...CHEAP }, cipher: { algorithm: 'aes-256-gcm' } });
    expect(Buffer.from(first.kdf.salt as string, 'base64')).toHaveLength(16);
    expect(Buffer.from(first.cipher.iv as string, 'base64')).toHaveLength(12);
    expect(Buffer.from(first.cipher.tag as string, 'base64')).toHaveLength(16);
    await store().set('a', 'c');
    const second = await storedFile();
    expect(second.kdf.salt).toBe(first.kdf.salt);
    expect(second.cipher.iv).not.toBe(first.cipher.iv);

    await rm(file);
    await store().set('a', 'b');
    expect((await storedFile()).kdf.salt).not.toBe(first.kdf.salt);
  });

  it('uses scrypt N=2^17, r=8, p=1 for new files by default', async () => {
    expect(DEFAULT_SCRYPT).toEqual({ N: 131072, r: 8, p: 1 });
    await new FileSecretStore(file, async () => PASSPHRASE).set('a', 'b');
    expect((await storedFile()).kdf).toMatchObject({ N: 131072, r: 8, p: 1 });
    expect(await new FileSecretStore(file, async () => PASSPHRASE).get('a')).toBe('b');
  });

  it('refuses a wrong passphrase, for reads and for writes, and leaves the file as it was', async () => {
    await store().set('a', 'b');
    const before = await readFile(file);
    await expectRefused(store('Correct horse battery staple').get('a'), /^wrong passphrase for the keystore .*keystore\.json/);
    await expectRefused(store('nope').set('x', 'y'), /wrong passphrase/);
    await expectRefused(store('nope').listAccounts(), /wrong passphrase/);
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('refuses to create a keystore under a short passphrase, writing nothing', async () => {
    await expectRefused(store('seven77').set('a', 'b'), /^the new keystore passphrase is too short; choose one of at least 8 characters/, 'usage');
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes the passphrase in any Unicode normal form', async () => {
    await store('caf\u00e9 au lait').set('a', 'b');
    expect(await store('cafe\u0301 au lait').get('a')).toBe('b');
  });

  it.each([
    ['a flipped ciphertext byte', (stored: StoredFile) => {
      const bytes = Buffer.from(stored.ciphertext, 'base64');
      bytes[5] = (bytes[5] as number) ^ 1;
      stored.ciphertext = bytes.toString('base64');
    }],
    ['a truncated ciphertext', (stored: StoredFile) => {
      stored.ciphertext = Buffer.from(stored.ciphertext, 'base64').subarray(0, 100).toString('base64');
    }],
    ['a changed tag', (stored: StoredFile) => {
      stored.cipher.tag = randomBytes(16).toString('base64');
    }],
    ['a changed IV', (stored: StoredFile) => {
      stored.cipher.iv = randomBytes(12).toString('base64');
    }],
    ['a changed salt', (stored: StoredFile) => {
      stored.kdf.salt = randomBytes(16).toString('base64');
    }],
    ['a changed scrypt cost (authenticated header)', (stored: StoredFile) => {
      stored.kdf.N = 2 ** 11;
    }],
  ])('detects tampering: %s', async (_name, tamper) => {
    await store().set('a', 'b');
    await rewrite(tamper);
    await expectRefused(store().get('a'), /wrong passphrase .*or the file was altered/);
  });

  it('reports a damaged or foreign file precisely, before deriving anything from it', async () => {
    await store().set('a', 'b');
    const good = await storedFile();
    const cases: Array<[(stored: StoredFile) => void, RegExp]> = [
      [(stored) => (stored.format = 'something-else'), /is damaged \(no "format": "cosync-keystore"\)/],
      [(stored) => (stored.version = 2), /format version 2, which this cosync cannot read .*upgrade cosync/],
      [(stored) => (stored.kdf.N = 2 ** 30), /is damaged \(.*N must be a power of two from 2\^10 to 2\^22, got 1073741824\)/],
      [(stored) => (stored.kdf.N = 1000), /N must be a power of two/],
      [(stored) => (stored.kdf.r = 1000), /r must be 1–32/],
      [(stored) => (stored.kdf.algorithm = 'pbkdf2'), /"kdf" is not scrypt/],
      [(stored) => (stored.cipher.iv = 'AAAA'), /the IV has 3 bytes, not 12/],
      [(stored) => (stored.ciphertext = 'not base64!'), /the ciphertext is not base64/],
    ];
    for (const [tamper, message] of cases) {
      await writeFile(file, JSON.stringify(good));
      await rewrite(tamper);
      await expectRefused(store().get('a'), message);
    }
    await writeFile(file, '{ half a file');
    await expectRefused(store().get('a'), /is damaged \(not JSON\)/);
  });

  it('asks for the passphrase only when a secret is needed, and once', async () => {
    let asked = 0;
    const lazy = new FileSecretStore(file, async () => {
      asked++;
      return PASSPHRASE;
    }, { scrypt: CHEAP });
    expect(await lazy.listAccounts()).toEqual([]);
    expect(asked).toBe(0);
    await lazy.set('a', 'b');
    await lazy.set('c', 'd');
    expect(await lazy.get('a')).toBe('b');
    expect(asked).toBe(1);
  });

  it('loses no item when several writers change the store at once', async () => {
    const writers = Array.from({ length: 6 }, () => store());
    await Promise.all(writers.flatMap((writer, index) => [writer.set(`item-${index}-a`, 'x'), writer.set(`item-${index}-b`, 'y')]));
    expect(await store().listAccounts()).toHaveLength(12);
  });

  it('breaks a lock left behind by a process that died', async () => {
    await store().set('a', 'b');
    // A pid far above any pid_max: no such process.
    await writeFile(`${file}.lock`, '2147483646');
    await store().set('c', 'd');
    expect(await store().listAccounts()).toEqual(['a', 'c']);
    expect(await readdir(join(dir, 'config'))).toEqual(['keystore.json']);
  });
});

describe('FileSecretStore.changePassphrase', () => {
  const NEW_PASSPHRASE = 'a different, longer passphrase';

  it('re-encrypts every item under the new passphrase; the old one opens nothing afterwards', async () => {
    await store().set('sse-c-key:photos', 'secret-one');
    await store().set('credentials:default', 'secret-two');
    const changing = store();
    expect(await changing.changePassphrase(NEW_PASSPHRASE)).toEqual({ items: 2 });

    const reopened = store(NEW_PASSPHRASE);
    expect(await reopened.listAccounts()).toEqual(['credentials:default', 'sse-c-key:photos']);
    expect(await reopened.get('sse-c-key:photos')).toBe('secret-one');
    expect(await reopened.get('credentials:default')).toBe('secret-two');
    await expectRefused(store().get('sse-c-key:photos'), /^wrong passphrase for the keystore/);
    // The instance that made the change now speaks the new passphrase, for reads and writes.
    await changing.set('c', 'd');
    expect(await store(NEW_PASSPHRASE).get('c')).toBe('d');
  });

  it('writes a fresh salt and IV, mode 0600, through a temporary file, and holds no passphrase in clear', async () => {
    await store().set('a', 'b');
    const before = await storedFile();
    await store().changePassphrase(NEW_PASSPHRASE);
    const after = await storedFile();
    expect(after.kdf.salt).not.toBe(before.kdf.salt);
    expect(after.cipher.iv).not.toBe(before.cipher.iv);
    expect(Buffer.from(after.kdf.salt as string, 'base64')).toHaveLength(16);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'config'))).toEqual(['keystore.json']);
    const raw = await readFile(file, 'utf8');
    for (const text of [PASSPHRASE, NEW_PASSPHRASE]) expect(raw.includes(text), text).toBe(false);
  });

  it('upgrades an older file to the store\'s scrypt cost for new files', async () => {
    await store().set('a', 'b');
    const stronger: ScryptParameters = { N: 2 ** 11, r: 8, p: 2 };
    await store(PASSPHRASE, stronger).changePassphrase(NEW_PASSPHRASE);
    expect((await storedFile()).kdf).toMatchObject(stronger);
    expect(await store(NEW_PASSPHRASE).get('a')).toBe('b');
  });

  it('refuses a wrong current passphrase with the usual error, changing nothing byte for byte', async () => {
    await store().set('a', 'b');
    const before = await readFile(file);
    await expectRefused(store('not the passphrase').changePassphrase(NEW_PASSPHRASE), /^wrong passphrase for the keystore .*keystore\.json/);
    expect((await readFile(file)).equals(before)).toBe(true);
    expect(await readdir(join(dir, 'config'))).toEqual(['keystore.json']);
    await expectRefused(store(NEW_PASSPHRASE).get('a'), /wrong passphrase/);
  });

  it('refuses an empty, a short or an unchanged new passphrase, without echoing it, changing nothing', async () => {
    await store().set('a', 'b');
    const before = await readFile(file);
    const advice = 'choose one of at least 8 characters \\(a few random words make a good one\\)$';
    await expectRefused(store().changePassphrase(''), new RegExp(`^the new keystore passphrase is empty; ${advice}`), 'usage');
    await expectRefused(store().changePassphrase('seven77'), new RegExp(`^the new keystore passphrase is too short; ${advice}`), 'usage');
    // Seven characters, though eight UTF-16 units before NFC: counted as a person counts them.
    await expectRefused(store().changePassphrase('cafe\u0301caf'), /too short/, 'usage');
    await expectRefused(store().changePassphrase(PASSPHRASE), /^the new keystore passphrase is the same as the current one; choose a different one$/, 'usage');
    expect((await readFile(file)).equals(before)).toBe(true);
    // The same passphrase in another Unicode normal form is the same passphrase.
    await store().changePassphrase('caf\u00e9 au lait');
    await expectRefused(store('cafe\u0301 au lait').changePassphrase('caf\u00e9 au lait'), /same as the current one/, 'usage');
  });

  it('says there is nothing to change when there is no keystore, and creates nothing', async () => {
    await expectRefused(store().changePassphrase(NEW_PASSPHRASE), /^there is no keystore .*keystore\.json, so there is no passphrase to change/);
    await expect(stat(join(dir, 'config'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('waits for a writer holding the lock, then re-encrypts what that writer left', async () => {
    await store().set('a', '1');
    const onlyA = await readFile(file);
    await store().set('b', '2');
    const withB = await readFile(file);
    await writeFile(file, onlyA);
    // Another live process (the test runner's parent, so the lock is not stale) is writing item b.
    await writeFile(`${file}.lock`, String(process.ppid));
    const change = store().changePassphrase(NEW_PASSPHRASE);
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 300));
    expect((await readFile(file)).equals(onlyA)).toBe(true);
    await writeFile(file, withB);
    await rm(`${file}.lock`);
    await change;
    expect(await store(NEW_PASSPHRASE).listAccounts()).toEqual(['a', 'b']);
    expect(await readdir(join(dir, 'config'))).toEqual(['keystore.json']);
  });
});

describe('passphraseFromEnvironment', () => {
  it('reads the passphrase file without its final newline', async () => {
    const passphraseFile = join(dir, 'passphrase');
    await writeFile(passphraseFile, 'with a trailing space \n', { mode: 0o600 });
    expect(await passphraseFromEnvironment({ COSYNC_KEYSTORE_PASSPHRASE_FILE: passphraseFile }, 'linux')).toBe('with a trailing space ');
    expect(await passphraseFromEnvironment({ COSYNC_KEYSTORE_PASSPHRASE: 'inline' }, 'linux')).toBe('inline');
  });

  it('refuses a passphrase file others can read, a missing one, none at all, and both sources', async () => {
    const passphraseFile = join(dir, 'passphrase');
    await writeFile(passphraseFile, 'pw');
    await chmod(passphraseFile, 0o644);
    await expectRefused(passphraseFromEnvironment({ COSYNC_KEYSTORE_PASSPHRASE_FILE: passphraseFile }, 'linux'), /can be read by other users \(mode 644\); run `chmod 600 /);
    await expectRefused(passphraseFromEnvironment({ COSYNC_KEYSTORE_PASSPHRASE_FILE: join(dir, 'missing') }, 'linux'), /passphrase file .*missing .*does not exist/);
    await expectRefused(passphraseFromEnvironment({}, 'linux'), /needs its passphrase: .*COSYNC_KEYSTORE_PASSPHRASE_FILE.*never taken as a command-line argument/);
    await expect(passphraseFromEnvironment({ COSYNC_KEYSTORE_PASSPHRASE_FILE: passphraseFile, COSYNC_KEYSTORE_PASSPHRASE: 'x' }, 'linux')).rejects.toMatchObject({ code: 'usage' });
  });

  it('reads the new passphrase from its own variables with the same checks, and says when neither is set', async () => {
    const passphraseFile = join(dir, 'new-passphrase');
    await writeFile(passphraseFile, 'the new one\n', { mode: 0o600 });
    expect(await newPassphraseFromEnvironment({ COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE: passphraseFile }, 'linux')).toBe('the new one');
    expect(await newPassphraseFromEnvironment({ COSYNC_KEYSTORE_NEW_PASSPHRASE: 'inline one' }, 'linux')).toBe('inline one');
    expect(await newPassphraseFromEnvironment({ COSYNC_KEYSTORE_PASSPHRASE: 'the current one' }, 'linux')).toBeUndefined();
    await chmod(passphraseFile, 0o640);
    await expectRefused(
      newPassphraseFromEnvironment({ COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE: passphraseFile }, 'linux'),
      /^the new keystore passphrase file .*new-passphrase can be read by other users \(mode 640\); run `chmod 600 /,
    );
    await expect(newPassphraseFromEnvironment({ COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE: passphraseFile, COSYNC_KEYSTORE_NEW_PASSPHRASE: 'x' }, 'linux')).rejects.toThrow(
      /both COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE and COSYNC_KEYSTORE_NEW_PASSPHRASE are set/,
    );
  });

  it('an empty passphrase opens nothing', async () => {
    await expectRefused(store('').set('a', 'b'), /passphrase is empty/);
  });
});
