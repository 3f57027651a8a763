/**
 * `cosync backup` and `cosync restore`: one-off transfers between local files and a bucket.
 * Options are defined in commands.ts. Their exit code tells a partial run (3) and a temporary
 * failure (4) apart from success and failure (exit-codes.ts).
 */
import { resolve } from 'node:path';
import { DEFAULT_RESTORE_REQUEST, MAX_RESTORE_DAYS, parseRestoreTier, RESTORE_TIERS, type RestoreRequest } from '../../app/archive-restore.js';
import type { ErrorCode } from '../../app/result.js';
import { CosyncError } from '../../app/result.js';
import type { TransferEvent } from '../../app/transfer-events.js';
import { openEngine } from '../engine/engine.js';
import { expandBackupPaths, runBackup } from '../transfer/backup.js';
import { abortStaleUploads, DEFAULT_STALE_UPLOAD_HOURS } from '../transfer/stale-uploads.js';
import { credentialsFor, encryptionFor, type Session } from '../engine/session.js';
import { bandwidthLimit, positiveInteger, sizingFromFlags } from './cli-options.js';
import { requireOption, targetFromFlags } from './target-flags.js';
import type { ParsedArguments } from './command-spec.js';
import type { BACKUP_OPTIONS, RESTORE_OPTIONS } from './commands.js';
import { EXIT_CODES, exitCodeForRun } from './exit-codes.js';
import { listenForInterrupt, STOPPING_MESSAGE } from './interrupt.js';
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
  const target = targetFromFlags(values, 'none');
  const sizing = sizingFromFlags(values);
  const partConcurrency = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const staleUploadHours = positiveInteger(values['stale-upload-hours'], 'stale-upload-hours', DEFAULT_STALE_UPLOAD_HOURS, 24 * 365);

  // Everything that can fail without the network fails here, before a byte is sent.
  const { items, skipped } = await expandBackupPaths(positionals, target.prefix);
  const encryption = await encryptionFor(session, target);
  const credentials = await credentialsFor(session, values.account);
  const logger = session.logger;
  const engine = await openEngine(session, { transfers: { parts: partConcurrency, bandwidthBytesPerSecond: bandwidthLimit(values.bwlimit) }, sizing });
  const { journal } = engine;
  const interruption = listenForInterrupt(() => session.io.stderr.write(STOPPING_MESSAGE));
  const { signal } = interruption;
  try {
    const store = await engine.stores.open(target, credentials);
    logger.log('info', 'backup-start', { endpoint: target.endpoint.url, bucket: target.bucket, prefix: target.prefix, sse: target.sse, files: items.length, credentials, encryption });
    await store.checkAccess(target.prefix, { signal });
    const stale = await abortStaleUploads(store, journal, target.prefix, staleUploadHours, logger, new Date(), signal);
    if (stale > 0) session.io.stderr.write(`cosync: aborted ${stale} unfinished multipart upload${stale === 1 ? '' : 's'} older than ${staleUploadHours} h under this prefix\n`);
    const outcome = new RunOutcome(transferPrinter(session.io, values.json === true));
    const { pool } = engine;
    const { succeeded } = await runBackup(items, encryption, { ...pool.uploadContext(store, target, { journal, sizing, logger }), signal }, {
      fileConcurrency: pool.files.concurrency,
      emit: outcome.emit,
      skipped,
      fileQueue: pool.files,
    });
    if (interruption.interrupted) return reportInterrupted(session, 'backup', succeeded);
    return outcome.exitCode(succeeded);
  } catch (error) {
    if (interruption.interrupted) return reportInterrupted(session, 'backup', 0);
    throw error;
  } finally {
    interruption.dispose();
    await engine.close(0);
  }
}

/** With --wait, the first look at archived objects being retrieved: Expedited ones take minutes. */
const FIRST_ARCHIVE_POLL_MS = 60_000;

/**
 * The first pause of --wait: a minute, or COSYNC_ARCHIVE_POLL_MS milliseconds (a whole number ≥ 1),
 * with which the tests drive a retrieval the COS gateway finishes at once.
 */
function firstArchivePollMs(env: NodeJS.ProcessEnv): number {
  const text = env.COSYNC_ARCHIVE_POLL_MS;
  if (text === undefined || text === '') return FIRST_ARCHIVE_POLL_MS;
  if (!/^[1-9]\d*$/.test(text)) throw new CosyncError('usage', `COSYNC_ARCHIVE_POLL_MS=${JSON.stringify(text)} is not a whole number of milliseconds: unset it, or give one such as 60000`);
  return Number(text);
}

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
  const target = targetFromFlags(values, 'none');
  const destination = resolve(requireOption(values.to, 'to DIR', ' (the folder to restore into)'));
  const archiveRestore = archiveRestoreFromFlags(values);
  const waitForArchive = values.wait === true ? { firstPollMs: firstArchivePollMs(session.io.env) } : undefined;
  const { missingRestoreFolders, runRestore } = await import('../transfer/restore.js');
  // A file in the way is refused before any request; the folder itself is made once there is something to restore.
  await missingRestoreFolders(destination);
  const encryption = await encryptionFor(session, target);
  const credentials = await credentialsFor(session, values.account);
  const concurrency = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const engine = await openEngine(session, { transfers: { parts: concurrency, bandwidthBytesPerSecond: bandwidthLimit(values.bwlimit) } });
  const interruption = listenForInterrupt(() => session.io.stderr.write(STOPPING_MESSAGE));
  const { signal } = interruption;
  try {
    // The journal knows which key wrote each object: the factory's store reports a refused key with both fingerprints.
    const store = await engine.stores.open(target, credentials);
    session.logger.log('info', 'restore-start', { endpoint: target.endpoint.url, bucket: target.bucket, prefix: target.prefix, sse: target.sse, destination, encryption });
    await store.checkAccess(target.prefix, { signal });
    const outcome = new RunOutcome(transferPrinter(session.io, values.json === true));
    const { succeeded, retrieving } = await runRestore(
      target.prefix,
      destination,
      encryption,
      { ...engine.pool.downloadContext(store, target, { journal: engine.journal, overwrite: values.overwrite === true }), archiveRestore, signal },
      {
        fileConcurrency: engine.pool.files.concurrency,
        logger: session.logger,
        emit: outcome.emit,
        waitForArchive,
      },
    );
    if (interruption.interrupted) return reportInterrupted(session, 'restore', succeeded);
    return outcome.exitCode(succeeded, retrieving);
  } catch (error) {
    if (interruption.interrupted) return reportInterrupted(session, 'restore', 0);
    throw error;
  } finally {
    interruption.dispose();
    await engine.close(0);
  }
}
