import { describe, expect, it, vi } from 'vitest';
import { CredentialProcessSource, parseCredentialProcessOutput, REFRESH_BEFORE_EXPIRY_MS } from './credential-process.js';
import type { SigningCredentials } from './secret-values.js';

const now = new Date('2026-01-01T00:00:00Z');
const print = (fields: Record<string, unknown>) => JSON.stringify({ Version: 1, AccessKeyId: 'AKIDtmp', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: '2026-01-01T01:00:00Z', ...fields });

describe('parseCredentialProcessOutput', () => {
  it('reads the AWS credential_process format', () => {
    expect(parseCredentialProcessOutput(print({}), 'cmd', now)).toEqual({ accessKeyId: 'AKIDtmp', secretAccessKey: 'secret', sessionToken: 'token', expiration: new Date('2026-01-01T01:00:00Z') });
  });

  it.each([
    ['', /`cmd` printed nothing/],
    ['AccessKeyId=x', /printed something that is not JSON/],
    ['[1]', /printed JSON that is not an object/],
    [print({ Version: 2 }), /printed Version 2, not 1/],
    [print({ SecretAccessKey: undefined }), /printed no SecretAccessKey/],
    [print({ Expiration: 'tomorrow' }), /Expiration that is not an RFC 3339 time/],
    [print({ Expiration: '2025-12-31T23:59:59Z' }), /printed credentials that expired at 2025-12-31T23:59:59.000Z/],
  ])('refuses %j with a specific message', (stdout, message) => {
    expect(() => parseCredentialProcessOutput(stdout, 'cmd', now)).toThrow(message);
  });

  it('never puts the secret in its messages', () => {
    expect(() => parseCredentialProcessOutput(print({ Version: 3, SecretAccessKey: 'very-secret' }), 'cmd', now)).toThrow(/^(?!.*very-secret)/s);
  });
});

describe('CredentialProcessSource', () => {
  const credentials = (id: string, expiresInMs: number, clock: number): SigningCredentials => ({ accessKeyId: id, secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock + expiresInMs) });

  it('runs the process again only within the refresh window before expiry', async () => {
    let clock = 0;
    let runs = 0;
    const run = vi.fn(async () => credentials(`AKID${++runs}`, 3_600_000, clock));
    const source = new CredentialProcessSource('cmd', run, () => clock);
    expect((await source.current()).accessKeyId).toBe('AKID1');
    clock = 3_600_000 - REFRESH_BEFORE_EXPIRY_MS - 1;
    expect((await source.current()).accessKeyId).toBe('AKID1');
    clock += 2;
    expect((await source.current()).accessKeyId).toBe('AKID2');
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('replaces rejected credentials once, however many requests were refused with them', async () => {
    let runs = 0;
    const run = vi.fn(async () => credentials(`AKID${++runs}`, 3_600_000, 0));
    const source = new CredentialProcessSource('cmd', run, () => 0);
    const rejected = await source.current();
    const first = await source.replace(rejected);
    const second = await source.replace(rejected);
    expect(first.accessKeyId).toBe('AKID2');
    expect(second).toBe(first);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('tries the process again after it failed', async () => {
    const run = vi.fn<() => Promise<SigningCredentials>>().mockRejectedValueOnce(new Error('down')).mockResolvedValue(credentials('AKIDok', 3_600_000, 0));
    const source = new CredentialProcessSource('cmd', run, () => 0);
    await expect(source.current()).rejects.toThrow('down');
    expect((await source.current()).accessKeyId).toBe('AKIDok');
  });
});
