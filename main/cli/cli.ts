/**
 * The `cosync` command line: keys, credentials, backup and restore, headless.
 *
 * Every command validates all its input before touching the network or the disk, prints errors
 * as one line on stderr (`cosync: …`), and exits non-zero on failure (2 for usage errors).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import PQueue from 'p-queue';
import { parseBase64Key, parseRawTextKey, validateKeyName } from '../../app/keys.js';
import { COS_LIMITS, DEFAULT_SIZING, S3_LIMITS, type TransferSizing } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import {
  assertKeySafeTransport,
  cosEndpointForRegion,
  cosRegionOfHost,
  isCosHost,
  normalizePrefix,
  parseEndpoint,
  parseSseMode,
  validateBucketName,
  validateCosBucketName,
  type Target,
} from '../../app/target.js';
import { ConfigStore } from '../config/config-store.js';
import { resolveAppPaths, type AppPaths } from '../config/paths.js';
import { Journal } from '../journal/journal.js';
import { FileLogger, type Logger } from '../log/logger.js';
import type { ObjectEncryption } from '../remote/remote-store.js';
import { S3RemoteStore } from '../remote/s3-remote-store.js';
import { DEFAULT_ACCOUNT, Keychain } from '../secrets/keychain.js';
import { KeytarSecretStore } from '../secrets/keytar-secret-store.js';
import { formatKit, readKit, writeKit } from '../secrets/recovery-kit.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { SseCustomerKey, StoreCredentials } from '../secrets/secret-values.js';
import { expandBackupPaths, runBackup } from '../transfer/backup.js';
import { TokenBucket } from '../transfer/bandwidth.js';
import { BufferPool } from '../transfer/buffer-pool.js';
import { abortStaleUploads, DEFAULT_STALE_UPLOAD_HOURS } from '../transfer/stale-uploads.js';
import { runRestore } from '../transfer/restore.js';
import { verifyKeyAgainstObjects, type KeyCheck } from '../secrets/verify-key.js';
import { transferPrinter, type CliIo } from './output.js';

const MiB = 1024 * 1024;

/** Injectable parts, so tests can run the CLI in-process with fakes for pure logic. */
export interface CliDependencies {
  readonly io: CliIo;
  readonly secretStore?: SecretStore;
}

const USAGE = `cosync — encrypted backup to Tencent COS and S3-compatible storage

Usage: cosync <command> [options]

Keys (SSE-C, kept only in the OS keychain):
  key generate NAME                  make a new 256-bit key; prints its fingerprint
  key import NAME --from KIT         import from a recovery kit file
  key import NAME --base64 B64       import a base64 key (or --stdin to read it; --raw for a 32-character text key)
  key export NAME --out FILE         write a recovery kit (JSON, mode 0600) [--endpoint --bucket --prefix] [--force]
  key list                           names and fingerprints
  key verify NAME --endpoint URL --bucket B [--prefix P] [--limit N]
                                     HEAD up to N objects (20) with the key: match / MISMATCH / not SSE-C
  key delete NAME --yes              remove a key from the keychain (objects encrypted with it become unreadable)

Credentials (COS SecretId/SecretKey or S3 access keys, kept in the OS keychain):
  credentials set --secret-id ID [--account NAME]    reads the secret key from stdin (or --secret-key-env VAR)
  credentials show [--account NAME]
  credentials delete [--account NAME]
  (COSYNC_SECRET_ID and COSYNC_SECRET_KEY in the environment take precedence over the keychain)

Transfers:
  backup PATH... (--endpoint URL | --region COS-REGION) --bucket B [--prefix P] [--sse none|cos|kms|c] [--key NAME]
         [--kms-key-id ID] [--path-style] [--region R] [--account NAME] [--json]
         [--concurrency N] [--part-size MIB] [--multipart-threshold MIB] [--bwlimit MIB/S]
         [--stale-upload-hours H]   (unfinished uploads older than H hours, default 24, are aborted)
  restore (--endpoint URL | --region COS-REGION) --bucket B [--prefix P] --to DIR [--key NAME] [--path-style]
         [--region R] [--account NAME] [--overwrite] [--json] [--concurrency N] [--bwlimit MIB/S]

  Tencent COS: --region ap-guangzhou alone selects https://cos.ap-guangzhou.myqcloud.com, the
  virtual-hosted BUCKET-APPID.cos.REGION.myqcloud.com addresses and COS's x-cos- headers.

Global options:
  --config-dir DIR    keep config, journal and logs in DIR (or set COSYNC_CONFIG_DIR)
  -h, --help          this help
  --version           print the version
`;

