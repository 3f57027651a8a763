/**
 * Where objects go and how they are encrypted: the part of every backup, restore and sync folder
 * that names a bucket. Pure: validation only, no I/O.
 */
import { CosyncError } from './result.js';
import { parseStorageClass, parseTrafficLimit } from './storage-class.js';

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
  /** The storage class of new objects (undefined: the bucket's default, STANDARD). */
  readonly storageClass?: string | undefined;
  /** COS's per-request server-side limit, bit/s (`x-cos-traffic-limit`; COS only). */
  readonly trafficLimitBits?: number | undefined;
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

/**
 * The parts of a Tencent COS service host: `cos.REGION.myqcloud.com` and its IPv6
 * (`cosv6.`), private-network (`cos-internal.`) and dedicated-cluster (`cos-cdc.CLUSTER.`) forms,
 * on `myqcloud.com` or `tencentcos.cn`, with or without the `BUCKET-APPID.` in front; and the
 * global acceleration host `cos.accelerate.myqcloud.com`, which names no region.
 * Source: COS "Regions and Access Endpoints", https://cloud.tencent.com/document/product/436/6224,
 * and "Global Acceleration", https://cloud.tencent.com/document/product/436/38866.
 */
export interface CosHost {
  readonly service: 'cos' | 'cosv6' | 'cos-internal' | 'cos-cdc' | 'accelerate';
  /** The region (the cluster id for cos-cdc); undefined for the acceleration host. */
  readonly location: string | undefined;
  readonly domain: 'myqcloud.com' | 'tencentcos.cn';
}

const COS_HOST_PATTERN = /^(?:[a-z0-9][a-z0-9.-]*\.)?(cos|cosv6|cos-internal|cos-cdc)\.([a-z0-9-]+)\.(myqcloud\.com|tencentcos\.cn)$/;

/** What a host says about COS, if it is a Tencent COS service host. */
export function parseCosHost(host: string): CosHost | undefined {
  const match = COS_HOST_PATTERN.exec(host);
  if (match === null) return undefined;
  const [, service, location, domain] = match as unknown as [string, CosHost['service'], string, CosHost['domain']];
  if (service === 'cos' && location === 'accelerate') return { service: 'accelerate', location: undefined, domain };
  return { service, location, domain };
}

/**
 * The endpoint `--accelerate` asks for: COS's global acceleration host `cos.accelerate.myqcloud.com`
 * (requests go to `BUCKET-APPID.cos.accelerate.myqcloud.com`, Global Acceleration,
 * https://cloud.tencent.com/document/product/436/38866), on the protocol and port of the endpoint
 * given (https without one), with the bucket's own region: `--region`, or the regional endpoint's.
 * Only Tencent's public regional hosts (`cos.REGION.…`) have an acceleration counterpart: an
 * internal, IPv6 or dedicated-cluster host, a custom domain or any other store is refused here.
 */
export function acceleratedEndpoint(endpoint: Endpoint | undefined, region: string | undefined): { endpoint: Endpoint; region: string } {
  const cos = endpoint === undefined ? undefined : parseCosHost(endpoint.host);
  if (endpoint !== undefined && (cos === undefined || (cos.service !== 'cos' && cos.service !== 'accelerate'))) {
    throw new CosyncError(
      'usage',
      `--accelerate cannot be used with ${endpoint.host}: it is Tencent COS's global acceleration, which only a public COS endpoint (cos.REGION.myqcloud.com, or --region alone) has; leave out --accelerate`,
    );
  }
  const bucketRegion = region ?? cos?.location;
  if (bucketRegion === undefined) {
    throw new CosyncError('usage', "--accelerate needs the bucket's own region, which requests are signed for: add --region (e.g. --region ap-guangzhou)");
  }
  // Checks the region's form, as the regional endpoint would.
  cosEndpointForRegion(bucketRegion);
  const port = endpoint?.port === undefined ? '' : `:${endpoint.port}`;
  return { endpoint: parseEndpoint(`${endpoint?.protocol ?? 'https'}://cos.accelerate.myqcloud.com${port}`), region: bucketRegion };
}

