/**
 * Multipart sizing: a pure function of the file size and the store's limits.
 *
 * Same idea as rclone's chunksize.Calculator: keep the preferred part size while it fits in the
 * part-count limit, otherwise grow it (rounded up to whole MiB) so the file fits in the limit.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** What a store allows for multipart uploads. */
export interface MultipartLimits {
  readonly minPartBytes: number;
  readonly maxPartBytes: number;
  readonly maxParts: number;
  readonly maxSinglePutBytes: number;
}

/** S3 (and RGW): parts of 5 MiB to 5 GiB, at most 10,000 of them; single PUT up to 5 GiB. */
export const S3_LIMITS: MultipartLimits = { minPartBytes: 5 * MiB, maxPartBytes: 5 * GiB, maxParts: 10_000, maxSinglePutBytes: 5 * GiB };

/** Tencent COS: parts of 1 MB to 5 GB, at most 10,000; single PUT up to 5 GB (we use binary units, the safe side of 1 MB min is 1 MiB). */
export const COS_LIMITS: MultipartLimits = { minPartBytes: 1 * MiB, maxPartBytes: 5 * 1000 * 1000 * 1000, maxParts: 10_000, maxSinglePutBytes: 5 * 1000 * 1000 * 1000 };

/** The tunables a user or benchmark may set. */
export interface TransferSizing {
  /** Files of at least this many bytes go multipart. */
  readonly multipartThresholdBytes: number;
  /** Preferred part size; grown when the file would need too many parts. */
  readonly preferredPartBytes: number;
}

/** Defaults: 16 MiB threshold and 16 MiB parts, measured as the sweet spot on RGW (TESTBED.md). */
export const DEFAULT_SIZING: TransferSizing = { multipartThresholdBytes: 16 * MiB, preferredPartBytes: 16 * MiB };

/** How one file will be sent. */
export type UploadPlan =
  | { readonly kind: 'single'; readonly sizeBytes: number }
  | { readonly kind: 'multipart'; readonly sizeBytes: number; readonly partBytes: number; readonly partCount: number };

/** Largest file the limits allow at all. */
export function maxObjectBytes(limits: MultipartLimits): number {
  return limits.maxParts * limits.maxPartBytes;
}

/** Chooses single PUT or multipart, and the part size, for a file of `sizeBytes`. */
export function planUpload(sizeBytes: number, limits: MultipartLimits, sizing: TransferSizing = DEFAULT_SIZING): UploadPlan {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new RangeError(`invalid file size: ${sizeBytes}`);
  if (sizeBytes > maxObjectBytes(limits)) {
    throw new RangeError(`file of ${sizeBytes} bytes exceeds the store's maximum object size of ${maxObjectBytes(limits)} bytes`);
  }
  const threshold = Math.min(Math.max(sizing.multipartThresholdBytes, limits.minPartBytes), limits.maxSinglePutBytes);
  if (sizeBytes < threshold) return { kind: 'single', sizeBytes };

  let partBytes = Math.min(Math.max(sizing.preferredPartBytes, limits.minPartBytes), limits.maxPartBytes);
  if (Math.ceil(sizeBytes / partBytes) > limits.maxParts) {
    partBytes = Math.min(Math.ceil(sizeBytes / limits.maxParts / MiB) * MiB, limits.maxPartBytes);
    // Whole-MiB rounding can still fall short when maxPartBytes caps it; the max-size check above rules that out.
  }
  return { kind: 'multipart', sizeBytes, partBytes, partCount: Math.max(1, Math.ceil(sizeBytes / partBytes)) };
}
