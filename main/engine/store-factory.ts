/**
 * The one place remote stores are made: every S3RemoteStore of an engine gets the same options
 * (sockets for the pool's requests, retries logged, a refused SSE-C key reported with the
 * fingerprint the journal recorded), and the engine closes whichever are still open when it closes.
 */
import { folderTarget, type SyncFolderConfig } from '../../app/sync-model.js';
import { assertKeySafeTransport, type Target } from '../../app/target.js';
import type { Journal } from '../journal/journal.js';
import { S3RemoteStore, type S3StoreOptions } from '../remote/s3-remote-store.js';
import { recordedKeyFingerprints } from '../keys/recorded-fingerprints.js';
import type { StoreCredentials } from '../secrets/secret-values.js';
import type { FolderConnection } from '../sync/sync-engine.js';
import type { Logger } from '../log/logger.js';
import { credentialsFor, encryptionFor, type Session } from './session.js';

/** A store that tells its factory when it is closed, so the factory only closes the ones left open. */
class EngineStore extends S3RemoteStore {
  readonly #onDidClose: (store: EngineStore) => void;

  constructor(target: Target, credentials: StoreCredentials, options: S3StoreOptions, onDidClose: (store: EngineStore) => void) {
    super(target, credentials, options);
    this.#onDidClose = onDidClose;
  }

  override close(): void {
    this.#onDidClose(this);
    super.close();
  }
}

/** Each retry, as a warning in the log. */
function retryLogger(logger: Logger): S3StoreOptions['onRetry'] {
  return (operation, attempt, reason, delayMs) => logger.log('warn', 'retry', { operation, attempt, reason, delayMs });
}

/** Sockets per store for a part concurrency: its data requests, as many HEADs or listings beside them, and a few spare. */
export function socketsFor(partConcurrency: number): number {
  return partConcurrency * 2 + 4;
}

export class StoreFactory {
  readonly #session: Session;
  readonly #journal: Journal;
  readonly #maxSockets: number;
  readonly #open = new Set<EngineStore>();

  constructor(session: Session, journal: Journal, settings: { readonly maxSockets: number }) {
    this.#session = session;
    this.#journal = journal;
    this.#maxSockets = settings.maxSockets;
  }

  /** Stores opened and not yet closed. */
  get openCount(): number {
    return this.#open.size;
  }

  /**
   * Looks up the key fingerprint cosync recorded when it wrote an object of this target (upload
   * record or sync folder), for messages about a refused key.
   */
  async recordedFingerprints(target: Target): Promise<(objectKey: string) => string | undefined> {
    // Only messages depend on the folders; a config that cannot be read must not stop a restore.
    const folders = await this.#session.config.load().then((config) => config.folders, () => []);
    return recordedKeyFingerprints(this.#journal, folders, target.endpoint.url, target.bucket);
  }

  /** A store for `target` with these credentials. */
  async open(target: Target, credentials: StoreCredentials): Promise<S3RemoteStore> {
    const options: S3StoreOptions = {
      maxSockets: this.#maxSockets,
      onRetry: retryLogger(this.#session.logger),
      // A refused key is reported with the fingerprint the journal recorded for the object.
      recordedKeyFingerprint: await this.recordedFingerprints(target),
    };
    const store = new EngineStore(target, credentials, options, (closed) => this.#open.delete(closed));
    this.#open.add(store);
    return store;
  }

  /** A store for `target` with the account's credentials (the environment's, or the keychain's). */
  async openFor(target: Target, account: string | undefined): Promise<S3RemoteStore> {
    return this.open(target, await credentialsFor(this.#session, account));
  }

  /** Opens the store and resolves the key and credentials of a sync folder. */
  async connect(folder: SyncFolderConfig): Promise<FolderConnection> {
    const target = folderTarget(folder);
    assertKeySafeTransport(target.endpoint, target.sse);
    const encryption = await encryptionFor(this.#session, target);
    return { store: await this.openFor(target, folder.account), encryption };
  }

  /** Closes every store still open. */
  closeAll(): void {
    for (const store of [...this.#open]) store.close();
  }
}
