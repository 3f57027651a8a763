/**
 * SecretStore in one passphrase-encrypted file, for servers that have no OS keyring (no desktop
 * session, no Secret Service). Opt-in only — `--keystore file` or COSYNC_KEYSTORE=file — because
 * its safety rests on a passphrase the user has to keep somewhere, where the OS keychain has the
 * login session.
 *
 * The file (JSON, format "cosync-keystore", version 1):
 *
 *   { "format": "cosync-keystore", "version": 1,
 *     "kdf":    { "algorithm": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": B64 },   16 random bytes per file
 *     "cipher": { "algorithm": "aes-256-gcm", "iv": B64, "tag": B64 },               12 random bytes per write
 *     "ciphertext": B64 }
 *
 * - The key is scrypt(passphrase NFC, salt, N, r, p) → 32 bytes; the parameters travel in the
 *   file so that stronger defaults later still open older files.
 * - The whole header (everything but the tag and the ciphertext) is GCM's additional
 *   authenticated data: a changed parameter, salt or IV fails authentication exactly like a
 *   changed byte of ciphertext — and so does a wrong passphrase; the two cannot be told apart.
 * - The plaintext (`{"items": {account: secret}}`) is padded to a multiple of 1 KiB, so the
 *   file's size says little about how many secrets it holds.
 * - Writes are atomic (temporary file, fsync, rename) with mode 0600, under a lock file so that
 *   two cosync processes changing the store at once do not lose each other's items.
 * - Changing the passphrase re-encrypts the same items under a fresh salt and IV (and the current
 *   default scrypt cost), as one more such write.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosyncError } from '../../app/result.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { withFileLock } from '../fs/file-lock.js';
import {
  base64Field,
  checkedNewPassphrase,
  checkScryptParameters,
  DEFAULT_SCRYPT,
  deriveKey,
  freshCipher,
  freshKdf,
  kdfCacheKey,
  openBytes,
  paddedJson,
  PADDING_BLOCK,
  parseCipherHeader,
  parseKdfHeader,
  passphraseBytesOf,
  sealBytes,
  type CipherHeader,
  type KdfHeader,
  type ScryptParameters,
} from './passphrase-crypto.js';
import { passphraseFromVariables, type PassphraseVariables } from './passphrase-source.js';
import type { SecretStore } from './secret-store.js';

export { DEFAULT_SCRYPT, MIN_NEW_PASSPHRASE_CHARACTERS, type ScryptParameters } from './passphrase-crypto.js';

/** Marker in every keystore file. */
export const KEYSTORE_FORMAT = 'cosync-keystore';
/** The file format this code writes and reads. */
export const KEYSTORE_VERSION = 1;
/** The keystore's file name inside the config dir. */
export const KEYSTORE_FILE_NAME = 'keystore.json';


interface KeystoreHeader {
  readonly format: typeof KEYSTORE_FORMAT;
  readonly version: typeof KEYSTORE_VERSION;
  readonly kdf: KdfHeader;
  readonly cipher: CipherHeader;
}

interface KeystoreFile extends KeystoreHeader {
  readonly cipher: KeystoreHeader['cipher'] & { readonly tag: string };
  readonly ciphertext: string;
}

/** Options for tests and for callers that want other costs. */
export interface FileSecretStoreOptions {
  /** scrypt cost for a file this store creates (an existing file keeps its own). */
  readonly scrypt?: ScryptParameters;
}

/** SecretStore in one passphrase-encrypted file. */
export class FileSecretStore implements SecretStore {
  readonly #passphrase: () => Promise<string>;
  readonly #newFileScrypt: ScryptParameters;
  #passphraseBytes: Promise<Buffer> | undefined;
  /** Derived keys by KDF header (salt and costs): one scrypt run per file per process. */
  readonly #derivedKeys = new Map<string, Promise<Buffer>>();

