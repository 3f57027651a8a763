/**
 * The parallel part loop shared by multipart uploads and ranged downloads: every missing part
 * goes through the global part queue (lower part numbers first); the first failure cancels the
 * parts still in flight, and is what the caller sees once all have settled. "First" is in time,
 * not in part order: a part cancelled while its answer was being read fails with whatever the
 * half-read answer looked like (an SDK "Deserialization error … aborted"), which must not hide
 * the failure that caused the cancel (the copy fallback, for one, depends on its code).
 */
import type PQueue from 'p-queue';
import { CosyncError } from '../../app/result.js';

/** Runs `work` for each part number in `missing`; resolves when all succeeded. */
export async function runParts(
  queue: PQueue,
  missing: ReadonlyArray<number>,
  outerSignal: AbortSignal | undefined,
  work: (partNumber: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const abort = new AbortController();
  let cause: { readonly error: unknown } | undefined;
  const onOuterAbort = (): void => abort.abort();
  outerSignal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const results = await Promise.allSettled(
      missing.map(
        (partNumber) =>
          queue.add(
            async () => {
              if (abort.signal.aborted) throw new CosyncError('aborted', `part ${partNumber} was cancelled`);
              try {
                await work(partNumber, abort.signal);
              } catch (error) {
                if (cause === undefined && !abort.signal.aborted) cause = { error };
                abort.abort();
                throw error;
              }
            },
            // Lower part numbers first keeps a file's parts together and the resume set contiguous.
            { priority: -partNumber },
          ) as Promise<void>,
      ),
    );
    if (cause !== undefined) throw cause.error;
    // Cancelled from outside: the first real failure, if any, not the cancellations.
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected').map((result) => result.reason as unknown);
    const failure = failures.find((reason) => !(reason instanceof CosyncError && reason.code === 'aborted')) ?? failures[0];
    if (failure !== undefined) throw failure;
  } finally {
    outerSignal?.removeEventListener('abort', onOuterAbort);
  }
}

/** Part numbers 1…count that are not in `done`. */
export function missingParts(count: number, done: { has(partNumber: number): boolean }): number[] {
  return Array.from({ length: count }, (_, index) => index + 1).filter((partNumber) => !done.has(partNumber));
}
