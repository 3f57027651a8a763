/**
 * Strict base64 (RFC 4648 §4) decoding with messages a person can act on.
 *
 * Lives in app/ (no Buffer, no atob) because key validation is pure logic shared by the CLI and
 * the UI. Node's Buffer.from(s, 'base64') silently skips bad characters, which would turn a typo
 * into a different key — exactly what must never happen with an encryption key.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_SAFE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Why a text is not base64, with the position of the first problem. */
export type Base64Problem =
  | { readonly kind: 'empty' }
  | { readonly kind: 'inner-whitespace'; readonly index: number }
  | { readonly kind: 'bad-character'; readonly index: number; readonly character: string }
  | { readonly kind: 'bad-padding' }
  | { readonly kind: 'bad-length'; readonly length: number };

/** Decodes standard or URL-safe base64, padded or not. */
export function decodeBase64(text: string): { bytes: Uint8Array } | { problem: Base64Problem } {
  if (text.length === 0) return { problem: { kind: 'empty' } };
  const whitespace = text.search(/\s/);
  if (whitespace >= 0) return { problem: { kind: 'inner-whitespace', index: whitespace } };

  const firstPad = text.indexOf('=');
  const body = firstPad >= 0 ? text.slice(0, firstPad) : text;
  if (firstPad >= 0) {
    const padding = text.slice(firstPad);
    if (!/^={1,2}$/.test(padding) || text.length % 4 !== 0) return { problem: { kind: 'bad-padding' } };
  }
  const urlSafe = /[-_]/.test(body);
  const alphabet = urlSafe ? URL_SAFE_ALPHABET : ALPHABET;
  for (let index = 0; index < body.length; index++) {
    const character = body[index] as string;
    if (!alphabet.includes(character)) return { problem: { kind: 'bad-character', index, character } };
  }
  if (body.length % 4 === 1) return { problem: { kind: 'bad-length', length: body.length } };

  const bytes = new Uint8Array(Math.floor((body.length * 3) / 4));
  let accumulator = 0;
  let bits = 0;
  let out = 0;
  for (const character of body) {
    accumulator = (accumulator << 6) | alphabet.indexOf(character);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = (accumulator >> bits) & 0xff;
    }
  }
  // Non-zero leftover bits mean the text was not produced by an encoder ("canonical" check).
  if ((accumulator & ((1 << bits) - 1)) !== 0) return { problem: { kind: 'bad-padding' } };
  return { bytes };
}

/** Encodes bytes as padded standard base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let text = '';
  for (let index = 0; index < bytes.length; index += 3) {
    const a = bytes[index] as number;
    const b = bytes[index + 1];
    const c = bytes[index + 2];
    const triple = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    text += ALPHABET[(triple >> 18) & 63];
    text += ALPHABET[(triple >> 12) & 63];
    text += b === undefined ? '=' : ALPHABET[(triple >> 6) & 63];
    text += c === undefined ? '=' : ALPHABET[triple & 63];
  }
  return text;
}

/** A sentence describing a Base64Problem. */
export function describeBase64Problem(problem: Base64Problem): string {
  switch (problem.kind) {
    case 'empty':
      return 'it is empty';
    case 'inner-whitespace':
      return `it contains whitespace at position ${problem.index + 1} (remove spaces and line breaks inside the key)`;
    case 'bad-character':
      return `character ${JSON.stringify(problem.character)} at position ${problem.index + 1} is not a base64 character`;
    case 'bad-padding':
      return 'its padding is wrong (base64 ends with at most two "=" and its length is a multiple of 4)';
    case 'bad-length':
      return `its length (${problem.length} characters) cannot be base64`;
  }
}
