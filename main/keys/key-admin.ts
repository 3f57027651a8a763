/**
 * Creating a key and exporting its recovery kit: the keychain item, the non-secret facts in
 * config.json, and the log line, in one place for `cosync key …` and the UI.
 */
import { validateKeyName } from '../../app/keys.js';
import type { ConfigStore, KeyInfo } from '../config/config-store.js';
import type { Logger } from '../log/logger.js';
import type { Keychain } from '../secrets/keychain.js';
import { checkKitStyle, formatKitAs, writeKit, type KitLocation, type KitStyle } from '../secrets/recovery-kit.js';
import { SseCustomerKey } from '../secrets/secret-values.js';

/** What key admin works with: the keychain, config.json and the log (a run's Session has them). */
export interface KeyAdminServices {
  readonly keychain: Keychain;
  readonly config: ConfigStore;
  readonly logger: Logger;
}

/** Generates a key from the OS CSPRNG and stores it; refuses to replace an existing key of that name. */
export async function generateKey(session: KeyAdminServices, name: string): Promise<{ key: SseCustomerKey; info: KeyInfo }> {
  validateKeyName(name);
  const key = SseCustomerKey.generate();
  await session.keychain.putKey(name, key);
  const info: KeyInfo = { fingerprint: key.fingerprint, createdAt: new Date().toISOString(), origin: 'generated' };
  await session.config.update((config) => ({ ...config, keys: { ...config.keys, [name]: info } }));
  session.logger.log('info', 'key-generated', { name, key });
  return { key, info };
}

/**
 * Stores an imported key (refusing to replace a different key of that name unless `replace`)
 * and its facts; a key that came from a kit counts as having one.
 */
export async function storeImportedKey(session: KeyAdminServices, name: string, key: SseCustomerKey, options: { replace: boolean; fromKit: boolean; checked?: string | undefined }): Promise<KeyInfo> {
  validateKeyName(name);
  await session.keychain.putKey(name, key, { replace: options.replace });
  const now = new Date().toISOString();
  const info: KeyInfo = { fingerprint: key.fingerprint, createdAt: now, origin: 'imported', kitExportedAt: options.fromKit ? now : undefined };
  await session.config.update((config) => ({ ...config, keys: { ...config.keys, [name]: info } }));
  session.logger.log('info', 'key-imported', { name, key, checked: options.checked });
  return info;
}

/** How a kit is written, and whether it may replace an existing file. */
export interface ExportKitOptions extends KitStyle {
  readonly force: boolean;
}

/**
 * Writes a key's recovery kit (mode 0600, never over an existing file unless `force`), clear,
 * printable or sealed, and records when.
 */
export async function exportRecoveryKit(
  session: KeyAdminServices,
  name: string,
  file: string,
  location: KitLocation,
  options: ExportKitOptions,
): Promise<{ key: SseCustomerKey; info: KeyInfo }> {
  validateKeyName(name);
  const sealed = options.sealWith !== undefined;
  checkKitStyle(options);
  const key = await session.keychain.getKey(name);
  const text = await formatKitAs(options, name, key, location, new Date());
  await writeKit(file, text, options.force);
  const exportedAt = new Date().toISOString();
  let info: KeyInfo | undefined;
  await session.config.update((config) => {
    const known = config.keys[name];
    info = { fingerprint: key.fingerprint, createdAt: known?.createdAt ?? exportedAt, origin: known?.origin ?? 'imported', kitExportedAt: exportedAt };
    return { ...config, keys: { ...config.keys, [name]: info } };
  });
  session.logger.log('info', 'kit-exported', { name, key, file, sealed });
  return { key, info: info as KeyInfo };
}
