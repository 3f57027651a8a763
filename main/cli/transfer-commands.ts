/**
 * `cosync backup` and `cosync restore`: one-off transfers between local files and a bucket.
 * Options are defined in commands.ts. Their exit code tells a partial run (3) and a temporary
 * failure (4) apart from success and failure (exit-codes.ts).
 */
import { resolve } from 'node:path';
import PQueue from 'p-queue';
import { DEFAULT_RESTORE_REQUEST, MAX_RESTORE_DAYS, parseRestoreTier, RESTORE_TIERS, type RestoreRequest } from '../../app/archive-restore.js';
import type { ErrorCode } from '../../app/result.js';
import { COS_LIMITS, S3_LIMITS } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import type { TransferEvent } from '../../app/transfer-events.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { expandBackupPaths, runBackup } from '../transfer/backup.js';
import { BufferPool } from '../transfer/buffer-pool.js';
import { abortStaleUploads, DEFAULT_STALE_UPLOAD_HOURS } from '../transfer/stale-uploads.js';
import { credentialsFor, encryptionFor, requireOption, retryLogger, targetFromSettings, type Session } from '../session/session.js';
import { bandwidthLimit, positiveInteger, sizingFromFlags } from './cli-options.js';
import type { ParsedArguments } from './command-spec.js';
import type { BACKUP_OPTIONS, RESTORE_OPTIONS } from './commands.js';
import { EXIT_CODES, exitCodeForRun } from './exit-codes.js';
import { listenForInterrupt } from './interrupt.js';
import { transferPrinter } from './output.js';

/** Passes a run's events on to the printer and keeps the error codes of the files that failed. */
class RunOutcome {
  readonly #failures: ErrorCode[] = [];

  constructor(readonly print: (event: TransferEvent) => void) {}

  readonly emit = (event: TransferEvent): void => {
    if (event.type === 'file-failed') this.#failures.push(event.error.code);
    this.print(event);
  };

