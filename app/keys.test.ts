import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.js';
import { parseBase64Key, parseRawTextKey, validateKeyName } from './keys.js';
import { CosyncError } from './result.js';

const COS_DOC_EXAMPLE_KEY = 'MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY';

function errorOf(run: () => unknown): CosyncError {
  try {
    run();
  } catch (error) {
    if (error instanceof CosyncError) return error;
    throw error;
  }
  throw new Error('expected a CosyncError');
}

describe('base64', () => {
  it('round-trips every length and byte value', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = Uint8Array.from({ length }, (_, index) => (index * 37 + length) & 0xff);
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      if (length > 0) expect(decodeBase64(text)).toEqual({ bytes });
    }
  });

  it('rejects non-canonical trailing bits instead of silently dropping them', () => {
    expect(decodeBase64('QR==')).toHaveProperty('problem');
    expect(decodeBase64('QQ==')).toEqual({ bytes: Uint8Array.from([0x41]) });
  });
});

describe('parseBase64Key', () => {
  it('accepts the example key from the COS documentation (unpadded)', () => {
    expect(Buffer.from(parseBase64Key(COS_DOC_EXAMPLE_KEY)).toString('latin1')).toBe('0123456789ABCDEF0123456789ABCDEF');
  });

  it('accepts padded, URL-safe, and whitespace-surrounded keys', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, index) => 250 - index);
    const padded = Buffer.from(bytes).toString('base64');
    expect(parseBase64Key(padded)).toEqual(bytes);
    expect(parseBase64Key(`  ${padded}\n`)).toEqual(bytes);
    expect(parseBase64Key(Buffer.from(bytes).toString('base64url'))).toEqual(bytes);
  });

  it('says how long a wrong-length key is', () => {
    const error = errorOf(() => parseBase64Key(Buffer.alloc(16).toString('base64')));
    expect(error.code).toBe('key-invalid');
    expect(error.message).toMatch(/exactly 32 bytes.*16 bytes/);
  });

  it('points at the first non-base64 character', () => {
    const error = errorOf(() => parseBase64Key('MDEyMzQ1Njc4OUFCQ0RF*jAxMjM0NTY3ODlBQkNERUY'));
    expect(error.message).toMatch(/not valid base64.*"\*" at position 21/);
  });

  it('names inner whitespace specifically', () => {
    const error = errorOf(() => parseBase64Key('MDEyMzQ1Njc4OUFC Q0RFRjAxMjM0NTY3ODlBQkNERUY'));
    expect(error.message).toMatch(/whitespace at position 17/);
  });

  it('rejects an empty key', () => {
    expect(errorOf(() => parseBase64Key('   ')).message).toMatch(/empty/);
  });
});

describe('parseRawTextKey', () => {
  it('takes exactly 32 printable ASCII characters as the key bytes', () => {
    expect(Buffer.from(parseRawTextKey('0123456789ABCDEF0123456789ABCDEF')).toString('latin1')).toBe('0123456789ABCDEF0123456789ABCDEF');
    expect(errorOf(() => parseRawTextKey('short')).message).toMatch(/this one is 5 bytes/);
    expect(errorOf(() => parseRawTextKey('0123456789ABCDEF0123456789ABCDÉF')).message).toMatch(/printable ASCII/);
  });
});

describe('validateKeyName', () => {
  it('allows simple names and rejects separators', () => {
    expect(validateKeyName('photos-2026.main')).toBe('photos-2026.main');
    expect(errorOf(() => validateKeyName('../etc')).code).toBe('usage');
    expect(errorOf(() => validateKeyName('')).code).toBe('usage');
  });
});
