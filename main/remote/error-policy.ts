/**
 * The one error policy: where the next attempt after an error happens. The tables are here;
 * remote-errors.ts's errorPolicy() gives an error's code, sentence and scope together. Every
 * layer that retries asks here:
 *
 *   request  the store repeats the same request, after a backoff, through the store's pacer
 *            (withRetry in retry.ts; the pacer in pacer.ts): throttling, 5xx, damaged bytes,
 *            network trouble. When the attempts run out, the code's scope below applies.
 *   path     this file is tried again later, on its own backoff; the other files carry on
 *            (a folder's per-path errors; a backup's file that changed while it was read).
 *   folder   every other file of the run or folder would meet it too: the run stops and the
 *            folder is retried as a whole (isRunFatal; a sync folder's problem).
 *   never    repeating cannot help until someone acts (a usage error, a key or name to fix,
 *            a cancelled job).
 *
 * rclone splits it the same way: `shouldRetry` per request with lib/pacer, and fserrors'
 * retriable/fatal errors per transfer and per run (https://github.com/rclone/rclone/blob/master/fs/fserrors/error.go).
 */
import { CosyncError, type ErrorCode } from '../../app/result.js';

/** Where the next attempt after an error happens. */
export type RetryScope = 'request' | 'path' | 'folder' | 'never';

/** What an error is and what to do about it. */
export interface ErrorPolicy {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retry: RetryScope;
}

/** Error numbers of a connection that failed or broke: network trouble, never an internal error. */
export const NETWORK_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  // The SDK's name for a request that timed out on the socket.
  'TimeoutError',
]);

/** A request-level row: errors worth sending the same request again for, and the code they end as. */
interface TransientRow {
  readonly names?: ReadonlyArray<string>;
  readonly errnos?: ReadonlySet<string>;
  readonly statuses?: (status: number) => boolean;
  readonly code: ErrorCode;
  /** The store asked us to slow down: every request to it backs off (the pacer), not just this one. */
  readonly throttled: boolean;
  readonly reason: (details: { status: number | undefined; name: string; errno: string }) => string;
}

const withName = (status: number | undefined, name: string): string => (status === undefined ? name : `HTTP ${status}${name ? ` ${name}` : ''}`);

/**
 * The request-level table, first match wins. 501 NotImplemented is an answer, not a hiccup (RGW
 * says it for CopyObject of SSE-C objects), so no row takes it. RequestTimeTooSkewed is not here:
 * a request signed with a wrong clock fails the same way again (the store corrects its clock and
 * tries once more, retry.ts clockSkewOf).
 */
export const TRANSIENT_ERRORS: ReadonlyArray<TransientRow> = [
  {
    statuses: (status) => status === 429 || status === 503,
    names: ['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'ServiceUnavailable', 'RequestLimitExceeded'],
    code: 'server-unavailable',
    throttled: true,
    reason: ({ status, name }) => `throttled (${withName(status, name)})`,
  },
  {
    statuses: (status) => status >= 500 && status !== 501,
    names: ['InternalError', 'RequestTimeout'],
    code: 'server-unavailable',
    throttled: false,
    reason: ({ status, name }) => (status !== undefined && status >= 500 ? `server error (${withName(status, name)})` : name),
  },
  { names: ['BadDigest'], code: 'integrity', throttled: false, reason: ({ name }) => name },
  { errnos: NETWORK_ERRNOS, code: 'endpoint-unreachable', throttled: false, reason: ({ errno }) => `connection problem (${errno})` },
];

interface RawError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: { code?: string };
}

/** A request-level failure worth repeating: which row, and why in words (for the retry log). */
export interface TransientCondition {
  readonly code: ErrorCode;
  readonly throttled: boolean;
  readonly reason: string;
}

/** The request-level row an error from a store request matches, if any (a cancelled request never does). */
export function transientCondition(error: unknown): TransientCondition | undefined {
  if (error instanceof CosyncError) return undefined;
  const value = (error ?? {}) as RawError;
  const name = value.name ?? '';
  if (name === 'AbortError' || value.code === 'ABORT_ERR') return undefined;
  const status = value.$metadata?.httpStatusCode;
  if (status === 501 || name === 'NotImplemented') return undefined;
  const errno = value.code ?? value.cause?.code ?? '';
  for (const row of TRANSIENT_ERRORS) {
    const byStatus = status !== undefined && row.statuses?.(status) === true;
    const byName = row.names?.includes(name) === true;
    // An error number only counts without an HTTP answer: with one, the answer says what happened.
    const byErrno = status === undefined && row.errnos !== undefined && (row.errnos.has(errno) || row.errnos.has(name));
    if (byStatus || byName || byErrno) return { code: row.code, throttled: row.throttled, reason: row.reason({ status, name, errno: errno || name }) };
  }
  return undefined;
}

/** Where the next attempt happens for an error that is already a CosyncError (the request level has given up, or never applied). */
export const RETRY_SCOPE: Readonly<Record<ErrorCode, Exclude<RetryScope, 'request'>>> = {
  usage: 'never',
  'path-not-found': 'never',
  'path-unreadable': 'path',
  'key-invalid': 'never',
  'key-not-found': 'never',
  'key-exists': 'never',
  'key-mismatch': 'path',
  'kit-invalid': 'never',
  'kit-passphrase-needed': 'never',
  'kit-passphrase-wrong': 'never',
  'credentials-missing': 'never',
  'credentials-rejected': 'folder',
  // The proxy turned the request away (bad or missing proxy credentials): every request would meet it.
  'proxy-refused': 'folder',
  'access-denied': 'path',
  'endpoint-invalid': 'never',
  'endpoint-unreachable': 'folder',
  'tls-untrusted': 'folder',
  'insecure-transport': 'never',
  'bucket-invalid': 'never',
  'bucket-not-found': 'folder',
  'object-not-found': 'path',
  integrity: 'path',
  'object-archived': 'path',
  'encryption-unconfirmed': 'path',
  'clock-skewed': 'path',
  'keychain-unavailable': 'folder',
  'config-invalid': 'never',
  'local-conflict': 'path',
  'local-changed': 'path',
  busy: 'path',
  'name-unsupported': 'never',
  aborted: 'never',
  server: 'path',
  'server-unavailable': 'path',
  unsupported: 'path',
  internal: 'path',
};

/**
 * Whether an error ends a run (a backup, a restore, a folder's round): every other file would
 * meet it too, or the run was cancelled.
 */
export function stopsRun(code: ErrorCode): boolean {
  return RETRY_SCOPE[code] === 'folder' || code === 'aborted';
}
