/**
 * The folder-sync commands: `folder add|list|remove|pause|resume`, `sync --once`, `status`,
 * `logs` and `serve` (the headless daemon). Folders live in config.json; their trees and errors
 * in the journal.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_IGNORE_RULES } from '../../app/ignore-rules.js';
import { CosyncError, type ErrorCode } from '../../app/result.js';
import { DELETE_POLICIES, type DeletePolicy, type SyncFolderConfig } from '../../app/sync-model.js';
import { holdsSyncedContent, pathsOf, planSync } from '../../app/sync-planner.js';
import { CLI_FORMAT } from '../../app/format.js';
import { addSyncFolder, findFolder, removeSyncFolder, saveFolderPaused } from '../daemon/folder-admin.js';
import { openEngine } from '../engine/engine.js';
import { cosyncVersion } from '../config/version.js';
import { formatLogFields } from '../log/logger.js';
import { channelHandlers } from '../daemon/api-handlers.js';
import { Daemon } from '../daemon/daemon.js';
import { runningEngine } from '../engine/engine-lock.js';
import { callEngine, reachableEngine } from './engine-client.js';
import { startServer } from './serve.js';
import type { Session } from '../engine/session.js';
import { bandwidthLimit, positiveInteger, sizingFromFlags } from './cli-options.js';
import { targetFromFlags } from './target-flags.js';
import type { ParsedArguments } from './command-spec.js';
import type { FOLDER_ADD_OPTIONS, FOLDER_ID_OPTIONS, FOLDER_LIST_OPTIONS, LOGS_OPTIONS, PAUSE_OPTIONS, SERVE_OPTIONS, STATUS_OPTIONS, SYNC_OPTIONS } from './commands.js';
import { EXIT_CODES, exitCodeForRun } from './exit-codes.js';
import { listenForInterrupt, STOPPING_MESSAGE } from './interrupt.js';

/** `cosync pause [--folder ID]`. */
export async function pauseCommand(parsed: ParsedArguments<typeof PAUSE_OPTIONS>, session: Session): Promise<number> {
  return pauseOrResume(parsed, session, true);
}

/** `cosync resume [--folder ID]`. */
export async function resumeCommand(parsed: ParsedArguments<typeof PAUSE_OPTIONS>, session: Session): Promise<number> {
  return pauseOrResume(parsed, session, false);
}

async function pauseOrResume({ values, positionals }: ParsedArguments<typeof PAUSE_OPTIONS>, session: Session, paused: boolean): Promise<number> {
  const command = paused ? 'pause' : 'resume';
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}; to ${command} one folder: cosync ${command} --folder ID`);
  const folderId = values.folder === undefined ? null : findFolder(await loadFolders(session), values.folder, `cosync ${command} --folder ID`).id;
  return setPaused(session, folderId, paused);
}

async function loadFolders(session: Session): Promise<ReadonlyArray<SyncFolderConfig>> {
  return (await session.config.load()).folders;
}

function describeFolder(folder: SyncFolderConfig): string {
  const encryption = folder.sse === 'c' ? `SSE-C key ${folder.keyName}` : folder.sse === 'none' ? 'no server-side encryption' : `SSE-${folder.sse.toUpperCase()}`;
  return `${folder.id}  ${folder.localPath} → ${folder.endpoint}/${folder.bucket}/${folder.prefix}  (${encryption}${folder.storageClass === undefined ? '' : `, ${folder.storageClass}`}, deletes: ${folder.policy}${folder.paused ? ', paused' : ''})`;
}

// ── folder ──

/** `cosync folder add PATH --endpoint URL --bucket B …`. */
export async function folderAdd({ values, positionals }: ParsedArguments<typeof FOLDER_ADD_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  if (positionals.length !== 1) throw new CosyncError('usage', 'expected: cosync folder add PATH --endpoint URL --bucket B [--prefix P] [--sse none|cos|kms|c] [--key NAME] [--policy keep|mirror|trash]');
  const policy = (values.policy ?? 'keep') as DeletePolicy;
  if (!DELETE_POLICIES.includes(policy)) throw new CosyncError('usage', `--policy must be keep (never delete in the bucket), mirror (delete there too) or trash (move to ${'.cosync-trash/'}); got ${JSON.stringify(values.policy)}`);
  const target = targetFromFlags(values, 'none');
  const engine = await openEngine(session);
  const folder = await addSyncFolder(engine, {
    localPath: positionals[0] as string,
    target,
    policy,
    region: values.region,
    dialect: values.dialect === undefined ? undefined : target.dialect,
    account: values.account,
    kitSaved: values['kit-saved'] === true,
  }).finally(() => engine.close(0));
  if (values.json === true) io.stdout.write(`${JSON.stringify(folder)}\n`);
  else io.stdout.write(`added ${describeFolder(folder)}\nrun \`cosync sync --once\` to sync it now, or \`cosync serve\` to keep it in sync\n`);
  return 0;
}

