/**
 * Sealed recovery kits: a recovery kit encrypted under a passphrase, safe to keep in a cloud
 * drive or to mail to oneself. The file (JSON, format "cosync-sealed-recovery-kit", version 1):
 *
 *   { "format": "cosync-sealed-recovery-kit", "version": 1,
 *     "name": "photos", "fingerprint": B64, "endpoint"?: URL, "bucket"?: B, "prefix"?: P,
 *     "createdAt": ISO, "note": "…",                                      readable, authenticated
 *     "kdf":    { "algorithm": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": B64 },
 *     "check":  B64,                                                     16 bytes, see below
 *     "cipher": { "algorithm": "aes-256-gcm", "iv": B64, "tag": B64 },
 *     "ciphertext": B64 }                          the clear kit's JSON, padded to 1 KiB
 *
 * - The readable part says what the kit is for (which key, where its data lives) without the
 *   passphrase; it is GCM's additional data, with the KDF and cipher parameters, so an edit of
 *   any of it is refused rather than believed.
 * - scrypt (passphrase-crypto.ts, as the file keystore) gives 32 bytes; HKDF-SHA256 splits them
 *   into the AES key and a 16-byte check value. The check value tells a wrong passphrase from a
 *   kit altered after sealing, which GCM alone cannot (RFC 5869 for HKDF; LUKS keeps a key
 *   digest for the same reason). It lets a guess be tested no faster than GCM would: each guess
 *   still costs one scrypt run.
 * - The padding makes a shortened ciphertext a damaged kit (its size is no multiple of 1 KiB),
 *   reported as such, not as a wrong passphrase.
 */
