/**
 * config.json: settings and non-secret facts about keys (names, fingerprints, when a recovery
 * kit was exported). Never a key or a credential — those live only in the OS keychain.
 * Every change is a read-modify-write under an inter-process lock (the CLI, `serve` and the
 * desktop app share the file: without it, concurrent changes were lost), written atomically and
 * durably so a crash or power cut never leaves an empty or half config.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CosyncError } from '../../app/result.js';
import { KNOWN_STORAGE_CLASSES, TRAFFIC_LIMIT_BITS } from '../../app/storage-class.js';
import { DELETE_POLICIES, type DeletePolicy, type SyncFolderConfig } from '../../app/sync-model.js';
import { normalizePrefix, parseDialect, parseEndpoint, parseSseMode } from '../../app/target.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { withFileLock } from '../fs/file-lock.js';

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
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new CosyncError('config-invalid', `${this.file} is a folder, not a file; move it away so cosync can write its settings there`);
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

  /**
   * Changes the config: `change` gets the file as it is now, read under the lock, so a process
   * holding an older copy in memory can never write it back over another's change. `change` may
   * throw (e.g. a check against the current folders) and then nothing is written.
   */
  async update(change: (config: CosyncConfig) => CosyncConfig): Promise<CosyncConfig> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    return withFileLock(`${this.file}.lock`, { subject: `the config ${this.file}`, code: 'busy' }, async () => {
      const next = change(await this.load());
      await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
      return next;
    });
  }
}

/** The fields each part of config.json may hold: a field cosync does not know is a typo, refused rather than dropped at the next save. */
const CONFIG_FIELDS: ReadonlyArray<keyof CosyncConfig> = ['version', 'keys', 'folders', 'transfers'];
const KEY_FIELDS: ReadonlyArray<keyof KeyInfo> = ['fingerprint', 'createdAt', 'origin', 'kitExportedAt'];
const TRANSFER_FIELDS: ReadonlyArray<keyof TransferSettings> = ['bandwidthBytesPerSecond', 'fileConcurrency', 'partConcurrency'];
const FOLDER_FIELDS: ReadonlyArray<keyof SyncFolderConfig> = ['id', 'localPath', 'endpoint', 'bucket', 'prefix', 'region', 'pathStyle', 'dialect', 'sse', 'keyName', 'kmsKeyId', 'account', 'policy', 'paused', 'createdAt', 'storageClass', 'trafficLimitBits'];

function refuseUnknownFields(item: object, known: ReadonlyArray<string>, where: string, fail: (what: string) => never): void {
  const unknown = Object.keys(item).filter((field) => !known.includes(field));
  if (unknown.length > 0) fail(`${where === '' ? '' : `${where}: `}unknown field ${unknown.map((field) => JSON.stringify(field)).join(', ')} (known: ${known.join(', ')})`);
}

function validateConfig(value: unknown, file: string): CosyncConfig {
  const fail = (what: string): never => {
    throw new CosyncError('config-invalid', `${file}: ${what}; fix or remove the file`);
  };
  if (typeof value !== 'object' || value === null) return fail('expected a JSON object');
  if (Array.isArray(value)) return fail('expected a JSON object, not a list');
  const record = value as { version?: unknown; keys?: unknown; folders?: unknown; transfers?: unknown };
  if (record.version === undefined) return fail('no "version" field (this cosync reads version 1)');
  if (record.version !== 1) return fail(`unsupported version ${JSON.stringify(record.version)} (this cosync reads version 1)`);
  refuseUnknownFields(record, CONFIG_FIELDS, '', fail);
  const keys: Record<string, KeyInfo> = {};
  if (record.keys !== undefined) {
    if (typeof record.keys !== 'object' || record.keys === null) return fail('"keys" must be an object');
    for (const [name, info] of Object.entries(record.keys as Record<string, unknown>)) {
      const item = info as Partial<KeyInfo> | null;
      if (item === null || typeof item !== 'object' || typeof item.fingerprint !== 'string' || typeof item.createdAt !== 'string') {
        return fail(`key ${JSON.stringify(name)} needs "fingerprint" and "createdAt" strings`);
      }
      refuseUnknownFields(item, KEY_FIELDS, `keys[${JSON.stringify(name)}]`, fail);
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
  refuseUnknownFields(item, TRANSFER_FIELDS, 'transfers', fail);
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
  refuseUnknownFields(item, FOLDER_FIELDS, where, fail);
  const flag = (field: string): boolean => {
    const found = item[field];
    if (found === undefined || found === null) return false;
    if (typeof found !== 'boolean') return fail(`${where}.${field} must be true or false (got ${JSON.stringify(found)})`);
    return found;
  };
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
    pathStyle: flag('pathStyle'),
    dialect: checked('dialect', () => {
      const dialect = optionalText('dialect');
      return dialect === undefined ? undefined : parseDialect(dialect);
    }),
    sse,
    keyName,
    kmsKeyId: optionalText('kmsKeyId'),
    account: optionalText('account'),
    policy: policy as DeletePolicy,
    paused: flag('paused'),
    createdAt: optionalText('createdAt') ?? new Date(0).toISOString(),
    // Checked against the folder's dialect when its target is built (folderTarget).
    storageClass: checked('storageClass', () => {
      const storageClass = optionalText('storageClass');
      if (storageClass !== undefined && !KNOWN_STORAGE_CLASSES.includes(storageClass)) throw new Error(`unknown storage class ${JSON.stringify(storageClass)}`);
      return storageClass;
    }),
    trafficLimitBits: checked('trafficLimitBits', () => {
      const bits = item.trafficLimitBits;
      if (bits === undefined || bits === null) return undefined;
      if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < TRAFFIC_LIMIT_BITS.min || bits > TRAFFIC_LIMIT_BITS.max) {
        throw new Error(`must be a whole number of bit/s from ${TRAFFIC_LIMIT_BITS.min} to ${TRAFFIC_LIMIT_BITS.max} (got ${JSON.stringify(bits)})`);
      }
      return bits;
    }),
  };
}
