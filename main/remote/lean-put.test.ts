import { describe, expect, it } from 'vitest';
import { encodeKey } from './lean-put.js';

describe('encodeKey (SigV4 canonical URI for S3)', () => {
  it('keeps unreserved characters and "/", percent-encodes everything else as UTF-8', () => {
    expect(encodeKey('a/b-c_d.e~f')).toBe('a/b-c_d.e~f');
    expect(encodeKey("a b+c(ü)!'*")).toBe('a%20b%2Bc%28%C3%BC%29%21%27%2A');
    expect(encodeKey('100%')).toBe('100%25');
    expect(encodeKey('日本')).toBe('%E6%97%A5%E6%9C%AC');
  });
});