import { hkdfSync, timingSafeEqual } from 'node:crypto';
import { CosyncError } from '../../app/result.js';
import {
  base64Field,
  checkedNewPassphrase,
  DEFAULT_SCRYPT,
  deriveKey,
  freshCipher,
  freshKdf,
  MIN_NEW_PASSPHRASE_CHARACTERS,
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
import { passphraseFromVariablesOrStdin, type PassphraseStdin, type PassphraseVariables } from './passphrase-source.js';

/** Format marker of a sealed kit. */
export const SEALED_KIT_FORMAT = 'cosync-sealed-recovery-kit';
/** The sealed-kit format version this code writes and reads. */
export const SEALED_KIT_VERSION = 1;

/** Where a kit passphrase comes from besides piped stdin (sealing and opening alike). */
export const KIT_PASSPHRASE: PassphraseVariables = { file: 'COSYNC_KIT_PASSPHRASE_FILE', inline: 'COSYNC_KIT_PASSPHRASE', what: 'kit passphrase' };
const KIT_PASSPHRASE_SOURCES =
  'put the kit passphrase in a file only you can read (chmod 600) and set COSYNC_KIT_PASSPHRASE_FILE to its path, set COSYNC_KIT_PASSPHRASE, or pipe it on stdin (never on the command line, where other users can see it)';

/** What to tell the user who has just sealed a kit. */
export const SEALED_KIT_ADVICE =
  'it opens only with its passphrase, so it may be kept online (a cloud drive, a mail to yourself); keep the passphrase somewhere else — forgotten, it makes the kit useless';

const CHECK_BYTES = 16;
const AES_KEY_INFO = 'cosync sealed recovery kit: aes-256-gcm key';
const CHECK_INFO = 'cosync sealed recovery kit: passphrase check';

/** What a sealed kit shows without its passphrase. */
export interface SealedKitIdentity {
  readonly name: string;
  readonly fingerprint: string;
  readonly endpoint?: string | undefined;
  readonly bucket?: string | undefined;
  readonly prefix?: string | undefined;
  readonly createdAt: string;
}

interface SealedKitHeader extends SealedKitIdentity {
  readonly format: typeof SEALED_KIT_FORMAT;
  readonly version: typeof SEALED_KIT_VERSION;
  readonly note: string;
  readonly kdf: KdfHeader;
  readonly check: string;
  readonly cipher: CipherHeader;
}

interface SealedKitFile extends SealedKitHeader {
  readonly cipher: CipherHeader & { readonly tag: string };
  readonly ciphertext: string;
}

const NOTE =
  'This file is the SSE-C encryption key of your cosync backups, sealed under a passphrase: the key is readable only with that passphrase, so the file may be kept in a cloud drive or mailed to yourself. Without the passphrase nobody can use it, you included. The fields above say which key it holds; editing them makes the kit unreadable.';

/**
 * The sealed form of `clearKit` (a kit's JSON text), under `passphrase` (at least
 * MIN_NEW_PASSPHRASE_CHARACTERS long), showing `identity`.
 */
export async function sealKit(clearKit: string, identity: SealedKitIdentity, passphrase: string, scrypt: ScryptParameters = DEFAULT_SCRYPT): Promise<string> {
  const passphraseBytes = checkedNewPassphrase(passphrase, 'kit passphrase');
  const kdf = freshKdf(scrypt);
  const keys = splitKey(await deriveKey(passphraseBytes, kdf));
  const header: SealedKitHeader = {
    format: SEALED_KIT_FORMAT,
    version: SEALED_KIT_VERSION,
    name: identity.name,
    fingerprint: identity.fingerprint,
    ...(identity.endpoint === undefined ? {} : { endpoint: identity.endpoint }),
    ...(identity.bucket === undefined ? {} : { bucket: identity.bucket }),
    ...(identity.prefix === undefined ? {} : { prefix: identity.prefix }),
    createdAt: identity.createdAt,
    note: NOTE,
    kdf,
    check: keys.check.toString('base64'),
    cipher: freshCipher(),
  };
  const padded = paddedJson(clearKit, PADDING_BLOCK);
  try {
    const { ciphertext, tag } = sealBytes(keys.aes, header.cipher, additionalData(header), padded);
    const sealed: SealedKitFile = { ...header, cipher: { ...header.cipher, tag }, ciphertext };
    return `${JSON.stringify(sealed, null, 2)}\n`;
  } finally {
    padded.fill(0);
    keys.aes.fill(0);
  }
}

/** True when `text` looks like a sealed kit (also when it is too damaged to parse). */
export function isSealedKitText(text: string): boolean {
  return text.trimStart().startsWith('{') && text.includes(`"${SEALED_KIT_FORMAT}"`);
}

/** What openSealedKit needs besides the text. */
export interface OpenSealedKitOptions {
  /** Where the kit came from, for messages. */
  readonly path: string;
  /** Asked only once the readable part checks out; undefined when no passphrase can be had. */
  readonly passphrase: (() => Promise<string>) | undefined;
}

/**
 * The clear kit's JSON text inside a sealed kit, and the identity it shows. Refuses, each with
 * its own message and nothing imported: a damaged or cut-short file ('kit-invalid'), a newer
 * format ('kit-invalid'), no passphrase ('kit-passphrase-needed'), a wrong passphrase
 * ('kit-passphrase-wrong'), and an edit after sealing ('kit-invalid').
 */
export async function openSealedKit(text: string, options: OpenSealedKitOptions): Promise<{ readonly clearKit: string; readonly identity: SealedKitIdentity }> {
  const { path } = options;
  const sealed = parseSealedKit(text, path);
  if (options.passphrase === undefined) {
    throw new CosyncError('kit-passphrase-needed', `${path} is a sealed recovery kit (key "${sealed.name}", fingerprint ${sealed.fingerprint}): give its passphrase to open it`);
  }
  const passphrase = await options.passphrase();
  if (passphrase === '') throw new CosyncError('kit-passphrase-needed', `the passphrase for the sealed recovery kit ${path} is empty; give the passphrase it was sealed with`);
  const keys = splitKey(await deriveKey(passphraseBytesOf(passphrase), sealed.kdf));
  try {
    if (!timingSafeEqual(keys.check, Buffer.from(sealed.check, 'base64'))) {
      throw new CosyncError('kit-passphrase-wrong', `wrong passphrase for the sealed recovery kit ${path} (key "${sealed.name}"); nothing was imported — give the passphrase it was sealed with (sure of it? then the kit's "kdf" or "check" fields were edited: use another copy)`);
    }
    const plaintext = openBytes(keys.aes, sealed.cipher, additionalData(sealed), sealed.ciphertext);
    if (plaintext === undefined) {
      throw new CosyncError(
        'kit-invalid',
        `the sealed recovery kit ${path} was changed after it was sealed (its readable fields — name, fingerprint, endpoint, bucket, prefix, dates — or its sealed part): the passphrase is right, but the content does not authenticate; nothing was imported — use another copy of the kit`,
      );
    }
    try {
      return { clearKit: plaintext.toString('utf8').trimEnd(), identity: identityOf(sealed) };
    } finally {
      plaintext.fill(0);
    }
  } finally {
    keys.aes.fill(0);
  }
}

/** What a sealed kit's readable part says (checked for shape, not yet authenticated: that needs the passphrase). */
export function sealedKitIdentity(text: string, path: string): SealedKitIdentity {
  return identityOf(parseSealedKit(text, path));
}

/** The kit passphrase from COSYNC_KIT_PASSPHRASE_FILE, COSYNC_KIT_PASSPHRASE or piped stdin; `sealing` adds the length rule to the message. */
export function kitPassphraseFrom(io: { readonly env: NodeJS.ProcessEnv; readonly stdin: PassphraseStdin }, sealing: boolean): Promise<string> {
  return passphraseFromVariablesOrStdin(KIT_PASSPHRASE, io, {
    noun: 'kit passphrase',
    sources: KIT_PASSPHRASE_SOURCES,
    ...(sealing ? { hint: ` (at least ${MIN_NEW_PASSPHRASE_CHARACTERS} characters)` } : {}),
  });
}

/** The AES key and the check value, each from its own HKDF label, and the scrypt output zeroed. */
function splitKey(derived: Buffer): { readonly aes: Buffer; readonly check: Buffer } {
  try {
    return {
      aes: Buffer.from(hkdfSync('sha256', derived, Buffer.alloc(0), AES_KEY_INFO, 32)),
      check: Buffer.from(hkdfSync('sha256', derived, Buffer.alloc(0), CHECK_INFO, CHECK_BYTES)),
    };
  } finally {
    derived.fill(0);
  }
}

/** Everything but the tag and the ciphertext, in a fixed order (not the file's own text). */
function additionalData(header: SealedKitHeader): Buffer {
  const { kdf, cipher } = header;
  return Buffer.from(
    JSON.stringify([
      header.format,
      header.version,
      header.name,
      header.fingerprint,
      header.endpoint ?? null,
      header.bucket ?? null,
      header.prefix ?? null,
      header.createdAt,
      header.note,
      kdf.algorithm,
      kdf.N,
      kdf.r,
      kdf.p,
      kdf.salt,
      header.check,
      cipher.algorithm,
      cipher.iv,
    ]),
    'utf8',
  );
}

function identityOf(sealed: SealedKitHeader): SealedKitIdentity {
  return { name: sealed.name, fingerprint: sealed.fingerprint, endpoint: sealed.endpoint, bucket: sealed.bucket, prefix: sealed.prefix, createdAt: sealed.createdAt };
}

/** Checks the envelope and its parameters before anything is derived from them. */
function parseSealedKit(text: string, path: string): SealedKitFile {
  const damaged = (what: string): never => {
    throw new CosyncError('kit-invalid', `the sealed recovery kit ${path} is damaged (${what}); nothing was imported — use another copy of the kit`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return damaged('it is not complete JSON: cut short or edited');
  }
  const file = value as Partial<Record<keyof SealedKitFile, unknown>> | null;
  if (typeof file !== 'object' || file === null || file.format !== SEALED_KIT_FORMAT) return damaged(`no "format": "${SEALED_KIT_FORMAT}"`);
  if (file.version !== SEALED_KIT_VERSION) {
    throw new CosyncError(
      'kit-invalid',
      `the sealed recovery kit ${path} has format version ${JSON.stringify(file.version)}, which this cosync cannot read (it reads version ${SEALED_KIT_VERSION}); upgrade cosync, or use a kit this version wrote`,
    );
  }
  const required = (field: 'name' | 'fingerprint' | 'createdAt' | 'note'): string => {
    const found = file[field];
    return typeof found === 'string' && found !== '' ? found : damaged(`"${field}" is missing or not text`);
  };
  const optionalText = (field: 'endpoint' | 'bucket' | 'prefix'): string | undefined => {
    const found = file[field];
    if (found === undefined) return undefined;
    return typeof found === 'string' ? found : damaged(`"${field}" is not text`);
  };
  const ciphertext = base64Field(file.ciphertext, undefined, 'the sealed part', damaged);
  const sealedBytes = Buffer.from(ciphertext, 'base64').length;
  if (sealedBytes % PADDING_BLOCK !== 0) return damaged(`the sealed part has ${sealedBytes} bytes, not a multiple of ${PADDING_BLOCK}: cut short or edited`);
  return {
    format: SEALED_KIT_FORMAT,
    version: SEALED_KIT_VERSION,
    name: required('name'),
    fingerprint: base64Field(file.fingerprint, 16, 'the fingerprint', damaged),
    endpoint: optionalText('endpoint'),
    bucket: optionalText('bucket'),
    prefix: optionalText('prefix'),
    createdAt: required('createdAt'),
    note: required('note'),
    kdf: parseKdfHeader(file.kdf, damaged),
    check: base64Field(file.check, CHECK_BYTES, 'the passphrase check', damaged),
    cipher: parseCipherHeader(file.cipher, damaged),
    ciphertext,
  };
}
