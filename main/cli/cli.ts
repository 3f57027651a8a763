/**
 * The `cosync` command line: keys, credentials, backup and restore, headless.
 *
 * Every command validates all its input before touching the network or the disk, prints errors
 * as one line on stderr (`cosync: …`), and exits non-zero on failure (2 for usage errors).
 *
 * Commands other than backup load their modules when they run: a backup of many small files is
 * CPU-bound on machines shared with the server, and loading the sync engine, restore and key
 * administration it never uses cost about a tenth of a CPU-second per run (bench:upload).
 */
import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import PQueue from 'p-queue';
import { parseBase64Key, parseRawTextKey, validateKeyName } from '../../app/keys.js';
import { COS_LIMITS, S3_LIMITS } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import { normalizePrefix, parseEndpoint, validateBucketName } from '../../app/target.js';
import { cosyncVersion } from '../config/version.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { DEFAULT_ACCOUNT } from '../secrets/keychain.js';
import { SseCustomerKey, StoreCredentials } from '../secrets/secret-values.js';
import type { KeyCheck } from '../secrets/verify-key.js';
import { expandBackupPaths, runBackup } from '../transfer/backup.js';
import { BufferPool } from '../transfer/buffer-pool.js';
import { abortStaleUploads, DEFAULT_STALE_UPLOAD_HOURS } from '../transfer/stale-uploads.js';
import { transferPrinter } from './output.js';
import { credentialsFor, encryptionFor, requireOption, retryLogger, Session, targetFromSettings, type SessionDependencies, type SessionIo } from '../session/session.js';
import { bandwidthLimit, parse, positiveInteger, SIZING_OPTIONS, sizingFromFlags, TARGET_OPTIONS } from './cli-options.js';



