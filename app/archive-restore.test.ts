import { describe, expect, it } from 'vitest';
import { typicalRetrievalTime } from './archive-restore.js';

describe('typical retrieval times, as COS and S3 document them', () => {
  it.each([
    // COS "Uploading and restoring archived objects" (https://www.tencentcloud.com/document/product/436/30933).
    ['ARCHIVE', 'Expedited', '1–5 minutes'],
    ['ARCHIVE', 'Standard', '3–5 hours'],
    ['ARCHIVE', 'Bulk', '5–12 hours'],
    // DEEP_ARCHIVE: COS says 12–24 hours (Standard) and 24–48 hours (Bulk); S3 within 12 and 48: the longer bound.
    ['DEEP_ARCHIVE', 'Standard', 'up to 24 hours'],
    ['DEEP_ARCHIVE', 'Bulk', 'up to 48 hours'],
    ['GLACIER', 'Standard', '3–5 hours'],
  ] as const)('%s at %s: %s', (storageClass, tier, words) => {
    expect(typicalRetrievalTime(storageClass, tier)).toBe(words);
  });
});
