/**
 * Downloads one object to a local file, checks it, and only then puts it in place.
 *
 * The bytes go to a hidden temporary file beside the destination, are hashed as they stream,
 * checked against the object's digest, fsynced, and renamed over the destination — so a crash
 * or a failed check never leaves a half-written or wrong file under the real name.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CosyncError } from '../../app/result.js';
import type { ObjectEncryption, RemoteObjectDetails, RemoteStore } from '../remote/remote-store.js';
import type { TokenBucket } from './bandwidth.js';
import { contentDigest, METADATA, multipartEtag, PartHasher } from './content-digest.js';

/** How a restored file was checked. */
export type Verification = 'digest' | 'etag' | 'size-only';

/** What happened to one object. */
export type DownloadOutcome =
  | { readonly kind: 'restored'; readonly sizeBytes: number; readonly verification: Verification }
  | { readonly kind: 'unchanged'; readonly sizeBytes: number; readonly verification: Verification };

/** Suffix of in-progress downloads; the sync engine ignores such files. */
export const PARTIAL_SUFFIX = '.cosync-partial';

interface Hashes {
  readonly md5: Buffer;
  readonly partMd5s: Buffer[];
  readonly sizeBytes: number;
}

function partBytesFor(details: RemoteObjectDetails): number {
  const fromMetadata = Number(details.metadata[METADATA.partBytes]);
  return Number.isSafeInteger(fromMetadata) && fromMetadata > 0 ? fromMetadata : Math.max(details.sizeBytes, 1);
}

/** Checks hashes of the received bytes against what the object says about itself. */
function verify(key: string, details: RemoteObjectDetails, hashes: Hashes, encryption: ObjectEncryption): Verification {
  if (hashes.sizeBytes !== details.sizeBytes) {
    throw new CosyncError('integrity', `${JSON.stringify(key)}: received ${hashes.sizeBytes} bytes but the object has ${details.sizeBytes}`);
  }
  const customerKey = encryption.mode === 'c' ? encryption.key : undefined;
  const stored = details.metadata[METADATA.digest];
  if (stored !== undefined) {
    if (contentDigest(hashes.md5, customerKey) !== stored) {
      throw new CosyncError(
        'integrity',
        `${JSON.stringify(key)}: the downloaded content does not match the digest recorded at upload${customerKey === undefined ? '' : ' (or the digest was made with a different key)'}`,
      );
    }
    return 'digest';
  }
  const etag = details.etag ?? '';
  const uploadedByCosync = details.metadata[METADATA.partBytes] !== undefined;
  if (/^[0-9a-f]{32}-\d+$/.test(etag)) {
    if (multipartEtag(hashes.partMd5s) === etag) return 'etag';
    // With SSE-C, part ETags need not be content MD5s (AWS), so a mismatch proves nothing there.
    if (uploadedByCosync && customerKey === undefined) {
      throw new CosyncError('integrity', `${JSON.stringify(key)}: the downloaded content does not match the object's multipart ETag`);
    }
    return 'size-only';
  }
  if (/^[0-9a-f]{32}$/.test(etag) && customerKey === undefined && encryption.mode !== 'kms') {
    if (hashes.md5.toString('hex') === etag) return 'etag';
    throw new CosyncError('integrity', `${JSON.stringify(key)}: the downloaded content does not match the object's ETag`);
  }
  return 'size-only';
}

async function hashLocalFile(path: string, partBytes: number): Promise<Hashes> {
  const hasher = new PartHasher(partBytes);
  const file = await open(path, 'r');
  try {
    for await (const chunk of file.createReadStream({ highWaterMark: 1024 * 1024 })) hasher.update(chunk as Buffer);
  } finally {
    await file.close();
  }
  return hasher.finish();
}

/** Downloads `key` into `destination`; an existing different file is replaced only with `overwrite`. */
export async function downloadFile(
  store: RemoteStore,
  key: string,
  destination: string,
  encryption: ObjectEncryption,
  options: { overwrite: boolean; signal?: AbortSignal | undefined; onDidTransfer?: (bytes: number) => void; bandwidth?: TokenBucket | undefined },
): Promise<DownloadOutcome> {
  const existing = await stat(destination).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined && !existing.isFile()) {
    throw new CosyncError('local-conflict', `${destination} exists and is not a file; move it away to restore ${JSON.stringify(key)} there`);
  }

  const { body, details } = await store.getObject(key, encryption, { signal: options.signal });
  if (existing !== undefined && existing.size !== details.sizeBytes && !options.overwrite) {
    body.destroy();
    throw new CosyncError('local-conflict', `${destination} already exists with different content; pass --overwrite to replace it, or restore to another folder`);
  }

  await mkdir(dirname(destination), { recursive: true });
  const temporary = join(dirname(destination), `.${basename(destination)}.${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`);
  const hasher = new PartHasher(partBytesFor(details));
  try {
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hasher.update(chunk);
        options.onDidTransfer?.(chunk.length);
        if (options.bandwidth === undefined) callback(null, chunk);
        else void options.bandwidth.take(chunk.length).then(() => callback(null, chunk));
      },
    });
    await pipeline(body, tap, createWriteStream(temporary, { flags: 'wx' }), { signal: options.signal });
    const hashes = hasher.finish();
    const verification = verify(key, details, hashes, encryption);

    if (existing !== undefined) {
      const local = await hashLocalFile(destination, partBytesFor(details));
      if (local.md5.equals(hashes.md5)) {
        await rm(temporary, { force: true });
        return { kind: 'unchanged', sizeBytes: hashes.sizeBytes, verification };
      }
      if (!options.overwrite) {
        throw new CosyncError('local-conflict', `${destination} already exists with different content; pass --overwrite to replace it, or restore to another folder`);
      }
    }
    const handle = await open(temporary, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const mtimeMs = Number(details.metadata[METADATA.mtime]);
    if (Number.isFinite(mtimeMs) && mtimeMs > 0) await utimes(temporary, new Date(), new Date(mtimeMs));
    await rename(temporary, destination);
    return { kind: 'restored', sizeBytes: hashes.sizeBytes, verification };
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
