import { describe, expect, it } from 'vitest';
import { Crc64, crc64, crc64Combine } from './crc64.js';

const ascii = (text: string) => Uint8Array.from(text, (character) => character.charCodeAt(0));

/** Bit-by-bit reference straight from the CRC-64/XZ definition, for cross-checking. */
function reference(bytes: Uint8Array): bigint {
  let crc = 0xffffffffffffffffn;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ 0xc96c5795d7870f42n : crc >> 1n;
  }
  return crc ^ 0xffffffffffffffffn;
}

describe('CRC-64/XZ (COS x-cos-hash-crc64ecma)', () => {
  it('matches the published check value and test vectors', () => {
    expect(crc64(ascii('123456789'))).toBe(0x995dc9bbdf1939fan);
    expect(crc64(ascii('123456789')).toString()).toBe('11051210869376104954');
    expect(crc64(new Uint8Array(0))).toBe(0n);
    // Go's hash/crc64 ECMA test table.
    expect(crc64(ascii('a'))).toBe(0x330284772e652b05n);
    expect(crc64(ascii('abc'))).toBe(0x2cd8094a1a277627n);
  });

  it('agrees with the bit-by-bit definition on every length and split', () => {
    const data = Uint8Array.from({ length: 300 }, (_, index) => (index * 131 + 7) & 0xff);
    for (let length = 0; length <= 70; length++) expect(crc64(data.subarray(0, length)), `length ${length}`).toBe(reference(data.subarray(0, length)));
    for (const split of [0, 1, 7, 8, 9, 150, 299]) {
      expect(new Crc64().update(data.subarray(0, split)).update(data.subarray(split)).value).toBe(reference(data));
    }
  });

  it('combines part CRCs into the whole-file CRC without the bytes', () => {
    const data = Uint8Array.from({ length: 10_000 }, (_, index) => (index * 7919) & 0xff);
    for (const split of [1, 8, 4096, 9999]) {
      expect(crc64Combine(crc64(data.subarray(0, split)), crc64(data.subarray(split)), data.length - split)).toBe(crc64(data));
    }
    expect(crc64Combine(crc64(data), 0n, 0)).toBe(crc64(data));
  });
});
