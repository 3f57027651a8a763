/**
 * Recovery kits: the one file that lets a user get their data back on another machine.
 * JSON with the key (base64), its fingerprint, where it is used, and when the kit was made — or
 * the same as text to print (formatPrintableKit), or sealed under a passphrase (sealed-kit.ts).
 */
import { readFile } from 'node:fs/promises';
import { parseBase64Key } from '../../app/keys.js';
import { CosyncError } from '../../app/result.js';
import type { ScryptParameters } from './passphrase-crypto.js';
import { isSealedKitText, openSealedKit, sealedKitIdentity, sealKit } from './sealed-kit.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
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

/**
 * The kit sealed under `passphrase` (sealed-kit.ts): the JSON kit inside, its name, fingerprint
 * and location readable outside. `scrypt` is for tests; kits use the default cost.
 */
export function formatSealedKit(name: string, key: SseCustomerKey, location: KitLocation, now: Date, passphrase: string, scrypt?: ScryptParameters): Promise<string> {
  const identity = { name, fingerprint: key.fingerprint, ...location, createdAt: now.toISOString() };
  return sealKit(formatKit(name, key, location, now), identity, passphrase, scrypt);
}

/** How a kit is written: clear JSON (neither), printable text, or sealed under a passphrase — not printable and sealed both. */
export interface KitStyle {
  readonly printable?: boolean | undefined;
  /** Seals the kit under the passphrase this gives (at least MIN_NEW_PASSPHRASE_CHARACTERS long), asked only when a kit is written. */
  readonly sealWith?: (() => Promise<string>) | undefined;
}

/** Refuses a printable sealed kit; checked before a key is looked up or made. */
export function checkKitStyle(style: KitStyle): void {
  if (style.sealWith !== undefined && style.printable === true) {
    throw new CosyncError(
      'usage',
      'a kit is either printable or sealed, not both: a printout is protected by where you keep it, and a sealed kit would be some 2,000 characters to type back; export a sealed file to keep online, or a printable kit to keep on paper',
    );
  }
}

/** The kit's text in `style` (key export and key rotate alike). */
export async function formatKitAs(style: KitStyle, name: string, key: SseCustomerKey, location: KitLocation, now: Date): Promise<string> {
  checkKitStyle(style);
  if (style.sealWith !== undefined) return formatSealedKit(name, key, location, now, await style.sealWith());
  return (style.printable === true ? formatPrintableKit : formatKit)(name, key, location, now);
}

/** The marker line that starts the printable form. */
const PRINTABLE_TITLE = 'COSYNC RECOVERY KIT';

/**
 * The kit as text to print and keep on paper: the key in groups of four characters (easy to
 * type back, and to check against the fingerprint), where it is used, and how to restore.
 * `key import --from` reads this form too.
 */
export function formatPrintableKit(name: string, key: SseCustomerKey, location: KitLocation, now: Date): string {
  const groups = key.revealBase64().match(/.{1,4}/g) ?? [];
  const lines = [
    `${PRINTABLE_TITLE} — key "${name}"`,
    '',
    'This is the SSE-C encryption key of your cosync backups. Without it nobody — not you, not the',
    'storage provider — can decrypt them. Keep this page somewhere safe and private.',
    '',
    `Key (base64): ${groups.slice(0, 6).join(' ')}`,
    `              ${groups.slice(6).join(' ')}`,
    `Fingerprint:  ${key.fingerprint}   (base64 MD5 of the key; cosync checks it when you type the key back)`,
    `Algorithm:    AES256 (SSE-C)`,
    ...(location.endpoint === undefined ? [] : [`Endpoint:     ${location.endpoint}`]),
    ...(location.bucket === undefined ? [] : [`Bucket:       ${location.bucket}`]),
    ...(location.prefix === undefined ? [] : [`Prefix:       ${location.prefix === '' ? '(bucket root)' : location.prefix}`]),
    `Created:      ${now.toISOString()}`,
    '',
    'To restore on a new machine: type the key into a file (spaces do not matter) and run',
    `  cosync key import ${name} --from THAT-FILE`,
    'or',
    `  cosync key import ${name} --stdin     (then type the key, without spaces)`,
    '',
  ];
  return lines.join('\n');
}

/** The key and fingerprint of a printable kit (spaces in the key allowed, as typed from paper). */
function parsePrintableKit(text: string): { key: string; fingerprint: string | undefined; name: string | undefined } | undefined {
  if (!text.trimStart().startsWith(PRINTABLE_TITLE)) return undefined;
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Key (base64):'));
  if (start < 0) return undefined;
  // The key runs from its label to the next labelled line.
  let key = (lines[start] as string).slice('Key (base64):'.length);
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line) || line.trim() === '') break;
    key += line;
  }
  const fingerprint = /^Fingerprint:\s+(\S+)/m.exec(text)?.[1];
  const name = /^COSYNC RECOVERY KIT — key "([^"]+)"/m.exec(text)?.[1];
  return { key: key.replace(/\s+/g, ''), fingerprint, name };
}

/** Writes a kit with mode 0600, atomically (a crash leaves no half kit); refuses to replace an existing file unless `force`. */
export async function writeKit(path: string, text: string, force: boolean): Promise<void> {
  try {
    await writeFileAtomic(path, text, { mode: 0o600, overwrite: force });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CosyncError('usage', `${path} already exists; choose another file or pass --force to replace it`);
    throw new CosyncError('path-unreadable', `cannot write ${path} (${code ?? (error as Error).message})`);
  }
}

