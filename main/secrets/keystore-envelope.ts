/**
 * The file keystore's envelope: how its items are sealed into one file and opened again.
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
 */
import { CosyncError } from '../../app/result.js';
import {
  base64Field,
  freshCipher,
  openBytes,
  paddedJson,
  PADDING_BLOCK,
  parseCipherHeader,
  parseKdfHeader,
  sealBytes,
  type CipherHeader,
  type KdfHeader,
} from './passphrase-crypto.js';

/** Marker in every keystore file. */
export const KEYSTORE_FORMAT = 'cosync-keystore';
/** The file format this code writes and reads. */
export const KEYSTORE_VERSION = 1;

/** Everything of a keystore file but the tag and the ciphertext (GCM's additional data). */
export interface KeystoreHeader {
  readonly format: typeof KEYSTORE_FORMAT;
  readonly version: typeof KEYSTORE_VERSION;
  readonly kdf: KdfHeader;
  readonly cipher: CipherHeader;
}

interface KeystoreFile extends KeystoreHeader {
  readonly cipher: KeystoreHeader['cipher'] & { readonly tag: string };
  readonly ciphertext: string;
}

/**
 * Opens a keystore file's text (`file` names it in messages): checks the envelope, derives the key
 * for its KDF header with `keyFor`, authenticates and decrypts, and returns the items with the
 * header they came with.
 */
export async function openKeystore(file: string, text: string, keyFor: (kdf: KdfHeader) => Promise<Buffer>): Promise<{ items: Map<string, string>; header: KeystoreHeader }> {
  const stored = parseKeystoreFile(file, text);
  const header = headerOf(stored);
  const key = await keyFor(header.kdf);
  const plaintext = openBytes(key, stored.cipher, additionalData(header), stored.ciphertext);
  if (plaintext === undefined) {
    throw new CosyncError(
      'keychain-unavailable',
      `wrong passphrase for the keystore ${file} (or the file was altered): check COSYNC_KEYSTORE_PASSPHRASE_FILE or COSYNC_KEYSTORE_PASSPHRASE; without the right passphrase its keys cannot be read — restore them from their recovery kits`,
    );
  }
  return { items: parseItems(file, plaintext), header };
}

/** The text of a keystore file holding `items`, encrypted with `key` (derived for `kdf`). */
export function sealKeystore(kdf: KdfHeader, items: ReadonlyMap<string, string>, key: Buffer): string {
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
  return `${JSON.stringify(stored, null, 2)}\n`;
}

/** Checks the envelope and its parameters before anything is derived from them. */
function parseKeystoreFile(file: string, text: string): KeystoreFile {
  const damaged = (what: string): never => {
    throw new CosyncError('keychain-unavailable', `the keystore ${file} is damaged (${what}); restore it from a backup, or move it away and import the keys again from their recovery kits`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return damaged('not JSON');
  }
  const fields = value as Partial<Record<keyof KeystoreFile, unknown>> | null;
  if (typeof fields !== 'object' || fields === null || fields.format !== KEYSTORE_FORMAT) return damaged(`no "format": "${KEYSTORE_FORMAT}"`);
  if (fields.version !== KEYSTORE_VERSION) {
    throw new CosyncError('keychain-unavailable', `the keystore ${file} has format version ${JSON.stringify(fields.version)}, which this cosync cannot read (it reads version ${KEYSTORE_VERSION}); upgrade cosync`);
  }
  return {
    format: KEYSTORE_FORMAT,
    version: KEYSTORE_VERSION,
    kdf: parseKdfHeader(fields.kdf, damaged),
    cipher: parseCipherHeader(fields.cipher, damaged),
    ciphertext: base64Field(fields.ciphertext, undefined, 'the ciphertext', damaged),
  };
}

/** The item list inside an authenticated plaintext (which is wiped afterwards). */
function parseItems(file: string, plaintext: Buffer): Map<string, string> {
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
    throw new CosyncError('keychain-unavailable', `the keystore ${file} decrypts but its content is not a cosync item list; restore it from a backup`);
  } finally {
    plaintext.fill(0);
  }
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