  /**
   * @param file where the items live (created on the first `set`)
   * @param passphrase asked for once, on first use: a store that is never used never needs one
   */
  constructor(
    readonly file: string,
    passphrase: () => Promise<string>,
    options: FileSecretStoreOptions = {},
  ) {
    this.#passphrase = passphrase;
    this.#newFileScrypt = options.scrypt ?? DEFAULT_SCRYPT;
    checkScryptParameters(this.#newFileScrypt, 'the requested scrypt parameters');
  }

  async get(account: string): Promise<string | undefined> {
    return (await this.read())?.items.get(account);
  }

  async set(account: string, secret: string): Promise<void> {
    await this.change((items) => {
      items.set(account, secret);
      return true;
    });
  }

  async delete(account: string): Promise<boolean> {
    let deleted = false;
    await this.change((items) => {
      deleted = items.delete(account);
      return deleted;
    });
    return deleted;
  }

  async listAccounts(): Promise<string[]> {
    return [...((await this.read())?.items.keys() ?? [])].sort();
  }

  /**
   * Re-encrypts every item under `newPassphrase`, with a fresh salt and IV and this store's scrypt
   * cost for new files (DEFAULT_SCRYPT unless overridden, so an older, cheaper file is upgraded).
   * The current passphrase must open the file first; whatever fails, the file stays as it was.
   * Afterwards this store opens the file with the new passphrase; other processes need it given
   * to them. Copies of the old file still open with the old passphrase.
   *
   * @returns how many items were re-encrypted
   */
  async changePassphrase(newPassphrase: string): Promise<{ readonly items: number }> {
    const next = checkedNewPassphrase(newPassphrase, 'new keystore passphrase');
    // Checked before the lock: in a config dir that does not exist the lock could not even be taken.
    if (!(await mayExist(this.file))) throw this.#noKeystoreToChange();
    return withLock(`${this.file}.lock`, this.file, async () => {
      const current = await this.read();
      if (current === undefined) throw this.#noKeystoreToChange();
      if ((await this.passphraseBytes()).equals(next)) {
        throw new CosyncError('usage', 'the new keystore passphrase is the same as the current one; choose a different one');
      }
      const kdf = this.#freshKdf();
      const key = await deriveKey(next, kdf);
      await this.write(kdf, current.items, key);
      // From here on this store speaks only the new passphrase, as the file now does.
      this.#passphraseBytes = Promise.resolve(next);
      this.#derivedKeys.clear();
      this.#derivedKeys.set(kdfCacheKey(kdf), Promise.resolve(key));
      return { items: current.items.size };
    });
  }

  #noKeystoreToChange(): CosyncError {
    return new CosyncError(
      'keychain-unavailable',
      `there is no keystore ${this.file}, so there is no passphrase to change (it is created, with the passphrase from COSYNC_KEYSTORE_PASSPHRASE_FILE or COSYNC_KEYSTORE_PASSPHRASE, when the first key or credentials are stored); if it should exist, check --config-dir or COSYNC_CONFIG_DIR`,
    );
  }

  /** A new file's KDF header: this store's cost and a salt of its own. */
  #freshKdf(): KdfHeader {
    return freshKdf(this.#newFileScrypt);
  }