/**
 * The SigV4 region a COS endpoint host implies: the region of `cos.REGION.…`, `cosv6.REGION.…`,
 * `cos-internal.REGION.…`; none for the acceleration host (it signs with the bucket's own
 * region, never "accelerate") or a dedicated cluster (its label is a cluster id).
 */
export function cosRegionOfHost(host: string): string | undefined {
  const cos = parseCosHost(host);
  return cos === undefined || cos.service === 'accelerate' || cos.service === 'cos-cdc' ? undefined : cos.location;
}

/** True for Tencent's own COS hosts (which speak the `x-cos-` header dialect). */
export function isCosHost(host: string): boolean {
  return parseCosHost(host) !== undefined || host.endsWith('.myqcloud.com') || host.endsWith('.tencentcos.cn');
}

const DIALECTS: ReadonlySet<string> = new Set<Dialect>(['cos', 's3']);

/** Parses a `--dialect` value. */
export function parseDialect(text: string): Dialect {
  if (!DIALECTS.has(text)) throw new CosyncError('usage', `unknown --dialect value ${JSON.stringify(text)}: use cos (Tencent COS, x-cos- headers) or s3 (any other S3-compatible store)`);
  return text as Dialect;
}

/**
 * How a target is addressed: its dialect (the one asked for, else COS for Tencent's hosts — a
 * custom or CDN domain, or a private COS deployment, says `--dialect cos`), its SigV4 region and
 * whether requests are path-style (always for IP and localhost endpoints, which have no bucket
 * subdomains). Tencent's hosts refuse path-style for buckets created since 2024-01-01
 * (`PathStyleDomainForbidden`, https://cloud.tencent.com/document/product/436/102489 and
 * https://www.tencentcloud.com/document/product/436/57456), so asking
 * for it there is refused here, before any request.
 */
