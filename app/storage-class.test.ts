import { describe, expect, it } from 'vitest';
import { parseStorageClass, parseTrafficLimit, TRAFFIC_LIMIT_BITS } from './storage-class.js';

describe('parseStorageClass', () => {
  it.each([
    ['cos', 'standard_ia', 'STANDARD_IA'],
    ['cos', 'ARCHIVE', 'ARCHIVE'],
    ['cos', 'MAZ_INTELLIGENT_TIERING', 'MAZ_INTELLIGENT_TIERING'],
    ['s3', 'GLACIER', 'GLACIER'],
    ['s3', 'DEEP_ARCHIVE', 'DEEP_ARCHIVE'],
  ] as const)('%s takes %s', (dialect, text, expected) => {
    expect(parseStorageClass(text, dialect)).toBe(expected);
  });

  it('refuses the other dialect’s names, saying whose they are', () => {
    expect(() => parseStorageClass('GLACIER', 'cos')).toThrow(/GLACIER is S3's name; this store speaks the COS dialect, where ARCHIVE and DEEP_ARCHIVE are the archive classes/);
    expect(() => parseStorageClass('MAZ_STANDARD', 's3')).toThrow(/MAZ_STANDARD is Tencent COS's name/);
    expect(() => parseStorageClass('COLD', 'cos')).toThrow(/unknown --storage-class "COLD": use one of STANDARD, STANDARD_IA/);
  });
});

describe('parseTrafficLimit', () => {
  it('converts MiB/s to bit/s within COS’s range (819200–838860800)', () => {
    expect(parseTrafficLimit('1', 'cos')).toBe(8_388_608);
    expect(parseTrafficLimit('0.09765625', 'cos')).toBe(TRAFFIC_LIMIT_BITS.min);
    expect(parseTrafficLimit('100', 'cos')).toBe(TRAFFIC_LIMIT_BITS.max);
  });

  it.each(['0.05', '101', 'fast', '', '-1'])('refuses %j with the range', (text) => {
    expect(() => parseTrafficLimit(text, 'cos')).toThrow(/--traffic-limit must be a number of MiB per second from 0.1 \(100 KiB\/s\) to 100 \(COS's range: 819200 to 838860800 bit\/s/);
  });

  it('refuses it on S3, pointing at --bwlimit', () => {
    expect(() => parseTrafficLimit('1', 's3')).toThrow(/Tencent COS feature .*--bwlimit/);
  });
});
