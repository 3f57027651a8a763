/**
 * What one run of cosync shares — a CLI invocation, `cosync serve`, or the desktop app: its lazily
 * built services (paths, logger, keychain, journal), and turning target settings into a
 * validated Target, credentials and encryption.
 */
import { join } from 'node:path';
import { parseStorageClass, parseTrafficLimit } from '../../app/storage-class.js';
import { CosyncError } from '../../app/result.js';
import {
  acceleratedEndpoint,
  addressingFor,
  assertKeySafeTransport,
  cosEndpointForRegion,
  normalizePrefix,
  parseDialect,
  parseEndpoint,
  parseSseMode,
  validateBucketName,
  validateCosBucketName,
  type Target,
} from '../../app/target.js';
import { ConfigStore } from '../config/config-store.js';
import { resolveAppPaths, type AppPaths } from '../config/paths.js';
import { Journal } from '../journal/journal.js';
import { FileLogger, type Logger } from '../log/logger.js';
import type { ObjectEncryption } from '../remote/remote-store.js';
import { FileSecretStore, KEYSTORE_FILE_NAME, passphraseFromEnvironment, type FileSecretStoreOptions } from '../secrets/file-secret-store.js';
import { DEFAULT_ACCOUNT, Keychain } from '../secrets/keychain.js';
import { KeytarSecretStore } from '../secrets/keytar-secret-store.js';
import { recordedKeyFingerprints } from '../secrets/recorded-fingerprints.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { StoreCredentials } from '../secrets/secret-values.js';

/** The process's standard streams and environment (a CLI invocation's, or the desktop app's). */
export interface SessionIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/** Injectable parts, so tests can run the CLI in-process with fakes for pure logic. */
export interface SessionDependencies {
  readonly io: SessionIo;
  readonly secretStore?: SecretStore;
  /** Options for the file keystore (tests use a cheaper scrypt cost). */
  readonly fileKeystoreOptions?: FileSecretStoreOptions;
}

/** Where keys and credentials are kept: the OS keychain, or the passphrase-encrypted file keystore. */
export type KeystoreKind = 'os' | 'file';

/** `--keystore` / COSYNC_KEYSTORE, checked. */
export function parseKeystoreKind(value: string, source: string): KeystoreKind {
  if (value === 'os' || value === 'file') return value;
  throw new CosyncError('usage', `unknown ${source} value ${JSON.stringify(value)}: use os (the OS keychain, the default) or file (a passphrase-encrypted file in the config dir)`);
}

/** Lazily built services for one invocation (paths, logger, keychain, journal). */
export class Session {
  #paths: AppPaths | undefined;
  #logger: FileLogger | undefined;
  #keychain: Keychain | undefined;
  #fileKeystore: FileSecretStore | undefined;
  #configDirOption: string | undefined;
  #keystoreOption: KeystoreKind | undefined;

  constructor(readonly dependencies: SessionDependencies) {}

  get io(): SessionIo {
    return this.dependencies.io;
  }

  setConfigDir(option: string | undefined): void {
    this.#configDirOption = option;
  }

  setKeystore(option: string | undefined): void {
    this.#keystoreOption = option === undefined ? undefined : parseKeystoreKind(option, '--keystore');
  }

  /** `--keystore`, else COSYNC_KEYSTORE, else the OS keychain. */
  get keystoreKind(): KeystoreKind {
    if (this.#keystoreOption !== undefined) return this.#keystoreOption;
    const fromEnvironment = this.io.env.COSYNC_KEYSTORE ?? '';
    return fromEnvironment === '' ? 'os' : parseKeystoreKind(fromEnvironment, 'COSYNC_KEYSTORE');
  }

  get paths(): AppPaths {
    this.#paths ??= resolveAppPaths(this.#configDirOption, this.io.env);
    return this.#paths;
  }

  get logger(): FileLogger {
    this.#logger ??= new FileLogger(this.paths.logDir);
    return this.#logger;
  }

  get keychain(): Keychain {
    this.#keychain ??= new Keychain(this.dependencies.secretStore ?? this.#openSecretStore());
    return this.#keychain;
  }

  /** The passphrase-encrypted keystore in the config dir (the keychain's store with `--keystore file`). */
  get fileKeystore(): FileSecretStore {
    // The passphrase is read on first use, so commands that never touch a secret never need it.
    this.#fileKeystore ??= new FileSecretStore(join(this.paths.configDir, KEYSTORE_FILE_NAME), () => passphraseFromEnvironment(this.io.env), this.dependencies.fileKeystoreOptions);
    return this.#fileKeystore;
  }

  #openSecretStore(): SecretStore {
    return this.keystoreKind === 'os' ? new KeytarSecretStore() : this.fileKeystore;
  }

  /** Releases what the invocation opened (the log file). */
  close(): void {
    this.#logger?.close();
  }

  /** The logger if this invocation already opened one (usage errors should not create log folders). */
  get openedLogger(): Logger | undefined {
    return this.#logger;
  }

  get config(): ConfigStore {
    return new ConfigStore(this.paths.configDir);
  }

  openJournal(): Journal {
    return new Journal(`${this.paths.stateDir}/journal.sqlite`);
  }

  /**
   * Looks up the key fingerprint cosync recorded when it wrote an object of this target (upload
   * record or sync folder), for messages about a refused key.
   */
  async recordedKeyFingerprints(journal: Journal, target: Target): Promise<(objectKey: string) => string | undefined> {
    // Only messages depend on the folders; a config that cannot be read must not stop a restore.
    const folders = await this.config.load().then((config) => config.folders, () => []);
    return recordedKeyFingerprints(journal, folders, target.endpoint.url, target.bucket);
  }
}

