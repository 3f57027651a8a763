/**
 * SecretStore on the OS keychain via @github/keytar (macOS Keychain, Windows Credential Vault,
 * Secret Service on Linux — gnome-keyring or KWallet).
 *
 * On Linux, libsecret's errors are cryptic; they are mapped to one of three situations a person
 * can fix (no D-Bus session, no Secret Service, locked keyring).
 */
import { execFile } from 'node:child_process';
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
        `the OS keychain module could not be loaded (${(error as Error).message.split('\n')[0]}); reinstall cosync, or ${FILE_KEYSTORE_HINT}`,
      );
    }
  }
  return keytarModule;
}

/**
 * Where servers without a keyring can keep secrets instead: the opt-in passphrase file keystore
 * (file-secret-store.ts). Told whenever the OS keychain cannot be reached at all.
 */
export const FILE_KEYSTORE_HINT =
  'on a server without a desktop keyring, use the passphrase-encrypted file keystore instead: set COSYNC_KEYSTORE=file (or pass --keystore file) and COSYNC_KEYSTORE_PASSPHRASE_FILE to a file holding the passphrase';

/** Turns libsecret / keychain errors into a specific, actionable CosyncError. */
export function describeKeychainError(error: unknown): CosyncError {
  const message = error instanceof Error ? error.message : String(error);
  if (/autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|Could not connect|No such file or directory.*bus/i.test(message)) {
    return new CosyncError(
      'keychain-unavailable',
      `no D-Bus session bus, so the Secret Service keychain cannot be reached: run cosync inside a desktop session, or start one with \`dbus-run-session -- <command>\` and a Secret Service such as gnome-keyring (for credentials alone, COSYNC_SECRET_ID and COSYNC_SECRET_KEY also work); ${FILE_KEYSTORE_HINT}`,
    );
  }
  if (/org\.freedesktop\.secrets was not provided|ServiceUnknown|secret service/i.test(message)) {
    return new CosyncError(
      'keychain-unavailable',
      `no Secret Service is running on the D-Bus session: install and start gnome-keyring (\`gnome-keyring-daemon --start --components=secrets\`) or KWallet; ${FILE_KEYSTORE_HINT}`,
    );
  }
  if (/Object does not exist at path|locked|prompt|dismissed/i.test(message)) return lockedKeyringError();
  return new CosyncError('keychain-unavailable', `the OS keychain failed: ${message.split('\n')[0]}`);
}

function lockedKeyringError(): CosyncError {
  return new CosyncError(
    'keychain-unavailable',
    'the keyring is locked: unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock` with its password on stdin) and try again',
  );
}

/**
 * Whether the Secret Service's default keyring is locked, asked over D-Bus with dbus-send;
 * undefined where that cannot be told (not Linux, no dbus-send, no default keyring).
 *
 * libsecret does not say so itself. Measured with gnome-keyring 42 and @github/keytar 7.10 on a
 * keyring left locked (no prompter to unlock it): a lookup answers "no such item", as if the key
 * had never been stored, and a search (findCredentials) kills the process with a segfault.
 */
function defaultKeyringLocked(): Promise<boolean | undefined> {
  if (process.platform !== 'linux') return Promise.resolve(undefined);
  const args = [
    '--session',
    '--print-reply=literal',
    '--dest=org.freedesktop.secrets',
    '/org/freedesktop/secrets/aliases/default',
    'org.freedesktop.DBus.Properties.Get',
    'string:org.freedesktop.Secret.Collection',
    'string:Locked',
  ];
  return new Promise((resolveLocked) => {
    execFile('dbus-send', args, { timeout: 5_000 }, (error, stdout) => {
      if (error !== null) resolveLocked(undefined);
      else resolveLocked(/\bboolean\s+true\b/.test(stdout) ? true : /\bboolean\s+false\b/.test(stdout) ? false : undefined);
    });
  });
}

/** Throws the locked-keyring error when the keyring is known to be locked. */
async function assertKeyringUnlocked(): Promise<void> {
  if ((await defaultKeyringLocked()) === true) throw lockedKeyringError();
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
    // "Not found" from a locked keyring would tell the user a stored key is missing.
    if (value === null) await assertKeyringUnlocked();
    return value ?? undefined;
  }

  async set(account: string, secret: string): Promise<void> {
    await callKeychain(() => loadKeytar().setPassword(this.service, account, secret));
  }

  async delete(account: string): Promise<boolean> {
    const deleted = await callKeychain(() => loadKeytar().deletePassword(this.service, account));
    if (!deleted) await assertKeyringUnlocked();
    return deleted;
  }

  async listAccounts(): Promise<string[]> {
    // Asked first: on a locked keyring the search below would crash the process.
    await assertKeyringUnlocked();
    const found = await callKeychain(() => loadKeytar().findCredentials(this.service));
    return found.map((item) => item.account).sort();
  }
}
