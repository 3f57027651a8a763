/**
 * SecretStore in one passphrase-encrypted file, for servers that have no OS keyring (no desktop
 * session, no Secret Service). Opt-in only — `--keystore file` or COSYNC_KEYSTORE=file — because
 * its safety rests on a passphrase the user has to keep somewhere, where the OS keychain has the
 * login session.
 *
 * The file's format is in keystore-envelope.ts, where its passphrase comes from in
 * keystore-passphrase.ts. This module is the store itself:
 *
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
import { openKeystore, sealKeystore, type KeystoreHeader } from './keystore-envelope.js';
import { checkedNewPassphrase, checkScryptParameters, DEFAULT_SCRYPT, deriveKey, freshKdf, kdfCacheKey, passphraseBytesOf, type KdfHeader, type ScryptParameters } from './passphrase-crypto.js';
import type { SecretStore } from './secret-store.js';

// What callers of the file keystore need, from this one module.
export { DEFAULT_SCRYPT, MIN_NEW_PASSPHRASE_CHARACTERS, type ScryptParameters } from './passphrase-crypto.js';
export { newPassphraseFromEnvironment, NEW_KEYSTORE_PASSPHRASE, passphraseFromEnvironment } from './keystore-passphrase.js';

/** The keystore's file name inside the config dir. */
export const KEYSTORE_FILE_NAME = 'keystore.json';

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
    return openKeystore(this.file, text, (kdf) => this.derivedKey(kdf));
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
    await writeFileAtomically(this.file, sealKeystore(kdf, items, key));
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
