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

  it('sync:credentials-set takes a SecretId and SecretKey, an optional token and account, nothing else', () => {
    const validate = REQUEST_VALIDATORS['sync:credentials-set'];
    expect(validate({ secretId: 'AKIDexample', secretKey: 'secret' })).toEqual({ ok: true, value: { secretId: 'AKIDexample', secretKey: 'secret', sessionToken: undefined, account: undefined } });
    expect(validate({ secretId: 'AKIDexample', secretKey: 'secret', sessionToken: 'token', account: 'work' })).toMatchObject({ ok: true, value: { sessionToken: 'token', account: 'work' } });
    expect(validate({ secretId: 'AKIDexample', secretKey: '  ' })).toEqual({ ok: false, reason: 'secretKey must not be empty' });
    expect(validate({ secretId: '', secretKey: 'secret' })).toEqual({ ok: false, reason: 'secretId must not be empty' });
    expect(validate({ secretKey: 'secret' })).toEqual({ ok: false, reason: 'secretId must be a string' });
    expect(validate({ secretId: 'AKIDexample', secretKey: 'secret', region: 'ap-guangzhou' })).toEqual({ ok: false, reason: 'unknown field "region"' });
  });

  it('sync:credentials-delete takes an optional account and nothing else', () => {
    const validate = REQUEST_VALIDATORS['sync:credentials-delete'];
    expect(validate({})).toEqual({ ok: true, value: { account: undefined } });
    expect(validate({ account: 'work' })).toEqual({ ok: true, value: { account: 'work' } });
    expect(validate({ account: 7 })).toEqual({ ok: false, reason: 'account must be a string' });
    expect(validate({ account: 'work', secretId: 'AKID' })).toEqual({ ok: false, reason: 'unknown field "secretId"' });
  });

  it('sync:list-buckets takes a region or an endpoint, not both', () => {
    const validate = REQUEST_VALIDATORS['sync:list-buckets'];
    expect(validate({ region: 'ap-guangzhou' })).toMatchObject({ ok: true, value: { region: 'ap-guangzhou', endpoint: undefined } });
    expect(validate({ endpoint: 'http://127.0.0.1:7480', pathStyle: true, account: 'work' })).toMatchObject({ ok: true, value: { endpoint: 'http://127.0.0.1:7480', pathStyle: true } });
    expect(validate({ region: 'ap-guangzhou', endpoint: 'http://127.0.0.1:7480' })).toEqual({ ok: false, reason: 'give region or endpoint, not both' });
    expect(validate({ region: 'ap-guangzhou', pathStyle: 'yes' })).toEqual({ ok: false, reason: 'pathStyle must be true or false' });
    expect(validate({ region: 'ap-guangzhou', bucket: 'photos' })).toEqual({ ok: false, reason: 'unknown field "bucket"' });
  });
});
