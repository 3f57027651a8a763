/**
 * Passphrase encryption, shared by the file keystore and sealed recovery kits: scrypt turns the
 * passphrase (NFC) and a random salt into a 32-byte key, AES-256-GCM encrypts under it with a
 * random 12-byte IV, and the caller's header — which carries the scrypt parameters, salt and IV
 * so that stronger defaults later still open older files — is GCM's additional authenticated
 * data. A changed header byte therefore fails authentication like a changed ciphertext byte.
 *
 * Headers are read before they can be authenticated, so their parameters are checked against
 * limits first (parseKdfHeader): a tampered file must not make us allocate gigabytes.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { MIN_NEW_PASSPHRASE_CHARACTERS } from '../../app/keys.js';
import { CosyncError } from '../../app/result.js';

/** scrypt cost parameters. */
export interface ScryptParameters {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * New files: N = 2^17, r = 8, p = 1 — 128 MiB and about 0.6 s per derivation on a 2-core server
 * (measured), the cost OWASP recommends for scrypt.
 */
export const DEFAULT_SCRYPT: ScryptParameters = { N: 2 ** 17, r: 8, p: 1 };

export { MIN_NEW_PASSPHRASE_CHARACTERS };

/** The KDF part of a header: scrypt, its costs, and the salt (base64 of 16 bytes). */
export type KdfHeader = { readonly algorithm: 'scrypt'; readonly salt: string } & ScryptParameters;

/** The cipher part of a header, without the tag: AES-256-GCM and its IV (base64 of 12 bytes). */
export interface CipherHeader {
  readonly algorithm: 'aes-256-gcm';
  readonly iv: string;
}

/** What a file may ask for (see the module comment). */
const SCRYPT_LIMITS = { minLogN: 10, maxLogN: 22, maxR: 32, maxP: 16, maxMemoryBytes: 1024 * 1024 * 1024 } as const;

const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A new file's KDF header: `parameters` and a salt of its own. */
export function freshKdf(parameters: ScryptParameters): KdfHeader {
  return { algorithm: 'scrypt', N: parameters.N, r: parameters.r, p: parameters.p, salt: randomBytes(SALT_BYTES).toString('base64') };
}

/** A cipher header with a fresh IV: GCM must never see the same key and IV twice. */
export function freshCipher(): CipherHeader {
  return { algorithm: 'aes-256-gcm', iv: randomBytes(IV_BYTES).toString('base64') };
}

/** Throws a RangeError naming `what` when the costs are outside what cosync will run. */
export function checkScryptParameters(parameters: ScryptParameters, what: string): void {
  const { N, r, p } = parameters;
  const logN = Math.log2(N);
  if (!Number.isInteger(logN) || logN < SCRYPT_LIMITS.minLogN || logN > SCRYPT_LIMITS.maxLogN) {
    throw new RangeError(`${what}: N must be a power of two from 2^${SCRYPT_LIMITS.minLogN} to 2^${SCRYPT_LIMITS.maxLogN}, got ${N}`);
  }
  if (!Number.isInteger(r) || r < 1 || r > SCRYPT_LIMITS.maxR) throw new RangeError(`${what}: r must be 1–${SCRYPT_LIMITS.maxR}, got ${r}`);
  if (!Number.isInteger(p) || p < 1 || p > SCRYPT_LIMITS.maxP) throw new RangeError(`${what}: p must be 1–${SCRYPT_LIMITS.maxP}, got ${p}`);
  if (scryptMemory(parameters) > SCRYPT_LIMITS.maxMemoryBytes) throw new RangeError(`${what}: N × r needs more than 1 GiB of memory`);
}

/** scrypt's memory use: 128 · N · r bytes for V, plus 128 · r · p for B. */
function scryptMemory({ N, r, p }: ScryptParameters): number {
  return 128 * N * r + 128 * r * p;
}

/** A passphrase as the bytes scrypt takes. */
export function passphraseBytesOf(text: string): Buffer {
  // The same passphrase typed on another OS may arrive in another Unicode normal form.
  return Buffer.from(text.normalize('NFC'), 'utf8');
}

/**
 * A new passphrase as bytes, once it is long enough (MIN_NEW_PASSPHRASE_CHARACTERS); `what`
 * names it in the message ("new keystore passphrase").
 */
export function checkedNewPassphrase(text: string, what: string): Buffer {
  // Not the count itself in the message: it would end up in the log.
  const characters = [...text.normalize('NFC')].length;
  const advice = `choose one of at least ${MIN_NEW_PASSPHRASE_CHARACTERS} characters (a few random words make a good one)`;
  if (characters === 0) throw new CosyncError('usage', `the ${what} is empty; ${advice}`);
  if (characters < MIN_NEW_PASSPHRASE_CHARACTERS) throw new CosyncError('usage', `the ${what} is too short; ${advice}`);
  return passphraseBytesOf(text);
}

/** The 32-byte key for a KDF header. */
export function deriveKey(passphrase: Buffer, kdf: KdfHeader): Promise<Buffer> {
  const parameters = { N: kdf.N, r: kdf.r, p: kdf.p };
  // Node refuses scrypt above 32 MiB unless maxmem allows it; async keeps the event loop free.
  const options: ScryptOptions = { ...parameters, maxmem: scryptMemory(parameters) + 1024 * 1024 };
  return new Promise((resolvePromise, reject) => {
    scrypt(passphrase, Buffer.from(kdf.salt, 'base64'), KEY_BYTES, options, (error, key) => (error === null ? resolvePromise(key) : reject(error)));
  });
}

/** Derived keys depend on the salt and the costs besides the passphrase: a cache key for them. */
export function kdfCacheKey(kdf: KdfHeader): string {
  return `${kdf.N}:${kdf.r}:${kdf.p}:${kdf.salt}`;
}

/** Encrypts `plaintext` under `key` with the header's IV, authenticating `additionalData`. */
export function sealBytes(key: Buffer, cipher: CipherHeader, additionalData: Buffer, plaintext: Buffer): { readonly ciphertext: string; readonly tag: string } {
  const encryption = createCipheriv('aes-256-gcm', key, Buffer.from(cipher.iv, 'base64'), { authTagLength: TAG_BYTES });
  encryption.setAAD(additionalData);
  const ciphertext = Buffer.concat([encryption.update(plaintext), encryption.final()]);
  return { ciphertext: ciphertext.toString('base64'), tag: encryption.getAuthTag().toString('base64') };
}

/**
 * Decrypts what sealBytes made; undefined when authentication fails — a wrong key, or a changed
 * header, tag or ciphertext, which GCM cannot tell apart.
 */
export function openBytes(key: Buffer, cipher: CipherHeader & { readonly tag: string }, additionalData: Buffer, ciphertext: string): Buffer | undefined {
  try {
    const decryption = createDecipheriv('aes-256-gcm', key, Buffer.from(cipher.iv, 'base64'), { authTagLength: TAG_BYTES });
    decryption.setAAD(additionalData);
    decryption.setAuthTag(Buffer.from(cipher.tag, 'base64'));
    return Buffer.concat([decryption.update(Buffer.from(ciphertext, 'base64')), decryption.final()]);
  } catch {
    return undefined;
  }
}

/** Sealed plaintexts (keystore, kits) are padded to a multiple of this: a file's size says little about what it holds. */
export const PADDING_BLOCK = 1024;

/**
 * `text` padded with trailing spaces (valid JSON whitespace) to a multiple of `block` bytes, so
 * that a ciphertext's size says little about what it holds. The caller zeroes the result.
 */
export function paddedJson(text: string, block: number): Buffer {
  const json = Buffer.from(text, 'utf8');
  const padded = Buffer.alloc(Math.ceil((json.length + 1) / block) * block, 0x20);
  json.copy(padded);
  json.fill(0);
  return padded;
}

/** Reports a header field that cannot be right, then throws; never returns. */
export type Damaged = (what: string) => never;

/** Checks a header's "kdf" object and its costs; `damaged` reports what is wrong. */
export function parseKdfHeader(value: unknown, damaged: Damaged): KdfHeader {
  const kdf = value as Partial<Record<string, unknown>> | null | undefined;
  if (typeof kdf !== 'object' || kdf === null || kdf.algorithm !== 'scrypt') return damaged('"kdf" is not scrypt');
  const parameters = { N: kdf.N, r: kdf.r, p: kdf.p };
  if (!Object.values(parameters).every((number) => typeof number === 'number' && Number.isSafeInteger(number))) return damaged('scrypt N, r and p must be whole numbers');
  try {
    checkScryptParameters(parameters as ScryptParameters, 'its scrypt parameters');
  } catch (error) {
    return damaged((error as Error).message);
  }
  return { algorithm: 'scrypt', ...(parameters as ScryptParameters), salt: base64Field(kdf.salt, SALT_BYTES, 'the salt', damaged) };
}

/** Checks a header's "cipher" object (IV and tag); `damaged` reports what is wrong. */
export function parseCipherHeader(value: unknown, damaged: Damaged): CipherHeader & { readonly tag: string } {
  const cipher = value as Partial<Record<string, unknown>> | null | undefined;
  if (typeof cipher !== 'object' || cipher === null || cipher.algorithm !== 'aes-256-gcm') return damaged('"cipher" is not aes-256-gcm');
  return { algorithm: 'aes-256-gcm', iv: base64Field(cipher.iv, IV_BYTES, 'the IV', damaged), tag: base64Field(cipher.tag, TAG_BYTES, 'the tag', damaged) };
}

/** A base64 field of `length` bytes (or any non-empty length when undefined). */
export function base64Field(field: unknown, length: number | undefined, name: string, damaged: Damaged): string {
  if (typeof field !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(field)) return damaged(`${name} is not base64`);
  const decoded = Buffer.from(field, 'base64').length;
  if (length !== undefined && decoded !== length) return damaged(`${name} has ${decoded} bytes, not ${length}`);
  if (length === undefined && decoded === 0) return damaged(`${name} is empty`);
  return field;
}
