/**
 * A COS test gateway: an HTTPS server on loopback that answers as Tencent COS documents, in front
 * of the real Ceph RGW. Integration suites run through it in the COS dialect (cosync talking to
 * `https://cos.ap-guangzhou.myqcloud.com:PORT`, virtual-hosted, `x-cos-` headers) and straight to
 * RGW in the S3 dialect, so both dialects meet a real store.
 *
 *   cosync ──TLS, BUCKET-APPID.cos.REGION.myqcloud.com──► gateway ──SigV4 (re-signed), path-style──► RGW
 *            (x-cos- headers, COS SigV4 credentials)       │ verifies the signature, translates
 *                                                          │ headers both ways, keeps what RGW
 *                                                          │ cannot (CRC-64, SSE-COS, storage
 *                                                          │ class, archive state) in memory
 *
 * Where COS's documents leave room, the gateway takes the pessimistic reading (the one that
 * breaks a client relying on S3 habits). What follows which document:
 * - Addresses: `BUCKET-APPID.cos.REGION.myqcloud.com`, SigV4 region = REGION
 *   (https://www.tencentcloud.com/document/product/436/7749, PUT Object's request line; COS's
 *   docs list "Accessing COS with AWS S3 SDK" among their practices: SigV4 is accepted).
 *   Path-style requests on `cos.REGION.myqcloud.com` are refused with PathStyleDomainForbidden,
 *   as for buckets created since 2024-01-01 (unless `allowPathStyle`).
 * - Errors: `<Error><Code/><Message/><Resource/><RequestId/><TraceId/></Error>` and the codes of
 *   https://www.tencentcloud.com/document/api/436/7730 (InvalidArgument, InvalidCopySource,
 *   ExpiredToken, …).
 * - Headers: only `x-cos-` names for encryption, metadata, copy and storage class. The S3 names
 *   (`x-amz-server-side-encryption…`, `x-amz-meta-…`, `x-amz-copy-source…`) are refused with
 *   InvalidArgument: real COS may accept some of them, but a client in the COS dialect must not
 *   depend on it. `x-amz-date` and `x-amz-content-sha256` are SigV4's own and pass.
 * - Content-Type is mandatory on PUT Object and Upload Part ("是否必选: 是" in PUT Object,
 *   436/7749; the common request headers, 436/7728: mandatory for PUT and POST with a body).
 *   COS documents no dedicated code, so a missing one gets 400 InvalidArgument.
 * - Listing: GET Bucket (List Objects) pages by `marker` only, at most 1,000 keys
 *   (https://cloud.tencent.com/document/product/436/7734, English 436/30614: the parameters are
 *   prefix, delimiter, encoding-type, marker, max-keys; "IsTruncated 为 true，同时会附加一个
 *   NextMarker"). Here `list-type`, `continuation-token` and `start-after` are ignored and the
 *   reply is a v1 listing with `NextMarker` whenever it is truncated.
 * - PUT Object - Copy (https://www.tencentcloud.com/document/api/436/10881): the source is
 *   `x-cos-copy-source: BUCKET-APPID.cos.REGION.myqcloud.com/KEY`; `x-cos-metadata-directive` is
 *   `Copy` (default) or `Replaced` (436/10881 lists only these; cos-python-sdk-v5 refuses any other
 *   value), any other value is InvalidArgument here; a
 *   copy onto itself needs `Replaced`; the copy is STANDARD and unencrypted unless the request
 *   names a storage class and SSE.
 * - CRC-64: `x-cos-hash-crc64ecma` (CRC-64/XZ of the plaintext, decimal) on PUT Object, Upload
 *   Part, Complete, HEAD and GET (COS's SDK pages read it from PUT's response, e.g. the Node.js
 *   SDK page https://www.tencentcloud.com/zh/document/product/436/43323; the Go SDK page 436/44906
 *   says the SDK checks it). Complete's value is the parts' CRCs combined, or computed from the
 *   stored object when a part's is unknown.
 * - ETags of SSE-COS and SSE-KMS objects are not the MD5 of the content (the issue's reading
 *   of COS's documents, which recommend CRC-64 for integrity instead). The gateway gives such
 *   objects an ETag that is a 32-hex-digit value unrelated to the MD5 (the treacherous case).
 * - Archived objects (ARCHIVE, DEEP_ARCHIVE): GET answers 403 InvalidObjectState until POST
 *   Object restore (https://intl.cloud.tencent.com/document/product/436/12633) has finished; HEAD
 *   (436/7745) shows `x-cos-storage-class` and `x-cos-restore`; GET Object (436/7753) names the
 *   403 InvalidObjectState.
 * - Temporary keys: requests signed with an STS key carry `x-cos-security-token`; an expired
 *   token gets 400 ExpiredToken (436/7730).
 * - Clock skew: a request dated more than 15 minutes off gets 403 RequestTimeTooSkewed, and every
 *   reply carries the gateway's `Date`.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { Crc64, crc64Combine } from '../../app/crc64.js';
// Resolves *.myqcloud.com to loopback in this process (the test's own clients).
import './cos-hosts.mjs';

/** The COS region the gateway serves. */
export const COS_GATEWAY_REGION = 'ap-guangzhou';
/** The APPID of the gateway's account: COS bucket `NAME-APPID` is RGW bucket `NAME`. */
export const COS_GATEWAY_APPID = '1250000000';
const SERVICE_HOST = `cos.${COS_GATEWAY_REGION}.myqcloud.com`;
/** Global acceleration (436/38866): BUCKET-APPID.cos.accelerate.myqcloud.com, signed for the bucket's own region. */
const ACCELERATE_HOST = 'cos.accelerate.myqcloud.com';
const RGW_REGION = 'us-east-1';
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_KEYS = 1000;

/** COS's storage classes (PUT Object, 436/7749, x-cos-storage-class). */
const STORAGE_CLASSES = new Set([
  'STANDARD',
  'STANDARD_IA',
  'ARCHIVE',
  'DEEP_ARCHIVE',
  'INTELLIGENT_TIERING',
  'MAZ_STANDARD',
  'MAZ_STANDARD_IA',
  'MAZ_INTELLIGENT_TIERING',
]);
const ARCHIVED_CLASSES = new Set(['ARCHIVE', 'DEEP_ARCHIVE']);

/** `x-amz-` request headers a COS-dialect client may send: SigV4's own. */
const ALLOWED_AMZ_HEADERS = new Set(['x-amz-date', 'x-amz-content-sha256', 'x-amz-user-agent']);

/** Request headers the gateway consumes itself instead of forwarding. */
const CONSUMED_HEADERS = new Set([
  'host',
  'authorization',
  'connection',
  'keep-alive',
  'expect',
  'user-agent',
  'x-amz-date',
  'x-amz-content-sha256',
  'x-amz-user-agent',
  'x-cos-security-token',
  'x-cos-storage-class',
  'x-cos-traffic-limit',
  'x-cos-copy-source',
  'x-cos-metadata-directive',
]);