  exitCode(succeeded: number, retrieving = 0): number {
    return exitCodeForRun(this.#failures, succeeded, retrieving);
  }
}

const STOPPING = 'cosync: stopping: no new file or part starts; parts in flight finish or are kept to resume (Ctrl-C again quits at once)\n';

/** Says that a run was interrupted and how to go on from there; exits EXIT_CODES.interrupted. */
function reportInterrupted(session: Session, command: 'backup' | 'restore', done: number): number {
  const verb = command === 'backup' ? 'uploaded' : 'restored';
  session.logger.log('info', `${command}-interrupted`, { done });
  session.io.stderr.write(
    `cosync: ${command} interrupted: ${done} file${done === 1 ? '' : 's'} ${verb}; run the same command again to resume — finished parts are kept, and nothing half-done looks complete\n`,
  );
  return EXIT_CODES.interrupted.code;
}

/** `cosync backup PATH... --endpoint URL --bucket B`; exits as exitCodeForRun says, or EXIT_CODES.interrupted on Ctrl-C. */
export async function backupCommand({ values, positionals }: ParsedArguments<typeof BACKUP_OPTIONS>, session: Session): Promise<number> {
  if (positionals.length === 0) throw new CosyncError('usage', 'expected: cosync backup PATH... --endpoint URL --bucket B');
  const target = targetFromSettings(values, 'none');
  const limits = target.dialect === 'cos' ? COS_LIMITS : S3_LIMITS;
  const sizing = sizingFromFlags(values);
  const partConcurrency = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const staleUploadHours = positiveInteger(values['stale-upload-hours'], 'stale-upload-hours', DEFAULT_STALE_UPLOAD_HOURS, 24 * 365);

  // Everything that can fail without the network fails here, before a byte is sent.
  const { items, skipped } = await expandBackupPaths(positionals, target.prefix);
  const encryption = await encryptionFor(session, target);
  const credentials = await credentialsFor(session, values.account);
  const logger = session.logger;
  const store = new S3RemoteStore(target, credentials, { maxSockets: partConcurrency + 4, onRetry: retryLogger(logger) });
  logger.log('info', 'backup-start', { endpoint: target.endpoint.url, bucket: target.bucket, prefix: target.prefix, sse: target.sse, files: items.length, credentials, encryption });
  const journal = session.openJournal();
  const interruption = listenForInterrupt(() => session.io.stderr.write(STOPPING));
  const { signal } = interruption;
  try {
    await store.checkAccess(target.prefix, { signal });
    const stale = await abortStaleUploads(store, journal, target.prefix, staleUploadHours, logger, new Date(), signal);
    if (stale > 0) session.io.stderr.write(`cosync: aborted ${stale} unfinished multipart upload${stale === 1 ? '' : 's'} older than ${staleUploadHours} h under this prefix\n`);
    const outcome = new RunOutcome(transferPrinter(session.io, values.json === true));
    const { succeeded } = await runBackup(
      items,
      encryption,
      {
        store,
        journal,
        endpointId: target.endpoint.url,
        bucket: target.bucket,
        limits,
        sizing,
        partQueue: new PQueue({ concurrency: partConcurrency }),
        buffers: new BufferPool(partConcurrency),
        crc64Parts: target.dialect === 'cos',
        storageClass: target.storageClass,
        bandwidth: bandwidthLimit(values.bwlimit),
        logger,
        signal,
      },
      { fileConcurrency: Math.max(2, Math.min(partConcurrency, 8)), emit: outcome.emit, skipped },
    );
    if (interruption.interrupted) return reportInterrupted(session, 'backup', succeeded);
    return outcome.exitCode(succeeded);
  } catch (error) {
    if (interruption.interrupted) return reportInterrupted(session, 'backup', 0);
    throw error;
  } finally {
    interruption.dispose();
    journal.close();
    store.close();
  }
}

/** With --wait, the first look at archived objects being retrieved: Expedited ones take minutes. */
const FIRST_ARCHIVE_POLL_MS = 60_000;

/** `--restore-tier` and `--restore-days`, checked before any request. */
function archiveRestoreFromFlags(values: { 'restore-tier'?: string | undefined; 'restore-days'?: string | undefined }): RestoreRequest {
  const tierText = values['restore-tier'];
  const tier = tierText === undefined ? DEFAULT_RESTORE_REQUEST.tier : parseRestoreTier(tierText);
  if (tier === undefined) throw new CosyncError('usage', `--restore-tier ${JSON.stringify(tierText)} is not a retrieval tier: use ${RESTORE_TIERS.join(', ')}`);
  const days = positiveInteger(values['restore-days'], 'restore-days', DEFAULT_RESTORE_REQUEST.days, MAX_RESTORE_DAYS);
  return { tier, days };
}

/** `cosync restore --endpoint URL --bucket B --to DIR`; exits as exitCodeForRun says, or EXIT_CODES.interrupted on Ctrl-C. */
export async function restoreCommand({ values, positionals }: ParsedArguments<typeof RESTORE_OPTIONS>, session: Session): Promise<number> {
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}; restore takes --to DIR`);
  const target = targetFromSettings(values, 'none');
  const destination = resolve(requireOption(values.to, 'to DIR', ' (the folder to restore into)'));
  const archiveRestore = archiveRestoreFromFlags(values);
  const { missingRestoreFolders, runRestore } = await import('../transfer/restore.js');
  // A file in the way is refused before any request; the folder itself is made once there is something to restore.
  await missingRestoreFolders(destination);
  const encryption = await encryptionFor(session, target);
  const credentials = await credentialsFor(session, values.account);
  const concurrency = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const journal = session.openJournal();
  // The journal knows which key wrote each object: a refused key is reported with both fingerprints.
  const recordedKeyFingerprint = await session.recordedKeyFingerprints(journal, target);
  const store = new S3RemoteStore(target, credentials, { maxSockets: concurrency + 4, onRetry: retryLogger(session.logger), recordedKeyFingerprint });
  session.logger.log('info', 'restore-start', { endpoint: target.endpoint.url, bucket: target.bucket, prefix: target.prefix, sse: target.sse, destination, encryption });
  const interruption = listenForInterrupt(() => session.io.stderr.write(STOPPING));
  const { signal } = interruption;
  try {
    await store.checkAccess(target.prefix, { signal });
    const outcome = new RunOutcome(transferPrinter(session.io, values.json === true));
    const { succeeded, retrieving } = await runRestore(
      target.prefix,
      destination,
      encryption,
      {
        store,
        overwrite: values.overwrite === true,
        endpointId: target.endpoint.url,
        bucket: target.bucket,
        journal,
        partQueue: new PQueue({ concurrency }),
        bandwidth: bandwidthLimit(values.bwlimit),
        archiveRestore,
        signal,
      },
      {
        fileConcurrency: Math.max(2, Math.min(concurrency, 8)),
        logger: session.logger,
        emit: outcome.emit,
        waitForArchive: values.wait === true ? { firstPollMs: FIRST_ARCHIVE_POLL_MS } : undefined,
      },
    );
    if (interruption.interrupted) return reportInterrupted(session, 'restore', succeeded);
    return outcome.exitCode(succeeded, retrieving);
  } catch (error) {
    if (interruption.interrupted) return reportInterrupted(session, 'restore', 0);
    throw error;
  } finally {
    interruption.dispose();
    journal.close();
    store.close();
  }
}