  /** The decrypted items and the header they came with, or undefined when there is no file yet. */
  private async read(): Promise<{ items: Map<string, string>; header: KeystoreHeader } | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      throw new CosyncError('keychain-unavailable', `cannot read the keystore ${this.file} (${code ?? (error as Error).message})`);
    }
    const stored = this.parse(text);
    const header = headerOf(stored);
    const key = await this.derivedKey(header.kdf);
    const plaintext = openBytes(key, stored.cipher, additionalData(header), stored.ciphertext);
    if (plaintext === undefined) {
      throw new CosyncError(
        'keychain-unavailable',
        `wrong passphrase for the keystore ${this.file} (or the file was altered): check COSYNC_KEYSTORE_PASSPHRASE_FILE or COSYNC_KEYSTORE_PASSPHRASE; without the right passphrase its keys cannot be read — restore them from their recovery kits`,
      );
    }
    return { items: this.parseItems(plaintext), header };
  }

  /** Read, change, write back — under the lock; `mutate` returns false when nothing changed. */
  private async change(mutate: (items: Map<string, string>) => boolean): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await withLock(`${this.file}.lock`, this.file, async () => {
      const current = await this.read();
      const items = current?.items ?? new Map<string, string>();
      if (!mutate(items)) return;
      // The first write creates the keystore: its passphrase is a new one, held to the same rule as `keystore passphrase`.
      if (current === undefined) checkedNewPassphrase((await this.passphraseBytes()).toString('utf8'), 'new keystore passphrase');
      const kdf = current?.header.kdf ?? this.#freshKdf();
      await this.write(kdf, items, await this.derivedKey(kdf));
    });
  }

  /** Encrypts `items` with `key` (derived for `kdf`) and replaces the file atomically. */
  private async write(kdf: KdfHeader, items: Map<string, string>, key: Buffer): Promise<void> {
    // A fresh IV for every write: GCM must never see the same key and IV twice.
    const header: KeystoreHeader = {
      format: KEYSTORE_FORMAT,
      version: KEYSTORE_VERSION,
      kdf: { algorithm: 'scrypt', N: kdf.N, r: kdf.r, p: kdf.p, salt: kdf.salt },
      cipher: freshCipher(),
    };
    // Padded so that the file's size hides the item count.
    const padded = paddedJson(JSON.stringify({ items: Object.fromEntries([...items].sort(([a], [b]) => a.localeCompare(b))) }), PADDING_BLOCK);
    const { ciphertext, tag } = sealBytes(key, header.cipher, additionalData(header), padded);
    padded.fill(0);
    const stored: KeystoreFile = { ...header, cipher: { ...header.cipher, tag }, ciphertext };
    await writeFileAtomically(this.file, `${JSON.stringify(stored, null, 2)}\n`);
  }

  private derivedKey(kdf: KdfHeader): Promise<Buffer> {
    const cacheKey = kdfCacheKey(kdf);
    let derived = this.#derivedKeys.get(cacheKey);
    if (derived === undefined) {
      derived = this.passphraseBytes().then((passphrase) => deriveKey(passphrase, kdf));
      // A failed derivation (e.g. no passphrase) is not cached: the next call asks again.
      derived.catch(() => this.#derivedKeys.delete(cacheKey));
      this.#derivedKeys.set(cacheKey, derived);
    }
    return derived;
  }

  private passphraseBytes(): Promise<Buffer> {
    this.#passphraseBytes ??= this.#passphrase().then((text) => {
      if (text === '') throw new CosyncError('keychain-unavailable', 'the keystore passphrase is empty; set a non-empty passphrase');
      return passphraseBytesOf(text);
    });
    this.#passphraseBytes.catch(() => (this.#passphraseBytes = undefined));
    return this.#passphraseBytes;
  }

  /** Checks the envelope and its parameters before anything is derived from them. */
  private parse(text: string): KeystoreFile {
    const damaged = (what: string): never => {
      throw new CosyncError('keychain-unavailable', `the keystore ${this.file} is damaged (${what}); restore it from a backup, or move it away and import the keys again from their recovery kits`);
    };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return damaged('not JSON');
    }
    const file = value as Partial<Record<keyof KeystoreFile, unknown>> | null;
    if (typeof file !== 'object' || file === null || file.format !== KEYSTORE_FORMAT) return damaged(`no "format": "${KEYSTORE_FORMAT}"`);
    if (file.version !== KEYSTORE_VERSION) {
      throw new CosyncError('keychain-unavailable', `the keystore ${this.file} has format version ${JSON.stringify(file.version)}, which this cosync cannot read (it reads version ${KEYSTORE_VERSION}); upgrade cosync`);
    }
    return {
      format: KEYSTORE_FORMAT,
      version: KEYSTORE_VERSION,
      kdf: parseKdfHeader(file.kdf, damaged),
      cipher: parseCipherHeader(file.cipher, damaged),
      ciphertext: base64Field(file.ciphertext, undefined, 'the ciphertext', damaged),
    };
  }

  private parseItems(plaintext: Buffer): Map<string, string> {
    try {
      const parsed = JSON.parse(plaintext.toString('utf8')) as { items?: unknown };
      if (typeof parsed.items !== 'object' || parsed.items === null) throw new Error('no items');
      const items = new Map<string, string>();
      for (const [account, secret] of Object.entries(parsed.items as Record<string, unknown>)) {
        if (typeof secret !== 'string') throw new Error('an item is not text');
        items.set(account, secret);
      }
      return items;
    } catch {
      // Authenticated, yet unreadable: written by something that is not this format's writer.
      throw new CosyncError('keychain-unavailable', `the keystore ${this.file} decrypts but its content is not a cosync item list; restore it from a backup`);
    } finally {
      plaintext.fill(0);
    }
  }
}