/** `cosync folder list`. */
export async function folderList({ values }: ParsedArguments<typeof FOLDER_LIST_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  const folders = await loadFolders(session);
  if (values.json === true) io.stdout.write(`${JSON.stringify(folders)}\n`);
  else if (folders.length === 0) io.stdout.write('no sync folders; add one with `cosync folder add PATH --endpoint URL --bucket B`\n');
  else for (const folder of folders) io.stdout.write(`${describeFolder(folder)}\n`);
  return 0;
}

/** `cosync folder remove ID`. */
export async function folderRemove({ positionals }: ParsedArguments<typeof FOLDER_ID_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  const journal = session.openJournal();
  try {
    const folder = await removeSyncFolder(session, journal, findFolder(await loadFolders(session), positionals[0], 'cosync folder remove ID').id);
    io.stdout.write(`removed ${folder.id}: ${folder.localPath} is no longer synced; nothing was deleted locally or in the bucket\n`);
  } finally {
    journal.close();
  }
  return 0;
}

/** `cosync folder pause ID`. */
export async function folderPause({ positionals }: ParsedArguments<typeof FOLDER_ID_OPTIONS>, session: Session): Promise<number> {
  return setPaused(session, findFolder(await loadFolders(session), positionals[0], 'cosync folder pause ID').id, true);
}

/** `cosync folder resume ID`. */
export async function folderResume({ positionals }: ParsedArguments<typeof FOLDER_ID_OPTIONS>, session: Session): Promise<number> {
  return setPaused(session, findFolder(await loadFolders(session), positionals[0], 'cosync folder resume ID').id, false);
}

/**
 * Pauses or resumes a folder (saved in the config, and applied at once by a running engine) or,
 * with no folder, everything in the running engine (until it restarts).
 */
async function setPaused(session: Session, folderId: string | null, paused: boolean): Promise<number> {
  const engine = reachableEngine(session.paths.stateDir);
  const verb = paused ? 'paused' : 'resumed';
  if (engine === undefined && runningEngine(session.paths.stateDir)?.kind === 'desktop') {
    throw new CosyncError('usage', `the cosync desktop app is syncing these folders: ${paused ? 'pause' : 'resume'} from its window or its tray menu`);
  }
  if (engine !== undefined) {
    // The engine saves a folder's flag itself.
    await callEngine(engine, 'sync:set-paused', { folderId, paused });
    session.io.stdout.write(`${folderId ?? 'all folders'} ${verb} (in the running engine, pid ${engine.pid})\n`);
    return 0;
  }
  if (folderId === null) {
    throw new CosyncError('usage', `no cosync engine is running to ${paused ? 'pause' : 'resume'}; \`cosync ${paused ? 'pause' : 'resume'} --folder ID\` saves it for one folder, or start \`cosync serve\``);
  }
  await saveFolderPaused(session, folderId, paused);
  session.io.stdout.write(`${folderId} ${verb}\n`);
  return 0;
}

// ── sync --once ──

/** The folders `sync --once` runs: all, or the one `--folder` names. */
async function foldersToSync(session: Session, folderId: string | undefined): Promise<ReadonlyArray<SyncFolderConfig>> {
  const all = await loadFolders(session);
  const folders = folderId === undefined ? all : [findFolder(all, folderId, 'cosync sync --once --folder ID')];
  if (folders.length === 0) throw new CosyncError('usage', 'no sync folders; add one with `cosync folder add PATH --endpoint URL --bucket B`');
  return folders;
}