/** A COS-shaped failure. */
class CosError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Server-side encryption the gateway records (RGW neither keeps nor reports SSE-COS). */
type ServerEncryption = { readonly kind: 'cos' } | { readonly kind: 'kms'; readonly keyId: string | undefined } | undefined;

interface ObjectState {
  /** RGW's ETag when recorded; a different one means the object was replaced behind the gateway. */
  etag: string | undefined;
  crc64: string | undefined;
  encryption: ServerEncryption;
  storageClass: string;
  restore: { readonly state: 'ongoing' | 'done'; readonly days: number; readonly tier: string; polls: number } | undefined;
}

interface UploadState {
  readonly key: string;
  readonly encryption: ServerEncryption;
  readonly storageClass: string;
  readonly parts: Map<number, { crc64: bigint; sizeBytes: number } | undefined>;
  /** SSE-C's echo (algorithm and key MD5) from Initiate: COS's Complete repeats it (436/7742), RGW's does not. */
  readonly customerKeyEcho: OutgoingHttpHeaders;
}

/** One request as the gateway saw it (for assertions). */
export interface GatewayRequest {
  readonly method: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** The `x-cos-traffic-limit` the request carried (bit/s, as sent). */
  readonly trafficLimit?: string | undefined;
  /** It came to the global acceleration host. */
  readonly accelerated?: boolean | undefined;
  status: number;
  code: string | undefined;
}

/** A reply to inject instead of forwarding (status 200 with an error body is COS's copy failure). */
export interface InjectedFault {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** Temporary (STS) credentials the gateway issued. */
export interface TemporaryCredentials {
  readonly secretId: string;
  readonly secretKey: string;
  readonly sessionToken: string;
}

/** Options of the gateway. */
export interface CosGatewayOptions {
  /** RGW's HTTPS endpoint and credentials. */
  readonly rgwEndpoint: string;
  readonly rgwAccessKey: string;
  readonly rgwSecretKey: string;
  /** The test CA: trusted toward RGW, and its key (ca.key beside it) issues the gateway's certificate. */
  readonly caFile: string;
  /** Accept path-style requests on `cos.REGION.myqcloud.com` (old buckets did). */
  readonly allowPathStyle?: boolean;
  /** Archived objects become readable after this many HEADs once a restore was asked for (default: only via completeRestore). */
  readonly restoreCompletesAfterHeads?: number;
  /** The buckets are multi-AZ: they take the MAZ_ classes (default: single-AZ buckets, which refuse them). */
  readonly multiAz?: boolean;
}

/** The running gateway and its emulation knobs. */
export interface CosGateway {
  /** `https://cos.ap-guangzhou.myqcloud.com:PORT`: the endpoint to give cosync. */
  readonly endpoint: string;
  readonly region: string;
  readonly appId: string;
  /** The account's permanent key (not RGW's: the gateway re-signs every request). */
  readonly secretId: string;
  readonly secretKey: string;
  /** Every request so far, in order. */
  readonly requests: GatewayRequest[];
  /** The COS name of an RGW bucket (`NAME` → `NAME-APPID`). */
  cosBucket(rgwBucket: string): string;
  /** Turns on global acceleration for a bucket (until then its acceleration host answers BucketAccelerateNotEnabled). */
  enableAcceleration(rgwBucket: string): void;
  /** Marks an object archived (ARCHIVE or DEEP_ARCHIVE), as a lifecycle transition would. */
  archiveObject(rgwBucket: string, key: string, storageClass?: 'ARCHIVE' | 'DEEP_ARCHIVE'): void;
  /** Finishes a restore that was asked for; the object reads until `days` pass (not emulated). */
  completeRestore(rgwBucket: string, key: string): void;
  /** The storage class the gateway holds for an object (STANDARD when it knows nothing). */
  storageClassOf(rgwBucket: string, key: string): string;
  /** Issues temporary credentials that need `x-cos-security-token`, valid until expire() is called with them. */
  issueTemporaryCredentials(): TemporaryCredentials;
  /** Makes temporary credentials expire now. */
  expire(credentials: TemporaryCredentials): void;
  /** Answers the next `times` requests that `matches` accepts with `fault` instead of forwarding them. */
  failNext(matches: (request: GatewayRequest) => boolean, fault: InjectedFault, times?: number): void;
  /** Moves the gateway's clock (for RequestTimeTooSkewed). */
  setClockOffset(milliseconds: number): void;
  close(): Promise<void>;
}

// --- SigV4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) ------

/** RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 canonical forms want. */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The S3 canonical URI: each segment decoded and encoded once more (S3 does not double-encode). */
function canonicalPath(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => encodeRfc3986(decodeURIComponent(segment)))
    .join('/');
}

/** A query string's pairs, decoded (no "+" for space: SigV4 clients encode spaces as %20). */
function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    return equals < 0 ? [decodeURIComponent(pair), ''] : [decodeURIComponent(pair.slice(0, equals)), decodeURIComponent(pair.slice(equals + 1))];
  });
}

function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** The SigV4 signature of a request in canonical form. */
function sigV4Signature(
  request: { method: string; path: string; query: string; headers: ReadonlyArray<readonly [string, string]>; payloadHash: string },
  secretKey: string,
  amzDate: string,
  region: string,
): string {
  const names = request.headers.map(([name]) => name);
  const canonicalRequest = [request.method, request.path, request.query, ...request.headers.map(([name, value]) => `${name}:${value}`), '', names.join(';'), request.payloadHash].join('\n');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, day), region), 's3'), 'aws4_request');
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

function amzDateOf(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

// --- the certificate ---------------------------------------------------------------------------

/** A certificate for *.cos.REGION.myqcloud.com from the test CA (whose key sits beside ca.crt). */
function issueCertificate(caFile: string): { key: Buffer; cert: Buffer } {
  const directory = mkdtempSync(join(tmpdir(), 'cos-gateway-tls-'));
  const keyFile = join(directory, 'gateway.key');
  const requestFile = join(directory, 'gateway.csr');
  const extensionsFile = join(directory, 'gateway.ext');
  const certFile = join(directory, 'gateway.crt');
  writeFileSync(extensionsFile, `subjectAltName=DNS:*.${SERVICE_HOST},DNS:${SERVICE_HOST},DNS:*.${ACCELERATE_HOST}\nextendedKeyUsage=serverAuth\n`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', requestFile, '-subj', `/CN=*.${SERVICE_HOST}`], { stdio: 'pipe' });
  execFileSync(
    'openssl',
    ['x509', '-req', '-in', requestFile, '-CA', caFile, '-CAkey', join(dirname(caFile), 'ca.key'), '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '7', '-sha256', '-extfile', extensionsFile, '-out', certFile],
    { stdio: 'pipe' },
  );
  return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

// --- XML helpers ---------------------------------------------------------------------------------

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[character] as string);
}

function xmlUnescape(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-fA-F]+));/g, (_entity, word: string, decimal?: string, hex?: string) =>
    decimal !== undefined ? String.fromCodePoint(Number(decimal)) : hex !== undefined ? String.fromCodePoint(parseInt(hex, 16)) : ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[word] ?? '',
  );
}