const CURRENT_PASSPHRASE: PassphraseVariables = { file: 'COSYNC_KEYSTORE_PASSPHRASE_FILE', inline: 'COSYNC_KEYSTORE_PASSPHRASE', what: 'keystore passphrase' };
/** Where `cosync keystore passphrase` takes the new passphrase from (besides piped stdin). */
export const NEW_KEYSTORE_PASSPHRASE: PassphraseVariables = { file: 'COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE', inline: 'COSYNC_KEYSTORE_NEW_PASSPHRASE', what: 'new keystore passphrase' };

/** Reads the passphrase from COSYNC_KEYSTORE_PASSPHRASE_FILE or COSYNC_KEYSTORE_PASSPHRASE — never from argv, which other users can see. */
export async function passphraseFromEnvironment(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<string> {
  const passphrase = await passphraseFromVariables(CURRENT_PASSPHRASE, env, platform);
  if (passphrase === undefined) {
    throw new CosyncError(
      'keychain-unavailable',
      'the file keystore needs its passphrase: put it in a file only you can read (chmod 600) and set COSYNC_KEYSTORE_PASSPHRASE_FILE to its path, or set COSYNC_KEYSTORE_PASSPHRASE (it is never taken as a command-line argument: other users can see those)',
    );
  }
  return passphrase;
}

/**
 * Reads the passphrase for `changePassphrase` from COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE or
 * COSYNC_KEYSTORE_NEW_PASSPHRASE, with the same checks as the current one; undefined when
 * neither is set.
 */
export function newPassphraseFromEnvironment(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  return passphraseFromVariables(NEW_KEYSTORE_PASSPHRASE, env, platform);
}

function headerOf(stored: KeystoreFile): KeystoreHeader {
  return { format: stored.format, version: stored.version, kdf: stored.kdf, cipher: { algorithm: stored.cipher.algorithm, iv: stored.cipher.iv } };
}

/** The header as GCM's additional data, in a fixed field order (not the file's own text). */
function additionalData(header: KeystoreHeader): Buffer {
  const { kdf, cipher } = header;
  return Buffer.from(
    JSON.stringify([header.format, header.version, kdf.algorithm, kdf.N, kdf.r, kdf.p, kdf.salt, cipher.algorithm, cipher.iv]),
    'utf8',
  );
}

/** False only when the file is certainly absent; anything else is left for the read to report. */
async function mayExist(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
  );
}

/** The keystore replaced atomically and durably, mode 0600. */
async function writeFileAtomically(file: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(file, text, { mode: 0o600 });
  } catch (error) {
    throw new CosyncError('keychain-unavailable', `cannot write the keystore ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** Runs `critical` holding the keystore's lock (shared with other cosync processes). */
function withLock<T>(lockFile: string, storeFile: string, critical: () => Promise<T>): Promise<T> {
  return withFileLock(lockFile, { subject: `the keystore ${storeFile}`, code: 'keychain-unavailable' }, critical);
}