/**
 * The fields that say what a kit is: a kit of another format, a newer version or another
 * algorithm is refused rather than read as if it were this one, and a kit without a fingerprint
 * is refused because a damaged key could not be told from a good one.
 */
function checkKitFields(kit: Record<string, unknown>, path: string, printable: boolean): void {
  if (!printable) {
    if (kit.format !== KIT_FORMAT) throw new CosyncError('kit-invalid', `${path} is not a cosync recovery kit (format ${JSON.stringify(kit.format ?? null)}, expected "${KIT_FORMAT}")`);
    if (kit.version !== 1) throw new CosyncError('kit-invalid', `${path}: recovery kit version ${JSON.stringify(kit.version ?? null)} is not one this cosync reads (this cosync reads version 1): import it with the cosync that made it, or a newer one`);
    if (kit.algorithm !== undefined && kit.algorithm !== 'AES256') throw new CosyncError('kit-invalid', `${path}: algorithm ${JSON.stringify(kit.algorithm)} is not AES256, the only SSE-C algorithm COS and S3 offer; nothing was imported`);
  }
  if (typeof kit.fingerprint !== 'string') {
    throw new CosyncError('kit-invalid', `${path}: the kit has no "fingerprint", so a damaged key cannot be told from a good one; nothing was imported — if you hold the key itself, import it with --base64 or --stdin`);
  }
}

/** How readKit opens a sealed kit. */
export interface ReadKitOptions {
  /** Asked for only when the kit is sealed; without it a sealed kit is refused ('kit-passphrase-needed'). */
  readonly passphrase?: (() => Promise<string>) | undefined;
}

/** A kit as read: the key, and what the kit says about it. */
export interface ReadKit {
  readonly key: SseCustomerKey;
  readonly name: string | undefined;
  readonly location: KitLocation;
  /** The kit was sealed under a passphrase. */
  readonly sealed: boolean;
}

/** Reads and checks a kit file (clear, printable or sealed): format, key validity, fingerprint agreement. */
export async function readKit(path: string, options: ReadKitOptions = {}): Promise<ReadKit> {
  const text = await readKitText(path);
  if (!isSealedKitText(text)) return { ...parseKit(text, path), sealed: false };
  const { clearKit, identity } = await openSealedKit(text, { path, passphrase: options.passphrase });
  const inner = parseKit(clearKit, path);
  // Authenticated together, so they agree unless the writer was wrong; checked all the same.
  if (inner.key.fingerprint !== identity.fingerprint) {
    throw new CosyncError('kit-invalid', `${path}: the sealed key has fingerprint ${inner.key.fingerprint} but the kit says ${identity.fingerprint}; nothing was imported`);
  }
  return { key: inner.key, name: identity.name, location: { endpoint: identity.endpoint, bucket: identity.bucket, prefix: identity.prefix }, sealed: true };
}

/**
 * The fingerprint of the key a kit holds (and whether the kit is sealed), without its passphrase: for a sealed kit, the one its
 * readable part shows (authenticated only once opened; enough to tell whether a file already
 * holds a given key's kit).
 */
export async function readKitFingerprint(path: string): Promise<{ readonly fingerprint: string; readonly sealed: boolean }> {
  const text = await readKitText(path);
  const sealed = isSealedKitText(text);
  return { fingerprint: sealed ? sealedKitIdentity(text, path).fingerprint : parseKit(text, path).key.fingerprint, sealed };
}

async function readKitText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CosyncError('path-not-found', `recovery kit ${path} does not exist`);
    if (code === 'EISDIR') throw new CosyncError('usage', `recovery kit ${path} is a folder, not a file: name the kit file itself`);
    throw new CosyncError('path-unreadable', `cannot read recovery kit ${path} (${code ?? (error as Error).message})`);
  }
}

/** A clear kit's text (JSON or printable), checked. */
function parseKit(text: string, path: string): Omit<ReadKit, 'sealed'> {
  let kit: Record<string, unknown>;
  const printable = parsePrintableKit(text);
  if (printable !== undefined) {
    kit = { ...printable };
  } else {
    try {
      kit = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      // A JSON kit cut short (a partial copy, a truncated download) is damaged, not another kind of file.
      if (text.trimStart().startsWith('{') && text.includes(KIT_FORMAT)) {
        throw new CosyncError('kit-invalid', `${path} is damaged or cut short (${(error as Error).message}); nothing was imported — use another copy of the kit`);
      }
      throw new CosyncError('kit-invalid', `${path} is not a cosync recovery kit (neither its JSON form nor its printable form)`);
    }
  }
  if (typeof kit !== 'object' || kit === null || typeof kit.key !== 'string') {
    throw new CosyncError('kit-invalid', `${path} is not a cosync recovery kit (no "key" field)`);
  }
  checkKitFields(kit, path, printable !== undefined);
  let key: SseCustomerKey;
  try {
    key = new SseCustomerKey(parseBase64Key(kit.key));
  } catch (error) {
    throw new CosyncError('kit-invalid', `${path}: ${(error as Error).message}; the kit is damaged, nothing was imported`);
  }
  if (kit.fingerprint !== key.fingerprint) {
    throw new CosyncError(
      'kit-invalid',
      `${path}: its key has fingerprint ${key.fingerprint} but the kit says ${kit.fingerprint}: ${printable !== undefined ? 'a character was mistyped (check each group of four)' : 'the file is damaged'}; nothing was imported`,
    );
  }
  const text2 = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return { key, name: text2(kit.name), location: { endpoint: text2(kit.endpoint), bucket: text2(kit.bucket), prefix: text2(kit.prefix) } };
}
