/**
 * config.json: settings and non-secret facts about keys (names, fingerprints, when a recovery
 * kit was exported). Never a key or a credential — those live only in the OS keychain.
 * Written atomically (temp file + rename) so a crash never leaves half a config.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CosyncError } from '../../app/result.js';
import { DELETE_POLICIES, type DeletePolicy, type SyncFolderConfig } from '../../app/sync-model.js';
import { normalizePrefix, parseDialect, parseEndpoint, parseSseMode } from '../../app/target.js';

/** What cosync knows about a key without holding it. */
export interface KeyInfo {
  readonly fingerprint: string;
  readonly createdAt: string;
  readonly origin: 'generated' | 'imported';
  readonly kitExportedAt?: string | undefined;
}

/** Transfer settings chosen in the window (each optional: absent means the default). */
export interface TransferSettings {
  /** Upload limit in bytes per second; absent: none. */
  readonly bandwidthBytesPerSecond?: number | undefined;
  /** Files in flight across all folders. */
  readonly fileConcurrency?: number | undefined;
  /** Requests carrying data in flight across all folders. */
  readonly partConcurrency?: number | undefined;
}

/** The whole config file. */
export interface CosyncConfig {
  readonly version: 1;
  readonly keys: Readonly<Record<string, KeyInfo>>;
  readonly folders: ReadonlyArray<SyncFolderConfig>;
  readonly transfers?: TransferSettings | undefined;
}

const EMPTY: CosyncConfig = { version: 1, keys: {}, folders: [] };

/** The limits a setting must keep (also the window's). */
export const CONCURRENCY_RANGE = { min: 1, max: 64 } as const;

/** Loads and saves config.json in one folder. */
export class ConfigStore {
  readonly file: string;

  constructor(readonly directory: string) {
    this.file = join(directory, 'config.json');
  }

  async load(): Promise<CosyncConfig> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY;
      throw new CosyncError('config-invalid', `cannot read ${this.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CosyncError('config-invalid', `${this.file} is not valid JSON (${(error as Error).message}); fix or remove it`);
    }
    return validateConfig(parsed, this.file);
  }

  async update(change: (config: CosyncConfig) => CosyncConfig): Promise<CosyncConfig> {
    const next = change(await this.load());
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.file);
    return next;
  }
}

function validateConfig(value: unknown, file: string): CosyncConfig {
  const fail = (what: string): never => {
    throw new CosyncError('config-invalid', `${file}: ${what}; fix or remove the file`);
  };
  if (typeof value !== 'object' || value === null) return fail('expected a JSON object');
  const record = value as { version?: unknown; keys?: unknown; folders?: unknown; transfers?: unknown };
  if (record.version !== 1) return fail(`unsupported version ${JSON.stringify(record.version)} (this cosync reads version 1)`);
  const keys: Record<string, KeyInfo> = {};
  if (record.keys !== undefined) {
    if (typeof record.keys !== 'object' || record.keys === null) return fail('"keys" must be an object');
    for (const [name, info] of Object.entries(record.keys as Record<string, unknown>)) {
      const item = info as Partial<KeyInfo> | null;
      if (item === null || typeof item !== 'object' || typeof item.fingerprint !== 'string' || typeof item.createdAt !== 'string') {
        return fail(`key ${JSON.stringify(name)} needs "fingerprint" and "createdAt" strings`);
      }
      keys[name] = {
        fingerprint: item.fingerprint,
        createdAt: item.createdAt,
        origin: item.origin === 'imported' ? 'imported' : 'generated',
        kitExportedAt: typeof item.kitExportedAt === 'string' ? item.kitExportedAt : undefined,
      };
    }
  }
  const folders: SyncFolderConfig[] = [];
  if (record.folders !== undefined) {
    if (!Array.isArray(record.folders)) return fail('"folders" must be a list');
    for (const [index, item] of (record.folders as unknown[]).entries()) folders.push(validateFolder(item, `folders[${index}]`, fail));
    const ids = new Set<string>();
    for (const folder of folders) {
      if (ids.has(folder.id)) return fail(`two folders have the id ${JSON.stringify(folder.id)}`);
      ids.add(folder.id);
    }
  }
  return { version: 1, keys, folders, transfers: validateTransfers(record.transfers, fail) };
}

function validateTransfers(value: unknown, fail: (what: string) => never): TransferSettings | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') return fail('"transfers" must be an object');
  const item = value as Record<string, unknown>;
  const whole = (field: string, min: number, max: number): number | undefined => {
    const found = item[field];
    if (found === undefined || found === null) return undefined;
    if (typeof found !== 'number' || !Number.isInteger(found) || found < min || found > max) return fail(`transfers.${field} must be a whole number from ${min} to ${max}`);
    return found;
  };
  return {
    bandwidthBytesPerSecond: whole('bandwidthBytesPerSecond', 1024, 100 * 1024 ** 3),
    fileConcurrency: whole('fileConcurrency', CONCURRENCY_RANGE.min, CONCURRENCY_RANGE.max),
    partConcurrency: whole('partConcurrency', CONCURRENCY_RANGE.min, CONCURRENCY_RANGE.max),
  };
}

/** Checks one folder entry field by field, so a hand-edited config gets a precise message. */
function validateFolder(value: unknown, where: string, fail: (what: string) => never): SyncFolderConfig {
  if (typeof value !== 'object' || value === null) return fail(`${where} must be an object`);
  const item = value as Record<string, unknown>;
  const text = (field: string): string => {
    const found = item[field];
    if (typeof found !== 'string' || found === '') return fail(`${where}.${field} must be a non-empty string`);
    return found;
  };
  const optionalText = (field: string): string | undefined => {
    const found = item[field];
    if (found === undefined || found === null) return undefined;
    if (typeof found !== 'string') return fail(`${where}.${field} must be a string`);
    return found;
  };
  const checked = <T>(field: string, parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      return fail(`${where}.${field}: ${(error as Error).message}`);
    }
  };
  const id = text('id');
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(id)) fail(`${where}.id ${JSON.stringify(id)} must be 1–40 lowercase letters, digits or "-"`);
  const localPath = text('localPath');
  if (!localPath.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(localPath)) fail(`${where}.localPath must be an absolute path`);
  const endpoint = checked('endpoint', () => parseEndpoint(text('endpoint')).url);
  const sse = checked('sse', () => parseSseMode(text('sse')));
  const keyName = optionalText('keyName');
  if (sse === 'c' && keyName === undefined) fail(`${where}.keyName is required when sse is "c"`);
  const policy = text('policy');
  if (!DELETE_POLICIES.includes(policy as DeletePolicy)) fail(`${where}.policy must be keep, mirror or trash (got ${JSON.stringify(policy)})`);
  return {
    id,
    localPath,
    endpoint,
    bucket: text('bucket'),
    prefix: checked('prefix', () => normalizePrefix(optionalText('prefix'))),
    region: optionalText('region'),
    pathStyle: item.pathStyle === true,
    dialect: checked('dialect', () => {
      const dialect = optionalText('dialect');
      return dialect === undefined ? undefined : parseDialect(dialect);
    }),
    sse,
    keyName,
    kmsKeyId: optionalText('kmsKeyId'),
    account: optionalText('account'),
    policy: policy as DeletePolicy,
    paused: item.paused === true,
    createdAt: optionalText('createdAt') ?? new Date(0).toISOString(),
  };
}