function xmlElement(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match === null ? undefined : xmlUnescape(match[1] as string);
}

function readBody(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function stripQuotes(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

// --- the gateway ---------------------------------------------------------------------------------

/** Where a request goes, from its Host and path. */
interface Address {
  readonly cosBucket: string;
  readonly rgwBucket: string;
  /** The decoded object key, or undefined for bucket requests. */
  readonly key: string | undefined;
  readonly region: string;
  /** Reached through the global acceleration host `BUCKET-APPID.cos.accelerate.myqcloud.com`. */
  readonly accelerated: boolean;
}

/** A response from RGW. */
interface RgwResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: IncomingMessage;
}

/** Starts the gateway on 127.0.0.1 (a free port). */
export async function startCosGateway(options: CosGatewayOptions): Promise<CosGateway> {
  const rgw = new URL(options.rgwEndpoint);
  const rgwAgent = new HttpsAgent({ ca: readFileSync(options.caFile), keepAlive: true, maxSockets: 32 });
  const secretId = `AKIDcosgw${randomBytes(12).toString('hex')}`;
  const secretKey = randomBytes(20).toString('hex');
  const temporary = new Map<string, { secretKey: string; sessionToken: string; expired: boolean }>();
  const objects = new Map<string, ObjectState>();
  const uploads = new Map<string, UploadState>();
  /** Gateway ETag of an encrypted object → RGW's. */
  const realEtags = new Map<string, string>();
  const faults: Array<{ matches: (request: GatewayRequest) => boolean; fault: InjectedFault; times: number }> = [];
  const requests: GatewayRequest[] = [];
  const acceleratedBuckets = new Set<string>();
  let clockOffsetMs = 0;
  const now = (): number => Date.now() + clockOffsetMs;

  const stateKey = (rgwBucket: string, key: string): string => `${rgwBucket}/${key}`;
  const rgwPath = (address: Address): string => `/${encodeRfc3986(address.rgwBucket)}${address.key === undefined ? '' : `/${address.key.split('/').map(encodeRfc3986).join('/')}`}`;

  /** The ETag COS shows for an object: RGW's, or an unrelated value when the object is SSE-COS/KMS. */
  const cosEtag = (rgwEtag: string | undefined, encryption: ServerEncryption): string | undefined => {
    if (rgwEtag === undefined || rgwEtag === '' || encryption === undefined) return rgwEtag;
    const suffix = /-\d+$/.exec(rgwEtag)?.[0] ?? '';
    const shown = createHash('md5').update(`cos-gateway encrypted ${rgwEtag}`).digest('hex') + suffix;
    realEtags.set(shown, rgwEtag);
    return shown;
  };
  const rgwEtagOf = (shown: string): string => realEtags.get(shown) ?? shown;

  /** The object's state, dropped when RGW's ETag shows it was replaced behind the gateway. */
  const objectState = (rgwBucket: string, key: string, rgwEtag: string | undefined): ObjectState | undefined => {
    const state = objects.get(stateKey(rgwBucket, key));
    if (state === undefined) return undefined;
    if (rgwEtag !== undefined && state.etag !== undefined && state.etag !== rgwEtag) {
      objects.delete(stateKey(rgwBucket, key));
      return undefined;
    }
    if (rgwEtag !== undefined) state.etag = rgwEtag;
    return state;
  };

  // The address: virtual-hosted BUCKET-APPID.cos.REGION.myqcloud.com[:port]/KEY.
  const addressOf = (request: IncomingMessage, rawPath: string): Address => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const virtual = /^([a-z0-9-]+)\.cos\.([a-z0-9-]+)\.myqcloud\.com$/.exec(host);
    let cosBucket: string;
    let keyPath: string;
    let region: string;
    let accelerated = false;
    if (virtual !== null && virtual[2] === 'accelerate') {
      // The acceleration host names no region: the bucket's own (this gateway's) is signed for.
      cosBucket = virtual[1] as string;
      region = COS_GATEWAY_REGION;
      accelerated = true;
      keyPath = rawPath.slice(1);
    } else if (virtual !== null) {
      cosBucket = virtual[1] as string;
      region = virtual[2] as string;
      keyPath = rawPath.slice(1);
    } else {
      const service = /^cos\.([a-z0-9-]+)\.myqcloud\.com$/.exec(host);
      if (service === null) throw new CosError(400, 'InvalidURI', `the host ${JSON.stringify(host)} is not a COS address: use BUCKET-APPID.cos.REGION.myqcloud.com`);
      region = service[1] as string;
      const slash = rawPath.indexOf('/', 1);
      cosBucket = decodeURIComponent(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
      keyPath = slash < 0 ? '' : rawPath.slice(slash + 1);
      if (cosBucket !== '' && options.allowPathStyle !== true) {
        throw new CosError(403, 'PathStyleDomainForbidden', 'path-style requests are not allowed for this bucket: use the virtual-hosted address BUCKET-APPID.cos.REGION.myqcloud.com');
      }
    }
    if (region !== COS_GATEWAY_REGION) throw new CosError(404, 'NoSuchBucket', `no bucket in region ${region} (this gateway serves ${COS_GATEWAY_REGION})`);
    const suffix = `-${COS_GATEWAY_APPID}`;
    if (!cosBucket.endsWith(suffix) || cosBucket.length === suffix.length) {
      throw new CosError(404, 'NoSuchBucket', `the bucket ${JSON.stringify(cosBucket)} does not exist: COS buckets are named NAME-APPID (APPID ${COS_GATEWAY_APPID} here)`);
    }
    const rgwBucket = cosBucket.slice(0, -suffix.length);
    // Error codes (436/7730): 400 BucketAccelerateNotEnabled.
    if (accelerated && !acceleratedBuckets.has(rgwBucket)) throw new CosError(400, 'BucketAccelerateNotEnabled', `global acceleration is not enabled for the bucket ${cosBucket}`);
    return { cosBucket, rgwBucket, key: keyPath === '' ? undefined : decodeURIComponent(keyPath), region, accelerated };
  };

  // Checks the client's SigV4 signature, with the region taken from the host.
  const authenticate = (request: IncomingMessage, rawPath: string, rawQuery: string, address: Address): void => {
    const authorization = headerValue(request.headers, 'authorization') ?? '';
    const parsed = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
    if (parsed === null) throw new CosError(403, 'AccessDenied', 'the request carries no AWS4-HMAC-SHA256 Authorization header');
    const [, accessKey, day, region, signedHeaders, signature] = parsed as unknown as [string, string, string, string, string, string];
    if (region !== address.region) throw new CosError(400, 'AuthorizationHeaderMalformed', `the signature's region ${JSON.stringify(region)} is wrong: this host is in ${address.region}`);
    const amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
    const dated = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (dated === null || !amzDate.startsWith(day)) throw new CosError(403, 'AccessDenied', 'x-amz-date is missing or does not match the credential scope');
    const requestTime = Date.UTC(Number(dated[1]), Number(dated[2]) - 1, Number(dated[3]), Number(dated[4]), Number(dated[5]), Number(dated[6]));
    if (Math.abs(requestTime - now()) > MAX_SKEW_MS) throw new CosError(403, 'RequestTimeTooSkewed', 'the difference between the request time and the server time is too large');
    const payloadHash = headerValue(request.headers, 'x-amz-content-sha256');
    if (payloadHash === undefined) throw new CosError(400, 'InvalidRequest', 'missing required header for this request: x-amz-content-sha256');

    let secret: string;
    if (accessKey === secretId) {
      secret = secretKey;
    } else {
      const issued = temporary.get(accessKey);
      if (issued === undefined) throw new CosError(403, 'InvalidAccessKeyId', `the SecretId ${accessKey} does not exist`);
      const token = headerValue(request.headers, 'x-cos-security-token');
      if (token === undefined || !signedHeaders.split(';').includes('x-cos-security-token')) {
        throw new CosError(403, 'InvalidAccessKeyId', 'a temporary SecretId needs its token, signed, in x-cos-security-token');
      }
      if (token !== issued.sessionToken) throw new CosError(403, 'InvalidAccessKeyId', 'x-cos-security-token does not belong to this SecretId');
      if (issued.expired) throw new CosError(400, 'ExpiredToken', 'the temporary key (x-cos-security-token) has expired');
      secret = issued.secretKey;
    }
    const names = signedHeaders.split(';');
    if (!names.includes('host')) throw new CosError(403, 'AccessDenied', 'SignedHeaders must include host');
    const headers = names.map((name) => [name, (headerValue(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')] as const);
    const expected = sigV4Signature({ method: request.method ?? 'GET', path: canonicalPath(rawPath), query: canonicalQuery(parseQuery(rawQuery)), headers, payloadHash }, secret, amzDate, region);
    if (expected !== signature) throw new CosError(403, 'SignatureDoesNotMatch', 'the request signature we calculated does not match the signature you provided; check your SecretKey and signing method');
  };

  /** Refuses S3 names for what COS names `x-cos-`. */
  const refuseAmzHeaders = (headers: IncomingHttpHeaders): void => {
    for (const name of Object.keys(headers)) {
      if (name.startsWith('x-amz-') && !ALLOWED_AMZ_HEADERS.has(name)) {
        throw new CosError(400, 'InvalidArgument', `COS takes ${name.replace(/^x-amz-/, 'x-cos-')}, not ${name}`);
      }
    }
  };

  /** The client's headers in RGW's (S3) names, minus what the gateway consumes. */
  const toRgwHeaders = (headers: IncomingHttpHeaders): Record<string, string> => {
    const result: Record<string, string> = {};
    for (const name of Object.keys(headers)) {
      if (CONSUMED_HEADERS.has(name)) continue;
      let value = headerValue(headers, name) as string;
      if (name === 'if-match' || name === 'if-none-match' || name === 'x-cos-copy-source-if-match' || name === 'x-cos-copy-source-if-none-match') {
        value = `"${rgwEtagOf(stripQuotes(value) as string)}"`;
      }
      if (name.startsWith('x-cos-')) {
        const s3Name = `x-amz-${name.slice('x-cos-'.length)}`.replace('-cos-kms-key-id', '-aws-kms-key-id');
        result[s3Name] = name === 'x-cos-server-side-encryption' && value === 'cos/kms' ? 'aws:kms' : value;
      } else {
        result[name] = value;
      }
    }
    return result;
  };

  /** What the request asks for: SSE-COS, KMS or neither (SSE-C goes to RGW as it is). */
  const requestedEncryption = (headers: IncomingHttpHeaders): ServerEncryption => {
    const value = headerValue(headers, 'x-cos-server-side-encryption');
    if (value === undefined) return undefined;
    if (value === 'AES256') return { kind: 'cos' };
    if (value === 'cos/kms') return { kind: 'kms', keyId: headerValue(headers, 'x-cos-server-side-encryption-cos-kms-key-id') };
    throw new CosError(400, 'InvalidArgument', `x-cos-server-side-encryption must be AES256 or cos/kms, not ${JSON.stringify(value)}`);
  };

  /** `x-cos-traffic-limit`: digits, 819200–838860800 bit/s, or 400 (single-connection bandwidth limit, 436/34072). Not enforced: RGW sends at its own pace. */
  const checkTrafficLimit = (headers: IncomingHttpHeaders): void => {
    const value = headerValue(headers, 'x-cos-traffic-limit');
    if (value === undefined) return;
    const bits = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(bits >= 819_200 && bits <= 838_860_800)) throw new CosError(400, 'InvalidArgument', `x-cos-traffic-limit must be 819200 to 838860800 bit/s, not ${JSON.stringify(value)}`);
  };

  const requestedStorageClass = (headers: IncomingHttpHeaders): string => {
    const value = headerValue(headers, 'x-cos-storage-class') ?? 'STANDARD';
    if (!STORAGE_CLASSES.has(value)) throw new CosError(400, 'InvalidArgument', `unknown x-cos-storage-class ${JSON.stringify(value)}`);
    // MAZ classes exist only in multi-AZ buckets (storage class overview, 436/30925). COS's exact
    // code for the refusal is not documented; InvalidArgument naming the class is the assumption.
    if (value.startsWith('MAZ_') !== (options.multiAz === true)) {
      throw new CosError(400, 'InvalidArgument', `The storage class ${value} is not allowed for this ${options.multiAz === true ? 'multi-AZ' : 'single-AZ'} bucket`);
    }
    return value;
  };

  /** Sends one request to RGW, re-signed with RGW's key (path-style, UNSIGNED-PAYLOAD unless the client hashed the payload). */
  const toRgw = (
    method: string,
    path: string,
    query: ReadonlyArray<readonly [string, string]>,
    headers: Record<string, string>,
    body: Buffer | Readable | undefined,
    payloadHash = 'UNSIGNED-PAYLOAD',
  ): Promise<RgwResponse> => {
    const amzDate = amzDateOf(Date.now());
    const all: Record<string, string> = { ...headers, host: rgw.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
    if (Buffer.isBuffer(body)) all['content-length'] = String(body.length);
    else if (body === undefined && (method === 'PUT' || method === 'POST')) all['content-length'] = '0';
    const signed = Object.keys(all)
      .filter((name) => name === 'host' || name.startsWith('x-amz-') || name === 'content-md5' || name === 'content-type')
      .sort()
      .map((name) => [name, (all[name] as string).trim().replace(/\s+/g, ' ')] as const);
    const queryText = canonicalQuery(query);
    const signature = sigV4Signature({ method, path, query: queryText, headers: signed, payloadHash }, options.rgwSecretKey, amzDate, RGW_REGION);
    const scope = `${amzDate.slice(0, 8)}/${RGW_REGION}/s3/aws4_request`;
    all.authorization = `AWS4-HMAC-SHA256 Credential=${options.rgwAccessKey}/${scope}, SignedHeaders=${signed.map(([name]) => name).join(';')}, Signature=${signature}`;
    return new Promise((resolve, reject) => {
      const outgoing = httpsRequest(
        { host: rgw.hostname, port: rgw.port, method, path: queryText === '' ? path : `${path}?${queryText}`, headers: all, agent: rgwAgent },
        (response) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: response }),
      );
      outgoing.on('error', reject);
      if (body === undefined || Buffer.isBuffer(body)) outgoing.end(body);
      else {
        body.on('error', (error) => outgoing.destroy(error));
        body.pipe(outgoing);
      }
    });
  };

  /** RGW's response headers in COS's names. */
  const toCosHeaders = (headers: IncomingHttpHeaders): OutgoingHttpHeaders => {
    const result: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || name === 'connection' || name === 'keep-alive' || name === 'x-amz-id-2' || name === 'server' || name === 'date') continue;
      if (name.startsWith('x-amz-')) {
        const cosName = `x-cos-${name.slice('x-amz-'.length)}`.replace('-aws-kms-key-id', '-cos-kms-key-id');
        result[cosName] = name === 'x-amz-server-side-encryption' && value === 'aws:kms' ? 'cos/kms' : value;
      } else {
        result[name] = value;
      }
    }
    result.server = 'tencent-cos';
    return result;
  };

  /** The CRC-64 of a stored object, read back from RGW (with the SSE-C key the request carried). */
  const crc64FromStore = async (address: Address, rgwHeaders: Record<string, string>): Promise<string | undefined> => {
    const customerKeyHeaders = Object.fromEntries(Object.entries(rgwHeaders).filter(([name]) => name.startsWith('x-amz-server-side-encryption-customer-')));
    const response = await toRgw('GET', rgwPath(address), [], customerKeyHeaders, undefined);
    if (response.status !== 200) {
      response.body.resume();
      return undefined;
    }
    const crc = new Crc64();
    for await (const chunk of response.body) crc.update(chunk as Buffer);
    return crc.value.toString();
  };

  const encryptionHeaders = (encryption: ServerEncryption): OutgoingHttpHeaders =>
    encryption === undefined
      ? {}
      : encryption.kind === 'cos'
        ? { 'x-cos-server-side-encryption': 'AES256' }
        : { 'x-cos-server-side-encryption': 'cos/kms', ...(encryption.keyId === undefined ? {} : { 'x-cos-server-side-encryption-cos-kms-key-id': encryption.keyId }) };

  const send = (response: ServerResponse, status: number, headers: OutgoingHttpHeaders, body?: Buffer | string): void => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const final: OutgoingHttpHeaders = { ...headers, date: new Date(now()).toUTCString() };
    // The body is whole here (RGW's may have come chunked).
    delete final['transfer-encoding'];
    if (payload !== undefined) final['content-length'] = String(payload.length);
    response.writeHead(status, final);
    response.end(payload);
  };

  const sendError = (request: IncomingMessage, response: ServerResponse, error: CosError, requestId: string): void => {
    const resource = `${request.headers.host ?? ''}${request.url ?? ''}`;
    const headers: OutgoingHttpHeaders = { 'content-type': 'application/xml', server: 'tencent-cos', 'x-cos-request-id': requestId };
    if (request.method === 'HEAD') {
      send(response, error.status, headers);
      return;
    }
    const xml = `<?xml version='1.0' encoding='utf-8' ?>\n<Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId><TraceId>${randomBytes(24).toString('base64')}</TraceId></Error>`;
    send(response, error.status, headers, xml);
  };

  /** Passes RGW's answer on, headers translated (plus `extra`), body streamed. */
  const relay = (response: ServerResponse, rgwResponse: RgwResponse, extra: OutgoingHttpHeaders = {}): void => {
    response.writeHead(rgwResponse.status, { ...toCosHeaders(rgwResponse.headers), ...extra, date: new Date(now()).toUTCString() });
    rgwResponse.body.pipe(response);
  };

  /** Relays an RGW error as it is (RGW speaks the S3 error format COS shares). */
  const relayIfFailed = async (response: ServerResponse, rgwResponse: RgwResponse): Promise<boolean> => {
    if (rgwResponse.status < 300) return false;
    send(response, rgwResponse.status, toCosHeaders(rgwResponse.headers), await readBody(rgwResponse.body));
    return true;
  };

  // --- operations ---

  const putObject = async (request: IncomingMessage, response: ServerResponse, address: Address, query: Array<[string, string]>, payloadHash: string): Promise<void> => {
    const key = address.key as string;
    if (headerValue(request.headers, 'content-type') === undefined) {
      throw new CosError(400, 'InvalidArgument', 'Content-Type is required on PUT Object and Upload Part (COS common request headers)');
    }
    const uploadId = query.find(([name]) => name === 'uploadId')?.[1];
    const partNumber = Number(query.find(([name]) => name === 'partNumber')?.[1]);
    const upload = uploadId === undefined ? undefined : uploads.get(uploadId);
    const encryption = uploadId === undefined ? requestedEncryption(request.headers) : upload?.encryption;
    const storageClass = uploadId === undefined ? requestedStorageClass(request.headers) : (upload?.storageClass ?? 'STANDARD');
    const rgwHeaders = toRgwHeaders(request.headers);
    // RGW does not keep storage classes COS has (and neither encrypts nor reports SSE-S3): the gateway does.
    delete rgwHeaders['x-amz-server-side-encryption'];
    delete rgwHeaders['x-amz-server-side-encryption-aws-kms-key-id'];
    const crc = new Crc64();
    let sizeBytes = 0;
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => {
      crc.update(chunk);
      sizeBytes += chunk.length;
    });
    request.pipe(counted);
    const rgwResponse = await toRgw('PUT', rgwPath(address), query, rgwHeaders, counted, payloadHash);
    if (await relayIfFailed(response, rgwResponse)) return;
    await readBody(rgwResponse.body);
    const crc64 = crc.value;
    const rgwEtag = stripQuotes(headerValue(rgwResponse.headers, 'etag'));
    if (uploadId !== undefined) {
      upload?.parts.set(partNumber, { crc64, sizeBytes });
      send(response, 200, { ...toCosHeaders(rgwResponse.headers), 'x-cos-hash-crc64ecma': crc64.toString() });
      return;
    }
    objects.set(stateKey(address.rgwBucket, key), { etag: rgwEtag, crc64: crc64.toString(), encryption, storageClass, restore: undefined });
    const shown = cosEtag(rgwEtag, encryption);
    send(response, 200, { ...toCosHeaders(rgwResponse.headers), ...(shown === undefined ? {} : { etag: `"${shown}"` }), ...encryptionHeaders(encryption), 'x-cos-hash-crc64ecma': crc64.toString() });
  };

  /** The source of a copy, from `x-cos-copy-source: BUCKET-APPID.cos.REGION.myqcloud.com/KEY`. */
  const copySourceOf = (value: string): { rgwBucket: string; key: string; rawKey: string } => {
    const match = /^([a-z0-9-]+)\.cos\.([a-z0-9-]+)\.myqcloud\.com\/(.+)$/.exec(value);
    if (match === null) {
      throw new CosError(400, 'InvalidCopySource', `x-cos-copy-source ${JSON.stringify(value)} is not BUCKET-APPID.cos.REGION.myqcloud.com/KEY`);
    }
    const [, bucket, region, rawKey] = match as unknown as [string, string, string, string];
    const suffix = `-${COS_GATEWAY_APPID}`;
    if (region !== COS_GATEWAY_REGION || !bucket.endsWith(suffix)) throw new CosError(404, 'NoSuchBucket', `the copy source's bucket ${bucket} in ${region} does not exist`);
    const withoutVersion = rawKey.replace(/\?versionId=[^&]*$/, '');
    return { rgwBucket: bucket.slice(0, -suffix.length), key: decodeURIComponent(withoutVersion), rawKey: withoutVersion };
  };

  const copyObject = async (request: IncomingMessage, response: ServerResponse, address: Address, query: Array<[string, string]>): Promise<void> => {
    const key = address.key as string;
    const source = copySourceOf(headerValue(request.headers, 'x-cos-copy-source') as string);
    const sourceState = objects.get(stateKey(source.rgwBucket, source.key));
    if (sourceState !== undefined && ARCHIVED_CLASSES.has(sourceState.storageClass) && sourceState.restore?.state !== 'done') {
      throw new CosError(403, 'InvalidObjectState', `the copy source ${source.key} is archived (${sourceState.storageClass}); restore it first`);
    }
    const rgwHeaders = toRgwHeaders(request.headers);
    const rgwSource = `/${source.rgwBucket}/${source.key.split('/').map(encodeRfc3986).join('/')}`;
    rgwHeaders['x-amz-copy-source'] = rgwSource;
    const uploadId = query.find(([name]) => name === 'uploadId')?.[1];
    if (uploadId !== undefined) {
      // Upload Part - Copy: the part's CRC is not known here; Complete reads the object back.
      const upload = uploads.get(uploadId);
      upload?.parts.set(Number(query.find(([name]) => name === 'partNumber')?.[1]), undefined);
      relay(response, await toRgw('PUT', rgwPath(address), query, rgwHeaders, request));
      return;
    }
    const directive = headerValue(request.headers, 'x-cos-metadata-directive') ?? 'Copy';
    if (directive !== 'Copy' && directive !== 'Replaced') {
      throw new CosError(400, 'InvalidArgument', `x-cos-metadata-directive must be Copy or Replaced, not ${JSON.stringify(directive)}`);
    }
    if (source.rgwBucket === address.rgwBucket && source.key === key && directive !== 'Replaced') {
      throw new CosError(400, 'InvalidRequest', 'copying an object onto itself needs x-cos-metadata-directive: Replaced');
    }
    rgwHeaders['x-amz-metadata-directive'] = directive === 'Copy' ? 'COPY' : 'REPLACE';
    const encryption = requestedEncryption(request.headers);
    const storageClass = requestedStorageClass(request.headers);
    delete rgwHeaders['x-amz-server-side-encryption'];
    delete rgwHeaders['x-amz-server-side-encryption-aws-kms-key-id'];
    const rgwResponse = await toRgw('PUT', rgwPath(address), query, rgwHeaders, request);
    if (await relayIfFailed(response, rgwResponse)) return;
    let xml = (await readBody(rgwResponse.body)).toString('utf8');
    const rgwEtag = stripQuotes(xmlElement(xml, 'ETag'));
    objects.set(stateKey(address.rgwBucket, key), { etag: rgwEtag, crc64: sourceState?.crc64, encryption, storageClass, restore: undefined });
    const shown = cosEtag(rgwEtag, encryption);
    if (shown !== undefined && shown !== rgwEtag) xml = xml.replace(/<ETag>[^<]*<\/ETag>/, `<ETag>&quot;${shown}&quot;</ETag>`);
    send(response, 200, { ...toCosHeaders(rgwResponse.headers), ...encryptionHeaders(encryption), ...(sourceState?.crc64 === undefined ? {} : { 'x-cos-hash-crc64ecma': sourceState.crc64 }) }, xml);
  };

  const createMultipartUpload = async (request: IncomingMessage, response: ServerResponse, address: Address, query: Array<[string, string]>): Promise<void> => {
    const encryption = requestedEncryption(request.headers);
    const storageClass = requestedStorageClass(request.headers);
    const rgwHeaders = toRgwHeaders(request.headers);
    delete rgwHeaders['x-amz-server-side-encryption'];
    delete rgwHeaders['x-amz-server-side-encryption-aws-kms-key-id'];
    const rgwResponse = await toRgw('POST', rgwPath(address), query, rgwHeaders, await readBody(request));
    if (await relayIfFailed(response, rgwResponse)) return;
    const xml = (await readBody(rgwResponse.body)).toString('utf8');
    const uploadId = xmlElement(xml, 'UploadId');
    const answered = toCosHeaders(rgwResponse.headers);
    const customerKeyEcho = Object.fromEntries(Object.entries(answered).filter(([name]) => name.startsWith('x-cos-server-side-encryption-customer-')));
    if (uploadId !== undefined) uploads.set(uploadId, { key: address.key as string, encryption, storageClass, parts: new Map(), customerKeyEcho });
    send(response, 200, { ...answered, ...encryptionHeaders(encryption) }, xml.replace(/<Bucket>[^<]*<\/Bucket>/, `<Bucket>${address.cosBucket}</Bucket>`));
  };

  const completeMultipartUpload = async (request: IncomingMessage, response: ServerResponse, address: Address, query: Array<[string, string]>, uploadId: string, payloadHash: string): Promise<void> => {
    const key = address.key as string;
    const requestXml = await readBody(request);
    const rgwHeaders = toRgwHeaders(request.headers);
    const rgwResponse = await toRgw('POST', rgwPath(address), query, rgwHeaders, requestXml, payloadHash);
    if (await relayIfFailed(response, rgwResponse)) return;
    let xml = (await readBody(rgwResponse.body)).toString('utf8');
    if (xml.includes('<Error>')) {
      send(response, 200, toCosHeaders(rgwResponse.headers), xml);
      return;
    }
    const upload = uploads.get(uploadId);
    uploads.delete(uploadId);
    // The object's CRC: the listed parts' CRCs combined, or the stored object read back.
    const partNumbers = [...requestXml.toString('utf8').matchAll(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/g)].map((match) => Number(match[1]));
    let combined: bigint | undefined;
    for (const partNumber of partNumbers) {
      const part = upload?.parts.get(partNumber);
      if (part === undefined) {
        combined = undefined;
        break;
      }
      combined = combined === undefined ? part.crc64 : crc64Combine(combined, part.crc64, part.sizeBytes);
    }
    const crc64 = combined?.toString() ?? (await crc64FromStore(address, rgwHeaders));
    // RGW's Complete answers an empty ETag (TESTBED.md); COS gives the object's, so ask RGW for it.
    const customerKeyHeaders = Object.fromEntries(Object.entries(rgwHeaders).filter(([name]) => name.startsWith('x-amz-server-side-encryption-customer-')));
    const head = await toRgw('HEAD', rgwPath(address), [], customerKeyHeaders, undefined);
    head.body.resume();
    const rgwEtag = head.status === 200 ? stripQuotes(headerValue(head.headers, 'etag')) : undefined;
    const encryption = upload?.encryption;
    objects.set(stateKey(address.rgwBucket, key), { etag: rgwEtag, crc64, encryption, storageClass: upload?.storageClass ?? 'STANDARD', restore: undefined });
    const shown = cosEtag(rgwEtag, encryption);
    if (shown !== undefined) xml = xml.replace(/<ETag>[^<]*<\/ETag>/, `<ETag>&quot;${shown}&quot;</ETag>`);
    xml = xml.replace(/<Bucket>[^<]*<\/Bucket>/, `<Bucket>${address.cosBucket}</Bucket>`);
    send(response, 200, { ...toCosHeaders(rgwResponse.headers), ...upload?.customerKeyEcho, ...encryptionHeaders(encryption), ...(crc64 === undefined ? {} : { 'x-cos-hash-crc64ecma': crc64 }) }, xml);
  };

  const restoreObject = async (request: IncomingMessage, response: ServerResponse, address: Address): Promise<void> => {
    const key = address.key as string;
    const xml = (await readBody(request)).toString('utf8');
    const state = objects.get(stateKey(address.rgwBucket, key));
    if (state === undefined || !ARCHIVED_CLASSES.has(state.storageClass)) {
      throw new CosError(403, 'InvalidObjectState', `${key} is not archived (storage class ${state?.storageClass ?? 'STANDARD'}): only ARCHIVE and DEEP_ARCHIVE objects are restored`);
    }
    const days = Number(xmlElement(xml, 'Days'));
    const tier = xmlElement(xml, 'Tier') ?? 'Standard';
    if (!Number.isInteger(days) || days < 1) throw new CosError(400, 'MalformedXML', 'RestoreRequest needs <Days>, a whole number of days ≥ 1');
    if (!['Expedited', 'Standard', 'Bulk'].includes(tier)) throw new CosError(400, 'MalformedXML', `unknown restore <Tier> ${JSON.stringify(tier)}: Expedited, Standard or Bulk`);
    if (state.restore?.state === 'ongoing') throw new CosError(409, 'RestoreAlreadyInProgress', `a restore of ${key} is already in progress`);
    const alreadyRestored = state.restore?.state === 'done';
    state.restore = { state: alreadyRestored ? 'done' : 'ongoing', days, tier, polls: 0 };
    send(response, alreadyRestored ? 200 : 202, { server: 'tencent-cos' });
  };

  /** HEAD and GET of an object: COS's extra headers, archive state, and the CRC-64. */
  const readObject = async (request: IncomingMessage, response: ServerResponse, address: Address, query: Array<[string, string]>): Promise<void> => {
    const key = address.key as string;
    const method = request.method as 'GET' | 'HEAD';
    const rgwHeaders = toRgwHeaders(request.headers);
    const known = objects.get(stateKey(address.rgwBucket, key));
    if (known?.restore?.state === 'ongoing' && method === 'HEAD' && options.restoreCompletesAfterHeads !== undefined && ++known.restore.polls >= options.restoreCompletesAfterHeads) {
      known.restore = { ...known.restore, state: 'done' };
    }
    const archived = known !== undefined && ARCHIVED_CLASSES.has(known.storageClass) && known.restore?.state !== 'done';
    if (archived && method === 'GET') {
      throw new CosError(403, 'InvalidObjectState', `the object is in ${known.storageClass}: restore it with POST Object restore before reading it`);
    }
    const rgwResponse = await toRgw(method, rgwPath(address), query, rgwHeaders, undefined);
    if (rgwResponse.status >= 300) {
      if (method === 'HEAD') {
        rgwResponse.body.resume();
        send(response, rgwResponse.status, toCosHeaders(rgwResponse.headers));
      } else await relayIfFailed(response, rgwResponse);
      return;
    }
    const rgwEtag = stripQuotes(headerValue(rgwResponse.headers, 'etag'));
    const state = objectState(address.rgwBucket, key, rgwEtag);
    let crc64 = state?.crc64;
    if (crc64 === undefined) {
      crc64 = await crc64FromStore(address, rgwHeaders);
      if (crc64 !== undefined) {
        if (state !== undefined) state.crc64 = crc64;
        else objects.set(stateKey(address.rgwBucket, key), { etag: rgwEtag, crc64, encryption: undefined, storageClass: 'STANDARD', restore: undefined });
      }
    }
    const encryption = state?.encryption;
    const shown = cosEtag(rgwEtag, encryption);
    const extra: OutgoingHttpHeaders = {
      ...encryptionHeaders(encryption),
      ...(shown === undefined ? {} : { etag: `"${shown}"` }),
      ...(crc64 === undefined ? {} : { 'x-cos-hash-crc64ecma': crc64 }),
      // COS leaves the header out for STANDARD objects (HEAD Object, 436/7745).
      ...(state === undefined || state.storageClass === 'STANDARD' ? {} : { 'x-cos-storage-class': state.storageClass }),
      ...(state?.restore === undefined ? {} : { 'x-cos-restore': state.restore.state === 'ongoing' ? 'ongoing-request="true"' : `ongoing-request="false", expiry-date="${new Date(now() + state.restore.days * 86_400_000).toUTCString()}"` }),
    };
    relay(response, rgwResponse, extra);
  };

  /** GET Bucket: marker-paged v1 listing, whatever the client asked for. */
  const listObjects = async (response: ServerResponse, address: Address, query: Array<[string, string]>): Promise<void> => {
    const kept = new Set(['prefix', 'delimiter', 'marker', 'encoding-type']);
    const rgwQuery: Array<[string, string]> = query.filter(([name]) => kept.has(name));
    const asked = Number(query.find(([name]) => name === 'max-keys')?.[1] ?? MAX_KEYS);
    rgwQuery.push(['max-keys', String(Number.isFinite(asked) ? Math.min(Math.max(asked, 0), MAX_KEYS) : MAX_KEYS)]);
    const rgwResponse = await toRgw('GET', rgwPath(address), rgwQuery, {}, undefined);
    if (await relayIfFailed(response, rgwResponse)) return;
    let xml = (await readBody(rgwResponse.body)).toString('utf8');
    let lastKey: string | undefined;
    xml = xml.replace(/<Contents>[\s\S]*?<\/Contents>/g, (contents) => {
      const key = xmlElement(contents, 'Key') as string;
      lastKey = key;
      const rgwEtag = stripQuotes(xmlElement(contents, 'ETag'));
      const state = objectState(address.rgwBucket, key, rgwEtag);
      const shown = cosEtag(rgwEtag, state?.encryption);
      let rewritten = shown === undefined ? contents : contents.replace(/<ETag>[^<]*<\/ETag>/, `<ETag>&quot;${shown}&quot;</ETag>`);
      if (state !== undefined) rewritten = rewritten.replace(/<StorageClass>[^<]*<\/StorageClass>/, `<StorageClass>${state.storageClass}</StorageClass>`);
      return rewritten;
    });
    xml = xml.replace(/<Name>[^<]*<\/Name>/, `<Name>${address.cosBucket}</Name>`);
    // COS gives NextMarker with every truncated page (GET Bucket, 436/7734); S3 v1 only with a delimiter.
    const truncated = xmlElement(xml, 'IsTruncated') === 'true';
    if (truncated && xmlElement(xml, 'NextMarker') === undefined) {
      const commonPrefixes = [...xml.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)].map((match) => xmlUnescape(match[1] as string));
      const next = [lastKey, ...commonPrefixes].filter((candidate): candidate is string => candidate !== undefined).sort().at(-1);
      if (next !== undefined) xml = xml.replace('</IsTruncated>', `</IsTruncated><NextMarker>${xmlEscape(next)}</NextMarker>`);
    }
    send(response, 200, { ...toCosHeaders(rgwResponse.headers), 'content-type': 'application/xml' }, xml);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, requestId: string, record: GatewayRequest): Promise<void> => {
    const url = request.url ?? '/';
    const questionMark = url.indexOf('?');
    const rawPath = questionMark < 0 ? url : url.slice(0, questionMark);
    const rawQuery = questionMark < 0 ? '' : url.slice(questionMark + 1);
    const query = parseQuery(rawQuery);
    Object.assign(record, { query });
    const address = addressOf(request, rawPath);
    Object.assign(record, { bucket: address.cosBucket, key: address.key, trafficLimit: headerValue(request.headers, 'x-cos-traffic-limit'), accelerated: address.accelerated });
    authenticate(request, rawPath, rawQuery, address);
    refuseAmzHeaders(request.headers);
    checkTrafficLimit(request.headers);
    const index = faults.findIndex((candidate) => candidate.matches(record));
    if (index >= 0) {
      const injected = faults[index] as (typeof faults)[number];
      if (--injected.times <= 0) faults.splice(index, 1);
      await readBody(request);
      throw new CosError(injected.fault.status, injected.fault.code, injected.fault.message);
    }
    const payloadHash = headerValue(request.headers, 'x-amz-content-sha256') as string;
    const has = (name: string): boolean => query.some(([candidate]) => candidate === name);
    const method = request.method ?? 'GET';
    if (address.key === undefined) {
      if (method === 'GET' && !['uploads', 'location', 'acl', 'versioning', 'lifecycle', 'policy', 'cors', 'versions'].some(has)) {
        await listObjects(response, address, query);
        return;
      }
      relay(response, await toRgw(method, rgwPath(address), query, toRgwHeaders(request.headers), method === 'PUT' || method === 'POST' ? await readBody(request) : undefined, payloadHash));
      return;
    }
    if (method === 'PUT') {
      if (headerValue(request.headers, 'x-cos-copy-source') !== undefined) await copyObject(request, response, address, query);
      else await putObject(request, response, address, query, payloadHash);
      return;
    }
    if (method === 'POST' && has('uploads')) return createMultipartUpload(request, response, address, query);
    if (method === 'POST' && has('uploadId')) return completeMultipartUpload(request, response, address, query, query.find(([name]) => name === 'uploadId')?.[1] as string, payloadHash);
    if (method === 'POST' && has('restore')) return restoreObject(request, response, address);
    if ((method === 'GET' || method === 'HEAD') && !has('uploadId')) return readObject(request, response, address, query);
    if (method === 'DELETE' && !has('uploadId')) {
      const rgwResponse = await toRgw('DELETE', rgwPath(address), query, toRgwHeaders(request.headers), undefined);
      if (rgwResponse.status < 300) objects.delete(stateKey(address.rgwBucket, address.key));
      relay(response, rgwResponse);
      return;
    }
    if (method === 'DELETE') uploads.delete(query.find(([name]) => name === 'uploadId')?.[1] as string);
    relay(response, await toRgw(method, rgwPath(address), query, toRgwHeaders(request.headers), undefined));
  };

  const tls = issueCertificate(options.caFile);
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    const requestId = randomBytes(16).toString('hex');
    const record: GatewayRequest = { method: request.method ?? 'GET', bucket: undefined, key: undefined, query: [], status: 0, code: undefined };
    requests.push(record);
    response.on('finish', () => (record.status = response.statusCode));
    handle(request, response, requestId, record).catch((error: unknown) => {
      request.resume();
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const cosError = error instanceof CosError ? error : new CosError(500, 'InternalError', `the gateway failed: ${(error as Error).message}`);
      record.code = cosError.code;
      sendError(request, response, cosError, requestId);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `https://${SERVICE_HOST}:${port}`,
    region: COS_GATEWAY_REGION,
    appId: COS_GATEWAY_APPID,
    secretId,
    secretKey,
    requests,
    cosBucket: (rgwBucket) => `${rgwBucket}-${COS_GATEWAY_APPID}`,
    enableAcceleration: (rgwBucket) => void acceleratedBuckets.add(rgwBucket),
    archiveObject(rgwBucket, key, storageClass = 'ARCHIVE') {
      const state = objects.get(stateKey(rgwBucket, key));
      if (state === undefined) objects.set(stateKey(rgwBucket, key), { etag: undefined, crc64: undefined, encryption: undefined, storageClass, restore: undefined });
      else Object.assign(state, { storageClass, restore: undefined });
    },
    completeRestore(rgwBucket, key) {
      const state = objects.get(stateKey(rgwBucket, key));
      if (state?.restore === undefined) throw new Error(`no restore of ${key} was asked for`);
      state.restore = { ...state.restore, state: 'done' };
    },
    storageClassOf: (rgwBucket, key) => objects.get(stateKey(rgwBucket, key))?.storageClass ?? 'STANDARD',
    issueTemporaryCredentials() {
      const issued = { secretId: `AKIDtmp${randomBytes(10).toString('hex')}`, secretKey: randomBytes(20).toString('hex'), sessionToken: randomBytes(48).toString('base64url') };
      temporary.set(issued.secretId, { secretKey: issued.secretKey, sessionToken: issued.sessionToken, expired: false });
      return issued;
    },
    expire(credentials) {
      const issued = temporary.get(credentials.secretId);
      if (issued !== undefined) issued.expired = true;
    },
    failNext(matches, fault, times = 1) {
      faults.push({ matches, fault, times });
    },
    setClockOffset(milliseconds) {
      clockOffsetMs = milliseconds;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        rgwAgent.destroy();
      }),
  };
}
