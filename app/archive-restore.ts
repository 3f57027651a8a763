/**
 * Archived objects and their retrieval: which storage classes must be restored before a GET, the
 * retrieval tiers, and how long each takes, as COS and S3 document them. Pure data and helpers.
 *
 * COS: POST Object restore (https://intl.cloud.tencent.com/document/product/436/12633) restores
 * ARCHIVE and DEEP_ARCHIVE objects; "Uploading and restoring archived objects"
 * (https://www.tencentcloud.com/document/product/436/30933) gives the retrieval times: ARCHIVE —
 * Expedited 1–5 minutes, Standard 3–5 hours, Bulk 5–12 hours; DEEP_ARCHIVE — Standard 12–24
 * hours, Bulk 24–48 hours (no Expedited). S3 gives the same for Glacier Flexible Retrieval and,
 * for Deep Archive, "within 12 hours" and "within 48 hours" (AWS "Archive retrieval options"):
 * the words below use the longer bound of the two.
 */

/** Storage classes whose objects answer 403 InvalidObjectState to a GET until restored. */
export const ARCHIVED_STORAGE_CLASSES: ReadonlySet<string> = new Set(['ARCHIVE', 'DEEP_ARCHIVE', 'GLACIER']);

/** The retrieval tiers of POST Object restore. */
export const RESTORE_TIERS = ['Standard', 'Expedited', 'Bulk'] as const;
export type RestoreTier = (typeof RESTORE_TIERS)[number];

/** What a restore asks for: the tier, and how many days the restored copy stays readable. */
export interface RestoreRequest {
  readonly tier: RestoreTier;
  readonly days: number;
}

/** The defaults of `--restore-tier` and `--restore-days`. */
export const DEFAULT_RESTORE_REQUEST: RestoreRequest = { tier: 'Standard', days: 1 };

/** The longest restored copy COS and S3 allow (days). */
export const MAX_RESTORE_DAYS = 365;

/**
 * The typical retrieval time, in words ("3–5 hours"), for an object of `storageClass` restored at
 * `tier`. DEEP_ARCHIVE has no Expedited tier: COS and S3 answer such a request with Standard's time
 * or refuse it, so the words say what the user asked for cannot be had.
 */
export function typicalRetrievalTime(storageClass: string, tier: RestoreTier): string {
  if (storageClass === 'DEEP_ARCHIVE') {
    if (tier === 'Bulk') return 'up to 48 hours';
    return 'up to 24 hours';
  }
  if (tier === 'Expedited') return '1–5 minutes';
  return tier === 'Bulk' ? '5–12 hours' : '3–5 hours';
}

/** Parses `--restore-tier` (any case); undefined for a value that is not a tier. */
export function parseRestoreTier(value: string): RestoreTier | undefined {
  return RESTORE_TIERS.find((tier) => tier.toLowerCase() === value.toLowerCase());
}

/**
 * What a HEAD says about an archived object's retrieval, from `x-cos-restore` / `x-amz-restore`
 * (HEAD Object, https://intl.cloud.tencent.com/document/product/436/7745: `ongoing-request="true"`
 * while it runs, `ongoing-request="false", expiry-date="…"` once readable).
 */
export type ArchiveState = 'readable' | 'not-requested' | 'retrieving';

export function archiveStateOf(storageClass: string | undefined, restoreHeader: string | undefined): ArchiveState {
  if (storageClass === undefined || !ARCHIVED_STORAGE_CLASSES.has(storageClass)) return 'readable';
  if (restoreHeader === undefined) return 'not-requested';
  return /ongoing-request\s*=\s*"false"/i.test(restoreHeader) ? 'readable' : 'retrieving';
}
