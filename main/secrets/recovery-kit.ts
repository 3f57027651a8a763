/**
 * Recovery kits: the one file that lets a user get their data back on another machine.
 * JSON with the key (base64), its fingerprint, where it is used, and when the kit was made.
 */
import { open, readFile } from 'node:fs/promises';
import { parseBase64Key } from '../../app/keys.js';
import { CosyncError } from '../../app/result.js';
import { SseCustomerKey } from './secret-values.js';

/** Format marker inside every kit. */
export const KIT_FORMAT = 'cosync-recovery-kit';

/** Where the key is used (optional, for the person reading the kit). */
export interface KitLocation {
  readonly endpoint?: string | undefined;
  readonly bucket?: string | undefined;
  readonly prefix?: string | undefined;
}

/** The kit's JSON text. */
export function formatKit(name: string, key: SseCustomerKey, location: KitLocation, now: Date): string {
  const kit = {
    format: KIT_FORMAT,
    version: 1,
    name,
    algorithm: 'AES256',
    key: key.revealBase64(),
    fingerprint: key.fingerprint,
    ...(location.endpoint === undefined ? {} : { endpoint: location.endpoint }),
    ...(location.bucket === undefined ? {} : { bucket: location.bucket }),
    ...(location.prefix === undefined ? {} : { prefix: location.prefix }),
    createdAt: now.toISOString(),
    note: 'This file is the SSE-C encryption key for your cosync backups. Without it the data cannot be decrypted by anyone, including the storage provider. Keep it offline and private.',
  };
  return `${JSON.stringify(kit, null, 2)}\n`;
}

/** Writes a kit with mode 0600; refuses to replace an existing file unless `force`. */
export async function writeKit(path: string, text: string, force: boolean): Promise<void> {
  let handle;
  try {
    handle = await open(path, force ? 'w' : 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CosyncError('usage', `${path} already exists; choose another file or pass --force to replace it`);
    throw new CosyncError('path-unreadable', `cannot write ${path} (${code ?? (error as Error).message})`);
  }
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads and checks a kit file: format, key validity, fingerprint agreement. */
export async function readKit(path: string): Promise<{ key: SseCustomerKey; name: string | undefined; location: KitLocation }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CosyncError('path-not-found', `recovery kit ${path} does not exist`);
    throw new CosyncError('path-unreadable', `cannot read recovery kit ${path} (${code ?? (error as Error).message})`);
  }
  let kit: Record<string, unknown>;
  try {
    kit = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CosyncError('kit-invalid', `${path} is not a cosync recovery kit (not JSON)`);
  }
  if (typeof kit !== 'object' || kit === null || typeof kit.key !== 'string') {
    throw new CosyncError('kit-invalid', `${path} is not a cosync recovery kit (no "key" field)`);
  }
  const key = new SseCustomerKey(parseBase64Key(kit.key));
  if (typeof kit.fingerprint === 'string' && kit.fingerprint !== key.fingerprint) {
    throw new CosyncError('kit-invalid', `${path} is damaged: its key has fingerprint ${key.fingerprint} but the kit says ${kit.fingerprint}`);
  }
  const text2 = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return { key, name: text2(kit.name), location: { endpoint: text2(kit.endpoint), bucket: text2(kit.bucket), prefix: text2(kit.prefix) } };
}
