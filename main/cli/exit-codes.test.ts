/** How errors and runs map to exit codes; the binary's codes against RGW are in exit-codes.integration.test.ts. */
import { describe, expect, it } from 'vitest';
import { toCosyncError } from '../remote/remote-errors.js';
import { exitCodeForError, exitCodeForRun } from './exit-codes.js';

const context = { endpoint: 'https://s3.example.com', bucket: 'b', key: 'a.txt', operation: 'upload' };
const answer = (status: number, name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('exit codes', () => {
  it.each([
    ['503 SlowDown (throttled)', answer(503, 'SlowDown'), 4],
    ['429 TooManyRequests', answer(429, 'TooManyRequests'), 4],
    ['500 InternalError', answer(500, 'InternalError'), 4],
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 4],
    ['501 NotImplemented (an answer, not a hiccup)', answer(501, 'NotImplemented'), 1],
    ['403 AccessDenied', answer(403, 'AccessDenied'), 1],
    ['a wrong key', answer(400, 'BadRequest'), 1],
  ])('a store error after retries, %s, exits %i', (_name, error, code) => {
    expect(exitCodeForError(toCosyncError(error, { ...context, sentCustomerKey: true }).code)).toBe(code);
  });

  it('a run: 0 without failures, 4 when every failure was temporary, 3 when others were done, 1 when none was', () => {
    expect(exitCodeForRun([], 0)).toBe(0);
    expect(exitCodeForRun(['endpoint-unreachable', 'server-unavailable'], 5)).toBe(4);
    expect(exitCodeForRun(['server-unavailable', 'key-mismatch'], 5)).toBe(3);
    expect(exitCodeForRun(['key-mismatch'], 0)).toBe(1);
    expect(exitCodeForError('usage')).toBe(2);
  });

  it('a restore with archived files still being retrieved: 5 when nothing failed, the failure codes otherwise', () => {
    expect(exitCodeForRun([], 2, 1)).toBe(5);
    expect(exitCodeForRun([], 0, 3)).toBe(5);
    expect(exitCodeForRun(['key-mismatch'], 2, 1)).toBe(3);
  });
});