/** A required setting (named as its flag), present and not blank. */
export function requireOption(value: string | boolean | undefined, flag: string, hint = ''): string {
  if (typeof value !== 'string' || value.trim() === '') throw new CosyncError('usage', `missing --${flag}${hint}`);
  return value;
}

/**
 * Where and how a target stores objects, as the CLI's flags and the window's forms give it
 * (names as the flags spell them); checked by targetFromSettings.
 */
export interface TargetSettings {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly bucket?: string | undefined;
  readonly prefix?: string | undefined;
  readonly sse?: string | undefined;
  readonly key?: string | undefined;
  readonly 'kms-key-id'?: string | undefined;
  readonly 'path-style'?: boolean | undefined;
  /** Tencent COS global acceleration: the endpoint becomes `cos.accelerate.myqcloud.com`. */
  readonly accelerate?: boolean | undefined;
  /** `cos` or `s3`; by default, COS for Tencent's hosts. */
  readonly dialect?: string | undefined;
  /** The storage class of new objects, in the dialect's names. */
  readonly 'storage-class'?: string | undefined;
  /** COS's server-side limit per request, MiB/s. */
  readonly 'traffic-limit'?: string | undefined;
}

/** Builds and validates a Target from settings, before any I/O. */
export function targetFromSettings(values: TargetSettings, defaultSse: 'none' | 'c'): Target {
  if (values.accelerate === true && values.dialect === 's3') throw new CosyncError('usage', "--accelerate is Tencent COS's global acceleration: it cannot be used with --dialect s3");
  // Tencent COS needs only its region: the endpoint is https://cos.REGION.myqcloud.com.
  const given =
    values.endpoint === undefined && values.region !== undefined
      ? cosEndpointForRegion(values.region)
      : parseEndpoint(requireOption(values.endpoint, 'endpoint URL', ' (or --region for Tencent COS, e.g. --region ap-guangzhou)'));
  const accelerated = values.accelerate === true ? acceleratedEndpoint(given, values.region) : undefined;
  const endpoint = accelerated?.endpoint ?? given;
  const addressing = addressingFor(endpoint, {
    region: accelerated?.region ?? values.region,
    pathStyle: values['path-style'],
    dialect: values.dialect === undefined ? undefined : parseDialect(values.dialect),
  });
  const { dialect } = addressing;
  const bucketName = requireOption(values.bucket, 'bucket NAME');
  const bucket = dialect === 'cos' ? validateCosBucketName(bucketName) : validateBucketName(bucketName);
  const sse = values.sse === undefined ? (values.key !== undefined ? 'c' : defaultSse) : parseSseMode(values.sse);
  if (sse === 'c' && values.key === undefined) throw new CosyncError('usage', '--sse c needs --key NAME (the SSE-C key in the keychain; create one with `cosync key generate NAME`)');
  if (sse !== 'c' && values.key !== undefined) throw new CosyncError('usage', `--key is only used with --sse c (got --sse ${sse})`);
  if (values['kms-key-id'] !== undefined && sse !== 'kms') throw new CosyncError('usage', '--kms-key-id is only used with --sse kms');
  assertKeySafeTransport(endpoint, sse);
  return {
    endpoint,
    bucket,
    prefix: normalizePrefix(values.prefix),
    region: addressing.region,
    pathStyle: addressing.pathStyle,
    dialect,
    sse,
    keyName: values.key,
    kmsKeyId: values['kms-key-id'],
    storageClass: values['storage-class'] === undefined ? undefined : parseStorageClass(values['storage-class'], dialect),
    trafficLimitBits: values['traffic-limit'] === undefined ? undefined : parseTrafficLimit(values['traffic-limit'], dialect),
  };
}

export async function credentialsFor(session: Session, account: string | undefined): Promise<StoreCredentials> {
  const { env } = session.io;
  const id = env.COSYNC_SECRET_ID;
  const key = env.COSYNC_SECRET_KEY;
  if ((id ?? '') !== '' || (key ?? '') !== '') {
    if ((id ?? '') === '' || (key ?? '') === '') throw new CosyncError('credentials-missing', 'set both COSYNC_SECRET_ID and COSYNC_SECRET_KEY, or neither');
    const credentials = new StoreCredentials(id as string, key as string, env.COSYNC_SESSION_TOKEN || undefined);
    credentials.source = 'environment';
    return credentials;
  }
  const name = account ?? DEFAULT_ACCOUNT;
  const stored = await session.keychain.getCredentials(name, env);
  if (stored === undefined) {
    throw new CosyncError(
      'credentials-missing',
      `no credentials for account ${name}: run \`cosync credentials set --secret-id ID${name === DEFAULT_ACCOUNT ? '' : ` --account ${name}`}\` (secret key on stdin) or \`cosync credentials set --process 'COMMAND'\` (temporary credentials), or set COSYNC_SECRET_ID and COSYNC_SECRET_KEY`,
    );
  }
  return stored;
}

export async function encryptionFor(session: Session, target: Target): Promise<ObjectEncryption> {
  switch (target.sse) {
    case 'none':
      return { mode: 'none' };
    case 'cos':
      return { mode: 'cos' };
    case 'kms':
      return { mode: 'kms', kmsKeyId: target.kmsKeyId };
    case 'c':
      return { mode: 'c', key: await session.keychain.getKey(target.keyName as string) };
  }
}

export function retryLogger(logger: Logger): (operation: string, attempt: number, reason: string, delayMs: number) => void {
  return (operation, attempt, reason, delayMs) => logger.log('warn', 'retry', { operation, attempt, reason, delayMs });
}

