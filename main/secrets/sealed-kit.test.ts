/** Sealed recovery kits: round trip, and every way a sealed kit is refused (each with its own message, nothing returned). */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CosyncError, type ErrorCode } from '../../app/result.js';
import type { ScryptParameters } from './passphrase-crypto.js';
import { formatKit, formatSealedKit, readKit, writeKit } from './recovery-kit.js';
import { SEALED_KIT_FORMAT } from './sealed-kit.js';
import { SseCustomerKey } from './secret-values.js';

/** Cheap enough for tests; the format carries the cost, so reading needs nothing special. */
const CHEAP: ScryptParameters = { N: 2 ** 10, r: 8, p: 1 };
const PASSPHRASE = 'correct horse battery staple';
const key = SseCustomerKey.generate();
const location = { endpoint: 'https://cos.ap-guangzhou.myqcloud.com', bucket: 'examplebucket-1250000000', prefix: 'photos/' };
const now = new Date('2026-12-01T10:00:00Z');

let directory: string;
let sealedText: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cosync-sealed-kit-'));
  sealedText = await formatSealedKit('photos', key, location, now, PASSPHRASE, CHEAP);
});

let files = 0;
/** Writes `text` as a kit file and reads it with `passphrase` (null: none can be had). */
async function read(text: string, passphrase: string | null = PASSPHRASE) {
  const path = join(directory, `kit-${(files += 1)}.json`);
  await writeFile(path, text, { mode: 0o600 });
  return readKit(path, { passphrase: passphrase === null ? undefined : async () => passphrase });
}

async function expectRefused(promise: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CosyncError);
  expect((error as CosyncError).message).toMatch(message);
  expect((error as CosyncError).code).toBe(code);
}

/** A sealed kit's JSON, as far as these tests edit it. */
interface SealedJson {
  [field: string]: unknown;
  kdf: Record<string, unknown> & { salt: string };
  cipher: { algorithm: string; iv: string; tag: string };
  check: string;
  ciphertext: string;
}

/** The sealed kit as JSON, changed by `edit`. */
function edited(edit: (kit: SealedJson) => unknown): string {
  const kit = JSON.parse(sealedText) as SealedJson;
  edit(kit);
  return JSON.stringify(kit, null, 2);
}

