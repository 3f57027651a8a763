/**
 * The mapping between local relative paths and object keys, both ways.
 *
 * Keys are NFC-normalized and "/"-separated so that the same file name typed on macOS (NFD) and
 * Linux (NFC) is one object. The reverse mapping refuses keys that would escape the restore
 * folder ("..", absolute paths) — a bucket is not trusted input.
 */
import { CosyncError } from './result.js';

/**
 * The longest object key a store accepts, in UTF-8 bytes (prefix included). S3 documents 1,024
 * bytes ("Naming Amazon S3 objects": "The object key name is a sequence of Unicode characters with
 * UTF-8 encoding of up to 1,024 bytes long"); a longer key is refused by the server with
 * InvalidObjectName / KeyTooLongError only after the request is made, so cosync refuses it first.
 */
export const MAX_OBJECT_KEY_BYTES = 1024;

/** Length of a string in UTF-8 bytes (no Buffer here: app/ runs anywhere). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair: one code point above U+FFFF
      index++;
    } else bytes += 3;
  }
  return bytes;
}

/** Why a file cannot be stored as `key`, when the key is over the store's limit (the file's path goes beside it). */
export function keyLengthProblem(key: string): CosyncError | undefined {
  if (key.length * 3 <= MAX_OBJECT_KEY_BYTES) return undefined; // no UTF-16 unit takes more than 3 bytes: the common case, uncounted
  const bytes = utf8ByteLength(key);
  if (bytes <= MAX_OBJECT_KEY_BYTES) return undefined;
  return new CosyncError(
    'name-unsupported',
    `its object key would be ${bytes} bytes, over the store's limit of ${MAX_OBJECT_KEY_BYTES} bytes (prefix included); not uploaded — shorten its name or folder path, or use a shorter prefix`,
  );
}

/** The error for a file whose name differs from `storedPath`'s only in Unicode normalization: one key (and one file on macOS) for both. */
export function normalizationTwinProblem(storedPath: string, key: string): CosyncError {
  return new CosyncError(
    'name-unsupported',
    `its name differs from ${storedPath} only in Unicode normalization (NFC/NFD), so both map to the object key ${JSON.stringify(key)}; ${storedPath} is backed up there and this file is not — rename one of them`,
  );
}

/** Joins a normalized prefix and a relative path given as segments. */
export function objectKeyFor(prefix: string, relativeSegments: ReadonlyArray<string>): string {
  const segments = relativeSegments.map((segment) => segment.normalize('NFC'));
  for (const segment of segments) {
    if (segment.length === 0 || segment === '.' || segment === '..' || segment.includes('/')) {
      throw new CosyncError('usage', `cannot map path segment ${JSON.stringify(segment)} to an object key`);
    }
  }
  return prefix + segments.join('/');
}

/**
 * The relative path segments an object key restores to under `prefix`, or a reason to skip it.
 * Directory markers (keys ending in "/") and keys outside the prefix are skipped.
 */
export function relativeSegmentsFor(prefix: string, key: string): { segments: string[] } | { skip: string } {
  if (!key.startsWith(prefix)) return { skip: 'outside the prefix' };
  const rest = key.slice(prefix.length);
  if (rest.length === 0 || rest.endsWith('/')) return { skip: 'a folder marker' };
  const segments = rest.split('/');
  for (const segment of segments) {
    if (segment.length === 0 || segment === '.' || segment === '..' || segment.includes('\\') || segment.includes('\0')) {
      return { skip: `unsafe path segment ${JSON.stringify(segment)}` };
    }
  }
  return { segments };
}