/** `cosync sync --once`; exits as exitCodeForRun says (a folder that failed as a whole counts as failed). */
export async function syncCommand({ values, positionals }: ParsedArguments<typeof SYNC_OPTIONS>, session: Session): Promise<number> {
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.once !== true) throw new CosyncError('usage', 'cosync sync needs --once (sync every folder and exit); to keep folders in sync, run `cosync serve`');
  const parts = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const transfers = { parts, bandwidthBytesPerSecond: bandwidthLimit(values.bwlimit) };
  const engine = await openEngine(session, { claim: 'sync-once', transfers, sizing: sizingFromFlags(values) });
  const folders = await foldersToSync(session, values.folder).catch(async (error: unknown) => {
    await engine.close(0);
    throw error;
  });
  const sync = engine.openSync(folders);
  const status = engine.tracker;
  const { io } = session;
  // The run's signal reaches every action of the plan: uploads in flight stop with their parts journaled.
  const interruption = listenForInterrupt(() => io.stderr.write(STOPPING_MESSAGE));
  try {
    const started = Date.now();
    const outcomes = await sync.runOnce({ signal: interruption.signal });
    if (interruption.interrupted) {
      // A folder cut off mid-plan has no count of what it applied (its finished actions are in the
      // journal all the same), so each folder says only whether it finished.
      for (const outcome of outcomes) io.stderr.write(`${outcome.folderId}: ${outcome.ok ? 'finished' : 'interrupted'}\n`);
      session.logger.log('info', 'sync-interrupted', { folders: outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.folderId) });
      io.stderr.write('cosync: sync interrupted; run `cosync sync --once` again to resume — finished parts are kept, and nothing half-done looks complete\n');
      return EXIT_CODES.interrupted.code;
    }
    const failures: ErrorCode[] = [];
    let inSync = 0;
    for (const outcome of outcomes) {
      if (!outcome.ok) {
        failures.push(outcome.error.code);
        if (values.json === true) io.stdout.write(`${JSON.stringify({ type: 'folder-failed', folder: outcome.folderId, error: outcome.error })}\n`);
        else io.stderr.write(`cosync: ${outcome.folderId}: ${outcome.error.message}\n`);
        continue;
      }
      const { result, scan } = outcome;
      failures.push(...result.failed.map((failure) => failure.error.code));
      const counts = status.counts(outcome.folderId);
      // What the tracker holds as synced, not the scan's count less the failures: files the scan
      // refused by name are failures that the scan never counted as files.
      inSync += counts.synced;
      if (values.json === true) {
        io.stdout.write(`${JSON.stringify({ type: 'folder-synced', folder: outcome.folderId, files: scan.files, actions: result.actionsRun, failed: result.failed, skipped: result.skipped, remoteOnly: result.remoteOnly, counts })}\n`);
      } else {
        for (const failure of result.failed) io.stderr.write(`cosync: ${outcome.folderId}: ${failure.path}: ${failure.error.message}\n`);
        for (const skipped of result.skipped) io.stdout.write(`skipped ${skipped.path}: ${skipped.reason}\n`);
        io.stdout.write(
          `${outcome.folderId}: ${scan.files} files, ${result.actionsRun} change${result.actionsRun === 1 ? '' : 's'} applied, ${result.failed.length} failed` +
            `${result.remoteOnly > 0 ? `, ${result.remoteOnly} object${result.remoteOnly === 1 ? '' : 's'} in the bucket not from this folder (left alone)` : ''}\n`,
        );
      }
    }
    if (values.json !== true) io.stdout.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return exitCodeForRun(failures, inSync);
  } finally {
    interruption.dispose();
    await engine.close(0);
  }
}

// ── status ──

type FileState = 'synced' | 'pending' | 'error';

