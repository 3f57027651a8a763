/** A refused SSE-C key is reported with fingerprints, from what cosync recorded when it wrote the object. */
import { describe, expect, it } from 'vitest';
import { toCosyncError, type ErrorContext } from './remote-errors.js';

const refusedHead = { name: 'BadRequest', $metadata: { httpStatusCode: 400 } };
const base: ErrorContext = { endpoint: 'https://s3.example.com', bucket: 'photos', key: 'a/b.jpg', operation: 'head', sentCustomerKey: true, suppliedKeyFingerprint: 'SUPPLIED==' };

describe('key mismatch messages', () => {
  it('names both fingerprints when the journal recorded another key', () => {
    const error = toCosyncError(refusedHead, { ...base, recordedKeyFingerprint: () => 'RECORDED==' });
    expect(error.code).toBe('key-mismatch');
    expect(error.message).toBe(
      'the server refused the SSE-C key for "a/b.jpg" in bucket "photos" (HTTP 400): this object was encrypted with key fingerprint RECORDED==; you supplied SUPPLIED== — use the key with fingerprint RECORDED== (`cosync key list` shows fingerprints)',
    );
  });

  it('says the object was replaced when the recorded key is the one supplied', () => {
    const error = toCosyncError(refusedHead, { ...base, recordedKeyFingerprint: () => 'SUPPLIED==' });
    expect(error.message).toMatch(/cosync wrote it with this same key \(fingerprint SUPPLIED==\), so it has since been replaced/);
  });

  it('still names the supplied key when nothing was recorded, and claims no record only after looking', () => {
    const looked = toCosyncError(refusedHead, { ...base, recordedKeyFingerprint: () => undefined });
    expect(looked.message).toMatch(/refused the SSE-C key .*encrypted with a different key, or without SSE-C; you supplied key fingerprint SUPPLIED== \(this machine has no record of its key/);
    const notLooked = toCosyncError(refusedHead, base);
    expect(notLooked.message).toMatch(/encrypted with a different key, or without SSE-C; you supplied key fingerprint SUPPLIED==$/);
  });

  it('asks for the recorded key when none was sent', () => {
    const error = toCosyncError({ ...refusedHead }, { ...base, operation: 'download', sentCustomerKey: false, suppliedKeyFingerprint: undefined, recordedKeyFingerprint: () => 'RECORDED==' });
    expect(error.code).toBe('key-mismatch');
    expect(error.message).toMatch(/needs an SSE-C key to be read \(HTTP 400\): it was encrypted with key fingerprint RECORDED==; pass that key/);
  });

  it('does not look the object up for errors that are not about the key', () => {
    let asked = 0;
    const error = toCosyncError({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }, { ...base, recordedKeyFingerprint: () => String(++asked) });
    expect(error.code).toBe('bucket-not-found');
    expect(asked).toBe(0);
  });
});
