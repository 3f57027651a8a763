/**
 * The mapping between local relative paths and object keys, both ways.
 *
 * Keys are NFC-normalized and "/"-separated so that the same file name typed on macOS (NFD) and
 * Linux (NFC) is one object. The reverse mapping refuses keys that would escape the restore
 * folder ("..", absolute paths) — a bucket is not trusted input.
 */
import { CosyncError } from './result.js';

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
