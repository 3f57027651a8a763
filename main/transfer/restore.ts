/**
 * A restore: list the objects under a prefix and download each into the target folder, through
 * a file queue. Object keys are untrusted input: keys that would escape the folder are skipped.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import PQueue from 'p-queue';
import { relativeSegmentsFor } from '../../app/object-key.js';
import { CosyncError } from '../../app/result.js';
import type { TransferEvent } from '../../app/transfer-events.js';
import type { Logger } from '../log/logger.js';
import type { ObjectEncryption } from '../remote/remote-store.js';
import { abortableSleep } from '../remote/wait-clock.js';
import { isRunFatal } from './backup.js';
import { downloadFile, type DownloadContext } from './download-file.js';

/**
 * The folders of `destination` that do not exist yet, outermost first; refuses a destination that
 * is a file or lies under one. Writes nothing, so it can run before any request.
 */
export async function missingRestoreFolders(destination: string): Promise<string[]> {
  const missing: string[] = [];
  for (let path = destination; ; path = dirname(path)) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw new CosyncError('path-unreadable', `cannot restore into ${destination}: ${path} cannot be read (${error.code ?? error.message})`);
    });
    if (info?.isDirectory() === true) return missing;
    if (info !== undefined) {
      throw new CosyncError('usage', path === destination ? `cannot restore into ${destination}: it is a file, not a folder` : `cannot restore into ${destination}: ${path} is a file, not a folder`);
    }
    if (dirname(path) === path) return missing;
    missing.unshift(path);
  }
}

/**
 * Creates the restore folder one level at a time, only once there is something to restore. Not
 * `mkdir({ recursive: true })`: on Node 20 and 24 (checked on 24.22.3) that never returns where mkdir fails with ENOENT under
 * an existing folder (as in /proc), and its errors name no folder the user gave.
 */
async function createRestoreFolder(destination: string): Promise<void> {
  for (const folder of await missingRestoreFolders(destination)) {
    await mkdir(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return;
      throw new CosyncError('path-unreadable', `cannot create the folder ${folder} (${error.code ?? error.message}); nothing was restored — restore into a folder you may write to`);
    });
  }
}

interface RestoreItem {
  readonly key: string;
  readonly path: string;
  readonly sizeBytes: number;
}

/** The longest pause between two looks at archived objects being retrieved (--wait). */
const MAX_ARCHIVE_POLL_MS = 15 * 60_000;

/**
 * Restores every object under `prefix` into `destination` (created when there is something to restore).
 * Archived objects are asked to be retrieved and counted as `retrieving`, not failed. Once
 * `context.signal` aborts, no file starts; ranged downloads it stopped resume on the next run.
 */
