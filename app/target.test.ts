import { describe, expect, it } from 'vitest';
import { relativeSegmentsFor, objectKeyFor } from './object-key.js';
import { assertKeySafeTransport, isLoopbackHost, normalizePrefix, parseEndpoint, validateBucketName } from './target.js';

describe('endpoints', () => {
  it('parses host, port and protocol', () => {
    expect(parseEndpoint('https://cos.ap-guangzhou.myqcloud.com/')).toEqual({ url: 'https://cos.ap-guangzhou.myqcloud.com', protocol: 'https', host: 'cos.ap-guangzhou.myqcloud.com', port: undefined });
    expect(parseEndpoint('http://127.0.0.1:7480').port).toBe(7480);
    expect(parseEndpoint('http://[::1]:7480').host).toBe('[::1]');
  });

  it('rejects URLs with paths, other schemes, or nothing at all', () => {
    for (const bad of ['ftp://x', 'https://host/bucket', 'host:80', '', 'https://host:99999']) {
      expect(() => parseEndpoint(bad), bad).toThrow(/endpoint/);
    }
  });

  it('knows loopback hosts', () => {
    for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '[::1]', 'a.localhost']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['10.0.0.1', '127.example.com', 'cos.ap-beijing.myqcloud.com', '192.168.1.1']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses SSE-C over plain HTTP except to loopback', () => {
    expect(() => assertKeySafeTransport(parseEndpoint('http://s3.example.com'), 'c')).toThrow(/refusing SSE-C over plain HTTP/);
    expect(() => assertKeySafeTransport(parseEndpoint('http://127.0.0.1:7480'), 'c')).not.toThrow();
    expect(() => assertKeySafeTransport(parseEndpoint('https://s3.example.com'), 'c')).not.toThrow();
    expect(() => assertKeySafeTransport(parseEndpoint('http://s3.example.com'), 'cos')).not.toThrow();
  });
});

describe('buckets and prefixes', () => {
  it('validates bucket names', () => {
    expect(validateBucketName('examplebucket-1250000000')).toBe('examplebucket-1250000000');
    for (const bad of ['Upper', 'ab', '-lead', 'a..b', 'x'.repeat(64), 'under_score']) expect(() => validateBucketName(bad), bad).toThrow(/invalid bucket/);
  });

  it('normalizes prefixes', () => {
    expect(normalizePrefix(undefined)).toBe('');
    expect(normalizePrefix('/')).toBe('');
    expect(normalizePrefix('/a//b/')).toBe('a/b/');
    expect(normalizePrefix('a\\b')).toBe('a/b/');
    expect(() => normalizePrefix('a/../b')).toThrow(/not allowed/);
  });
});

describe('object keys', () => {
  it('joins NFC-normalized segments under the prefix', () => {
    expect(objectKeyFor('p/', ['Cafe\u0301', 'x.txt'])).toBe('p/Caf\u00e9/x.txt');
  });

  it('maps keys back to safe relative paths only', () => {
    expect(relativeSegmentsFor('p/', 'p/a/b.txt')).toEqual({ segments: ['a', 'b.txt'] });
    expect(relativeSegmentsFor('p/', 'p/dir/')).toEqual({ skip: 'a folder marker' });
    expect(relativeSegmentsFor('p/', 'p/../../etc/passwd')).toHaveProperty('skip');
    expect(relativeSegmentsFor('p/', 'p/a//b')).toHaveProperty('skip');
    expect(relativeSegmentsFor('p/', 'q/a')).toEqual({ skip: 'outside the prefix' });
  });
});

describe('Tencent COS addressing', () => {
  it('builds the region endpoint and the virtual-hosted bucket address', async () => {
    const { cosEndpointForRegion, cosBucketHost, cosRegionOfHost } = await import('./target.js');
    expect(cosEndpointForRegion('ap-guangzhou').url).toBe('https://cos.ap-guangzhou.myqcloud.com');
    expect(cosBucketHost('examplebucket-1250000000', 'ap-beijing')).toBe('examplebucket-1250000000.cos.ap-beijing.myqcloud.com');
    expect(cosRegionOfHost('cos.ap-shanghai.myqcloud.com')).toBe('ap-shanghai');
    expect(cosRegionOfHost('s3.amazonaws.com')).toBeUndefined();
    expect(() => cosEndpointForRegion('Guangzhou')).toThrow(/invalid COS region/);
  });

  it('requires COS bucket names of the form name-APPID', async () => {
    const { validateCosBucketName } = await import('./target.js');
    expect(validateCosBucketName('photos-1250000000')).toBe('photos-1250000000');
    for (const bad of ['photos', 'photos-abc', 'Photos-1250000000', '-1250000000', 'a_b-1250000000']) {
      expect(() => validateCosBucketName(bad), bad).toThrow(/name-APPID/);
    }
  });
});

