/**
 * A manual backup: expand the given paths to files, check everything that can be checked before
 * the first byte moves (paths, key, credentials, bucket), then upload files through a file queue
 * (small first) whose parts share one global part queue.
 */
import { lstat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import PQueue from 'p-queue';
import { keyLengthProblem, normalizationTwinProblem, objectKeyFor } from '../../app/object-key.js';
import { CosyncError } from '../../app/result.js';
import type { TransferEvent } from '../../app/transfer-events.js';
import { stopsRun } from '../remote/error-policy.js';
import type { ObjectEncryption } from '../remote/remote-store.js';
import { abortableSleep } from '../remote/wait-clock.js';
import { mayBeUndecodable, readDirectory, undecodableNameProblem } from './file-names.js';
import { uploadFile, type UploadContext } from './upload-file.js';

/** One file to upload. */
export interface BackupItem {
  readonly localPath: string;
  readonly key: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  /**
   * Why this file cannot be backed up (a name that is not UTF-8, a twin under Unicode
   * normalization, a key over the store's limit): reported as a failed file, never sent.
   */
  readonly refused?: CosyncError;
}

/**
 * Expands files and folders (recursively) into upload items. A folder keeps its own name under
 * the prefix (`backup ~/Photos` → `PREFIX/Photos/…`). Symlinks are not followed: they are
 * reported as skipped. Fails before anything is uploaded if a path does not exist.
 */
export async function expandBackupPaths(
  paths: ReadonlyArray<string>,
  prefix: string,
): Promise<{ items: BackupItem[]; skipped: Array<{ path: string; reason: string }> }> {
  const items: BackupItem[] = [];
  const skipped: Array<{ path: string; reason: string }> = [];
  /** Where each key's item is in `items`. */
  const byKey = new Map<string, number>();

  const add = (localPath: string, segments: string[], info: { size: number; mtimeMs: number }): void => {
    const key = objectKeyFor(prefix, segments);
    const index = byKey.get(key);
    const other = index === undefined ? undefined : (items[index] as BackupItem);
    if (index !== undefined && other !== undefined) {
      if (other.localPath.normalize('NFC') !== localPath.normalize('NFC')) {
        throw new CosyncError('usage', `${other.localPath} and ${localPath} would both be stored as ${JSON.stringify(key)}; back them up with different --prefix values`);
      }
      // Twins in one folder (NFC and NFD spellings of one name) are one file's problem, not the
      // run's. The one spelled in NFC on disk is stored, as folder sync chooses (local-scanner.ts).
      const relative = segments.join('/');
      if (relative !== relative.normalize('NFC')) {
        items.push({ localPath, key, sizeBytes: 0, mtimeMs: info.mtimeMs, refused: normalizationTwinProblem(other.localPath, key) });
        return;
      }
      items[index] = { ...other, sizeBytes: 0, refused: normalizationTwinProblem(localPath, key) };
    }
    byKey.set(key, items.length);
    const tooLong = keyLengthProblem(key);
    items.push({ localPath, key, sizeBytes: tooLong === undefined ? info.size : 0, mtimeMs: info.mtimeMs, ...(tooLong === undefined ? {} : { refused: tooLong }) });
  };

  const walk = async (directory: string, segments: string[]): Promise<void> => {
    let listing;
    try {
      listing = await readDirectory(directory);
    } catch (error) {
      throw new CosyncError('path-unreadable', `cannot read folder ${directory}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    for (const entry of listing.undecodable) {
      const path = join(directory, entry.printableName);
      items.push({ localPath: path, key: '', sizeBytes: 0, mtimeMs: 0, refused: undecodableNameProblem(entry.isDirectory) });
    }
    const entries = listing.entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(directory, entry.name);
      if (entry.isSymbolicLink()) skipped.push({ path, reason: 'symbolic link (not followed)' });
      else if (entry.isDirectory()) await walk(path, [...segments, entry.name]);
      else if (entry.isFile()) add(path, [...segments, entry.name], await lstat(path));
      else skipped.push({ path, reason: 'not a regular file' });
    }
  };

  for (const given of paths) {
    const path = resolve(given);
    let info;
    try {
      info = await lstat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Node decodes argv as UTF-8 too: a name given in other bytes arrives with U+FFFD and names no file.
      if (code === 'ENOENT' && mayBeUndecodable(given)) {
        throw new CosyncError(
          'name-unsupported',
          `${given}: no file or folder has this name; if its real name is not valid UTF-8 (each \uFFFD stands for bytes that are not), rename it to UTF-8 first (convmv -f latin1 -t utf8 --notest); nothing was uploaded`,
        );
      }
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new CosyncError('path-not-found', `${given}: no such file or folder; nothing was uploaded`);
      throw new CosyncError('path-unreadable', `${given}: cannot be read (${code ?? 'unknown error'}); nothing was uploaded`);
    }
    const name = basename(path.endsWith(sep) ? path.slice(0, -1) : path);
    if (info.isDirectory()) await walk(path, [name]);
    else if (info.isFile()) add(path, [name], info);
    else if (info.isSymbolicLink()) skipped.push({ path, reason: 'symbolic link (not followed)' });
    else skipped.push({ path, reason: 'not a regular file' });
  }
  return { items, skipped };
}

/**
 * Uploads items; returns counts. Never throws for a single file's failure: it emits file-failed.
 * Once `context.signal` aborts, no file starts, and the files it stopped are neither failed nor
 * done: their multipart uploads stay in the journal, and the next run resumes them.
 */
export async function runBackup(
  items: ReadonlyArray<BackupItem>,
  encryption: ObjectEncryption,
  context: UploadContext,
  options: {
    fileConcurrency: number;
    emit: (event: TransferEvent) => void;
    skipped?: ReadonlyArray<{ path: string; reason: string }>;
    /** A queue shared with other work (the sync engine's), instead of one of this run's own. */
    fileQueue?: PQueue;
  },
): Promise<{ succeeded: number; failed: number }> {
  const started = Date.now();
  const emit = options.emit;
  for (const skip of options.skipped ?? []) emit({ type: 'file-skipped', path: skip.path, reason: skip.reason });
  emit({ type: 'run-started', direction: 'backup', files: items.length, bytes: items.reduce((sum, item) => sum + item.sizeBytes, 0) });

  const fileQueue = options.fileQueue ?? new PQueue({ concurrency: options.fileConcurrency });
  // A function, not a flag read once: the signal may abort while a file is under way.
  const cancelled = (): boolean => context.signal?.aborted === true;
  let succeeded = 0;
  let failed = 0;
  let bytes = 0;
  // After an error that every other file would hit too (credentials, bucket, network), stop early.
  let fatal: CosyncError | undefined;
  const ordered = [...items].sort((a, b) => a.sizeBytes - b.sizeBytes);
  for (const item of ordered) {
    if (item.refused === undefined) continue;
    failed++;
    emit({ type: 'file-failed', path: item.localPath, key: item.key, error: item.refused.toInfo() });
    context.logger.log('error', 'upload-refused', { path: item.localPath, key: item.key, code: item.refused.code, message: item.refused.message });
  }
  await Promise.all(
    ordered.filter((item) => item.refused === undefined).map((item) =>
      fileQueue.add(async () => {
        if (cancelled()) return;
        if (fatal !== undefined) {
          failed++;
          emit({ type: 'file-failed', path: item.localPath, key: item.key, error: { code: fatal.code, message: `not attempted: ${fatal.message}` } });
          return;
        }
        emit({ type: 'file-started', path: item.localPath, key: item.key, bytes: item.sizeBytes });
        let bytesDone = 0;
        // A file that changes while it is read is retried a couple of times before it is reported.
        for (let attempt = 1; ; attempt++) {
          try {
            // The expansion's stat serves the first attempt; a retry after a change stats afresh.
            const observed = attempt === 1 ? { sizeBytes: item.sizeBytes, mtimeMs: item.mtimeMs } : undefined;
            const outcome = await uploadFile(item.localPath, item.key, encryption, context, {
              onDidTransfer: (transferred) => {
                bytesDone += transferred;
                emit({ type: 'file-progress', path: item.localPath, bytesDone, bytes: item.sizeBytes });
              },
              onDidResume: (partsDone, partCount) => emit({ type: 'file-resumed', path: item.localPath, key: item.key, partsDone, partCount }),
            }, observed);
            succeeded++;
            bytes += outcome.sizeBytes;
            const how = outcome.kind === 'multipart' ? `multipart, ${outcome.partCount} parts${outcome.resumedParts > 0 ? `, ${outcome.resumedParts} resumed` : ''}` : 'single request';
            emit({ type: 'file-finished', path: item.localPath, key: item.key, bytes: outcome.sizeBytes, result: 'uploaded', detail: how });
            context.logger.log('info', 'uploaded', { path: item.localPath, key: item.key, bytes: outcome.sizeBytes, kind: outcome.kind });
            return;
          } catch (error) {
            if (cancelled()) return;
            const info = error instanceof CosyncError ? error : new CosyncError('internal', (error as Error).message);
            if (info.code === 'local-changed' && attempt < 3) {
              bytesDone = 0;
              const settled = await abortableSleep(500 * attempt, context.signal).then(() => true, () => false);
              if (!settled) return;
              continue;
            }
            failed++;
            if (isRunFatal(info)) fatal ??= info;
            emit({ type: 'file-failed', path: item.localPath, key: item.key, error: info.toInfo() });
            context.logger.log('error', 'upload-failed', { path: item.localPath, key: item.key, code: info.code, message: info.message });
            return;
          }
        }
      }),
    ),
  );
  emit({ type: 'run-finished', direction: 'backup', succeeded, failed, skipped: options.skipped?.length ?? 0, bytes, seconds: (Date.now() - started) / 1000 });
  return { succeeded, failed };
}

/** Errors that every remaining file of the run would hit as well, or a cancelled run (error-policy.ts). */
export function isRunFatal(error: CosyncError): boolean {
  return stopsRun(error.code);
}
