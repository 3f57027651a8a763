/** A value or an error, as crosses every boundary (IPC, CLI, engine → UI). */
export type Result<T, E = CosyncErrorInfo> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

/** A stable, machine-readable error code plus the sentence a person reads. */
export interface CosyncErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Every error code cosync reports; UIs and tests switch on these, never on message text. */
export type ErrorCode =
  | 'usage'
  | 'path-not-found'
  | 'path-unreadable'
  | 'key-invalid'
  | 'key-not-found'
  | 'key-exists'
  | 'key-mismatch'
  | 'kit-invalid'
  | 'kit-passphrase-needed'
  | 'kit-passphrase-wrong'
  | 'credentials-missing'
  | 'credentials-rejected'
  | 'access-denied'
  | 'endpoint-invalid'
  | 'endpoint-unreachable'
  /** The HTTP proxy refused the request (407, tinyproxy's 401) or the tunnel (CONNECT not answered 200). */
  | 'proxy-refused'
  | 'tls-untrusted'
  | 'insecure-transport'
  | 'bucket-invalid'
  | 'bucket-not-found'
  | 'object-not-found'
  | 'integrity'
  /** An archived object (ARCHIVE, DEEP_ARCHIVE, GLACIER) that must be retrieved before it can be read. */
  | 'object-archived'
  /** The store did not confirm the server-side encryption asked for: the object may be in clear. */
  | 'encryption-unconfirmed'
  /** The store refused requests because this machine's clock is off. */
  | 'clock-skewed'
  | 'keychain-unavailable'
  | 'config-invalid'
  | 'local-conflict'
  | 'local-changed'
  /** Another process holds a lock for longer than we wait: try again. */
  | 'busy'
  /** A file name the bucket cannot hold (not UTF-8, a normalization twin, a key over the limit): rename it. */
  | 'name-unsupported'
  | 'aborted'
  | 'server'
  /** The store answered 5xx or throttled (429, 503 SlowDown) through every retry: try again later. */
  | 'server-unavailable'
  | 'unsupported'
  | 'internal';

/** An Error that carries an ErrorCode; thrown inside a layer, turned into a Result at its edge. */
export class CosyncError extends Error {
  override readonly name = 'CosyncError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** The plain value form, safe to serialize across IPC or print as JSON. */
  toInfo(): CosyncErrorInfo {
    return { code: this.code, message: this.message };
  }
}

/** Builds a success Result. */
export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

/** Builds a failure Result. */
export function err<E = CosyncErrorInfo>(error: E): Result<never, E> {
  return { ok: false, error };
}

/** Exhaustiveness guard for `switch` over tagged unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
