import { describe, expect, it } from 'vitest';
import { COS_LIMITS, DEFAULT_SIZING, maxObjectBytes, planUpload, S3_LIMITS } from './part-size.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('planUpload', () => {
  it.each([
    ['empty file', 0, S3_LIMITS, { kind: 'single' }],
    ['just under the threshold', 16 * MiB - 1, S3_LIMITS, { kind: 'single' }],
    ['at the threshold', 16 * MiB, S3_LIMITS, { kind: 'multipart', partBytes: 16 * MiB, partCount: 1 }],
    ['20 MiB', 20 * MiB, S3_LIMITS, { kind: 'multipart', partBytes: 16 * MiB, partCount: 2 }],
    ['exactly 10,000 preferred parts', 10_000 * 16 * MiB, S3_LIMITS, { kind: 'multipart', partBytes: 16 * MiB, partCount: 10_000 }],
    ['one byte over 10,000 preferred parts', 10_000 * 16 * MiB + 1, S3_LIMITS, { kind: 'multipart', partBytes: 17 * MiB, partCount: 9412 }],
    ['1 TiB', 1024 * GiB, S3_LIMITS, { kind: 'multipart', partBytes: 105 * MiB, partCount: 9987 }],
  ] as const)('%s', (_name, size, limits, expected) => {
    expect(planUpload(size, limits)).toMatchObject(expected);
  });

  it('never exceeds the part-count limit and never goes under the minimum part size', () => {
    for (const limits of [S3_LIMITS, COS_LIMITS]) {
      for (const size of [1, 5 * MiB, 16 * MiB, 100 * GiB + 7, 4.8 * 1024 * GiB, maxObjectBytes(limits)]) {
        const plan = planUpload(Math.floor(size), limits, { multipartThresholdBytes: 1, preferredPartBytes: 1 });
        if (plan.kind === 'multipart') {
          expect(plan.partCount).toBeLessThanOrEqual(limits.maxParts);
          expect(plan.partBytes).toBeGreaterThanOrEqual(limits.minPartBytes);
          expect(plan.partBytes).toBeLessThanOrEqual(limits.maxPartBytes);
          expect(plan.partBytes * plan.partCount).toBeGreaterThanOrEqual(Math.floor(size));
        }
      }
    }
  });

  it('respects the store minimum part size: COS allows 1 MiB parts, S3 needs 5 MiB', () => {
    const sizing = { multipartThresholdBytes: 2 * MiB, preferredPartBytes: 1 * MiB };
    expect(planUpload(3 * MiB, COS_LIMITS, sizing)).toMatchObject({ kind: 'multipart', partBytes: 1 * MiB, partCount: 3 });
    expect(planUpload(6 * MiB, S3_LIMITS, sizing)).toMatchObject({ kind: 'multipart', partBytes: 5 * MiB, partCount: 2 });
  });

  it('refuses files larger than the store can hold', () => {
    expect(() => planUpload(maxObjectBytes(S3_LIMITS) + 1, S3_LIMITS, DEFAULT_SIZING)).toThrow(/maximum object size/);
    expect(() => planUpload(-1, S3_LIMITS)).toThrow(RangeError);
  });
});
