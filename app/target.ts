/**
 * Where objects go and how they are encrypted: the part of every backup, restore and sync folder
 * that names a bucket. Pure: validation only, no I/O.
 */
import { CosyncError } from './result.js';

/** Server-side encryption choices. `c` = SSE-C (customer key), `cos` = SSE-COS / SSE-S3, `kms` = SSE-KMS. */
export type SseMode = 'none' | 'cos' | 'kms' | 'c';

/** Header dialect: COS (`x-cos-…`) or plain S3 (`x-amz-…`). */
export type Dialect = 'cos' | 's3';

/** A parsed, validated endpoint. */
export interface Endpoint {
  readonly url: string;
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number | undefined;
}

/** A bucket location plus encryption, as given on the command line or in a folder's config. */
export interface Target {
  readonly endpoint: Endpoint;
  readonly bucket: string;
  /** Key prefix without leading slash; empty or ending in "/". */
  readonly prefix: string;
  readonly region: string;
  readonly pathStyle: boolean;
  readonly dialect: Dialect;
  readonly sse: SseMode;
  /** Keychain name of the SSE-C key (sse = 'c' only). */
  readonly keyName: string | undefined;
  /** Optional KMS key id (sse = 'kms' only). */
  readonly kmsKeyId: string | undefined;
}

const SSE_MODES: ReadonlySet<string> = new Set<SseMode>(['none', 'cos', 'kms', 'c']);

/** Parses an `--sse` value. */
export function parseSseMode(text: string): SseMode {
  if (!SSE_MODES.has(text)) throw new CosyncError('usage', `unknown --sse value ${JSON.stringify(text)}: use none, cos, kms or c`);
  return text as SseMode;
}

/** Parses and checks an endpoint URL such as `https://cos.ap-guangzhou.myqcloud.com` or `http://127.0.0.1:7480`. */
export function parseEndpoint(text: string): Endpoint {
  const match = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?\/?$/.exec(text.trim());
  if (!match) {
    throw new CosyncError(
      'endpoint-invalid',
      `invalid endpoint ${JSON.stringify(text)}: expected http(s)://host[:port] with no path, e.g. https://cos.ap-guangzhou.myqcloud.com`,
    );
  }
  const protocol = match[1] as 'http' | 'https';
  const host = (match[2] as string).toLowerCase();
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new CosyncError('endpoint-invalid', `invalid endpoint port ${port} in ${text}`);
  return { url: `${protocol}://${host}${port === undefined ? '' : `:${port}`}`, protocol, host, port };
}

/** True for hosts that never leave this machine: localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * SSE-C sends the key itself in request headers, so over plain HTTP anyone on the path reads it.
 * Loopback is the one exception (local test servers).
 */
export function assertKeySafeTransport(endpoint: Endpoint, sse: SseMode): void {
  if (sse === 'c' && endpoint.protocol === 'http' && !isLoopbackHost(endpoint.host)) {
    throw new CosyncError(
      'insecure-transport',
      `refusing SSE-C over plain HTTP to ${endpoint.host}: the encryption key travels in every request and would be readable on the network; use an https:// endpoint`,
    );
  }
}

/**
 * S3 bucket naming (3–63 chars, lowercase letters, digits, dots and hyphens). COS buckets are
 * `name-APPID`; that stricter rule is checked by the COS dialect.
 */
export function validateBucketName(bucket: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new CosyncError(
      'bucket-invalid',
      `invalid bucket name ${JSON.stringify(bucket)}: use 3–63 lowercase letters, digits, "." or "-", starting and ending with a letter or digit`,
    );
  }
  return bucket;
}

/** Normalizes a user-supplied prefix: no leading "/", "/" separators, trailing "/" unless empty. */
export function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined) return '';
  const segments = prefix.normalize('NFC').replace(/\\/g, '/').split('/').filter((segment) => segment.length > 0);
  for (const segment of segments) {
    if (segment === '.' || segment === '..') {
      throw new CosyncError('usage', `invalid prefix ${JSON.stringify(prefix)}: "." and ".." segments are not allowed`);
    }
  }
  return segments.length === 0 ? '' : `${segments.join('/')}/`;
}

/** COS regions look like `ap-guangzhou`, `ap-beijing`, `na-siliconvalley`. */
const COS_REGION_PATTERN = /^[a-z]{2,}(?:-[a-z0-9]+)+$/;

/** The COS endpoint of a region, e.g. `https://cos.ap-guangzhou.myqcloud.com`. */
export function cosEndpointForRegion(region: string): Endpoint {
  if (!COS_REGION_PATTERN.test(region)) {
    throw new CosyncError('endpoint-invalid', `invalid COS region ${JSON.stringify(region)}: regions look like ap-guangzhou or ap-beijing`);
  }
  return parseEndpoint(`https://cos.${region}.myqcloud.com`);
}

/** The region of a COS endpoint host (`cos.REGION.myqcloud.com`), if it is one. */
export function cosRegionOfHost(host: string): string | undefined {
  return /^cos\.([a-z0-9-]+)\.myqcloud\.com$/.exec(host)?.[1];
}

/** True when the endpoint is Tencent COS (which speaks the `x-cos-` header dialect). */
export function isCosHost(host: string): boolean {
  return host === 'myqcloud.com' || host.endsWith('.myqcloud.com');
}

/** COS bucket names are `name-APPID`: a lowercase name and the account's numeric APPID. */
export function validateCosBucketName(bucket: string): string {
  const match = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(\d{6,})$/.exec(bucket);
  if (!match || bucket.length > 63) {
    throw new CosyncError(
      'bucket-invalid',
      `invalid COS bucket name ${JSON.stringify(bucket)}: COS buckets are named name-APPID, e.g. examplebucket-1250000000 (lowercase letters, digits and "-", then the numeric APPID)`,
    );
  }
  return bucket;
}

/** The virtual-hosted COS address of a bucket: `BUCKET-APPID.cos.REGION.myqcloud.com`. */
export function cosBucketHost(bucket: string, region: string): string {
  return `${validateCosBucketName(bucket)}.${cosEndpointForRegion(region).host}`;
}
