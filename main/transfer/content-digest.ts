/**
 * Content digests stored beside objects so that a restore — even on a new machine without the
 * journal — can check every byte it wrote against what was uploaded.
 *
 * Single-PUT objects carry `cosync-digest` metadata computed from the file's MD5 (already needed
 * for Content-MD5). For SSE-C objects the metadata is readable without the key, so the digest is
 * keyed (HMAC-SHA256 under a key derived from the SSE-C key): it confirms the content to whoever
 * holds the key and reveals nothing about it to anyone else.
 *
 * Multipart objects are created before their content is read, so they cannot carry a digest of
 * it; they carry `cosync-part-bytes`, and a restore recomputes the S3 multipart ETag
 * (MD5 of the part MD5s, "-N") and compares it when the server's ETag is of that form.
 */
import { createHash, createHmac } from 'node:crypto';
import type { SseCustomerKey } from '../secrets/secret-values.js';

/** Metadata names (without the x-amz-meta- / x-cos-meta- prefix). */
export const METADATA = {
  digest: 'cosync-digest',
  partBytes: 'cosync-part-bytes',
  mtime: 'cosync-mtime',
  /** The sync folder that wrote the object: its own earlier write is never mistaken for someone else's. */
  writer: 'cosync-writer',
} as const;

/** The digest text for a whole-file MD5, keyed when the object is SSE-C. */
export function contentDigest(fileMd5: Uint8Array, customerKey: SseCustomerKey | undefined): string {
  if (customerKey === undefined) return `md5:${Buffer.from(fileMd5).toString('hex')}`;
  const macKey = createHash('sha256').update('cosync content digest v1\0').update(customerKey.revealBytes()).digest();
  return `hmac:${createHmac('sha256', macKey).update(fileMd5).digest('hex')}`;
}

/** The S3 multipart ETag for the given part MD5s: hex MD5 of their concatenation, "-", count. */
export function multipartEtag(partMd5s: ReadonlyArray<Uint8Array>): string {
  const hash = createHash('md5');
  for (const md5 of partMd5s) hash.update(md5);
  return `${hash.digest('hex')}-${partMd5s.length}`;
}

/** Streams bytes and collects the MD5 of every part-sized span plus the whole-content MD5. */
export class PartHasher {
  readonly partMd5s: Buffer[] = [];
  readonly #whole = createHash('md5');
  #part = createHash('md5');
  #partFill = 0;
  #total = 0;

  constructor(private readonly partBytes: number) {
    if (!(partBytes > 0)) throw new RangeError('part size must be positive');
  }

  update(chunk: Uint8Array): void {
    this.#whole.update(chunk);
    this.#total += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.partBytes - this.#partFill, chunk.length - offset);
      this.#part.update(chunk.subarray(offset, offset + take));
      this.#partFill += take;
      offset += take;
      if (this.#partFill === this.partBytes) {
        this.partMd5s.push(this.#part.digest());
        this.#part = createHash('md5');
        this.#partFill = 0;
      }
    }
  }

  /** Ends the stream; returns the whole MD5 and the part MD5s. */
  finish(): { md5: Buffer; partMd5s: Buffer[]; sizeBytes: number } {
    if (this.#partFill > 0 || this.partMd5s.length === 0) this.partMd5s.push(this.#part.digest());
    return { md5: this.#whole.digest(), partMd5s: this.partMd5s, sizeBytes: this.#total };
  }
}
