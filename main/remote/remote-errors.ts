/**
 * One place that turns what the network, TLS and the object store say into CosyncErrors with
 * a specific code and a sentence that says what to do.
 */
import { CosyncError } from '../../app/result.js';
import { proxyErrorOf, type ProxyChoice } from './proxy.js';
import { NETWORK_ERRNOS, RETRY_SCOPE, transientCondition, type ErrorPolicy } from './error-policy.js';

/** What was being done when the error happened, for the message. */
export interface ErrorContext {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key?: string | undefined;
  readonly operation: string;
  /** Whether the request carried an SSE-C key (a 400/403 on an object then usually means a key mismatch). */
  readonly sentCustomerKey?: boolean;
  /** The fingerprint of the SSE-C key the request carried. */
  readonly suppliedKeyFingerprint?: string | undefined;
  /**
   * The fingerprint cosync recorded when it wrote the object, if it did; asked only when a key
   * was refused (the server never says which key it wants).
   */
  readonly recordedKeyFingerprint?: (() => string | undefined) | undefined;
  /** The storage class the request asked for, if any (a 400 then may be its refusal). */
  readonly storageClass?: string | undefined;
  /** The HTTP proxy the request went through, if any (its own failures get their own messages). */
  readonly proxy?: ProxyChoice | undefined;
}

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
  /** Set by the store when a request was still refused as skewed after correcting the clock. */
  clockOffsetMs?: number;
}

/**
 * Words in an error code or message that say the SSE-C key itself was the problem: RGW's
 * "The calculated MD5 hash of the key did not match…", "…Customer provided keys must provide…",
 * S3's and COS's InvalidArgument/InvalidRequest texts about the customer key or its MD5
 * (COS error codes, https://cloud.tencent.com/document/product/436/7730).
 */
const KEY_PROBLEM = /customer[- ]?(provided )?key|hash of the key|key[- ]?md5|encryption key|sse-?c\b|server[- ]side[- ]encryption/i;

/**
 * Whether a 4xx came without any reason: no error body (every HEAD, which has none), so the
 * SDK could only say "Unknown"/"UnknownError" and the lean client "Http400".
 */
function givesNoReason(name: string, message: string | undefined, status: number): boolean {
  const statusNames = ['', 'Unknown', `Http${status}`, 'BadRequest', 'Forbidden'];
  return statusNames.includes(name) && (message === undefined || ['', 'UnknownError', `HTTP ${status}`, name].includes(message));
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The HTTP status of an SDK error, if any. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as SdkLikeError | undefined)?.$metadata?.httpStatusCode;
}

/** A clock offset (the server's time minus ours) in words: "3 minutes behind", "2 hours ahead". */
export function describeClockOffset(offsetMs: number): string {
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  const amount = seconds >= 7200 ? `${Math.round(seconds / 3600)} hours` : seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
  return `${amount} ${offsetMs > 0 ? 'behind' : 'ahead'}`;
}

/** Why a key was refused, in terms of fingerprints when cosync knows which key wrote the object. */
function describeRefusedKey(context: ErrorContext): string {
  const supplied = context.suppliedKeyFingerprint;
  const recorded = context.recordedKeyFingerprint?.();
  if (recorded !== undefined && supplied !== undefined && recorded !== supplied) {
    return `this object was encrypted with key fingerprint ${recorded}; you supplied ${supplied} — use the key with fingerprint ${recorded} (\`cosync key list\` shows fingerprints)`;
  }
  if (recorded !== undefined && recorded === supplied) {
    return `cosync wrote it with this same key (fingerprint ${supplied}), so it has since been replaced by someone using another key, or without SSE-C`;
  }
  const suppliedText = supplied === undefined ? '' : `; you supplied key fingerprint ${supplied}`;
  // Only a caller that looked in the journal may say the journal has no record.
  const lookedUp = context.recordedKeyFingerprint === undefined ? '' : ' (this machine has no record of its key; `cosync key verify` checks keys against objects)';
  return `the object was encrypted with a different key, or without SSE-C${suppliedText}${lookedUp}`;
}

