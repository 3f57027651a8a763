/**
 * Typed access to cosync's secrets on top of a SecretStore: SSE-C keys by name and store
 * credentials by account. Account names in the store: `sse-c-key:NAME`, `credentials:ACCOUNT`.
 */
import { validateKeyName, parseBase64Key } from '../../app/keys.js';
import { CosyncError } from '../../app/result.js';
import type { SecretStore } from './secret-store.js';
import { CredentialProcessSource, runCredentialProcess } from './credential-process.js';
import { SseCustomerKey, StoreCredentials } from './secret-values.js';

const KEY_PREFIX = 'sse-c-key:';
const CREDENTIALS_PREFIX = 'credentials:';

/** Default account for store credentials when `--account` is not given. */
export const DEFAULT_ACCOUNT = 'default';

/** SSE-C keys and store credentials in the OS keychain. */
export class Keychain {
  constructor(private readonly store: SecretStore) {}

  /** The named key, or a key-not-found error that says how to create or import it. */
  async getKey(name: string): Promise<SseCustomerKey> {
    validateKeyName(name);
    const stored = await this.store.get(KEY_PREFIX + name);
    if (stored === undefined) {
      throw new CosyncError(
        'key-not-found',
        `no SSE-C key named ${JSON.stringify(name)} in the keychain: create one with \`cosync key generate ${name}\` or import it with \`cosync key import ${name} --from KIT\``,
      );
    }
    try {
      return new SseCustomerKey(parseBase64Key(stored));
    } catch {
      throw new CosyncError('key-invalid', `the keychain item for key ${JSON.stringify(name)} is damaged (not a 32-byte base64 key); re-import it from its recovery kit`);
    }
  }

  /** Stores a key; refuses to replace a different existing key unless `replace` (a replaced key can mean lost data). */
  async putKey(name: string, key: SseCustomerKey, options: { replace?: boolean } = {}): Promise<void> {
    validateKeyName(name);
    const existing = await this.store.get(KEY_PREFIX + name);
    if (existing !== undefined && existing !== key.revealBase64() && options.replace !== true) {
      const existingKey = safeKey(existing);
      throw new CosyncError(
        'key-exists',
        `a different key named ${JSON.stringify(name)} already exists (fingerprint ${existingKey?.fingerprint ?? 'unreadable'}); objects encrypted with it would become unreadable if it were replaced — choose another name`,
      );
    }
    await this.store.set(KEY_PREFIX + name, key.revealBase64());
  }

  /** Removes a key; true when it existed. */
  async deleteKey(name: string): Promise<boolean> {
    validateKeyName(name);
    return this.store.delete(KEY_PREFIX + name);
  }

  /** Names and fingerprints of every stored key. */
  async listKeys(): Promise<Array<{ name: string; fingerprint: string | undefined }>> {
    const accounts = (await this.store.listAccounts()).filter((account) => account.startsWith(KEY_PREFIX));
    const result: Array<{ name: string; fingerprint: string | undefined }> = [];
    for (const account of accounts) {
      const stored = await this.store.get(account);
      result.push({ name: account.slice(KEY_PREFIX.length), fingerprint: stored === undefined ? undefined : safeKey(stored)?.fingerprint });
    }
    return result;
  }

  /** Credentials stored for an account, or undefined. */
  async getCredentials(account: string, env: NodeJS.ProcessEnv = process.env): Promise<StoreCredentials | undefined> {
    const stored = await this.store.get(CREDENTIALS_PREFIX + account);
    if (stored === undefined) return undefined;
    try {
      const parsed = JSON.parse(stored) as { secretId?: unknown; secretKey?: unknown; sessionToken?: unknown; process?: unknown };
      if (typeof parsed.process === 'string') {
        const command = parsed.process;
        const credentials = StoreCredentials.fromProcess(new CredentialProcessSource(command, () => runCredentialProcess(command, env)));
        credentials.source = `the credential process of keychain account "${account}"`;
        return credentials;
      }
      if (typeof parsed.secretId !== 'string' || typeof parsed.secretKey !== 'string') throw new Error('shape');
      const credentials = new StoreCredentials(
        parsed.secretId,
        parsed.secretKey,
        typeof parsed.sessionToken === 'string' ? parsed.sessionToken : undefined,
      );
      credentials.source = `keychain account "${account}"`;
      return credentials;
    } catch {
      throw new CosyncError('credentials-missing', `the keychain item for account ${JSON.stringify(account)} is damaged; set it again with \`cosync credentials set --account ${account}\``);
    }
  }

  /** Stores credentials for an account. */
  async setCredentials(account: string, credentials: StoreCredentials): Promise<void> {
    const revealed = credentials.revealForSigning();
    await this.store.set(
      CREDENTIALS_PREFIX + account,
      JSON.stringify({ secretId: revealed.accessKeyId, secretKey: revealed.secretAccessKey, sessionToken: revealed.sessionToken }),
    );
  }

  /**
   * Stores a command that hands out temporary credentials for an account (credential-process.ts).
   * Only the command line is kept; the credentials it prints stay in memory.
   */
  async setCredentialProcess(account: string, command: string): Promise<void> {
    await this.store.set(CREDENTIALS_PREFIX + account, JSON.stringify({ process: command }));
  }

  /** Removes an account's credentials; true when they existed. */
  async deleteCredentials(account: string): Promise<boolean> {
    return this.store.delete(CREDENTIALS_PREFIX + account);
  }
}

function safeKey(base64: string): SseCustomerKey | undefined {
  try {
    return new SseCustomerKey(parseBase64Key(base64));
  } catch {
    return undefined;
  }
}
