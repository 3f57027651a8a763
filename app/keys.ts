/**
 * SSE-C key input rules, shared by the CLI and the UI.
 *
 * An SSE-C key is exactly 32 bytes (AES-256). COS and S3 never store it: a typo accepted here
 * would encrypt data under a key nobody has, so every rule fails loudly and specifically.
 */
import { decodeBase64, describeBase64Problem } from './base64.js';
import { CosyncError } from './result.js';

/** AES-256 key length in bytes. */
export const SSE_C_KEY_BYTES = 32;

/**
 * The shortest new passphrase (keystore or sealed kit) cosync accepts, in characters (Unicode
 * code points); the window checks it before asking the engine, which checks it again. Only new
 * passphrases are held to it: a file made with a shorter one still opens.
 */
export const MIN_NEW_PASSPHRASE_CHARACTERS = 8;

/** Names of keys in the keychain: short, printable, no path separators. */
const KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a key name, throwing a CosyncError('usage') that says what is allowed. */
export function validateKeyName(name: string): string {
  if (!KEY_NAME_PATTERN.test(name)) {
    throw new CosyncError(
      'usage',
      `invalid key name ${JSON.stringify(name)}: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}

/** Parses base64 text (padded or not, surrounding whitespace trimmed) into a 32-byte key. */
export function parseBase64Key(text: string): Uint8Array {
  const trimmed = text.trim();
  const decoded = decodeBase64(trimmed);
  if ('problem' in decoded) {
    throw new CosyncError('key-invalid', `the key is not valid base64: ${describeBase64Problem(decoded.problem)}`);
  }
  return requireKeyLength(decoded.bytes, 'decodes to');
}

/**
 * Accepts a 32-character text key used as raw bytes (as some tools do). Only behind an explicit
 * flag: a 32-character string that was meant as base64 would otherwise silently become a key.
 */
export function parseRawTextKey(text: string): Uint8Array {
  const trimmed = text.trim();
  if (/\s/.test(trimmed)) {
    throw new CosyncError('key-invalid', 'the raw key contains whitespace; remove spaces and line breaks inside the key');
  }
  // Printable ASCII only: one character is one byte, so "32 characters" means 32 bytes.
  const nonAscii = trimmed.search(/[^\x21-\x7e]/);
  if (nonAscii >= 0) {
    throw new CosyncError('key-invalid', `the raw key may contain only printable ASCII characters; character ${nonAscii + 1} is not`);
  }
  const bytes = Uint8Array.from(trimmed, (character) => character.charCodeAt(0));
  return requireKeyLength(bytes, 'is');
}

function requireKeyLength(bytes: Uint8Array, verb: string): Uint8Array {
  if (bytes.length !== SSE_C_KEY_BYTES) {
    throw new CosyncError(
      'key-invalid',
      `an SSE-C key must be exactly ${SSE_C_KEY_BYTES} bytes (AES-256); this one ${verb} ${bytes.length} byte${bytes.length === 1 ? '' : 's'}`,
    );
  }
  return bytes;
}
