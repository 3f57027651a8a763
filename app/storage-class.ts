/**
 * Storage classes and COS's per-request traffic limit, as a folder or a backup asks for them.
 * Pure: validation only, no I/O.
 */
import { CosyncError } from './result.js';
import type { Dialect } from './target.js';

/**
 * COS's storage classes, as `x-cos-storage-class` takes them (PUT Object,
 * https://cloud.tencent.com/document/product/436/7749; storage class overview,
 * https://www.tencentcloud.com/document/product/436/30925). The MAZ_ classes exist only in
 * multi-AZ buckets: COS refuses them elsewhere.
 */
export const COS_STORAGE_CLASSES: ReadonlyArray<string> = [
  'STANDARD',
  'STANDARD_IA',
  'INTELLIGENT_TIERING',
  'ARCHIVE',
  'DEEP_ARCHIVE',
  'MAZ_STANDARD',
  'MAZ_STANDARD_IA',
  'MAZ_INTELLIGENT_TIERING',
];

/** S3's storage classes a backup can ask for (the SDK's StorageClass enum, without the AWS-only outposts, snow and express). */
export const S3_STORAGE_CLASSES: ReadonlyArray<string> = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'GLACIER_IR', 'DEEP_ARCHIVE'];

/** Every class either dialect knows (a folder's config and the window's form are checked against it, the dialect later). */
export const KNOWN_STORAGE_CLASSES: ReadonlyArray<string> = [...new Set([...COS_STORAGE_CLASSES, ...S3_STORAGE_CLASSES])];

/** The classes a dialect knows. */
export function storageClassesOf(dialect: Dialect): ReadonlyArray<string> {
  return dialect === 'cos' ? COS_STORAGE_CLASSES : S3_STORAGE_CLASSES;
}

/** Checks a `--storage-class` against the dialect; STANDARD is the default and kept as given. */
export function parseStorageClass(text: string, dialect: Dialect): string {
  const value = text.trim().toUpperCase();
  if (storageClassesOf(dialect).includes(value)) return value;
  const other: Dialect = dialect === 'cos' ? 's3' : 'cos';
  const otherName = other === 'cos' ? 'Tencent COS' : 'S3';
  const hint = storageClassesOf(other).includes(value)
    ? ` (${value} is ${otherName}'s name; this store speaks the ${dialect === 'cos' ? 'COS' : 'S3'} dialect${dialect === 'cos' ? ', where ARCHIVE and DEEP_ARCHIVE are the archive classes' : ''})`
    : '';
  throw new CosyncError('usage', `unknown --storage-class ${JSON.stringify(text)}${hint}: use one of ${storageClassesOf(dialect).join(', ')}`);
}

/**
 * The range of `x-cos-traffic-limit`, in bit/s: 819200–838860800 (100 KiB/s–100 MiB/s); COS
 * answers 400 outside it (single-connection bandwidth limit, https://www.tencentcloud.com/document/product/436/34072).
 */
export const TRAFFIC_LIMIT_BITS = { min: 819_200, max: 838_860_800 } as const;

const BITS_PER_MIB = 8 * 1024 * 1024;

/**
 * `--traffic-limit MIB/S` as bit/s for `x-cos-traffic-limit`. COS only (S3 has no such header);
 * refused outside COS's range rather than clamped, so the user gets the limit they asked for or
 * knows why not.
 */
export function parseTrafficLimit(text: string, dialect: Dialect): number {
  if (dialect !== 'cos') {
    throw new CosyncError('usage', '--traffic-limit is a Tencent COS feature (x-cos-traffic-limit); this store speaks the S3 dialect: use --bwlimit to limit the transfer on this side');
  }
  const mibPerSecond = Number(text);
  const bits = Math.round(mibPerSecond * BITS_PER_MIB);
  if (text.trim() === '' || !Number.isFinite(mibPerSecond) || bits < TRAFFIC_LIMIT_BITS.min || bits > TRAFFIC_LIMIT_BITS.max) {
    throw new CosyncError(
      'usage',
      `--traffic-limit must be a number of MiB per second from 0.1 (100 KiB/s) to 100 (COS's range: ${TRAFFIC_LIMIT_BITS.min} to ${TRAFFIC_LIMIT_BITS.max} bit/s per request); got ${JSON.stringify(text)}`,
    );
  }
  return bits;
}
