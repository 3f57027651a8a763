/**
 * Secret values that cannot leak by accident.
 *
 * Keys and credentials are held in these classes from the moment they are read until a request
 * header is built. Their string, JSON and inspect forms show only a fingerprint, so a secret that
 * ends up in a log line, an error, a config file or an IPC payload is redacted by construction.
 * The raw material is reachable only through the explicitly named `reveal…` methods.
 */
import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { encodeBase64 } from '../../app/base64.js';
import { SSE_C_KEY_BYTES } from '../../app/keys.js';

const REDACTED_INSPECT = inspect.custom;

/** An SSE-C customer key (32 bytes) with its fingerprint, the base64 MD5 that servers echo back. */
export class SseCustomerKey {
  readonly #bytes: Uint8Array;
  /** Base64 MD5 of the key: what `x-…-customer-key-MD5` carries and what users compare. */
  readonly fingerprint: string;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== SSE_C_KEY_BYTES) throw new RangeError(`SSE-C key must be ${SSE_C_KEY_BYTES} bytes`);
    this.#bytes = Uint8Array.from(bytes);
    this.fingerprint = createHash('md5').update(this.#bytes).digest('base64');
  }

  /** A new key from the OS CSPRNG. */
  static generate(): SseCustomerKey {
    return new SseCustomerKey(randomBytes(SSE_C_KEY_BYTES));
  }

  /** The key as base64, for request headers, the keychain and recovery kits only. */
  revealBase64(): string {
    return encodeBase64(this.#bytes);
  }

  /** The raw key bytes (a copy), for keyed digests. */
  revealBytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  toString(): string {
    return `SseCustomerKey(fingerprint=${this.fingerprint})`;
  }

  toJSON(): { fingerprint: string } {
    return { fingerprint: this.fingerprint };
  }

  [REDACTED_INSPECT](): string {
    return this.toString();
  }
}

/** What a request is signed with (the AWS SDK's credential identity). */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When temporary credentials stop working. */
  readonly expiration?: Date;
}

/** Temporary credentials that can be fetched again (credential-process.ts). */
export interface RenewableCredentials {
  /** The command that hands them out, for messages (not a secret). */
  readonly command: string;
  /** Valid credentials, renewed shortly before they expire. */
  current(): Promise<SigningCredentials>;
  /** Credentials other than `rejected` (which the store refused as expired): renewed unless already. */
  replace(rejected: SigningCredentials): Promise<SigningCredentials>;
}

/** Access credentials for COS (SecretId/SecretKey) or S3 (access key id / secret access key). */
export class StoreCredentials {
  readonly #secretKey: string;
  readonly #sessionToken: string | undefined;
  /** Set for temporary credentials from a credential process; then secretId and secretKey are unused. */
  readonly renewable: RenewableCredentials | undefined;

  constructor(
    /** The public half (SecretId / access key id); shown only abbreviated. */
    readonly secretId: string,
    secretKey: string,
    sessionToken?: string,
    renewable?: RenewableCredentials,
  ) {
    this.#secretKey = secretKey;
    this.#sessionToken = sessionToken;
    this.renewable = renewable;
  }

  /** Temporary credentials that a command hands out. */
  static fromProcess(renewable: RenewableCredentials): StoreCredentials {
    return new StoreCredentials('', '', undefined, renewable);
  }

  /** What to sign the next request with; only the remote-store adapter calls this. */
  async signing(): Promise<SigningCredentials> {
    return this.renewable === undefined ? this.revealForSigning() : this.renewable.current();
  }

  /** Where these came from, for messages: "keychain account default" or "environment". */
  source = 'unknown';

  /** The form the AWS SDK wants; only the remote-store adapter calls this. */
  revealForSigning(): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
    if (this.renewable !== undefined) throw new TypeError('credentials from a credential process have no fixed secret');
    return this.#sessionToken === undefined
      ? { accessKeyId: this.secretId, secretAccessKey: this.#secretKey }
      : { accessKeyId: this.secretId, secretAccessKey: this.#secretKey, sessionToken: this.#sessionToken };
  }

  /** The secret id with its middle hidden, e.g. "AKID…cdef". */
  get abbreviatedId(): string {
    if (this.renewable !== undefined) return `temporary, from \`${this.renewable.command}\``;
    return this.secretId.length <= 8 ? '…' : `${this.secretId.slice(0, 4)}…${this.secretId.slice(-4)}`;
  }

  toString(): string {
    return `StoreCredentials(${this.abbreviatedId})`;
  }

  toJSON(): { secretId: string } {
    return { secretId: this.abbreviatedId };
  }

  [REDACTED_INSPECT](): string {
    return this.toString();
  }
}
