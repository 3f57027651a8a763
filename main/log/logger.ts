/**
 * Structured logs: one JSON object per line, rotated by size, in the OS log folder.
 *
 * Secrets are redacted by construction: keys and credentials are SseCustomerKey /
 * StoreCredentials values whose JSON form is a fingerprint. As a second line of defence every
 * string field is scrubbed of signed-URL signatures and SSE-C key headers before it is written.
 */
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
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
  #size: number | undefined;
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
      if (this.#size === undefined) {
        mkdirSync(this.directory, { recursive: true, mode: 0o700 });
        this.#size = fileSize(this.file);
      }
      if (this.#size + line.length > (this.options.maxBytes ?? 5 * 1024 * 1024)) this.rotate();
      // Synchronous append: a log line must survive a kill -9 right after it; lines are small and rare.
      appendFileSync(this.file, line, { mode: 0o600 });
      this.#size += Buffer.byteLength(line);
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

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
