/**
 * SecretStore on the OS keychain via @github/keytar (macOS Keychain, Windows Credential Vault,
 * Secret Service on Linux — gnome-keyring or KWallet).
 *
 * On Linux, libsecret's errors are cryptic; they are mapped to one of three situations a person
 * can fix (no D-Bus session, no Secret Service, locked keyring).
 */
import { createRequire } from 'node:module';
import { CosyncError } from '../../app/result.js';
import type { SecretStore } from './secret-store.js';

import type * as KeytarModule from '@github/keytar';

type Keytar = typeof KeytarModule;

/** The keychain service name under which every cosync secret is stored. */
export const KEYCHAIN_SERVICE = 'cosync';

let keytarModule: Keytar | undefined;

function loadKeytar(): Keytar {
  if (keytarModule === undefined) {
    try {
      // keytar is a CommonJS native addon; createRequire keeps the ESM build simple.
      keytarModule = createRequire(import.meta.url)('@github/keytar') as Keytar;
    } catch (error) {
      throw new CosyncError(
        'keychain-unavailable',
        `the OS keychain module could not be loaded (${(error as Error).message.split('\n')[0]}); reinstall cosync`,
      );
    }
  }
  return keytarModule;
}

/** Turns libsecret / keychain errors into a specific, actionable CosyncError. */
export function describeKeychainError(error: unknown): CosyncError {
  const message = error instanceof Error ? error.message : String(error);
  if (/autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|Could not connect|No such file or directory.*bus/i.test(message)) {
    return new CosyncError(
      'keychain-unavailable',
      'no D-Bus session bus, so the Secret Service keychain cannot be reached: run cosync inside a desktop session, or start one with `dbus-run-session -- <command>` and a Secret Service such as gnome-keyring (for credentials alone, COSYNC_SECRET_ID and COSYNC_SECRET_KEY also work)',
    );
  }
  if (/org\.freedesktop\.secrets was not provided|ServiceUnknown|secret service/i.test(message)) {
    return new CosyncError(
      'keychain-unavailable',
      'no Secret Service is running on the D-Bus session: install and start gnome-keyring (`gnome-keyring-daemon --start --components=secrets`) or KWallet',
    );
  }
  if (/Object does not exist at path|locked|prompt|dismissed/i.test(message)) {
    return new CosyncError(
      'keychain-unavailable',
      'the keyring is locked: unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock` with its password on stdin) and try again',
    );
  }
  return new CosyncError('keychain-unavailable', `the OS keychain failed: ${message.split('\n')[0]}`);
}

async function callKeychain<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw error instanceof CosyncError ? error : describeKeychainError(error);
  }
}

/** SecretStore backed by the OS keychain. */
export class KeytarSecretStore implements SecretStore {
  constructor(private readonly service: string = KEYCHAIN_SERVICE) {}

  async get(account: string): Promise<string | undefined> {
    const value = await callKeychain(() => loadKeytar().getPassword(this.service, account));
    return value ?? undefined;
  }

  async set(account: string, secret: string): Promise<void> {
    await callKeychain(() => loadKeytar().setPassword(this.service, account, secret));
  }

  async delete(account: string): Promise<boolean> {
    return callKeychain(() => loadKeytar().deletePassword(this.service, account));
  }

  async listAccounts(): Promise<string[]> {
    const found = await callKeychain(() => loadKeytar().findCredentials(this.service));
    return found.map((item) => item.account).sort();
  }
}
