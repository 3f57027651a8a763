/**
 * The option tables several commands share (global, target, transfer and sizing flags), and the
 * checks of their values.
 */
import { DEFAULT_SIZING, type TransferSizing } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import type { Session } from '../engine/session.js';
import type { OptionTable } from './command-spec.js';

const MiB = 1024 * 1024;

/** Options every command takes, before or after its name (they configure the session). */
export const GLOBAL_OPTIONS = {
  'config-dir': { type: 'string', value: 'DIR', description: 'keep config, journal and logs in DIR (or set COSYNC_CONFIG_DIR)', complete: 'directory' },
  keystore: {
    type: 'string',
    value: 'os|file',
    description:
      'where keys and credentials live (or set COSYNC_KEYSTORE): os, the OS keychain (default); file, keystore.json in the config dir, encrypted with a passphrase read from the file named by COSYNC_KEYSTORE_PASSPHRASE_FILE (mode 0600) or from COSYNC_KEYSTORE_PASSPHRASE — never from the command line',
    complete: ['os', 'file'],
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const satisfies OptionTable;

/** Applies the global options to the session. */
export function applyGlobalOptions(values: { 'config-dir'?: string | boolean | undefined; keystore?: string | boolean | undefined }, session: Session): void {
  if (typeof values['config-dir'] === 'string') session.setConfigDir(values['config-dir']);
  if (typeof values.keystore === 'string') session.setKeystore(values.keystore);
}

/** Where a store is and how its objects are encrypted. */
export const TARGET_OPTIONS = {
  endpoint: { type: 'string', value: 'URL', description: 'the S3 endpoint, e.g. https://s3.example.com (for Tencent COS, --region is enough)' },
  region: { type: 'string', value: 'REGION', description: 'the region; alone, a Tencent COS region (ap-guangzhou) selects https://cos.REGION.myqcloud.com' },
  bucket: { type: 'string', value: 'B', description: 'the bucket (on COS: name-APPID)' },
  prefix: { type: 'string', value: 'P', description: 'keep objects under this key prefix (a folder in the bucket)' },
  sse: { type: 'string', value: 'none|cos|kms|c', description: 'server-side encryption: none, cos (store-managed keys), kms, or c (your own key, --key)', complete: ['none', 'cos', 'kms', 'c'] },
  key: { type: 'string', value: 'NAME', description: 'the SSE-C key (implies --sse c); see `cosync key list`' },
  'kms-key-id': { type: 'string', value: 'ID', description: 'the KMS key for --sse kms' },
  'path-style': { type: 'boolean', description: 'address the bucket as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT (refused for Tencent COS, whose buckets since 2024 refuse it)' },
  accelerate: {
    type: 'boolean',
    description: "Tencent COS global acceleration: requests go to BUCKET-APPID.cos.accelerate.myqcloud.com (enable it for the bucket first); the bucket's region comes from --region or --endpoint",
  },
  dialect: {
    type: 'string',
    value: 'cos|s3',
    description: 'override the choice by host: cos for a custom or CDN domain or a private COS deployment, s3 for any other S3-compatible store',
    complete: ['cos', 's3'],
  },
  account: { type: 'string', value: 'NAME', description: 'use the credentials stored under this account (default: default)' },
} as const satisfies OptionTable;

/** What new objects are stored as (backup and folder add). */
export const STORAGE_CLASS_OPTION = {
  type: 'string',
  value: 'CLASS',
  description:
    'store new objects in this class: on COS STANDARD, STANDARD_IA, INTELLIGENT_TIERING, ARCHIVE, DEEP_ARCHIVE or MAZ_STANDARD, MAZ_STANDARD_IA, MAZ_INTELLIGENT_TIERING (multi-AZ buckets only); on S3 STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, GLACIER_IR, DEEP_ARCHIVE',
  complete: ['STANDARD', 'STANDARD_IA', 'INTELLIGENT_TIERING', 'ARCHIVE', 'DEEP_ARCHIVE', 'MAZ_STANDARD', 'MAZ_STANDARD_IA', 'MAZ_INTELLIGENT_TIERING', 'ONEZONE_IA', 'GLACIER', 'GLACIER_IR'],
} as const;

/** COS's server-side limit per request (backup, folder add, restore). */
export const TRAFFIC_LIMIT_OPTION = {
  type: 'string',
  value: 'MIB/S',
  description: 'Tencent COS only: ask COS to limit each upload or download request to this many MiB per second (0.1–100, sent as x-cos-traffic-limit); --bwlimit limits the whole transfer on this side',
} as const;

/** How a transfer runs and reports. */
export const TRANSFER_OPTIONS = {
  json: { type: 'boolean', description: 'print one JSON object per event instead of lines for people' },
  concurrency: { type: 'string', value: 'N', description: 'requests at once (1–64, default 8)' },
  bwlimit: { type: 'string', value: 'MIB/S', description: 'limit the transfer to this many MiB per second (fractions allowed)' },
} as const satisfies OptionTable;

export function positiveInteger(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) throw new CosyncError('usage', `--${flag} must be a whole number from 1 to ${max}; got ${JSON.stringify(value)}`);
  return number;
}


/** `--bwlimit MIB` (MiB per second, fractions allowed), in bytes per second. */
export function bandwidthLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const mibPerSecond = Number(value);
  if (!Number.isFinite(mibPerSecond) || mibPerSecond <= 0) throw new CosyncError('usage', `--bwlimit must be a positive number of MiB per second, e.g. 2 or 0.5; got ${JSON.stringify(value)}`);
  return mibPerSecond * MiB;
}

export const SIZING_OPTIONS = {
  'part-size': { type: 'string', value: 'MIB', description: 'preferred multipart part size in MiB (raised when a file needs more than 10,000 parts)' },
  'multipart-threshold': { type: 'string', value: 'MIB', description: 'files from this size in MiB up are uploaded in parts' },
} as const satisfies OptionTable;

/** `--part-size MIB` and `--multipart-threshold MIB`, validated. */
export function sizingFromFlags(values: { 'part-size'?: string | undefined; 'multipart-threshold'?: string | undefined }): TransferSizing {
  return {
    preferredPartBytes: positiveInteger(values['part-size'], 'part-size', DEFAULT_SIZING.preferredPartBytes / MiB, 5 * 1024) * MiB,
    multipartThresholdBytes: positiveInteger(values['multipart-threshold'], 'multipart-threshold', DEFAULT_SIZING.multipartThresholdBytes / MiB, 1024) * MiB,
  };
}