const USAGE = `cosync — encrypted backup to Tencent COS and S3-compatible storage

Usage: cosync <command> [options]

Keys (SSE-C, kept only in the OS keychain, or in the file keystore with --keystore file):
  key generate NAME                  make a new 256-bit key; prints its fingerprint
  key import NAME --from KIT         import from a recovery kit file
  key import NAME --base64 B64       import a base64 key (or --stdin to read it; --raw for a 32-character text key)
             [--folder ID | (--endpoint URL | --region COS-REGION) --bucket B [--prefix P] [--path-style] [--dialect cos|s3]] [--account NAME]
                                     first HEAD existing objects there with the key; if it decrypts none, nothing is stored
  key export NAME --out FILE         write a recovery kit (JSON, mode 0600) [--printable: text to print] [--endpoint --bucket --prefix] [--force]
  key list                           names and fingerprints
  key verify NAME --endpoint URL --bucket B [--prefix P] [--limit N]
                                     HEAD up to N objects (20) with the key: match / MISMATCH / not SSE-C
  key delete NAME --yes              remove a key from the keychain (objects encrypted with it become unreadable)
  key rotate NAME --folder ID --kit-out FILE [--force] [--concurrency N] [--json]
                                     new key for sync folder ID: its kit goes to FILE first, then every object of the
                                     folder (trash and conflict copies too) is re-encrypted in place; the old key stays
                                     in the keychain until the last object is done (the new one waits as NAME.rotating).
                                     Interrupted, the same command resumes. Stop \`serve\` for that folder meanwhile.

Credentials (COS SecretId/SecretKey or S3 access keys, kept in the OS keychain):
  credentials set --secret-id ID [--account NAME]    reads the secret key from stdin (or --secret-key-env VAR)
  credentials show [--account NAME]
  credentials delete [--account NAME]
  (COSYNC_SECRET_ID and COSYNC_SECRET_KEY in the environment take precedence over the keychain)

File keystore (--keystore file or COSYNC_KEYSTORE=file):
  keystore passphrase                re-encrypt it under a new passphrase (fresh salt, current scrypt cost): the current
                                     one as always from COSYNC_KEYSTORE_PASSPHRASE_FILE or COSYNC_KEYSTORE_PASSPHRASE, the
                                     new one (at least 8 characters) from the file named by COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE
                                     (mode 0600), from COSYNC_KEYSTORE_NEW_PASSPHRASE, or from the first line of piped stdin

Transfers:
  backup PATH... (--endpoint URL | --region COS-REGION) --bucket B [--prefix P] [--sse none|cos|kms|c] [--key NAME]
         [--kms-key-id ID] [--path-style] [--dialect cos|s3] [--region R] [--account NAME] [--json]
         [--concurrency N] [--part-size MIB] [--multipart-threshold MIB] [--bwlimit MIB/S]
         [--stale-upload-hours H]   (unfinished uploads older than H hours, default 24, are aborted)
  restore (--endpoint URL | --region COS-REGION) --bucket B [--prefix P] --to DIR [--key NAME] [--path-style] [--dialect cos|s3]
         [--region R] [--account NAME] [--overwrite] [--json] [--concurrency N] [--bwlimit MIB/S]

  Tencent COS: --region ap-guangzhou alone selects https://cos.ap-guangzhou.myqcloud.com, the
  virtual-hosted BUCKET-APPID.cos.REGION.myqcloud.com addresses and COS's x-cos- headers.
  --dialect cos|s3 overrides the choice by host: cos for a custom or CDN domain or a private COS
  deployment, s3 for any other S3-compatible store. COS refuses --path-style (buckets since 2024).

Folder sync (one-way mirror, local folder → bucket/prefix):
  folder add PATH (--endpoint URL | --region COS-REGION) --bucket B [--prefix P] [--sse none|cos|kms|c] [--key NAME]
             [--policy keep|mirror|trash] [--path-style] [--dialect cos|s3] [--account NAME] [--kit-saved]
                                     with --key, the key's recovery kit must have been exported first
                                     (cosync key export), or --kit-saved acknowledges it is kept elsewhere
                                     deletes: keep (default: objects stay), mirror (deleted too), trash (moved to .cosync-trash/DATE/)
  folder list [--json] | folder remove ID | folder pause ID | folder resume ID
  sync --once [--folder ID] [--json] [--concurrency N] [--bwlimit MIB/S]
                                     sync every folder to convergence and exit (for scripts and cron)
  serve [--port N] [--host H]        keep every folder in sync (watching), and serve the UI and API; prints the URL
  pause [--folder ID] | resume [--folder ID]
                                     in the running engine: everything (until it restarts), or one folder (saved)
  status [--folder ID] [--files] [--json]
                                     per folder and per file, as of the last scan
  logs [--lines N] [--json]          recent log entries (secrets are never logged)
  A .cosyncignore file (gitignore syntax) at the folder's root excludes paths; temp and OS files are always excluded.

Global options:
  --config-dir DIR    keep config, journal and logs in DIR (or set COSYNC_CONFIG_DIR)
  --keystore os|file  where keys and credentials live (or set COSYNC_KEYSTORE): os, the OS keychain (default);
                      file, for servers without a keyring: keystore.json in the config dir, encrypted with a
                      passphrase (scrypt + AES-256-GCM) read from the file named by COSYNC_KEYSTORE_PASSPHRASE_FILE
                      (mode 0600) or from COSYNC_KEYSTORE_PASSPHRASE — never from the command line
  -h, --help          this help
  --version           print the version
`;


/** Runs one CLI invocation; resolves to the process exit code. */
export async function runCli(argv: ReadonlyArray<string>, dependencies: SessionDependencies): Promise<number> {
  const { io } = dependencies;
  const session = new Session(dependencies);
  try {
    const [group, ...rest] = argv;
    if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
      io.stdout.write(USAGE);
      return group === undefined ? 2 : 0;
    }
    if (group === '--version') {
      io.stdout.write(`${await cosyncVersion()}\n`);
      return 0;
    }
    switch (group) {
      case 'key':
        return await keyCommand(rest, session);
      case 'credentials':
        return await credentialsCommand(rest, session);
      case 'keystore': {
        const { keystoreCommand } = await import('./keystore-command.js');
        return await keystoreCommand(rest, session);
      }
      case 'backup':
        return await backupCommand(rest, session);
      case 'restore':
        return await restoreCommand(rest, session);
      default: {
        const { syncCommands } = await import('./sync-commands.js');
        const code = await syncCommands(group, rest, session);
        if (code !== undefined) return code;
        throw new CosyncError('usage', `unknown command ${JSON.stringify(group)}; run \`cosync --help\` for the list`);
      }
    }
  } catch (error) {
    const known = error instanceof CosyncError ? error : undefined;
    const message = known?.message ?? describeUnexpected(error);
    io.stderr.write(`cosync: ${message}\n`);
    session.openedLogger?.log('error', 'command-failed', { code: known?.code ?? 'internal', message });
    return known?.code === 'usage' || isParseArgsError(error) ? 2 : 1;
  } finally {
    session.close();
  }
}

/** parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION; their messages are clear. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function describeUnexpected(error: unknown): string {
  if (isParseArgsError(error)) return `${(error as Error).message}; run \`cosync --help\``;
  return `unexpected error: ${(error as Error).message ?? String(error)}`;
}

// ── key ─────────────────────────────────────────────────────────────────────────────

async function keyCommand(args: ReadonlyArray<string>, session: Session): Promise<number> {
  const [action, ...rest] = args;
  const { io } = session;
  switch (action) {
    case 'generate': {
      const { positionals } = parse(rest, {}, session);
      const name = validateKeyName(singleName(positionals, 'key generate NAME'));
      const { generateKey } = await import('../secrets/key-admin.js');
      const { key } = await generateKey(session, name);
      io.stdout.write(`fingerprint: ${key.fingerprint}\n`);
      io.stderr.write(`Export a recovery kit now (\`cosync key export ${name} --out FILE\`): without the key, data encrypted with it cannot be recovered.\n`);
      return 0;
    }
    case 'import': {
      const [{ checkImportedKey, IMPORT_CHECK_OPTIONS }, { storeImportedKey }, { readKit }] = await Promise.all([
        import('./key-import-check.js'),
        import('../secrets/key-admin.js'),
        import('../secrets/recovery-kit.js'),
      ]);
      const { values, positionals } = parse(
        rest,
        { from: { type: 'string' }, base64: { type: 'string' }, stdin: { type: 'boolean' }, raw: { type: 'boolean' }, replace: { type: 'boolean' }, ...IMPORT_CHECK_OPTIONS },
        session,
      );
      const name = validateKeyName(singleName(positionals, 'key import NAME --from KIT | --base64 B64 | --stdin'));
      const sources = [values.from, values.base64, values.stdin === true ? 'stdin' : undefined].filter((source) => source !== undefined);
      if (sources.length !== 1) throw new CosyncError('usage', 'key import needs exactly one of --from KIT, --base64 B64 or --stdin');
      let key: SseCustomerKey;
      if (values.from !== undefined) {
        if (values.raw === true) throw new CosyncError('usage', '--raw applies to --base64 or --stdin input, not to a recovery kit');
        key = (await readKit(values.from)).key;
      } else {
        const text = values.base64 ?? (await readAllStdin(io));
        key = new SseCustomerKey(values.raw === true ? parseRawTextKey(text) : parseBase64Key(text));
      }
      // Before anything is stored: a kit of other data is refused here, not at the first restore.
      const checked = await checkImportedKey(session, name, key, values);
      await storeImportedKey(session, name, key, { replace: values.replace === true, fromKit: values.from !== undefined, checked });
      if (checked !== undefined) io.stderr.write(`${checked}\n`);
      io.stdout.write(`fingerprint: ${key.fingerprint}\n`);
      return 0;
    }
    case 'export': {
      const { values, positionals } = parse(
        rest,
        { out: { type: 'string' }, force: { type: 'boolean' }, printable: { type: 'boolean' }, endpoint: { type: 'string' }, bucket: { type: 'string' }, prefix: { type: 'string' } },
        session,
      );
      const name = validateKeyName(singleName(positionals, 'key export NAME --out FILE'));
      const out = resolve(requireOption(values.out, 'out FILE', ' (where to write the recovery kit)'));
      const location = {
        endpoint: values.endpoint === undefined ? undefined : parseEndpoint(values.endpoint).url,
        bucket: values.bucket === undefined ? undefined : validateBucketName(values.bucket),
        prefix: values.prefix === undefined ? undefined : normalizePrefix(values.prefix),
      };
      const { exportRecoveryKit } = await import('../secrets/key-admin.js');
      const { key } = await exportRecoveryKit(session, name, out, location, { force: values.force === true, printable: values.printable === true });
      io.stdout.write(`recovery kit written to ${out} (fingerprint ${key.fingerprint}); store it offline — anyone with it can read the data\n`);
      return 0;
    }
    case 'list': {
      parse(rest, {}, session);
      const keys = await session.keychain.listKeys();
      if (keys.length === 0) io.stdout.write('no keys; create one with `cosync key generate NAME`\n');
      for (const key of keys) io.stdout.write(`${key.name}\t${key.fingerprint ?? '(damaged)'}\n`);
      return 0;
    }
    case 'delete': {
      const { values, positionals } = parse(rest, { yes: { type: 'boolean' } }, session);
      const name = validateKeyName(singleName(positionals, 'key delete NAME --yes'));
      if (values.yes !== true) {
        throw new CosyncError('usage', `deleting key ${JSON.stringify(name)} makes every object encrypted with it unreadable unless you kept its recovery kit; pass --yes to confirm`);
      }
      if (!(await session.keychain.deleteKey(name))) throw new CosyncError('key-not-found', `no SSE-C key named ${JSON.stringify(name)} in the keychain`);
      await session.config.update((config) => ({ ...config, keys: Object.fromEntries(Object.entries(config.keys).filter(([keyName]) => keyName !== name)) }));
      session.logger.log('info', 'key-deleted', { name });
      io.stdout.write(`deleted key ${name}\n`);
      return 0;
    }
    case 'verify': {
      const { values, positionals } = parse(rest, { ...TARGET_OPTIONS, limit: { type: 'string' } }, session);
      const name = validateKeyName(singleName(positionals, 'key verify NAME --endpoint URL --bucket B [--prefix P]'));
      const target = targetFromSettings({ ...values, sse: 'c', key: name }, 'c');
      const limit = positiveInteger(values.limit, 'limit', 20, 1_000_000);
      const key = await session.keychain.getKey(name);
      const store = new S3RemoteStore(target, await credentialsFor(session, values.account));
      const journal = session.openJournal();
      try {
        const recordedFingerprint = await session.recordedKeyFingerprints(journal, target);
        await store.checkAccess(target.prefix);
        const { verifyKeyAgainstObjects } = await import('../secrets/verify-key.js');
        const results = await verifyKeyAgainstObjects(store, key, target.prefix, limit);
        if (results.length === 0) throw new CosyncError('object-not-found', `no objects under ${target.prefix === '' ? 'the bucket root' : `prefix ${JSON.stringify(target.prefix)}`} to check the key against`);
        const label: Record<KeyCheck, string> = { match: 'match    ', mismatch: 'MISMATCH ', 'not-sse-c': 'not SSE-C' };
        for (const { objectKey, result } of results) {
          const recorded = result === 'mismatch' ? recordedFingerprint(objectKey) : undefined;
          io.stdout.write(`${label[result]} ${objectKey}${recorded === undefined ? '' : ` (encrypted with key fingerprint ${recorded})`}\n`);
        }
        const matched = results.filter((entry) => entry.result === 'match').length;
        const mismatched = results.filter((entry) => entry.result === 'mismatch').length;
        io.stdout.write(`key ${name} (fingerprint ${key.fingerprint}): ${matched} of ${results.length} checked objects match, ${mismatched} encrypted with another key\n`);
        return mismatched === 0 && matched > 0 ? 0 : 1;
      } finally {
        store.close();
        journal.close();
      }
    }
    case 'rotate': {
      const { KEY_ROTATE_OPTIONS, keyRotateCommand } = await import('./key-rotate-command.js');
      const { values, positionals } = parse(rest, KEY_ROTATE_OPTIONS, session);
      return keyRotateCommand(validateKeyName(singleName(positionals, 'key rotate NAME --folder ID --kit-out FILE')), values, session);
    }
    default:
      throw new CosyncError('usage', `unknown key action ${JSON.stringify(action ?? '')}: use generate, import, export, list, verify, delete or rotate`);
  }
}

function singleName(positionals: ReadonlyArray<string>, usage: string): string {
  if (positionals.length !== 1) throw new CosyncError('usage', `expected: cosync ${usage}`);
  return positionals[0] as string;
}

async function readAllStdin(io: SessionIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

// ── credentials ─────────────────────────────────────────────────────────────────────

async function credentialsCommand(args: ReadonlyArray<string>, session: Session): Promise<number> {
  const [action, ...rest] = args;
  const { io } = session;
  const { values, positionals } = parse(rest, { account: { type: 'string' }, 'secret-id': { type: 'string' }, 'secret-key-env': { type: 'string' }, 'session-token-env': { type: 'string' } }, session);
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}`);
  const account = values.account ?? DEFAULT_ACCOUNT;
  switch (action) {
    case 'set': {
      const secretId = requireOption(values['secret-id'], 'secret-id ID').trim();
      let secretKey: string;
      if (values['secret-key-env'] !== undefined) {
        secretKey = io.env[values['secret-key-env']] ?? '';
        if (secretKey === '') throw new CosyncError('usage', `environment variable ${values['secret-key-env']} is empty or not set`);
      } else {
        if (io.stdin.isTTY === true) io.stderr.write('Secret key (input is read from stdin; end with Enter and Ctrl-D): ');
        secretKey = (await readAllStdin(io)).trim();
        if (secretKey === '') throw new CosyncError('usage', 'no secret key on stdin: pipe it in, e.g. `cosync credentials set --secret-id ID < keyfile`, or use --secret-key-env VAR');
      }
      const sessionToken = values['session-token-env'] === undefined ? undefined : io.env[values['session-token-env']];
      const credentials = new StoreCredentials(secretId, secretKey, sessionToken);
      await session.keychain.setCredentials(account, credentials);
      session.logger.log('info', 'credentials-set', { account, credentials });
      io.stdout.write(`credentials for account ${account} stored in the OS keychain (${credentials.abbreviatedId})\n`);
      return 0;
    }
    case 'show': {
      const credentials = await session.keychain.getCredentials(account);
      if (credentials === undefined) throw new CosyncError('credentials-missing', `no credentials stored for account ${account}`);
      io.stdout.write(`account ${account}: secret id ${credentials.abbreviatedId} (secret key stored, not shown)\n`);
      return 0;
    }
    case 'delete': {
      if (!(await session.keychain.deleteCredentials(account))) throw new CosyncError('credentials-missing', `no credentials stored for account ${account}`);
      io.stdout.write(`credentials for account ${account} deleted\n`);
      return 0;
    }
    default:
      throw new CosyncError('usage', `unknown credentials action ${JSON.stringify(action ?? '')}: use set, show or delete`);
  }
}

// ── transfers ───────────────────────────────────────────────────────────────────────

async function backupCommand(args: ReadonlyArray<string>, session: Session): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...TARGET_OPTIONS, ...SIZING_OPTIONS, 'stale-upload-hours': { type: 'string' } },
    session,
  );
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
  try {
    await store.checkAccess(target.prefix);
    const stale = await abortStaleUploads(store, journal, target.prefix, staleUploadHours, logger);
    if (stale > 0) session.io.stderr.write(`cosync: aborted ${stale} unfinished multipart upload${stale === 1 ? '' : 's'} older than ${staleUploadHours} h under this prefix\n`);
    const { failed } = await runBackup(
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
        bandwidth: bandwidthLimit(values.bwlimit),
        logger,
      },
      { fileConcurrency: Math.max(2, Math.min(partConcurrency, 8)), emit: transferPrinter(session.io, values.json === true), skipped },
    );
    return failed === 0 ? 0 : 1;
  } finally {
    journal.close();
    store.close();
  }
}

async function restoreCommand(args: ReadonlyArray<string>, session: Session): Promise<number> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, to: { type: 'string' }, overwrite: { type: 'boolean' } }, session);
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}; restore takes --to DIR`);
  const target = targetFromSettings(values, 'none');
  const destination = resolve(requireOption(values.to, 'to DIR', ' (the folder to restore into)'));
  const existing = await stat(destination).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) throw new CosyncError('usage', `--to ${destination} exists and is not a folder`);
  const encryption = await encryptionFor(session, target);
  const credentials = await credentialsFor(session, values.account);
  const concurrency = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const journal = session.openJournal();
  // The journal knows which key wrote each object: a refused key is reported with both fingerprints.
  const recordedKeyFingerprint = await session.recordedKeyFingerprints(journal, target);
  const store = new S3RemoteStore(target, credentials, { maxSockets: concurrency + 4, onRetry: retryLogger(session.logger), recordedKeyFingerprint });
  session.logger.log('info', 'restore-start', { endpoint: target.endpoint.url, bucket: target.bucket, prefix: target.prefix, sse: target.sse, destination, encryption });
  try {
    await store.checkAccess(target.prefix);
    await mkdir(destination, { recursive: true });
    const { runRestore } = await import('../transfer/restore.js');
    const { failed } = await runRestore(
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
      },
      { fileConcurrency: Math.max(2, Math.min(concurrency, 8)), logger: session.logger, emit: transferPrinter(session.io, values.json === true) },
    );
    return failed === 0 ? 0 : 1;
  } finally {
    journal.close();
    store.close();
  }
}
