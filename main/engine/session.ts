/**
 * What one run of cosync shares — a CLI invocation, `cosync serve`, or the desktop app: its
 * lazily built services (paths, logger, keychain, config, journal) and how a target's credentials
 * and encryption are resolved. openEngine (engine.ts) composes the store factory, the transfer
 * pool and the tracker on top of it; targets are parsed where they are given (the CLI's flags in
 * main/cli/target-flags.ts, the window's forms in the daemon), into app/target.ts's model.
 */
import { join } from 'node:path';
import { CosyncError } from '../../app/result.js';
import type { Target } from '../../app/target.js';
import { ConfigStore } from '../config/config-store.js';
import { resolveAppPaths, type AppPaths } from '../config/paths.js';
import { Journal } from '../journal/journal.js';
import { FileLogger, type Logger } from '../log/logger.js';
import type { ObjectEncryption } from '../remote/remote-store.js';
import { FileSecretStore, KEYSTORE_FILE_NAME, passphraseFromEnvironment, type FileSecretStoreOptions } from '../secrets/file-secret-store.js';
import { DEFAULT_ACCOUNT, Keychain } from '../secrets/keychain.js';
import { KeytarSecretStore } from '../secrets/keytar-secret-store.js';
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
