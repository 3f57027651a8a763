/**
 * The CLI's global, target and sizing flags, and parsing them (global flags configure the session).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_SIZING, type TransferSizing } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import type { Session } from '../session/session.js';
import { TokenBucket } from '../transfer/bandwidth.js';

const MiB = 1024 * 1024;

export const TARGET_OPTIONS = {
  endpoint: { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  sse: { type: 'string' },
  key: { type: 'string' },
  'kms-key-id': { type: 'string' },
  'path-style': { type: 'boolean' },
  dialect: { type: 'string' },
  region: { type: 'string' },
  account: { type: 'string' },
  json: { type: 'boolean' },
  concurrency: { type: 'string' },
  bwlimit: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const GLOBAL_OPTIONS = {
  'config-dir': { type: 'string' },
  keystore: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Parsed<O extends ParseArgsConfig['options']> = ReturnType<typeof parseArgs<{ args: string[]; options: typeof GLOBAL_OPTIONS & O; allowPositionals: true; strict: true }>>;

export function parse<O extends ParseArgsConfig['options']>(args: ReadonlyArray<string>, options: O, session: Session): Parsed<O> {
  const parsed = parseArgs({ args: [...args], options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  const globals = parsed.values as { 'config-dir'?: string; keystore?: string };
  session.setConfigDir(globals['config-dir']);
  session.setKeystore(globals.keystore);
  return parsed;
}

export function positiveInteger(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) throw new CosyncError('usage', `--${flag} must be a whole number from 1 to ${max}; got ${JSON.stringify(value)}`);
  return number;
}


/** `--bwlimit MIB` (MiB per second, fractions allowed) as a token bucket. */
export function bandwidthLimit(value: string | undefined): TokenBucket | undefined {
  if (value === undefined) return undefined;
  const mibPerSecond = Number(value);
  if (!Number.isFinite(mibPerSecond) || mibPerSecond <= 0) throw new CosyncError('usage', `--bwlimit must be a positive number of MiB per second, e.g. 2 or 0.5; got ${JSON.stringify(value)}`);
  return new TokenBucket(mibPerSecond * MiB);
}

export const SIZING_OPTIONS = {
  'part-size': { type: 'string' },
  'multipart-threshold': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** `--part-size MIB` and `--multipart-threshold MIB`, validated. */
export function sizingFromFlags(values: { 'part-size'?: string | undefined; 'multipart-threshold'?: string | undefined }): TransferSizing {
  return {
    preferredPartBytes: positiveInteger(values['part-size'], 'part-size', DEFAULT_SIZING.preferredPartBytes / MiB, 5 * 1024) * MiB,
    multipartThresholdBytes: positiveInteger(values['multipart-threshold'], 'multipart-threshold', DEFAULT_SIZING.multipartThresholdBytes / MiB, 1024) * MiB,
  };
}
