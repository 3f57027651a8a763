import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatRecord } from '../log/logger.js';
import { SseCustomerKey, StoreCredentials } from './secret-values.js';

describe('secret values never print their secret', () => {
  const key = SseCustomerKey.generate();
  const credentials = new StoreCredentials('AKIDexample1234567890', 'super-secret-key-material', 'session-token-material');

  it('fingerprint is the base64 MD5 of the raw key', async () => {
    const { createHash } = await import('node:crypto');
    expect(key.fingerprint).toBe(createHash('md5').update(Buffer.from(key.revealBase64(), 'base64')).digest('base64'));
  });

  it.each([
    ['String()', (value: unknown) => String(value)],
    ['template literal', (value: unknown) => `${value as string}`],
    ['JSON.stringify', (value: unknown) => JSON.stringify({ value })],
    ['util.inspect', (value: unknown) => inspect({ nested: { value } }, { depth: 5 })],
    ['log record', (value: unknown) => formatRecord('info', 'event', { value }, new Date(0))],
  ])('%s', (_name, render) => {
    const keyText = render(key);
    expect(keyText).not.toContain(key.revealBase64());
    expect(keyText).not.toContain(Buffer.from(key.revealBytes()).toString('hex'));
    expect(keyText).toContain(key.fingerprint);
    const credentialText = render(credentials);
    expect(credentialText).not.toContain('super-secret-key-material');
    expect(credentialText).not.toContain('session-token-material');
    expect(credentialText).not.toContain('AKIDexample1234567890');
  });
});

describe('log scrubbing of free text', () => {
  it('removes presigned-URL signatures and key headers', () => {
    const line = formatRecord(
      'error',
      'request-failed',
      {
        url: 'https://b.s3/x?X-Amz-Credential=AKID%2F2026&X-Amz-Signature=abcdef0123&foo=1',
        error: new Error('x-amz-server-side-encryption-customer-key: c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI= rejected'),
      },
      new Date(0),
    );
    expect(line).not.toContain('abcdef0123');
    expect(line).not.toContain('AKID%2F2026');
    expect(line).not.toContain('c2VjcmV0c2VjcmV0');
    expect(line).toContain('foo=1');
  });
});
