import { describe, expect, it } from 'vitest';
import { noProxyMatches, proxyErrorOf, proxyFor, ProxyConnectError } from './proxy.js';

describe('noProxyMatches (NO_PROXY as curl reads it)', () => {
  it.each([
    ['*', 'cos.ap-guangzhou.myqcloud.com', 443, true],
    ['myqcloud.com', 'bucket-1250000000.cos.ap-guangzhou.myqcloud.com', 443, true],
    ['.myqcloud.com', 'myqcloud.com', 443, true],
    ['*.myqcloud.com', 'cos.myqcloud.com', 443, true],
    ['myqcloud.com', 'notmyqcloud.com', 443, false],
    ['myqcloud.com', 'myqcloud.com.evil.example', 443, false],
    ['example.com, MYQCLOUD.com', 'Cos.MyQcloud.com', 443, true],
    ['example.com myqcloud.com', 'cos.myqcloud.com', 443, true],
    ['127.0.0.1', '127.0.0.1', 7480, true],
    ['127.0.0.1', '127.0.0.10', 7480, false],
    ['10.0.0.0/8', '10.1.2.3', 443, true],
    ['10.0.0.0/8', '11.1.2.3', 443, false],
    ['::1', '[::1]', 7443, true],
    ['fd00::/8', '[fd12::1]', 443, true],
    ['localhost:7480', 'localhost', 7480, true],
    ['localhost:7480', 'localhost', 7443, false],
    ['[::1]:7443', '[::1]', 7443, true],
    ['', '127.0.0.1', 80, false],
    // Loopback is proxied unless listed, as in curl.
    ['example.com', 'localhost', 80, false],
  ] as const)('%j for %s:%d → %s', (noProxy, host, port, expected) => {
    expect(noProxyMatches(noProxy, host, port)).toBe(expected);
  });
});

describe('proxyFor', () => {
  const https = new URL('https://cos.ap-guangzhou.myqcloud.com');
  const http = new URL('http://127.0.0.1:7480');

  it('takes https_proxy for https URLs and http_proxy for http URLs, the lower-case name first', () => {
    const env = { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'http://plain:8080' };
    expect(proxyFor(https, env)?.url.host).toBe('lower:3128');
    expect(proxyFor(https, env)?.variable).toBe('https_proxy');
    expect(proxyFor(http, env)?.url.host).toBe('plain:8080');
    expect(proxyFor(https, { HTTP_PROXY: 'http://plain:8080' })).toBeUndefined();
  });

  it('reads a proxy without a scheme as http:// and never shows its credentials', () => {
    const choice = proxyFor(https, { HTTPS_PROXY: 'alice:s3cr%40t@proxy.corp:3128' });
    expect(choice?.url.protocol).toBe('http:');
    expect(choice?.url.password).toBe('s3cr%40t');
    expect(choice?.display).toBe('http://proxy.corp:3128');
  });

  it('goes direct for hosts in no_proxy or NO_PROXY', () => {
    expect(proxyFor(https, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.myqcloud.com' })).toBeUndefined();
    expect(proxyFor(https, { HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'example.com', NO_PROXY: 'myqcloud.com' })).toBeDefined();
  });

  it('refuses a SOCKS proxy and a malformed one by name, without the password', () => {
    expect(() => proxyFor(https, { HTTPS_PROXY: 'socks5://alice:s3cret@proxy:1080' })).toThrow(/^HTTPS_PROXY names a socks5 proxy \(socks5:\/\/proxy:1080\); cosync goes through HTTP proxies only/);
    expect(() => proxyFor(https, { HTTPS_PROXY: 'socks5://alice:s3cret@proxy:1080' })).not.toThrow(/s3cret/);
    expect(() => proxyFor(https, { HTTPS_PROXY: 'http://[oops' })).toThrow(/HTTPS_PROXY is not a proxy URL/);
  });
});

describe('proxyErrorOf', () => {
  const proxy = proxyFor(new URL('https://s3.example.com'), { HTTPS_PROXY: 'http://alice:s3cret@127.0.0.1:3128' });

  it('names the proxy, not the store, for a 407, a refused CONNECT and a dead proxy, never with the password', () => {
    const refused = proxyErrorOf(new Error('x'), 407, proxy);
    expect(refused?.code).toBe('proxy-refused');
    expect(refused?.message).toMatch(/^the proxy http:\/\/127\.0\.0\.1:3128 \(from HTTPS_PROXY\) refused the request: 407 Proxy Authentication Required, the user name or password/);
    const tunnel = proxyErrorOf(new ProxyConnectError(proxy!, undefined, { code: 403, text: 'Forbidden' }), undefined, proxy);
    expect(tunnel?.message).toMatch(/would not open a tunnel to the store: it answered CONNECT with 403 Forbidden/);
    const dead = proxyErrorOf(new ProxyConnectError(proxy!, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), undefined, proxy);
    expect(dead?.code).toBe('endpoint-unreachable');
    expect(dead?.message).toMatch(/^cannot reach the proxy http:\/\/127\.0\.0\.1:3128 \(from HTTPS_PROXY\) \(connection refused\)/);
    const tls = proxyErrorOf(new ProxyConnectError(proxy!, Object.assign(new Error('wrong version'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' })), undefined, proxy);
    expect(tls?.code).toBe('tls-untrusted');
    for (const error of [refused, tunnel, dead, tls]) expect(error?.message).not.toMatch(/s3cret|alice/);
  });

  it('leaves errors the proxy had no part in to the messages about the store', () => {
    expect(proxyErrorOf(new Error('x'), 403, proxy)).toBeUndefined();
    expect(proxyErrorOf(new Error('x'), 407, undefined)).toBeUndefined();
  });
});
