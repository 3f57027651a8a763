/**
 * CRC-64/XZ (ECMA-182 polynomial, reflected, init and final XOR all ones): the checksum that COS
 * returns as `x-cos-hash-crc64ecma` (a decimal string), the same as Go's hash/crc64 with the ECMA
 * table. Check value of "123456789": 0x995DC9BBDF1939FA.
 *
 * Slice-by-8 on 32-bit halves (BigInt per byte would be ~50× slower), so hashing keeps up with
 * disk reads. Part CRCs are combined without reading the file again (zlib's crc32_combine method).
 */

/** The ECMA-182 polynomial, bit-reflected. */
const POLY_REFLECTED = 0xc96c5795d7870f42n;
const POLY_LO = Number(POLY_REFLECTED & 0xffffffffn);
const POLY_HI = Number(POLY_REFLECTED >> 32n);

// TABLE_LO/HI[k * 256 + i]: the CRC of byte i followed by k zero bytes (slice-by-8 tables).
const TABLE_LO = new Uint32Array(8 * 256);
const TABLE_HI = new Uint32Array(8 * 256);
for (let index = 0; index < 256; index++) {
  let lo = index;
  let hi = 0;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  TABLE_LO[index] = lo;
  TABLE_HI[index] = hi;
}
for (let slice = 1; slice < 8; slice++) {
  for (let index = 0; index < 256; index++) {
    const previousLo = TABLE_LO[(slice - 1) * 256 + index] as number;
    const previousHi = TABLE_HI[(slice - 1) * 256 + index] as number;
    const low = previousLo & 0xff;
    TABLE_LO[slice * 256 + index] = (((previousLo >>> 8) | (previousHi << 24)) ^ (TABLE_LO[low] as number)) >>> 0;
    TABLE_HI[slice * 256 + index] = ((previousHi >>> 8) ^ (TABLE_HI[low] as number)) >>> 0;
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** An incremental CRC-64/XZ. */
export class Crc64 {
  // The running register, pre-inverted (init = all ones).
  #lo = 0xffffffff;
  #hi = 0xffffffff;

  /** Feeds bytes. */
  update(bytes: Uint8Array): this {
    let lo = this.#lo;
    let hi = this.#hi;
    let offset = 0;
    const end8 = bytes.length - (bytes.length % 8);
    // Whole 32-bit words when the bytes are 4-aligned (the usual case for Buffers from disk reads);
    // the CRC is little-endian by definition, so this needs a little-endian host (all supported ones).
    const words = LITTLE_ENDIAN && bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, end8 / 4) : undefined;
    while (offset < end8) {
      if (words !== undefined) {
        lo ^= words[offset >>> 2] as number;
        hi ^= words[(offset >>> 2) + 1] as number;
      } else {
        lo ^= (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8) | ((bytes[offset + 2] as number) << 16) | ((bytes[offset + 3] as number) << 24);
        hi ^= (bytes[offset + 4] as number) | ((bytes[offset + 5] as number) << 8) | ((bytes[offset + 6] as number) << 16) | ((bytes[offset + 7] as number) << 24);
      }
      const newLo =
        (TABLE_LO[7 * 256 + (lo & 0xff)] as number) ^
        (TABLE_LO[6 * 256 + ((lo >>> 8) & 0xff)] as number) ^
        (TABLE_LO[5 * 256 + ((lo >>> 16) & 0xff)] as number) ^
        (TABLE_LO[4 * 256 + (lo >>> 24)] as number) ^
        (TABLE_LO[3 * 256 + (hi & 0xff)] as number) ^
        (TABLE_LO[2 * 256 + ((hi >>> 8) & 0xff)] as number) ^
        (TABLE_LO[256 + ((hi >>> 16) & 0xff)] as number) ^
        (TABLE_LO[hi >>> 24] as number);
      const newHi =
        (TABLE_HI[7 * 256 + (lo & 0xff)] as number) ^
        (TABLE_HI[6 * 256 + ((lo >>> 8) & 0xff)] as number) ^
        (TABLE_HI[5 * 256 + ((lo >>> 16) & 0xff)] as number) ^
        (TABLE_HI[4 * 256 + (lo >>> 24)] as number) ^
        (TABLE_HI[3 * 256 + (hi & 0xff)] as number) ^
        (TABLE_HI[2 * 256 + ((hi >>> 8) & 0xff)] as number) ^
        (TABLE_HI[256 + ((hi >>> 16) & 0xff)] as number) ^
        (TABLE_HI[hi >>> 24] as number);
      lo = newLo;
      hi = newHi;
      offset += 8;
    }
    while (offset < bytes.length) {
      const index = (lo ^ (bytes[offset] as number)) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ (TABLE_LO[index] as number);
      hi = (hi >>> 8) ^ (TABLE_HI[index] as number);
      offset++;
    }
    this.#lo = lo >>> 0;
    this.#hi = hi >>> 0;
    return this;
  }

  /** The CRC of everything fed so far. */
  get value(): bigint {
    return (BigInt((~this.#hi) >>> 0) << 32n) | BigInt((~this.#lo) >>> 0);
  }
}

/** CRC-64/XZ of some bytes. */
export function crc64(bytes: Uint8Array): bigint {
  return new Crc64().update(bytes).value;
}

function gf2Times(matrix: ReadonlyArray<bigint>, vector: bigint): bigint {
  let sum = 0n;
  let row = 0;
  let rest = vector;
  while (rest !== 0n) {
    if ((rest & 1n) === 1n) sum ^= matrix[row] as bigint;
    rest >>= 1n;
    row++;
  }
  return sum;
}

function gf2Square(matrix: ReadonlyArray<bigint>): bigint[] {
  return matrix.map((row) => gf2Times(matrix, row));
}

/** The CRC of A followed by B, from crc(A), crc(B) and B's length — without the bytes. */
export function crc64Combine(crcA: bigint, crcB: bigint, lengthB: number): bigint {
  if (lengthB <= 0) return crcA;
  // Operator for one zero bit, then squared to two and four bits.
  let odd: bigint[] = [POLY_REFLECTED];
  for (let bit = 1; bit < 64; bit++) odd.push(1n << BigInt(bit - 1));
  let even = gf2Square(odd);
  odd = gf2Square(even);
  let result = crcA;
  let remaining = lengthB;
  // Apply len(B) zero bytes to crc(A): each round squares the operator (1, 2, 4 … bytes).
  do {
    even = gf2Square(odd);
    if (remaining % 2 === 1) result = gf2Times(even, result);
    remaining = Math.floor(remaining / 2);
    if (remaining === 0) break;
    odd = gf2Square(even);
    if (remaining % 2 === 1) result = gf2Times(odd, result);
    remaining = Math.floor(remaining / 2);
  } while (remaining !== 0);
  return result ^ crcB;
}

/**
 * The CRC of a whole object from the CRCs of its consecutive parts (each `partBytes` long but
 * the last), or undefined when a part's CRC is missing (e.g. a part resumed from an earlier run).
 */
export function crc64OfParts(partCrcs: ReadonlyMap<number, bigint>, partBytes: number, sizeBytes: number): bigint | undefined {
  const partCount = Math.max(1, Math.ceil(sizeBytes / partBytes));
  let combined = partCrcs.get(1);
  for (let partNumber = 2; partNumber <= partCount && combined !== undefined; partNumber++) {
    const part = partCrcs.get(partNumber);
    combined = part === undefined ? undefined : crc64Combine(combined, part, Math.min(partBytes, sizeBytes - (partNumber - 1) * partBytes));
  }
  return combined;
}