/** `cosync status`. */
export async function statusCommand({ values, positionals }: ParsedArguments<typeof STATUS_OPTIONS>, session: Session): Promise<number> {
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}`);
  const all = await loadFolders(session);
  const folders = values.folder === undefined ? all : [findFolder(all, values.folder, 'cosync status --folder ID')];
  const { io } = session;
  if (folders.length === 0) {
    io.stdout.write(values.json === true ? '[]\n' : 'no sync folders; add one with `cosync folder add PATH --endpoint URL --bucket B`\n');
    return 0;
  }
  const journal = session.openJournal();
  const report = [];
  try {
    for (const folder of folders) {
      // As of the last scan (by `sync --once` or the daemon); the journal is the record.
      const state = journal.loadSyncFolder(folder.id);
      const plan = planSync(state, { policy: folder.policy, trashStamp: 'status', isIgnored: (path) => DEFAULT_IGNORE_RULES.isIgnored(path, false) });
      const pending = new Set(plan.actions.flatMap((action) => (action.kind === 'forget' || action.kind === 'refresh' ? [] : pathsOf(action))));
      const files: Array<{ path: string; state: FileState; bytes: number; error?: { code: string; message: string; attempts: number } }> = [];
      for (const [path, file] of state.local) {
        const error = state.errors.get(path);
        const synced = state.synced.get(path);
        const fileState: FileState = error !== undefined ? 'error' : !pending.has(path) && synced !== undefined && holdsSyncedContent(file, synced) ? 'synced' : 'pending';
        files.push({ path, state: fileState, bytes: file.sizeBytes, ...(error === undefined ? {} : { error: { code: error.code, message: error.message, attempts: error.attempts } }) });
      }
      // Files the scan refused (a name that is not UTF-8, a normalization twin, a key too long) are not in the local tree.
      for (const [path, error] of state.errors) {
        if (!state.local.has(path) && error.code === 'name-unsupported') files.push({ path, state: 'error', bytes: 0, error: { code: error.code, message: error.message, attempts: error.attempts } });
      }
      files.sort((a, b) => (a.path < b.path ? -1 : 1));
      const count = (which: FileState) => files.filter((file) => file.state === which).length;
      report.push({
        folder,
        counts: { synced: count('synced'), pending: count('pending'), error: count('error') },
        bytes: files.reduce((sum, file) => sum + file.bytes, 0),
        pendingDeletes: plan.actions.filter((action) => action.kind === 'delete-remote' || action.kind === 'trash-remote').length,
        remoteOnly: plan.remoteOnly,
        files,
      });
    }
  } finally {
    journal.close();
  }
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify(report.map(({ folder, ...rest }) => ({ id: folder.id, localPath: folder.localPath, paused: folder.paused, ...rest })))}\n`);
    return 0;
  }
  for (const entry of report) {
    const { counts } = entry;
    io.stdout.write(`${describeFolder(entry.folder)}\n`);
    io.stdout.write(
      `  ${counts.synced} synced, ${counts.pending} pending, ${counts.error} failing — ${CLI_FORMAT.bytes(entry.bytes)}` +
        `${entry.pendingDeletes > 0 ? `; ${entry.pendingDeletes} deletion${entry.pendingDeletes === 1 ? '' : 's'} to apply` : ''}` +
        `${entry.remoteOnly > 0 ? `; ${entry.remoteOnly} object${entry.remoteOnly === 1 ? '' : 's'} in the bucket not from this folder` : ''}\n`,
    );
    for (const file of entry.files) {
      if (file.state === 'error') io.stdout.write(`  error    ${file.path}: ${file.error?.message} (${file.error?.attempts} attempt${file.error?.attempts === 1 ? '' : 's'})\n`);
      else if (values.files === true) io.stdout.write(`  ${file.state.padEnd(8)} ${file.path}\n`);
    }
  }
  return 0;
}

// ── logs ──

/** `cosync logs`. */
export async function logsCommand({ values, positionals }: ParsedArguments<typeof LOGS_OPTIONS>, session: Session): Promise<number> {
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}`);
  const count = positiveInteger(values.lines, 'lines', 50, 100_000);
  const logFile = session.logger.file;
  const recent = await session.logger.recentLines(count);
  const { io } = session;
  if (recent.length === 0) {
    io.stdout.write(`no log entries yet (${logFile})\n`);
    return 0;
  }
  for (const line of recent) {
    if (values.json === true) {
      io.stdout.write(`${line}\n`);
      continue;
    }
    try {
      const { time, level, event, ...fields } = JSON.parse(line) as Record<string, unknown>;
      const details = formatLogFields(fields);
      io.stdout.write(`${String(time)} ${String(level).padEnd(5)} ${String(event)}${details === '' ? '' : ` ${details}`}\n`);
    } catch {
      io.stdout.write(`${line}\n`);
    }
  }
  return 0;
}

// ── serve ──

/** `cosync serve`: the headless daemon, until SIGINT or SIGTERM. */
export async function serveCommand({ values, positionals }: ParsedArguments<typeof SERVE_OPTIONS>, session: Session): Promise<number> {
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}`);
  const portText = values.port ?? '0';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CosyncError('usage', `--port must be 0 (any free port) to 65535; got ${JSON.stringify(portText)}`);
  const host = values.host ?? '127.0.0.1';
  const partConcurrency = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const daemon = await Daemon.open(session, { kind: 'serve', version: await cosyncVersion(), partConcurrency, bandwidthBytesPerSecond: bandwidthLimit(values.bwlimit), sizing: sizingFromFlags(values) });
  const token = randomBytes(18).toString('base64url');
  const server = await startServer({ daemon, handlers: channelHandlers(daemon, session), host, port, logger: session.logger, token }).catch(async (error: unknown) => {
    await daemon.stop(0);
    throw error;
  });
  await daemon.advertise(server.url, token);
  const { io } = session;
  const folders = daemon.overview().folders.length;
  io.stdout.write(`cosync: serving ${server.url}\n`);
  io.stdout.write(`cosync: syncing ${folders} folder${folders === 1 ? '' : 's'}; stop with Ctrl-C\n`);
  session.logger.log('info', 'serve-start', { host, port: server.port, folders });
  await daemon.start();
  await new Promise<void>((done) => {
    const stop = (): void => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.stdout.write('cosync: stopping (finishing files in flight)…\n');
  await server.close();
  await daemon.stop();
  session.logger.log('info', 'serve-stop', {});
  return 0;
}
