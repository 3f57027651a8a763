/** The contract's channel names and payload validators. */
import { describe, expect, it } from 'vitest';
import { isChannel, REQUEST_VALIDATORS } from './contract.js';

describe('contract', () => {
  it('prefixes every channel with sync:', () => {
    for (const channel of Object.keys(REQUEST_VALIDATORS)) expect(channel).toMatch(/^sync:[a-z][a-z-]*$/);
  });

  it('knows its own channels and nothing else', () => {
    expect(isChannel('sync:version')).toBe(true);
    for (const name of ['version', 'sync:nope', '__proto__', 'toString', 42, null]) expect(isChannel(name)).toBe(false);
  });

  it('sync:version takes no payload', () => {
    expect(REQUEST_VALIDATORS['sync:version'](null)).toEqual({ ok: true, value: null });
    expect(REQUEST_VALIDATORS['sync:version'](undefined)).toEqual({ ok: true, value: null });
    for (const payload of [{}, [], '', 0, false]) expect(REQUEST_VALIDATORS['sync:version'](payload)).toMatchObject({ ok: false });
  });

  it('sync:cancel-job takes a job id and nothing else', () => {
    const validate = REQUEST_VALIDATORS['sync:cancel-job'];
    expect(validate({ jobId: 'backup-1a2b3c4d' })).toEqual({ ok: true, value: { jobId: 'backup-1a2b3c4d' } });
    expect(validate({ jobId: 7 })).toEqual({ ok: false, reason: 'jobId must be a string' });
    expect(validate({})).toMatchObject({ ok: false });
    expect(validate({ jobId: '' })).toMatchObject({ ok: false });
    expect(validate({ jobId: 'x'.repeat(201) })).toMatchObject({ ok: false });
    expect(validate({ jobId: 'backup-1', force: true })).toEqual({ ok: false, reason: 'unknown field "force"' });
    expect(validate(null)).toEqual({ ok: false, reason: 'expected an object' });
  });
});
