/**
 * Executors that put a local file's content in the bucket: `upload` (PUT or resumable multipart,
 * shown uploading → verifying → synced) and `adopt` (an object we have no record of is recorded
 * as ours when it provably holds the file's bytes, otherwise kept as a conflict copy and replaced).
 */
import { createReadStream } from 'node:fs';
import { CosyncError } from '../../app/result.js';
import type { LocalFile } from '../../app/sync-model.js';
import { keyLengthProblem } from '../../app/object-key.js';
import type { RemoteObjectDetails } from '../remote/remote-store.js';
import { isRunFatal } from '../transfer/backup.js';
import { contentDigest, METADATA, multipartEtag, PartHasher } from '../transfer/content-digest.js';
import { uploadFile } from '../transfer/upload-file.js';
import { preserveTheirs } from './conflict-executor.js';
import { folderIdOf, keyFingerprintOf, type ExecutorContext } from './executor-context.js';
import { hashFile } from './local-scanner.js';

/** Uploads the local file at `path`, first keeping someone else's object there as a conflict copy if asked. */
export async function uploadAction(context: ExecutorContext, path: string, preserveRemote: boolean, knownNotOurs = false): Promise<void> {
  const { trees, status } = context;
  const local = trees.local.get(path);
  if (local === undefined) return; // Gone since the plan: the next plan decides.
  const key = trees.keyOf(path);
  // The scanner refuses such files; this catches a path known from before (an older journal).
  const tooLong = keyLengthProblem(key);
  if (tooLong !== undefined) throw tooLong;
  if (preserveRemote) await preserveTheirs(context, path, knownNotOurs);
  let bytesDone = 0;
  status.uploading(path, 0, local.sizeBytes);
  const outcome = await uploadFile(
    trees.diskPathOf(path),
    key,
    context.encryption,
    { ...context.upload, signal: context.signal },
    {
      onDidTransfer: (bytes) => {
        bytesDone += bytes;
        status.uploading(path, bytesDone, local.sizeBytes);
      },
      onWillVerify: () => status.verifying(path),
    },
    { sizeBytes: local.sizeBytes, mtimeMs: local.mtimeMs },
    { [METADATA.writer]: folderIdOf(context) },
  );
  trees.commit([
    {
      path,
      synced: {
        path,
        sizeBytes: outcome.sizeBytes,
        mtimeMs: outcome.mtimeMs,
        fileId: local.fileId,
        hash: outcome.md5Hex ?? local.hash,
        etag: outcome.etag,
        keyFingerprint: keyFingerprintOf(context),
      },
      remote: { path, sizeBytes: outcome.sizeBytes, etag: outcome.etag },
    },
  ]);
  context.logger.log('info', 'uploaded', { folder: folderIdOf(context), key, bytes: outcome.sizeBytes, kind: outcome.kind });
}

/**
 * An object we have no record of sits where a local file maps to (a journal lost, a folder
 * re-added, or someone else's file). If its content provably equals the file's, it is ours:
 * record it. Otherwise keep it as a conflict copy and upload the file.
 */
export async function adoptAction(context: ExecutorContext, path: string): Promise<void> {
  const { trees } = context;
  const local = trees.local.get(path);
  if (local === undefined) return;
  context.status.verifying(path);
  let head: RemoteObjectDetails | undefined;
  try {
    head = await context.store.headObject(trees.keyOf(path), context.encryption, { signal: context.signal });
  } catch (error) {
    // Encrypted with another key (or not with ours): it cannot be our content.
    if (!(error instanceof CosyncError) || isRunFatal(error)) throw error;
    head = undefined;
  }
  if (head !== undefined && head.sizeBytes === local.sizeBytes && (await contentMatches(context, path, local, head))) {
    trees.commit([
      {
        path,
        synced: { path, sizeBytes: local.sizeBytes, mtimeMs: local.mtimeMs, fileId: local.fileId, hash: local.hash, etag: head.etag ?? null, keyFingerprint: keyFingerprintOf(context) },
        remote: { path, sizeBytes: head.sizeBytes, etag: head.etag ?? null },
      },
    ]);
    context.logger.log('info', 'adopted', { folder: folderIdOf(context), key: trees.keyOf(path) });
    return;
  }
  // An older write of this folder (the file changed since) is replaced; anyone else's is kept as a conflict copy.
  const ours = head?.metadata[METADATA.writer] === folderIdOf(context);
  await uploadAction(context, path, !ours, true);
}

/** Proves (or not) that the object holds the local file's bytes, using what cosync stored beside it. */
async function contentMatches(context: ExecutorContext, path: string, local: LocalFile, head: RemoteObjectDetails): Promise<boolean> {
  const customerKey = context.encryption.mode === 'c' ? context.encryption.key : undefined;
  const absolute = context.trees.diskPathOf(path);
  const recorded = head.metadata[METADATA.digest];
  if (recorded !== undefined) {
    const md5 = local.hash ?? (await hashFile(absolute, local.sizeBytes, context.signal));
    return contentDigest(Buffer.from(md5, 'hex'), customerKey) === recorded;
  }
  const partBytes = Number(head.metadata[METADATA.partBytes]);
  const etag = head.etag ?? '';
  if (Number.isSafeInteger(partBytes) && partBytes > 0 && /^[0-9a-f]{32}-\d+$/.test(etag)) {
    const hasher = new PartHasher(partBytes);
    for await (const chunk of createReadStream(absolute, { highWaterMark: 1024 * 1024, signal: context.signal })) hasher.update(chunk as Buffer);
    return multipartEtag(hasher.finish().partMd5s) === etag;
  }
  return false;
}