/** Maps any error from a store call to a CosyncError. */
export function toCosyncError(error: unknown, context: ErrorContext): CosyncError {
  if (error instanceof CosyncError) return error;
  const sdk = (error ?? {}) as SdkLikeError;
  const name = sdk.name ?? '';
  const code = sdk.code ?? (sdk.cause as SdkLikeError | undefined)?.code ?? '';
  const status = httpStatusOf(error);
  const where = context.key === undefined ? `bucket ${JSON.stringify(context.bucket)}` : `${JSON.stringify(context.key)} in bucket ${JSON.stringify(context.bucket)}`;

  if (name === 'AbortError' || code === 'ABORT_ERR') return new CosyncError('aborted', `${context.operation} of ${where} was cancelled`);
  const proxyProblem = proxyErrorOf(error, status, context.proxy);
  if (proxyProblem !== undefined) return proxyProblem;
  if (TLS_CODES.has(code) || TLS_CODES.has(name)) {
    return new CosyncError(
      'tls-untrusted',
      `the TLS certificate of ${context.endpoint} is not trusted (${code || name}); if it is signed by your own CA, point NODE_EXTRA_CA_CERTS at that CA's certificate`,
    );
  }
  if (status === undefined && (NETWORK_ERRNOS.has(code) || NETWORK_ERRNOS.has(name))) {
    const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host name not found' : (code || name).toLowerCase();
    return new CosyncError('endpoint-unreachable', `cannot reach ${context.endpoint} (${why}): check the endpoint URL and your network, then try again`);
  }
  switch (name) {
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'InvalidSecretId':
    case 'InvalidSignature':
    case 'AuthorizationHeaderMalformed':
    case 'ExpiredToken':
    case 'InvalidToken':
      return new CosyncError(
        'credentials-rejected',
        `${context.endpoint} rejected the credentials (${name}): check the SecretId/SecretKey with \`cosync credentials set\` or COSYNC_SECRET_ID / COSYNC_SECRET_KEY`,
      );
    case 'NoSuchBucket':
      return new CosyncError('bucket-not-found', `bucket ${JSON.stringify(context.bucket)} does not exist at ${context.endpoint}: check the bucket name and the region (on COS: name-APPID)`);
    case 'NoSuchKey':
      return new CosyncError('object-not-found', `object ${where} does not exist`);
    case 'NoSuchUpload':
      return new CosyncError('object-not-found', `the multipart upload of ${where} no longer exists on the server`);
    case 'BadDigest':
    case 'InvalidDigest':
      return new CosyncError('integrity', `the server received different bytes than were sent for ${where} (${name}); the transfer will be retried`);
    case 'NotImplemented':
      return new CosyncError('unsupported', `${context.endpoint} does not support ${context.operation} of ${where} (NotImplemented)`);
    case 'InvalidObjectState':
      // GET of an ARCHIVE / DEEP_ARCHIVE object not restored yet (GET Object, https://intl.cloud.tencent.com/document/product/436/7753).
      return new CosyncError(
        'object-archived',
        `${where} is in archive storage and is not readable until it is retrieved (InvalidObjectState): \`cosync restore\` starts the retrieval; run it again once it is ready`,
      );
    case 'AccessDenied':
      return new CosyncError('access-denied', `access denied to ${where} at ${context.endpoint}: the credentials lack permission for ${context.operation}`);
    case 'PathStyleDomainForbidden':
      return new CosyncError(
        'usage',
        `${context.endpoint} refuses path-style requests for this bucket (PathStyleDomainForbidden: COS buckets created since 2024-01-01 take virtual-hosted requests only, https://cloud.tencent.com/document/product/436/102489): remove --path-style`,
      );
    // The acceleration host refuses buckets without global acceleration, and some operations (error codes, 436/7730).
    case 'BucketAccelerateNotEnabled':
      return new CosyncError(
        'usage',
        `global acceleration is not enabled for bucket ${JSON.stringify(context.bucket)} (BucketAccelerateNotEnabled): enable it in the COS console (the bucket's Global Acceleration setting), or leave out --accelerate`,
      );
    case 'ActionAccelerateNotSupported':
      return new CosyncError('unsupported', `the COS acceleration endpoint does not support the ${context.operation} (ActionAccelerateNotSupported): run it without --accelerate`);
    case 'RequestTimeTooSkewed':
      return new CosyncError(
        'clock-skewed',
        `${context.endpoint} refused the ${context.operation} because this computer's clock is off${sdk.clockOffsetMs === undefined ? '' : ` (about ${describeClockOffset(sdk.clockOffsetMs)} the server's)`} (RequestTimeTooSkewed): set the clock right — turn on automatic time (NTP) — and try again`,
      );
    default:
      break;
  }
  // A refused storage class: S3 says InvalidStorageClass; COS refuses a MAZ_ class outside a
  // multi-AZ bucket (and a single-AZ class inside one) with a 400 naming the class.
  // Ceph RGW answers a class its placement lacks with a bare 400 InvalidArgument.
  const saysStorageClass = /storage ?class/i.test(sdk.message ?? '');
  const unexplained = sdk.message === undefined || sdk.message === '' || sdk.message === 'UnknownError';
  if (context.storageClass !== undefined && (name === 'InvalidStorageClass' || (status === 400 && (saysStorageClass || (name === 'InvalidArgument' && unexplained))))) {
    return new CosyncError(
      'usage',
      `${context.endpoint} refused storage class ${context.storageClass} for ${where} (${name}${unexplained ? '' : `: ${sdk.message}`}): on Tencent COS the MAZ_ classes are only for multi-AZ buckets and a multi-AZ bucket takes only MAZ_ classes; other S3 stores offer only the classes they were set up with (Ceph RGW: STANDARD unless configured). Choose another --storage-class, or none for the bucket's default`,
    );
  }
  // A 400 or 403 on an SSE-C request is a key problem only when the server says so (its error
  // code or message) — or says nothing at all (HEAD): a refused copy directive or storage class
  // is not a key problem, and blaming the key would send the user after the wrong thing.
  const serverSays = sdk.message !== undefined && sdk.message !== 'UnknownError' ? `${name}: ${sdk.message}` : name;
  const noReason = status !== undefined && givesNoReason(name, sdk.message, status);
  const aboutKey = KEY_PROBLEM.test(`${name} ${sdk.message ?? ''}`);
  if (context.sentCustomerKey === true && context.key !== undefined && (status === 400 || status === 403) && (aboutKey || noReason)) {
    const reason = noReason ? `HTTP ${status} without a reason, as servers answer a HEAD whose SSE-C key does not match` : `HTTP ${status} ${serverSays}`;
    return new CosyncError('key-mismatch', `the server refused the SSE-C key for ${where} (${reason}): ${describeRefusedKey(context)}`);
  }
  if (context.sentCustomerKey !== true && context.key !== undefined && status === 400 && (aboutKey || noReason) && /^(get|head|download|restore)/i.test(context.operation)) {
    const recorded = context.recordedKeyFingerprint?.();
    return new CosyncError(
      'key-mismatch',
      recorded === undefined
        ? `${where} needs an SSE-C key to be read (HTTP 400): pass the key it was encrypted with (--key NAME)`
        : `${where} needs an SSE-C key to be read (HTTP 400): it was encrypted with key fingerprint ${recorded}; pass that key (--key NAME; \`cosync key list\` shows fingerprints)`,
    );
  }
  if (status === 404) {
    return context.key === undefined
      ? new CosyncError('bucket-not-found', `bucket ${JSON.stringify(context.bucket)} does not exist at ${context.endpoint}`)
      : new CosyncError('object-not-found', `object ${where} does not exist`);
  }
  if (status === 403) return new CosyncError('access-denied', `access denied to ${where} at ${context.endpoint} (HTTP 403${noReason ? '' : ` ${serverSays}`})`);
  if (status === 501) return new CosyncError('unsupported', `${context.endpoint} does not support ${context.operation} of ${where} (HTTP 501)`);
  // What the retry table calls a passing trouble of the store ends as one when the retries ran out.
  if (status === 429 || (status !== undefined && status >= 500) || transientCondition(error)?.code === 'server-unavailable') {
    return new CosyncError('server-unavailable', `${context.endpoint} failed during ${context.operation} of ${where} (HTTP ${status} ${name}); try again later`);
  }
  const detail = sdk.message && sdk.message !== 'UnknownError' ? sdk.message : name || code || 'unknown error';
  return new CosyncError(status === undefined ? 'internal' : 'server', `${context.operation} of ${where} failed: ${detail}${status === undefined ? '' : ` (HTTP ${status})`}`);
}

/** An error's code, sentence and where the next attempt happens (error-policy.ts), in one value. */
export function errorPolicy(error: unknown, context: ErrorContext): ErrorPolicy {
  const { code, message } = toCosyncError(error, context);
  return { code, message, retry: transientCondition(error) === undefined ? RETRY_SCOPE[code] : 'request' };
}