describe('sealed recovery kits', () => {
  it('open with the passphrase to the same key, name and location; 0600 like every kit', async () => {
    const path = join(directory, 'photos.kit.json');
    await writeKit(path, sealedText, false);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const opened = await readKit(path, { passphrase: async () => PASSPHRASE });
    expect(opened.key.revealBase64()).toBe(key.revealBase64());
    expect(opened).toMatchObject({ name: 'photos', location, sealed: true });
  });

  it('show what they are for, and hold neither the key nor the passphrase in clear', async () => {
    const kit = JSON.parse(sealedText) as SealedJson;
    expect(kit).toMatchObject({ format: SEALED_KIT_FORMAT, version: 1, name: 'photos', fingerprint: key.fingerprint, ...location, createdAt: now.toISOString() });
    expect(kit.kdf).toMatchObject({ algorithm: 'scrypt', ...CHEAP });
    expect(kit).not.toHaveProperty('key');
    const raw = Buffer.from(key.revealBase64(), 'base64');
    for (const secret of [key.revealBase64(), raw.toString('hex'), PASSPHRASE]) expect(sealedText).not.toContain(secret);
    // The sealed part is padded: its size does not give away the kit's length.
    expect(Buffer.from(kit.ciphertext, 'base64').length).toBe(1024);
  });

  it('use a fresh salt and IV each time, so two kits of one key share nothing', async () => {
    const again = JSON.parse(await formatSealedKit('photos', key, location, now, PASSPHRASE, CHEAP)) as SealedJson;
    const first = JSON.parse(sealedText) as SealedJson;
    expect(again.kdf.salt).not.toBe(first.kdf.salt);
    expect(again.cipher.iv).not.toBe(first.cipher.iv);
    expect(again.ciphertext).not.toBe(first.ciphertext);
  });

  it('take the passphrase in any Unicode normal form', async () => {
    const composed = 'mot de passe élève'.normalize('NFC');
    const text = await formatSealedKit('photos', key, {}, now, composed, CHEAP);
    expect((await read(text, composed.normalize('NFD'))).key.fingerprint).toBe(key.fingerprint);
  });

  it('refuse a wrong passphrase, saying so', async () => {
    await expectRefused(read(sealedText, 'Correct horse battery staple'), 'kit-passphrase-wrong', /^wrong passphrase for the sealed recovery kit .*kit-\d+\.json \(key "photos"\); nothing was imported/);
  });

  it('without a passphrase, ask for one (naming the key), and never ask for a clear kit', async () => {
    await expectRefused(read(sealedText, null), 'kit-passphrase-needed', new RegExp(`is a sealed recovery kit \\(key "photos", fingerprint ${key.fingerprint.replace(/[+/]/g, '\\$&')}\\): give its passphrase`));
    await expectRefused(read(sealedText, ''), 'kit-passphrase-needed', /passphrase for the sealed recovery kit .* is empty/);
    let asked = 0;
    const path = join(directory, 'clear.kit.json');
    await writeFile(path, formatKit('photos', key, location, now));
    const clear = await readKit(path, { passphrase: async () => `${(asked += 1)}` });
    expect(clear).toMatchObject({ sealed: false, name: 'photos' });
    expect(asked).toBe(0);
  });

  it('refuse an edited readable field as a change after sealing, not as a wrong passphrase', async () => {
    const changed = /^the sealed recovery kit .* was changed after it was sealed .*the passphrase is right, but the content does not authenticate; nothing was imported/;
    await expectRefused(read(edited((kit) => (kit.bucket = 'other-1250000000'))), 'kit-invalid', changed);
    await expectRefused(read(edited((kit) => (kit.name = 'docs'))), 'kit-invalid', changed);
    await expectRefused(read(edited((kit) => delete kit.prefix)), 'kit-invalid', changed);
    await expectRefused(read(edited((kit) => (kit.note = 'harmless?'))), 'kit-invalid', changed);
  });

  it('refuse a changed byte of the sealed part or of its tag as a change after sealing', async () => {
    const changed = /was changed after it was sealed/;
    const flip = (base64: string, index: number): string => {
      const bytes = Buffer.from(base64, 'base64');
      bytes[index] = (bytes[index] as number) ^ 0x01;
      return bytes.toString('base64');
    };
    await expectRefused(read(edited((kit) => (kit.ciphertext = flip(kit.ciphertext, 700)))), 'kit-invalid', changed);
    await expectRefused(read(edited((kit) => (kit.cipher.tag = flip(kit.cipher.tag, 0)))), 'kit-invalid', changed);
    await expectRefused(read(edited((kit) => (kit.cipher.iv = flip(kit.cipher.iv, 3)))), 'kit-invalid', changed);
  });

  it('refuse a cut-short file or sealed part as damaged, before any passphrase is tried', async () => {
    const damaged = (what: string) => new RegExp(`^the sealed recovery kit .* is damaged \\(${what}\\); nothing was imported — use another copy of the kit$`);
    let asked = false;
    const path = join(directory, 'cut.kit.json');
    await writeFile(path, sealedText.slice(0, Math.floor(sealedText.length / 2)));
    await expectRefused(
      readKit(path, {
        passphrase: async () => {
          asked = true;
          return PASSPHRASE;
        },
      }),
      'kit-invalid',
      damaged('it is not complete JSON: cut short or edited'),
    );
    expect(asked).toBe(false);
    const shortened = edited((kit) => (kit.ciphertext = Buffer.from(kit.ciphertext, 'base64').subarray(0, 1000).toString('base64')));
    await expectRefused(read(shortened), 'kit-invalid', damaged('the sealed part has 1000 bytes, not a multiple of 1024: cut short or edited'));
    await expectRefused(read(edited((kit) => (kit.ciphertext = ''))), 'kit-invalid', damaged('the sealed part is empty'));
  });

  it('refuse a malformed header, naming the field', async () => {
    const cases: ReadonlyArray<readonly [(kit: SealedJson) => unknown, string]> = [
      [(kit) => (kit.cipher.tag = kit.cipher.tag.slice(0, 8)), 'the tag has 6 bytes, not 16'],
      [(kit) => (kit.cipher.iv = 'not base64!'), 'the IV is not base64'],
      [(kit) => (kit.cipher.algorithm = 'aes-128-cbc'), '"cipher" is not aes-256-gcm'],
      [(kit) => (kit.kdf.algorithm = 'pbkdf2'), '"kdf" is not scrypt'],
      [(kit) => (kit.kdf.salt = ''), 'the salt has 0 bytes, not 16'],
      [(kit) => (kit.check = Buffer.alloc(4).toString('base64')), 'the passphrase check has 4 bytes, not 16'],
      [(kit) => (kit.fingerprint = 42), 'the fingerprint is not base64'],
      [(kit) => delete kit.name, '"name" is missing or not text'],
      [(kit) => (kit.bucket = ['a']), '"bucket" is not text'],
    ];
    for (const [edit, what] of cases) {
      await expectRefused(read(edited(edit)), 'kit-invalid', new RegExp(`is damaged \\(${what.replace(/[()[\]]/g, '\\$&')}\\)`));
    }
  });

  it('refuse scrypt costs no honest kit has, before running scrypt with them', async () => {
    // 2^30 would need 128 GiB: refused as damaged, not attempted.
    await expectRefused(read(edited((kit) => (kit.kdf.N = 2 ** 30))), 'kit-invalid', /is damaged \(its scrypt parameters: N must be a power of two from 2\^10 to 2\^22, got 1073741824\)/);
    await expectRefused(read(edited((kit) => (kit.kdf.p = 1.5))), 'kit-invalid', /is damaged \(scrypt N, r and p must be whole numbers\)/);
  });

  it('a changed salt or cost cannot be told from a wrong passphrase, and the message says so', async () => {
    await expectRefused(read(edited((kit) => (kit.kdf.N = 2 ** 11))), 'kit-passphrase-wrong', /wrong passphrase .*sure of it\? then the kit's "kdf" or "check" fields were edited/);
  });

  it('refuse a newer format version, asking for a newer cosync', async () => {
    await expectRefused(read(edited((kit) => (kit.version = 2))), 'kit-invalid', /has format version 2, which this cosync cannot read \(it reads version 1\); upgrade cosync/);
  });

  it('refuse to seal under an empty or short passphrase, without echoing it', async () => {
    await expect(formatSealedKit('photos', key, location, now, '', CHEAP)).rejects.toThrow(/^the kit passphrase is empty; choose one of at least 8 characters/);
    const short = 'hunter2';
    const error = await formatSealedKit('photos', key, location, now, short, CHEAP).catch((caught: unknown) => caught as CosyncError);
    expect(error).toMatchObject({ code: 'usage', message: expect.stringMatching(/^the kit passphrase is too short; choose one of at least 8 characters/) as unknown });
    expect((error as Error).message).not.toContain(short);
  });

  it('leave the kit file as it was, whatever is refused', async () => {
    const path = join(directory, 'kept.kit.json');
    await writeFile(path, sealedText);
    await expectRefused(readKit(path, { passphrase: async () => 'wrong passphrase here' }), 'kit-passphrase-wrong', /wrong passphrase/);
    expect(await readFile(path, 'utf8')).toBe(sealedText);
  });
});
