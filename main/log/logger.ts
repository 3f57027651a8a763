/**
 * Structured logs: one JSON object per line, rotated by size, in the OS log folder.
 *
 * Secrets are redacted by construction: keys and credentials are SseCustomerKey /
 * StoreCredentials values whose JSON form is a fingerprint. As a second line of defence every
 * string field is scrubbed of signed-URL signatures and SSE-C key headers before it is written.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Log severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Anything serializable; secret classes serialize to their fingerprint. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The logging port. */
export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

/** A logger that drops everything (unit tests). */
export const NULL_LOGGER: Logger = { log: () => undefined };

const SCRUBBERS: ReadonlyArray<[RegExp, string]> = [
  // Presigned URLs: the signature and credential scope grant access.
  [/([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|q-signature|q-ak|x-cos-security-token)=)[^&\s"]+/gi, '$1[redacted]'],
  // Header dumps: customer keys and authorization.
  [/((?:x-(?:amz|cos)-server-side-encryption-customer-key|x-(?:amz|cos)-copy-source-server-side-encryption-customer-key|authorization)["']?\s*[:=]\s*["']?)[^"',\s}]+/gi, '$1[redacted]'],
];

/** Removes credentials and keys that may hide inside free text (error messages, URLs). */
export function scrubText(text: string): string {
  // Both patterns need a "=" or ":"; most fields (paths, keys, codes) have neither, and skip the regular expressions.
  if (!text.includes('=') && !text.includes(':')) return text;
  let result = text;
  for (const [pattern, replacement] of SCRUBBERS) result = result.replace(pattern, replacement);
  return result;
}

/** Serializes one log record; exported for tests. */
export function formatRecord(level: LogLevel, event: string, fields: LogFields, now: Date): string {
  const json = JSON.stringify({ time: now.toISOString(), level, event, ...fields }, (_name, value: unknown) => {
    if (value instanceof Error) return { name: value.name, message: scrubText(value.message), code: (value as { code?: unknown }).code };
    if (typeof value === 'string') return scrubText(value);
    return value;
  });
  return `${json}\n`;
}

/** A record's fields as people read them: `name=value name=value`. */
export function formatLogFields(fields: Readonly<Record<string, unknown>>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

/** File logger with size-based rotation: cosync.log, cosync.1.log … cosync.N.log. */
export class FileLogger implements Logger {
  readonly file: string;
  /**
   * The log file stays open (append mode): opening and closing it for every line cost more CPU
   * than the rest of a small file's upload bookkeeping. Each line is still one write() of its
   * own, so it survives a kill -9 right after it.
   */
  #fd: number | undefined;
  #size = 0;
  /** When we last checked that the open file is still the one named cosync.log (another process may have rotated it). */
  #checkedAt = 0;
  readonly #listeners = new Set<(line: string) => void>();

  constructor(
    readonly directory: string,
    private readonly options: { maxBytes?: number; keep?: number; minLevel?: LogLevel } = {},
  ) {
    this.file = join(directory, 'cosync.log');
  }

  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(this.options.minLevel ?? 'info')) return;
    const line = formatRecord(level, event, fields, new Date());
    try {
      const bytes = Buffer.from(line);
      let fd = this.openFile();
      if (this.#size + bytes.length > (this.options.maxBytes ?? 5 * 1024 * 1024)) {
        this.rotate();
        fd = this.openFile();
      }
      writeSync(fd, bytes);
      this.#size += bytes.length;
    } catch {
      // A full disk or unwritable log folder must never stop a backup.
    }
    for (const listener of this.#listeners) {
      try {
        listener(line);
      } catch {
        // A failing listener (a closed UI connection) must not stop logging.
      }
    }
  }

  /** Closes the log file (it is opened again by the next line). */
  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Already closed: nothing to release.
    }
  }

  /** The open log file, (re)opened when needed: at the first line, and when another process rotated or removed it. */
  private openFile(): number {
    const now = Date.now();
    if (this.#fd !== undefined && now - this.#checkedAt > 1000) {
      this.#checkedAt = now;
      // Once a second at most: is cosync.log still the file we write to?
      if (identityOf(this.file) !== identityOf(this.#fd)) this.close();
    }
    if (this.#fd === undefined) {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
      this.#fd = openSync(this.file, 'a', 0o600);
      this.#size = fstatSync(this.#fd).size;
      this.#checkedAt = now;
    }
    return this.#fd;
  }

  /** Hands every record written from now on (the scrubbed JSON line) to `listener`; returns the unsubscribe function. */
  onDidLog(listener: (line: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The last `count` records, oldest first: the current file, then rotated ones as needed. */
  async recentLines(count: number): Promise<string[]> {
    const lines: string[] = [];
    for (const file of [this.file, ...Array.from({ length: this.options.keep ?? 5 }, (_, index) => join(this.directory, `cosync.${index + 1}.log`))]) {
      const text = await readFile(file, 'utf8').catch(() => '');
      lines.unshift(...text.split('\n').filter((line) => line.trim() !== ''));
      if (lines.length >= count) break;
    }
    return lines.slice(-count);
  }

  private rotate(): void {
    this.close();
    const keep = this.options.keep ?? 5;
    rmSync(join(this.directory, `cosync.${keep}.log`), { force: true });
    for (let index = keep - 1; index >= 1; index--) {
      const from = join(this.directory, `cosync.${index}.log`);
      if (fileSize(from) > 0) renameSync(from, join(this.directory, `cosync.${index + 1}.log`));
    }
    if (fileSize(this.file) > 0) renameSync(this.file, join(this.directory, 'cosync.1.log'));
    this.#size = 0;
  }
}

const LEVELS: ReadonlyArray<LogLevel> = ['debug', 'info', 'warn', 'error'];

/** Device and inode of a path or an open file, or undefined when the path does not exist. */
function identityOf(file: string | number): string | undefined {
  try {
    const info = typeof file === 'number' ? fstatSync(file) : statSync(file);
    return `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
