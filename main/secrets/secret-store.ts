/**
 * The SecretStore port: a flat map of account → secret text, held by the OS keychain in
 * production (service "cosync") and by memory in unit tests.
 */

/** Port over the OS keychain. */
export interface SecretStore {
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  /** True when something was deleted. */
  delete(account: string): Promise<boolean>;
  /** Account names only, never the secrets. */
  listAccounts(): Promise<string[]>;
}

/** In-memory SecretStore for unit tests of pure logic. */
export class MemorySecretStore implements SecretStore {
  readonly #items = new Map<string, string>();

  async get(account: string): Promise<string | undefined> {
    return this.#items.get(account);
  }

  async set(account: string, secret: string): Promise<void> {
    this.#items.set(account, secret);
  }

  async delete(account: string): Promise<boolean> {
    return this.#items.delete(account);
  }

  async listAccounts(): Promise<string[]> {
    return [...this.#items.keys()].sort();
  }
}