const TARGET_OPTIONS = {
  endpoint: { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  sse: { type: 'string' },
  key: { type: 'string' },
  'kms-key-id': { type: 'string' },
  'path-style': { type: 'boolean' },
  region: { type: 'string' },
  account: { type: 'string' },
  json: { type: 'boolean' },
  concurrency: { type: 'string' },
  bwlimit: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

const GLOBAL_OPTIONS = {
  'config-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Runs one CLI invocation; resolves to the process exit code. */
export async function runCli(argv: ReadonlyArray<string>, dependencies: CliDependencies): Promise<number> {
  const { io } = dependencies;
  const session = new Session(dependencies);
  try {
    const [group, ...rest] = argv;
    if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
      io.stdout.write(USAGE);
      return group === undefined ? 2 : 0;
    }
    if (group === '--version') {
      io.stdout.write(`${await version()}\n`);
      return 0;
    }
    switch (group) {
      case 'key':
        return await keyCommand(rest, session);
      case 'credentials':
        return await credentialsCommand(rest, session);
      case 'backup':
        return await backupCommand(rest, session);
      case 'restore':
        return await restoreCommand(rest, session);
      default:
        throw new CosyncError('usage', `unknown command ${JSON.stringify(group)}; run \`cosync --help\` for the list`);
    }
  } catch (error) {
    const known = error instanceof CosyncError ? error : undefined;
    const message = known?.message ?? describeUnexpected(error);
    io.stderr.write(`cosync: ${message}\n`);
    session.openedLogger?.log('error', 'command-failed', { code: known?.code ?? 'internal', message });
    return known?.code === 'usage' || isParseArgsError(error) ? 2 : 1;
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

async function version(): Promise<string> {
  const packageJson = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return packageJson.version;
}

/** Lazily built services for one invocation (paths, logger, keychain, journal). */
class Session {
  #paths: AppPaths | undefined;
  #logger: FileLogger | undefined;
  #keychain: Keychain | undefined;
  #configDirOption: string | undefined;

  constructor(readonly dependencies: CliDependencies) {}

  get io(): CliIo {
    return this.dependencies.io;
  }

  setConfigDir(option: string | undefined): void {
    this.#configDirOption = option;
  }

  get paths(): AppPaths {
    this.#paths ??= resolveAppPaths(this.#configDirOption, this.io.env);
    return this.#paths;
  }

  get logger(): FileLogger {
    this.#logger ??= new FileLogger(this.paths.logDir);
    return this.#logger;
  }

  get keychain(): Keychain {
    this.#keychain ??= new Keychain(this.dependencies.secretStore ?? new KeytarSecretStore());
    return this.#keychain;
  }

  /** The logger if this invocation already opened one (usage errors should not create log folders). */
  get openedLogger(): Logger | undefined {
    return this.#logger;
  }

  get config(): ConfigStore {
    return new ConfigStore(this.paths.configDir);
  }

  openJournal(): Journal {
    return new Journal(`${this.paths.stateDir}/journal.sqlite`);
  }
}

function parse<O extends ParseArgsConfig['options']>(args: ReadonlyArray<string>, options: O, session: Session) {
  const parsed = parseArgs({ args: [...args], options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  session.setConfigDir((parsed.values as { 'config-dir'?: string })['config-dir']);
  return parsed;
}

function requireOption(value: string | boolean | undefined, flag: string, hint = ''): string {
  if (typeof value !== 'string' || value.trim() === '') throw new CosyncError('usage', `missing --${flag}${hint}`);
  return value;
}

function positiveInteger(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) throw new CosyncError('usage', `--${flag} must be a whole number from 1 to ${max}; got ${JSON.stringify(value)}`);
  return number;
}

// ── key ─────────────────────────────────────────────────────────────────────────────

async function keyCommand(args: ReadonlyArray<string>, session: Session): Promise<number> {
  const [action, ...rest] = args;
  const { io } = session;
  switch (action) {
    case 'generate': {
      const { positionals } = parse(rest, {}, session);
      const name = validateKeyName(singleName(positionals, 'key generate NAME'));
      const key = SseCustomerKey.generate();
      await session.keychain.putKey(name, key);
      await session.config.update((config) => ({
        ...config,
        keys: { ...config.keys, [name]: { fingerprint: key.fingerprint, createdAt: new Date().toISOString(), origin: 'generated' } },
      }));
      session.logger.log('info', 'key-generated', { name, key });
      io.stdout.write(`fingerprint: ${key.fingerprint}\n`);
      io.stderr.write(`Export a recovery kit now (\`cosync key export ${name} --out FILE\`): without the key, data encrypted with it cannot be recovered.\n`);
      return 0;
    }
    case 'import': {
      const { values, positionals } = parse(rest, { from: { type: 'string' }, base64: { type: 'string' }, stdin: { type: 'boolean' }, raw: { type: 'boolean' }, replace: { type: 'boolean' } }, session);
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
      await session.keychain.putKey(name, key, { replace: values.replace === true });
      await session.config.update((config) => ({
        ...config,
        keys: {
          ...config.keys,
          [name]: {
            fingerprint: key.fingerprint,
            createdAt: new Date().toISOString(),
            origin: 'imported',
            // A key imported from a kit already has one.
            kitExportedAt: values.from !== undefined ? new Date().toISOString() : undefined,
          },
        },
      }));
      session.logger.log('info', 'key-imported', { name, key });
      io.stdout.write(`fingerprint: ${key.fingerprint}\n`);
      return 0;
    }
    case 'export': {
      const { values, positionals } = parse(
        rest,
        { out: { type: 'string' }, force: { type: 'boolean' }, endpoint: { type: 'string' }, bucket: { type: 'string' }, prefix: { type: 'string' } },
        session,
      );
      const name = validateKeyName(singleName(positionals, 'key export NAME --out FILE'));
      const out = resolve(requireOption(values.out, 'out FILE', ' (where to write the recovery kit)'));
      const location = {
        endpoint: values.endpoint === undefined ? undefined : parseEndpoint(values.endpoint).url,
        bucket: values.bucket === undefined ? undefined : validateBucketName(values.bucket),
        prefix: values.prefix === undefined ? undefined : normalizePrefix(values.prefix),
      };
      const key = await session.keychain.getKey(name);
      await writeKit(out, formatKit(name, key, location, new Date()), values.force === true);
      const exportedAt = new Date().toISOString();
      await session.config.update((config) => {
        const known = config.keys[name];
        return {
          ...config,
          keys: { ...config.keys, [name]: { fingerprint: key.fingerprint, createdAt: known?.createdAt ?? exportedAt, origin: known?.origin ?? 'imported', kitExportedAt: exportedAt } },
        };
      });
      session.logger.log('info', 'kit-exported', { name, key, file: out });
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
      const target = targetFromFlags({ ...values, sse: 'c', key: name }, 'c');
      const limit = positiveInteger(values.limit, 'limit', 20, 1_000_000);
      const key = await session.keychain.getKey(name);
      const store = new S3RemoteStore(target, await credentialsFor(session, values.account));
      try {
        await store.checkAccess(target.prefix);
        const results = await verifyKeyAgainstObjects(store, key, target.prefix, limit);
        if (results.length === 0) throw new CosyncError('object-not-found', `no objects under ${target.prefix === '' ? 'the bucket root' : `prefix ${JSON.stringify(target.prefix)}`} to check the key against`);
        const label: Record<KeyCheck, string> = { match: 'match    ', mismatch: 'MISMATCH ', 'not-sse-c': 'not SSE-C' };
        for (const { objectKey, result } of results) io.stdout.write(`${label[result]} ${objectKey}\n`);
        const matched = results.filter((entry) => entry.result === 'match').length;
        const mismatched = results.filter((entry) => entry.result === 'mismatch').length;
        io.stdout.write(`key ${name} (fingerprint ${key.fingerprint}): ${matched} of ${results.length} checked objects match, ${mismatched} encrypted with another key\n`);
        return mismatched === 0 && matched > 0 ? 0 : 1;
      } finally {
        store.close();
      }
    }
    default:
      throw new CosyncError('usage', `unknown key action ${JSON.stringify(action ?? '')}: use generate, import, export, list, verify or delete`);
  }
}

function singleName(positionals: ReadonlyArray<string>, usage: string): string {
  if (positionals.length !== 1) throw new CosyncError('usage', `expected: cosync ${usage}`);
  return positionals[0] as string;
}

async function readAllStdin(io: CliIo): Promise<string> {
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

type TargetValues = { [K in keyof typeof TARGET_OPTIONS]?: (typeof TARGET_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** Builds and validates a Target from flags, before any I/O. */
function targetFromFlags(values: TargetValues, defaultSse: 'none' | 'c'): Target {
  // Tencent COS needs only its region: the endpoint is https://cos.REGION.myqcloud.com.
  const endpoint =
    values.endpoint === undefined && values.region !== undefined
      ? cosEndpointForRegion(values.region)
      : parseEndpoint(requireOption(values.endpoint, 'endpoint URL', ' (or --region for Tencent COS, e.g. --region ap-guangzhou)'));
  const dialect = isCosHost(endpoint.host) ? 'cos' : 's3';
  const bucketName = requireOption(values.bucket, 'bucket NAME');
  const bucket = dialect === 'cos' ? validateCosBucketName(bucketName) : validateBucketName(bucketName);
  const sse = values.sse === undefined ? (values.key !== undefined ? 'c' : defaultSse) : parseSseMode(values.sse);
  if (sse === 'c' && values.key === undefined) throw new CosyncError('usage', '--sse c needs --key NAME (the SSE-C key in the keychain; create one with `cosync key generate NAME`)');
  if (sse !== 'c' && values.key !== undefined) throw new CosyncError('usage', `--key is only used with --sse c (got --sse ${sse})`);
  if (values['kms-key-id'] !== undefined && sse !== 'kms') throw new CosyncError('usage', '--kms-key-id is only used with --sse kms');
  assertKeySafeTransport(endpoint, sse);
  const cosRegion = cosRegionOfHost(endpoint.host);
  const isIpOrLocal = /^[\d.]+$|^\[|^localhost$/.test(endpoint.host);
  return {
    endpoint,
    bucket,
    prefix: normalizePrefix(values.prefix),
    region: values.region ?? cosRegion ?? 'us-east-1',
    // Virtual-hosted addressing needs DNS names; IP and localhost endpoints only work path-style.
    pathStyle: values['path-style'] === true || isIpOrLocal,
    dialect,
    sse,
    keyName: values.key,
    kmsKeyId: values['kms-key-id'],
  };
}

async function credentialsFor(session: Session, account: string | undefined): Promise<StoreCredentials> {
  const { env } = session.io;
  const id = env.COSYNC_SECRET_ID;
  const key = env.COSYNC_SECRET_KEY;
  if ((id ?? '') !== '' || (key ?? '') !== '') {
    if ((id ?? '') === '' || (key ?? '') === '') throw new CosyncError('credentials-missing', 'set both COSYNC_SECRET_ID and COSYNC_SECRET_KEY, or neither');
    const credentials = new StoreCredentials(id as string, key as string, env.COSYNC_SESSION_TOKEN || undefined);
    credentials.source = 'environment';
    return credentials;
  }
  const name = account ?? DEFAULT_ACCOUNT;
  const stored = await session.keychain.getCredentials(name);
  if (stored === undefined) {
    throw new CosyncError(
      'credentials-missing',
      `no credentials for account ${name}: run \`cosync credentials set --secret-id ID${name === DEFAULT_ACCOUNT ? '' : ` --account ${name}`}\` (secret key on stdin), or set COSYNC_SECRET_ID and COSYNC_SECRET_KEY`,
    );
  }
  return stored;
}

async function encryptionFor(session: Session, target: Target): Promise<ObjectEncryption> {
  switch (target.sse) {
    case 'none':
      return { mode: 'none' };
    case 'cos':
      return { mode: 'cos' };
    case 'kms':
      return { mode: 'kms', kmsKeyId: target.kmsKeyId };
    case 'c':
      return { mode: 'c', key: await session.keychain.getKey(target.keyName as string) };
  }
}

/** `--bwlimit MIB` (MiB per second, fractions allowed) as a token bucket. */
function bandwidthLimit(value: string | undefined): TokenBucket | undefined {
  if (value === undefined) return undefined;
  const mibPerSecond = Number(value);
  if (!Number.isFinite(mibPerSecond) || mibPerSecond <= 0) throw new CosyncError('usage', `--bwlimit must be a positive number of MiB per second, e.g. 2 or 0.5; got ${JSON.stringify(value)}`);
  return new TokenBucket(mibPerSecond * MiB);
}

function retryLogger(logger: Logger): (operation: string, attempt: number, reason: string, delayMs: number) => void {
  return (operation, attempt, reason, delayMs) => logger.log('warn', 'retry', { operation, attempt, reason, delayMs });
}

async function backupCommand(args: ReadonlyArray<string>, session: Session): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...TARGET_OPTIONS, 'part-size': { type: 'string' }, 'multipart-threshold': { type: 'string' }, 'stale-upload-hours': { type: 'string' } },
    session,
  );
  if (positionals.length === 0) throw new CosyncError('usage', 'expected: cosync backup PATH... --endpoint URL --bucket B');
  const target = targetFromFlags(values, 'none');
  const limits = target.dialect === 'cos' ? COS_LIMITS : S3_LIMITS;
  const sizing: TransferSizing = {
    preferredPartBytes: positiveInteger(values['part-size'], 'part-size', DEFAULT_SIZING.preferredPartBytes / MiB, 5 * 1024) * MiB,
    multipartThresholdBytes: positiveInteger(values['multipart-threshold'], 'multipart-threshold', DEFAULT_SIZING.multipartThresholdBytes / MiB, 1024) * MiB,
  };
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
  const target = targetFromFlags(values, 'none');
  const destination = resolve(requireOption(values.to, 'to DIR', ' (the folder to restore into)'));
  const existing = await stat(destination).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) throw new CosyncError('usage', `--to ${destination} exists and is not a folder`);
  const encryption = await encryptionFor(session, target);
  const credentials = await credentialsFor(session, values.account);
  const concurrency = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const store = new S3RemoteStore(target, credentials, { maxSockets: concurrency + 4, onRetry: retryLogger(session.logger) });
  session.logger.log('info', 'restore-start', { endpoint: target.endpoint.url, bucket: target.bucket, prefix: target.prefix, sse: target.sse, destination, encryption });
  const journal = session.openJournal();
  try {
    await store.checkAccess(target.prefix);
    await mkdir(destination, { recursive: true });
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
