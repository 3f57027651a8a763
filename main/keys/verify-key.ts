/**
 * Checking an SSE-C key against stored objects — before trusting a recovery kit on a new
 * machine, or before restoring. One HEAD with the key per object; when that is refused, one HEAD
 * without a key tells "encrypted with another key" from "not SSE-C at all".
 */
import { CosyncError } from '../../app/result.js';
import type { RemoteStore } from '../remote/remote-store.js';
import type { SseCustomerKey } from '../secrets/secret-values.js';

/** What one object says about the key. */
export type KeyCheck = 'match' | 'mismatch' | 'not-sse-c';

/** Checks up to `limit` objects under `prefix`. */
export async function verifyKeyAgainstObjects(
  store: RemoteStore,
  key: SseCustomerKey,
  prefix: string,
  limit: number,
): Promise<Array<{ objectKey: string; result: KeyCheck }>> {
  const results: Array<{ objectKey: string; result: KeyCheck }> = [];
  for await (const object of store.listObjects(prefix)) {
    if (results.length >= limit) break;
    if (object.key.endsWith('/')) continue;
    const readableWithoutKey = async (): Promise<boolean> =>
      (await store.headObject(object.key, { mode: 'none' }).catch((plainError: unknown) => {
        if (plainError instanceof CosyncError && plainError.code === 'key-mismatch') return undefined;
        throw plainError;
      })) !== undefined;
    try {
      const head = await store.headObject(object.key, { mode: 'c', key });
      if (head?.keyFingerprint === key.fingerprint) results.push({ objectKey: object.key, result: 'match' });
      else if (head?.keyFingerprint !== undefined) results.push({ objectKey: object.key, result: 'mismatch' });
      // No key echoed: some servers (RGW) ignore SSE-C headers on objects that are not SSE-C.
      else results.push({ objectKey: object.key, result: (await readableWithoutKey()) ? 'not-sse-c' : 'match' });
    } catch (error) {
      if (!(error instanceof CosyncError && error.code === 'key-mismatch')) throw error;
      // The server refused our key: either another key encrypted it, or it is not SSE-C (then a plain HEAD works).
      results.push({ objectKey: object.key, result: (await readableWithoutKey()) ? 'not-sse-c' : 'mismatch' });
    }
  }
  return results;
}