describe('COS hosts, dialect and addressing', () => {
  // Host forms from COS "Regions and Access Endpoints" (https://cloud.tencent.com/document/product/436/6224).
  it('recognises every COS host form on myqcloud.com and tencentcos.cn', async () => {
    const { parseCosHost, cosRegionOfHost, isCosHost } = await import('./target.js');
    expect(parseCosHost('cos.ap-guangzhou.myqcloud.com')).toEqual({ service: 'cos', location: 'ap-guangzhou', domain: 'myqcloud.com' });
    expect(parseCosHost('cosv6.ap-beijing.myqcloud.com')).toEqual({ service: 'cosv6', location: 'ap-beijing', domain: 'myqcloud.com' });
    expect(parseCosHost('cos-internal.ap-shanghai.tencentcos.cn')).toEqual({ service: 'cos-internal', location: 'ap-shanghai', domain: 'tencentcos.cn' });
    expect(parseCosHost('photos-1250000000.cos.ap-chengdu.tencentcos.cn')).toEqual({ service: 'cos', location: 'ap-chengdu', domain: 'tencentcos.cn' });
    expect(parseCosHost('cos-cdc.cluster-1a2b.myqcloud.com')).toMatchObject({ service: 'cos-cdc', location: 'cluster-1a2b' });
    expect(parseCosHost('cos.accelerate.myqcloud.com')).toEqual({ service: 'accelerate', location: undefined, domain: 'myqcloud.com' });
    expect(parseCosHost('s3.amazonaws.com')).toBeUndefined();
    // The acceleration host is signed with the bucket's region, never "accelerate"; a cluster id is no region either.
    expect(cosRegionOfHost('cos.accelerate.myqcloud.com')).toBeUndefined();
    expect(cosRegionOfHost('cos-cdc.cluster-1a2b.myqcloud.com')).toBeUndefined();
    expect(cosRegionOfHost('cos-internal.ap-shanghai.tencentcos.cn')).toBe('ap-shanghai');
    for (const host of ['cos.ap-guangzhou.myqcloud.com', 'cos.ap-guangzhou.tencentcos.cn', 'cos.accelerate.myqcloud.com']) expect(isCosHost(host), host).toBe(true);
    for (const host of ['127.0.0.1', 'files.example.com', 'myqcloud.com.evil.example']) expect(isCosHost(host), host).toBe(false);
  });

  it('picks the dialect by host unless --dialect says otherwise', async () => {
    const { addressingFor, parseDialect } = await import('./target.js');
    expect(addressingFor(parseEndpoint('https://cos.ap-guangzhou.myqcloud.com'), {})).toEqual({ dialect: 'cos', region: 'ap-guangzhou', pathStyle: false });
    expect(addressingFor(parseEndpoint('https://files.example.com'), {})).toMatchObject({ dialect: 's3', region: 'us-east-1' });
    expect(addressingFor(parseEndpoint('https://files.example.com'), { dialect: 'cos', region: 'ap-beijing' })).toEqual({ dialect: 'cos', region: 'ap-beijing', pathStyle: false });
    // A loopback COS gateway: COS semantics, path-style because an IP has no bucket subdomains.
    expect(addressingFor(parseEndpoint('https://127.0.0.1:9443'), { dialect: 'cos', region: 'ap-guangzhou' })).toEqual({ dialect: 'cos', region: 'ap-guangzhou', pathStyle: true });
    expect(() => parseDialect('COS-ish')).toThrow(/unknown --dialect value "COS-ish": use cos .* or s3/);
  });

  it('refuses --path-style on Tencent COS (PathStyleDomainForbidden) and needs the region for hosts that name none', async () => {
    const { addressingFor } = await import('./target.js');
    // https://cloud.tencent.com/document/product/436/102489: buckets created since 2024-01-01 refuse path-style requests.
    expect(() => addressingFor(parseEndpoint('https://cos.ap-guangzhou.myqcloud.com'), { pathStyle: true })).toThrow(/--path-style cannot be used .*created since 2024-01-01 \(PathStyleDomainForbidden\)/);
    expect(() => addressingFor(parseEndpoint('https://cos.accelerate.myqcloud.com'), {})).toThrow(/names no region: give the bucket's own region with --region/);
    expect(addressingFor(parseEndpoint('https://cos.accelerate.myqcloud.com'), { region: 'ap-guangzhou' })).toEqual({ dialect: 'cos', region: 'ap-guangzhou', pathStyle: false });
  });

  it('--accelerate: the global acceleration host, with the bucket’s region from --region or the regional endpoint', async () => {
    const { acceleratedEndpoint } = await import('./target.js');
    // Global Acceleration (https://cloud.tencent.com/document/product/436/38866): BUCKET-APPID.cos.accelerate.myqcloud.com.
    expect(acceleratedEndpoint(undefined, 'ap-guangzhou')).toEqual({ endpoint: parseEndpoint('https://cos.accelerate.myqcloud.com'), region: 'ap-guangzhou' });
    expect(acceleratedEndpoint(parseEndpoint('https://cos.ap-beijing.myqcloud.com'), undefined)).toEqual({ endpoint: parseEndpoint('https://cos.accelerate.myqcloud.com'), region: 'ap-beijing' });
    // The given endpoint's protocol and port are kept (a test gateway listens on its own port).
    expect(acceleratedEndpoint(parseEndpoint('https://cos.ap-guangzhou.myqcloud.com:9443'), undefined).endpoint.url).toBe('https://cos.accelerate.myqcloud.com:9443');
    expect(acceleratedEndpoint(parseEndpoint('https://cos.accelerate.myqcloud.com'), 'ap-shanghai').region).toBe('ap-shanghai');
    expect(() => acceleratedEndpoint(undefined, undefined)).toThrow(/--accelerate needs the bucket's own region, .*add --region/);
    expect(() => acceleratedEndpoint(parseEndpoint('https://cos.accelerate.myqcloud.com'), undefined)).toThrow(/needs the bucket's own region/);
    expect(() => acceleratedEndpoint(undefined, 'Guangzhou')).toThrow(/invalid COS region "Guangzhou"/);
    for (const host of ['https://s3.example.com', 'https://files.example.com', 'https://cos-internal.ap-guangzhou.tencentcos.cn', 'https://cosv6.ap-guangzhou.myqcloud.com']) {
      expect(() => acceleratedEndpoint(parseEndpoint(host), 'ap-guangzhou'), host).toThrow(/--accelerate cannot be used with .*only a public COS endpoint/);
    }
  });
});
