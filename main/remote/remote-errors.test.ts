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
      'the server refused the SSE-C key for "a/b.jpg" in bucket "photos" (HTTP 400 without a reason, as servers answer a HEAD whose SSE-C key does not match): this object was encrypted with key fingerprint RECORDED==; you supplied SUPPLIED== — use the key with fingerprint RECORDED== (`cosync key list` shows fingerprints)',
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

  it('blames the key only when the server says the key was the problem (its error code or message)', () => {
    // RGW's answer to a GET with another key (measured): InvalidArgument about the key's MD5.
    const wrongKey = { name: 'InvalidArgument', message: 'The calculated MD5 hash of the key did not match the hash that was provided.', $metadata: { httpStatusCode: 400 } };
    expect(toCosyncError(wrongKey, { ...base, operation: 'download' })).toMatchObject({ code: 'key-mismatch', message: /HTTP 400 InvalidArgument: The calculated MD5 hash of the key/ });
    // A copy refused for its metadata directive (COS: "取其他值时返回 InvalidArgument", https://cloud.tencent.com/document/product/436/10881) is no key problem.
    const badDirective = { name: 'InvalidArgument', message: 'x-cos-metadata-directive must be Copy or Replaced', $metadata: { httpStatusCode: 400 } };
    const refused = toCosyncError(badDirective, { ...base, operation: 'server-side copy', recordedKeyFingerprint: () => 'SUPPLIED==' });
    expect(refused.code).toBe('server');
    expect(refused.message).toMatch(/server-side copy of "a\/b.jpg" in bucket "photos" failed: x-cos-metadata-directive must be Copy or Replaced \(HTTP 400\)/);
    expect(refused.message).not.toMatch(/key/i);
  });
});

describe('clock skew', () => {
  it('tells the user their clock is off, by how much, and what to do', () => {
    const skewed = { name: 'RequestTimeTooSkewed', message: 'The difference between the request time and the server time is too large.', $metadata: { httpStatusCode: 403 }, clockOffsetMs: 3_600_000 * 3 };
    expect(toCosyncError(skewed, { ...base, operation: 'upload' })).toMatchObject({
      code: 'clock-skewed',
      message: /refused the upload because this computer's clock is off \(about 3 hours behind the server's\) \(RequestTimeTooSkewed\): set the clock right/,
    });
  });
});