export function addressingFor(
  endpoint: Endpoint,
  requested: { readonly region?: string | undefined; readonly pathStyle?: boolean | undefined; readonly dialect?: Dialect | undefined },
): { region: string; pathStyle: boolean; dialect: Dialect } {
  const dialect = requested.dialect ?? (isCosHost(endpoint.host) ? 'cos' : 's3');
  const cos = parseCosHost(endpoint.host);
  if (requested.pathStyle === true && isCosHost(endpoint.host)) {
    throw new CosyncError(
      'usage',
      `--path-style cannot be used with ${endpoint.host}: Tencent COS refuses path-style requests for buckets created since 2024-01-01 (PathStyleDomainForbidden); leave it off and cosync addresses the bucket as BUCKET-APPID.${endpoint.host}`,
    );
  }
  if (requested.region === undefined && cos !== undefined && cosRegionOfHost(endpoint.host) === undefined) {
    throw new CosyncError(
      'usage',
      `${endpoint.host} names no region: give the bucket's own region with --region (e.g. --region ap-guangzhou); requests are signed for it`,
    );
  }
  const isIpOrLocal = /^[\d.]+$|^\[|^localhost$/.test(endpoint.host);
  return {
    dialect,
    region: requested.region ?? cosRegionOfHost(endpoint.host) ?? 'us-east-1',
    pathStyle: requested.pathStyle === true || isIpOrLocal,
  };
}

/**
 * The host a COS copy source is named by, `BUCKET-APPID.cos.REGION.myqcloud.com` as PUT Object -
 * Copy documents (https://cloud.tencent.com/document/product/436/10881; cos-python-sdk-v5
 * qcloud_cos/cos_comm.py gen_copy_source_url builds it from bucket and region the same way) —
 * never the request's host: the acceleration host, a CDN or custom domain is no copy source.
 * Tencent's regional hosts (`cosv6.`, `cos-internal.`, `tencentcos.cn`) name the bucket themselves.
 */
export function cosCopySourceHost(target: Pick<Target, 'endpoint' | 'bucket' | 'region'>): string {
  const cos = parseCosHost(target.endpoint.host);
  if (cos !== undefined && cos.service !== 'accelerate' && cos.location !== undefined) {
    const prefix = cos.service === 'cos-cdc' ? `cos-cdc.${cos.location}` : `${cos.service}.${cos.location}`;
    return `${target.bucket}.${prefix}.${cos.domain}`;
  }
  return `${target.bucket}.cos.${target.region}.myqcloud.com`;
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

/**
 * Where and how a target stores objects, as a person gives it — the CLI's flags or the window's
 * forms, before any checks; targetFromFields turns it into a Target.
 */
export interface TargetFields {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly bucket?: string | undefined;
  readonly prefix?: string | undefined;
  readonly sse?: string | undefined;
  /** The SSE-C key's name in the keychain. */
  readonly keyName?: string | undefined;
  readonly kmsKeyId?: string | undefined;
  readonly pathStyle?: boolean | undefined;
  /** Tencent COS global acceleration: the endpoint becomes `cos.accelerate.myqcloud.com`. */
  readonly accelerate?: boolean | undefined;
  /** `cos` or `s3`; by default, COS for Tencent's hosts. */
  readonly dialect?: string | undefined;
  /** The storage class of new objects, in the dialect's names. */
  readonly storageClass?: string | undefined;
  /** COS's server-side limit per request, MiB/s. */
  readonly trafficLimit?: string | undefined;
}

/** A setting that must be given, named in the message as its flag (as this module's other messages do). */
function required(value: string | undefined, flag: string, hint = ''): string {
  if (value === undefined || value.trim() === '') throw new CosyncError('usage', `missing --${flag}${hint}`);
  return value;
}

/** Builds and validates a Target, before any I/O. `defaultSse` applies when neither sse nor a key is given. */
export function targetFromFields(fields: TargetFields, defaultSse: 'none' | 'c'): Target {
  if (fields.accelerate === true && fields.dialect === 's3') throw new CosyncError('usage', "--accelerate is Tencent COS's global acceleration: it cannot be used with --dialect s3");
  // Tencent COS needs only its region: the endpoint is https://cos.REGION.myqcloud.com.
  const given =
    fields.endpoint === undefined && fields.region !== undefined
      ? cosEndpointForRegion(fields.region)
      : parseEndpoint(required(fields.endpoint, 'endpoint URL', ' (or --region for Tencent COS, e.g. --region ap-guangzhou)'));
  const accelerated = fields.accelerate === true ? acceleratedEndpoint(given, fields.region) : undefined;
  const endpoint = accelerated?.endpoint ?? given;
  const addressing = addressingFor(endpoint, {
    region: accelerated?.region ?? fields.region,
    pathStyle: fields.pathStyle,
    dialect: fields.dialect === undefined ? undefined : parseDialect(fields.dialect),
  });
  const { dialect } = addressing;
  const bucketName = required(fields.bucket, 'bucket NAME');
  const bucket = dialect === 'cos' ? validateCosBucketName(bucketName) : validateBucketName(bucketName);
  const sse = fields.sse === undefined ? (fields.keyName !== undefined ? 'c' : defaultSse) : parseSseMode(fields.sse);
  if (sse === 'c' && fields.keyName === undefined) throw new CosyncError('usage', '--sse c needs --key NAME (the SSE-C key in the keychain; create one with `cosync key generate NAME`)');
  if (sse !== 'c' && fields.keyName !== undefined) throw new CosyncError('usage', `--key is only used with --sse c (got --sse ${sse})`);
  if (fields.kmsKeyId !== undefined && sse !== 'kms') throw new CosyncError('usage', '--kms-key-id is only used with --sse kms');
  assertKeySafeTransport(endpoint, sse);
  return {
    endpoint,
    bucket,
    prefix: normalizePrefix(fields.prefix),
    region: addressing.region,
    pathStyle: addressing.pathStyle,
    dialect,
    sse,
    keyName: fields.keyName,
    kmsKeyId: fields.kmsKeyId,
    storageClass: fields.storageClass === undefined ? undefined : parseStorageClass(fields.storageClass, dialect),
    trafficLimitBits: fields.trafficLimit === undefined ? undefined : parseTrafficLimit(fields.trafficLimit, dialect),
  };
}