export async function runRestore(
  prefix: string,
  destination: string,
  encryption: ObjectEncryption,
  context: DownloadContext,
  options: {
    fileConcurrency: number;
    logger: Logger;
    emit: (event: TransferEvent) => void;
    /** Keep polling archived objects until they are retrieved, then download them (`--wait`). */
    waitForArchive?: { readonly firstPollMs: number } | undefined;
  },
): Promise<{ succeeded: number; failed: number; retrieving: number }> {
  const { store } = context;
  const started = Date.now();
  const { emit } = options;
  const items: RestoreItem[] = [];
  let skipped = 0;
  for await (const object of store.listObjects(prefix, { signal: context.signal })) {
    const mapped = relativeSegmentsFor(prefix, object.key);
    if ('skip' in mapped) {
      if (mapped.skip !== 'a folder marker') {
        skipped++;
        emit({ type: 'file-skipped', path: object.key, reason: mapped.skip });
      }
      continue;
    }
    items.push({ key: object.key, path: join(destination, ...mapped.segments), sizeBytes: object.sizeBytes });
  }
  if (items.length === 0 && skipped === 0 && prefix !== '') {
    // `--prefix photos/a.jpg` names one object rather than a folder: restore just that file.
    const exactKey = prefix.slice(0, -1);
    const single = await store.headObject(exactKey, encryption, { signal: context.signal });
    if (single !== undefined) items.push({ key: exactKey, path: join(destination, exactKey.slice(exactKey.lastIndexOf('/') + 1)), sizeBytes: single.sizeBytes });
  }
  if (items.length === 0 && skipped === 0) {
    throw new CosyncError(
      'object-not-found',
      `nothing to restore: no objects under ${prefix === '' ? 'the bucket root' : `prefix ${JSON.stringify(prefix)}`} in ${store.description}; check --prefix (it is matched from the start of the object key)`,
    );
  }
  await createRestoreFolder(destination);
  emit({ type: 'run-started', direction: 'restore', files: items.length, bytes: items.reduce((sum, item) => sum + item.sizeBytes, 0) });

  const queue = new PQueue({ concurrency: options.fileConcurrency });
  // A function, not a flag read once: the signal may abort while a file is under way.
  const cancelled = (): boolean => context.signal?.aborted === true;
  let succeeded = 0;
  let failed = 0;
  let bytes = 0;
  let fatal: CosyncError | undefined;
  /** Archived objects whose retrieval is under way, for another look (--wait) or a later run. */
  let retrieving: RestoreItem[] = [];
  const restoreItem = async (item: RestoreItem, firstLook: boolean): Promise<void> => {
    // Cancelled: what did not start is left, and what was stopped is neither failed nor done (its parts stay journaled).
    if (cancelled()) return;
    if (fatal !== undefined) {
      failed++;
      emit({ type: 'file-failed', path: item.path, key: item.key, error: { code: fatal.code, message: `not attempted: ${fatal.message}` } });
      return;
    }
    if (firstLook) emit({ type: 'file-started', path: item.path, key: item.key, bytes: item.sizeBytes });
    let bytesDone = 0;
    try {
      const outcome = await downloadFile(item.key, item.path, encryption, context, {
        onDidTransfer: (transferred) => {
          bytesDone += transferred;
          emit({ type: 'file-progress', path: item.path, bytesDone, bytes: item.sizeBytes });
        },
        onDidResume: (partsDone, partCount) => emit({ type: 'file-resumed', path: item.path, key: item.key, partsDone, partCount }),
      });
      if (outcome.kind === 'retrieving') {
        retrieving.push(item);
        if (firstLook) emit({ type: 'file-retrieving', path: item.path, key: item.key, storageClass: outcome.storageClass, readyIn: outcome.readyIn });
        options.logger.log('info', 'restore-retrieving', { path: item.path, key: item.key, storageClass: outcome.storageClass, requested: outcome.requested });
        return;
      }
      succeeded++;
      bytes += outcome.sizeBytes;
      const detail = outcome.verification === 'size-only' ? 'size checked (no content digest available)' : `verified by ${outcome.verification}`;
      emit({ type: 'file-finished', path: item.path, key: item.key, bytes: outcome.sizeBytes, result: outcome.kind, detail });
      options.logger.log('info', outcome.kind, { path: item.path, key: item.key, bytes: outcome.sizeBytes, verification: outcome.verification });
    } catch (error) {
      if (cancelled()) return;
      const info = error instanceof CosyncError ? error : new CosyncError('internal', (error as Error).message);
      failed++;
      if (isRunFatal(info)) fatal ??= info;
      emit({ type: 'file-failed', path: item.path, key: item.key, error: info.toInfo() });
      options.logger.log('error', 'restore-failed', { path: item.path, key: item.key, code: info.code, message: info.message });
    }
  };
  await Promise.all(items.map((item) => queue.add(() => restoreItem(item, true))));
  // --wait: look again (HEAD, no new POST) with growing pauses until every retrieval is done.
  for (let pause = options.waitForArchive?.firstPollMs; pause !== undefined && retrieving.length > 0 && fatal === undefined; pause = Math.min(pause * 2, MAX_ARCHIVE_POLL_MS)) {
    if (!(await abortableSleep(pause, context.signal).then(() => true, () => false))) break;
    const again = retrieving;
    retrieving = [];
    await Promise.all(again.map((item) => queue.add(() => restoreItem(item, false))));
  }
  emit({ type: 'run-finished', direction: 'restore', succeeded, failed, skipped, retrieving: retrieving.length, bytes, seconds: (Date.now() - started) / 1000 });
  return { succeeded, failed, retrieving: retrieving.length };
}
