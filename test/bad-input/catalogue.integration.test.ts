/**
 * The bad-input catalogue: every bad input cosync refuses, in one table, each with its exit code
 * (or HTTP status), the key words of its message, and proof that nothing was written — the case's
 * folder (config.json byte for byte, keystore, kits, source files, restore targets) is unchanged,
 * the bucket holds no new object and no started multipart upload, and the keychain no new key.
 *
 * Parts: the built `cosync` binary for command-line cases (each in its own copy of one set-up
 * config, run concurrently), one real `cosync serve` for the HTTP API, and the contract's
 * validators directly (they are pure). Messages are matched by their stable key words, not whole
 * help text. A new refusal belongs here: add a row, see it fail without the fix, then pass.
 */
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type ExpectStatic } from 'vitest';
import { answerRequest, isChannel, REQUEST_VALIDATORS, type Channel, type ChannelHandler } from '../../app/contract.js';
import { useWorkDir } from '../support/files.js';
import { createBucket, listKeys, rawClient, requireServices, runCosync, servedUrl, spawnCosync, uniqueName, type RunResult, type Services } from '../support/services.js';

const work = useWorkDir('catalogue');
let services: Services;
let bucket: string;
/** Every key name this run makes starts with it, so the keychain check can tell ours apart. */
const run = uniqueName('cat');
const keyName = `${run}-key`;
let folderId: string;
/** The set-up every case starts from: config (a key with its kit, one sync folder), files, kits. */
let template: string;
let bucketBefore: BucketState;
const env: Record<string, string> = {};

// ── what "nothing was written" means ──

interface BucketState {
  readonly objects: ReadonlyArray<string>;
  readonly uploads: ReadonlyArray<string>;
}

async function bucketState(): Promise<BucketState> {
  const client = rawClient(services);
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    return { objects: await listKeys(services, bucket), uploads: (uploads.Uploads ?? []).map((upload) => upload.Key as string).sort() };
  } finally {
    client.destroy();
  }
}

/**
 * Every file and folder under `dir` with its size, mtime and content hash. The log, the journal
 * and the engine lock are the run's own records, not the user's data, and may change.
 */
async function tree(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const snapshot: Record<string, string> = {};
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const name = relative(dir, path);
    if (/(^|\/)config\/(logs(\/|$)|journal\.sqlite|engine\.json)/.test(name)) continue;
    const info = await stat(path);
    snapshot[name] = entry.isFile() ? `file ${info.size} ${info.mtimeMs} ${createHash('sha256').update(await readFile(path)).digest('hex')}` : `${entry.isDirectory() ? 'folder' : 'other'} ${info.mode.toString(8)}`;
  }
  return snapshot;
}

async function expectNothingWritten(dir: string, before: Record<string, string>, expect: ExpectStatic): Promise<void> {
  expect(await tree(dir), 'a file in the case folder (config.json, kits, sources, targets) changed').toEqual(before);
  expect(await bucketState(), 'the bucket changed').toEqual(bucketBefore);
}

// ── command-line cases ──

type Area = 'flags' | 'config file' | 'keys' | 'recovery kits' | 'endpoints' | 'bucket names' | 'prefixes' | 'paths' | 'ignore files';

/** One case's own folder: a copy of the set-up, at its own path. */
interface CaseContext {
  readonly dir: string;
  readonly configDir: string;
  readonly configFile: string;
  /** A valid JSON recovery kit of the set-up key, and its printable form. */
  readonly kit: string;
  readonly printableKit: string;
  /** A folder with two files, and one of them. */
  readonly source: string;
  readonly file: string;
  /** A name for a key no case has made. */
  readonly newKey: string;
  readonly endpoint: string;
}

interface CliCase {
  readonly area: Area;
  /** What is wrong with the input (the test's title). */
  readonly input: string;
  readonly args: (context: CaseContext) => ReadonlyArray<string>;
  readonly arrange?: (context: CaseContext) => Promise<void>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly stdin?: string;
  /** Run as user nobody (tests run as root, whom file permissions do not stop). */
  readonly asNobody?: boolean;
  /** 2: a usage error; 1: a failure. */
  readonly exit: 1 | 2;
  /** The key words of the one `cosync: …` line on stderr. */
  readonly message: RegExp;
  /** What stdout may say (by default: nothing). */
  readonly stdout?: RegExp;
}

const at = (context: CaseContext): string[] => ['--endpoint', context.endpoint, '--bucket', bucket];

/** Replaces config.json with `text`, written by hand. */
const handEdited =
  (text: string | ((config: Record<string, unknown>) => unknown)) =>
  async (context: CaseContext): Promise<void> => {
    const written = typeof text === 'string' ? text : `${JSON.stringify(text(JSON.parse(await readFile(context.configFile, 'utf8')) as Record<string, unknown>), null, 2)}\n`;
    await writeFile(context.configFile, written);
  };

/** The set-up folder entry of config.json, changed by hand. */
const folderEdited = (change: (folder: Record<string, unknown>, context: CaseContext) => Record<string, unknown>) => async (context: CaseContext) => {
  const config = JSON.parse(await readFile(context.configFile, 'utf8')) as { folders: Array<Record<string, unknown>> };
  config.folders = config.folders.map((folder) => change(folder, context));
  await writeFile(context.configFile, `${JSON.stringify(config, null, 2)}\n`);
};

/** The set-up kit, changed (as JSON) and written to `kit.json` in the case folder. */
const kitEdited = (change: (kit: Record<string, unknown>) => Record<string, unknown>) => async (context: CaseContext) => {
  await writeFile(context.kit, `${JSON.stringify(change(JSON.parse(await readFile(context.kit, 'utf8')) as Record<string, unknown>), null, 2)}\n`);
};

const flipFirstKeyByte = (kit: Record<string, unknown>): Record<string, unknown> => {
  const key = Buffer.from(kit.key as string, 'base64');
  key[0] = (key[0] as number) ^ 1;
  return { ...kit, key: key.toString('base64') };
};

/** Lets other users reach the case folder, with `mode` on its source folder (permission cases run as nobody). */
async function sourceModeForOthers(context: CaseContext, mode: number): Promise<void> {
  await chmod(work(), 0o755);
  await chmod(context.dir, 0o755);
  await chmod(context.source, mode);
}

const CLI_CASES: ReadonlyArray<CliCase> = [
  // flags
  { area: 'flags', input: 'an unknown command', args: () => ['frobnicate'], exit: 2, message: /unknown command "frobnicate"/ },
  { area: 'flags', input: 'an unknown option', args: () => ['key', 'list', '--colour'], exit: 2, message: /unknown option.*--colour/i },
  { area: 'flags', input: 'an option without its value', args: (c) => ['backup', c.source, '--bucket', bucket, '--endpoint'], exit: 2, message: /--endpoint needs a value \(--endpoint URL\)/ },
  { area: 'flags', input: 'an unknown key action', args: () => ['key', 'frob'], exit: 2, message: /unknown key command "frob": use generate, import/ },
  { area: 'flags', input: 'an unknown folder action', args: () => ['folder', 'frob'], exit: 2, message: /unknown folder command "frob": use add, list/ },
  { area: 'flags', input: '--concurrency 0', args: (c) => ['backup', c.source, ...at(c), '--concurrency', '0'], exit: 2, message: /--concurrency must be a whole number from 1 to 64; got "0"/ },
  { area: 'flags', input: 'an option value that starts with a dash', args: (c) => ['backup', c.source, ...at(c), '--bwlimit', '-1'], exit: 2, message: /--bwlimit.* argument is ambiguous\. Did you forget to specify the option argument/ },
  { area: 'flags', input: 'a negative --bwlimit', args: (c) => ['backup', c.source, ...at(c), '--bwlimit=-1'], exit: 2, message: /--bwlimit must be a positive number of MiB per second.*got "-1"/ },
  { area: 'flags', input: '--part-size beyond 5 GiB', args: (c) => ['backup', c.source, ...at(c), '--part-size', '99999'], exit: 2, message: /--part-size must be a whole number from 1 to 5120; got "99999"/ },
  { area: 'flags', input: '--stale-upload-hours that is not a number', args: (c) => ['backup', c.source, ...at(c), '--stale-upload-hours', 'soon'], exit: 2, message: /--stale-upload-hours must be a whole number/ },
  { area: 'flags', input: 'an unknown --sse value', args: (c) => ['backup', c.source, ...at(c), '--sse', 'aes'], exit: 2, message: /unknown --sse value "aes": use none, cos, kms or c/ },
  { area: 'flags', input: '--sse c without --key', args: (c) => ['backup', c.source, ...at(c), '--sse', 'c'], exit: 2, message: /--sse c needs --key NAME/ },
  { area: 'flags', input: '--key with --sse cos', args: (c) => ['backup', c.source, ...at(c), '--sse', 'cos', '--key', keyName], exit: 2, message: /--key is only used with --sse c \(got --sse cos\)/ },
  { area: 'flags', input: '--kms-key-id without --sse kms', args: (c) => ['backup', c.source, ...at(c), '--kms-key-id', 'k1'], exit: 2, message: /--kms-key-id is only used with --sse kms/ },
  { area: 'flags', input: 'an unknown --policy', args: (c) => ['folder', 'add', c.source, ...at(c), '--prefix', 'p', '--policy', 'wipe'], exit: 2, message: /--policy must be keep .*mirror .*trash .*got "wipe"/ },
  { area: 'flags', input: 'an unknown --keystore', args: () => ['key', 'list', '--keystore', 'vault'], exit: 2, message: /unknown --keystore value "vault": use os .* or file/ },
  { area: 'flags', input: 'an unknown COSYNC_KEYSTORE', args: () => ['key', 'list'], env: { COSYNC_KEYSTORE: 'vault' }, exit: 2, message: /unknown COSYNC_KEYSTORE value "vault"/ },
  { area: 'flags', input: 'key delete without --yes', args: () => ['key', 'delete', keyName], exit: 2, message: /makes every object encrypted with it unreadable.*pass --yes/ },
  { area: 'flags', input: 'key import with two sources', args: (c) => ['key', 'import', c.newKey, '--from', c.kit, '--stdin'], exit: 2, message: /exactly one of --from KIT, --base64 B64 or --stdin/ },
  { area: 'flags', input: '--raw with a recovery kit', args: (c) => ['key', 'import', c.newKey, '--from', c.kit, '--raw'], exit: 2, message: /--raw applies to --base64 or --stdin/ },
  { area: 'flags', input: 'sync without --once', args: () => ['sync'], exit: 2, message: /sync needs --once/ },
  { area: 'flags', input: 'serve --port beyond 65535', args: () => ['serve', '--port', '70000'], exit: 2, message: /--port must be 0 .* to 65535; got "70000"/ },
  { area: 'flags', input: 'logs --lines that is not a number', args: () => ['logs', '--lines', 'x'], exit: 2, message: /--lines must be a whole number/ },
  { area: 'flags', input: 'an unknown folder id', args: () => ['folder', 'pause', 'no-such-folder'], exit: 2, message: /no folder with id "no-such-folder" \(folders: / },
  { area: 'flags', input: 'credentials set without a secret on stdin', args: () => ['credentials', 'set', '--secret-id', 'AKID', '--account', `${run}-acct`], exit: 2, message: /no secret key on stdin/ },

  // config.json edited by hand
  { area: 'config file', input: 'config.json that is not JSON', arrange: handEdited('{"version": 1,'), args: () => ['folder', 'list'], exit: 1, message: /config\.json is not valid JSON .*fix or remove/ },
  { area: 'config file', input: 'an empty config.json', arrange: handEdited(''), args: () => ['folder', 'list'], exit: 1, message: /config\.json is not valid JSON/ },
  { area: 'config file', input: 'config.json holding a list', arrange: handEdited('[]\n'), args: () => ['folder', 'list'], exit: 1, message: /config\.json: expected a JSON object/ },
  { area: 'config file', input: 'config.json without a version', arrange: handEdited((config) => ({ ...config, version: undefined })), args: () => ['folder', 'list'], exit: 1, message: /config\.json: no "version".*this cosync reads version 1/ },
  { area: 'config file', input: 'config.json of a newer version', arrange: handEdited((config) => ({ ...config, version: 2 })), args: () => ['folder', 'list'], exit: 1, message: /unsupported version 2 \(this cosync reads version 1\)/ },
  { area: 'config file', input: 'an unknown top-level field', arrange: handEdited((config) => ({ ...config, foldres: [] })), args: () => ['folder', 'list'], exit: 1, message: /config\.json: unknown field "foldres".*fix or remove/ },
  { area: 'config file', input: 'an unknown folder field (a typo)', arrange: folderEdited((folder) => ({ ...folder, pathstyle: true })), args: () => ['folder', 'list'], exit: 1, message: /folders\[0\]: unknown field "pathstyle"/ },
  { area: 'config file', input: 'an unknown key field', arrange: handEdited((config) => ({ ...config, keys: { [keyName]: { ...(config.keys as Record<string, object>)[keyName], kitExported: 'yes' } } })), args: () => ['folder', 'list'], exit: 1, message: /keys\["[^"]+"\]: unknown field "kitExported"/ },
  { area: 'config file', input: '"folders" that is not a list', arrange: handEdited((config) => ({ ...config, folders: {} })), args: () => ['folder', 'list'], exit: 1, message: /"folders" must be a list/ },
  { area: 'config file', input: 'a folder without localPath', arrange: folderEdited((folder) => ({ ...folder, localPath: undefined })), args: () => ['folder', 'list'], exit: 1, message: /folders\[0\]\.localPath must be a non-empty string/ },
  { area: 'config file', input: 'a relative localPath', arrange: folderEdited((folder) => ({ ...folder, localPath: 'photos' })), args: () => ['folder', 'list'], exit: 1, message: /folders\[0\]\.localPath must be an absolute path/ },
  { area: 'config file', input: 'a folder endpoint with a path', arrange: folderEdited((folder) => ({ ...folder, endpoint: 'https://example.com/bucket' })), args: () => ['folder', 'list'], exit: 1, message: /folders\[0\]\.endpoint: invalid endpoint/ },
  { area: 'config file', input: 'sse "c" without keyName', arrange: folderEdited((folder) => ({ ...folder, keyName: undefined })), args: () => ['folder', 'list'], exit: 1, message: /folders\[0\]\.keyName is required when sse is "c"/ },
  { area: 'config file', input: 'a folder paused: "yes" (wrong type)', arrange: folderEdited((folder) => ({ ...folder, paused: 'yes' })), args: () => ['folder', 'list'], exit: 1, message: /folders\[0\]\.paused must be true or false/ },
  { area: 'config file', input: 'two folders with one id', arrange: handEdited((config) => ({ ...config, folders: [...(config.folders as object[]), ...(config.folders as object[])] })), args: () => ['folder', 'list'], exit: 1, message: /two folders have the id/ },
  { area: 'config file', input: 'transfers.fileConcurrency as text', arrange: handEdited((config) => ({ ...config, transfers: { fileConcurrency: '8' } })), args: () => ['folder', 'list'], exit: 1, message: /transfers\.fileConcurrency must be a whole number from 1 to 64/ },
  {
    area: 'config file',
    input: 'config.json that is a folder',
    arrange: async (c) => {
      await rm(c.configFile);
      await mkdir(c.configFile);
    },
    args: () => ['folder', 'list'],
    exit: 1,
    message: /config\.json is a folder, not a file/,
  },

  // keys
  { area: 'keys', input: 'a key name with a slash', args: () => ['key', 'generate', 'team/photos'], exit: 2, message: /invalid key name "team\/photos": use 1–64 letters/ },
  { area: 'keys', input: 'a 16-byte key', args: (c) => ['key', 'import', c.newKey, '--base64', randomBytes(16).toString('base64')], exit: 1, message: /exactly 32 bytes \(AES-256\); this one decodes to 16 bytes/ },
  { area: 'keys', input: 'a key that is not base64', args: (c) => ['key', 'import', c.newKey, '--stdin'], stdin: 'not*base64*at*all*not*base64*at*all*ab\n', exit: 1, message: /not valid base64: character "\*" at position/ },
  { area: 'keys', input: 'a raw text key of the wrong length', args: (c) => ['key', 'import', c.newKey, '--raw', '--base64', 'short-key'], exit: 1, message: /exactly 32 bytes .*this one is 9 bytes/ },
  { area: 'keys', input: 'a different key under a taken name', args: () => ['key', 'import', keyName, '--base64', randomBytes(32).toString('base64')], exit: 1, message: /a different key named ".*" already exists \(fingerprint / },
  {
    area: 'keys',
    input: 'a key that decrypts none of the objects it is meant for',
    args: (c) => ['key', 'import', c.newKey, '--base64', randomBytes(32).toString('base64'), ...at(c), '--prefix', 'seed'],
    exit: 1,
    message: /this key does not decrypt "seed\/source\/a\.txt" .*was not stored — import the recovery kit/,
  },
  { area: 'keys', input: 'a file keystore without a passphrase', args: (c) => ['key', 'generate', c.newKey, '--keystore', 'file'], exit: 1, message: /the file keystore needs its passphrase: put it in a file only you can read/ },
  { area: 'keys', input: 'a new file keystore with a short passphrase', args: (c) => ['key', 'generate', c.newKey, '--keystore', 'file'], env: { COSYNC_KEYSTORE_PASSPHRASE: 'short' }, exit: 2, message: /the new keystore passphrase is too short; choose one of at least 8 characters/ },
  {
    area: 'keys',
    input: 'a keystore passphrase file other users can read',
    arrange: async (c) => writeFile(join(c.dir, 'passphrase'), 'correct horse battery staple\n', { mode: 0o644 }),
    args: (c) => ['key', 'generate', c.newKey, '--keystore', 'file'],
    env: { COSYNC_KEYSTORE_PASSPHRASE_FILE: 'PASSPHRASE_FILE' },
    exit: 1,
    message: /the keystore passphrase file .*\/passphrase can be read by other users \(mode 644\); run `chmod 600/,
  },
  {
    area: 'keys',
    input: 'a damaged keystore.json',
    arrange: async (c) => writeFile(join(c.configDir, 'keystore.json'), '{"format": "cosync-keystore", "ver'),
    args: () => ['key', 'list', '--keystore', 'file'],
    env: { COSYNC_KEYSTORE_PASSPHRASE: 'correct horse battery staple' },
    exit: 1,
    message: /the keystore .*keystore\.json is damaged \(not JSON\); restore it from a backup/,
  },
  { area: 'keys', input: 'exporting a key that does not exist', args: (c) => ['key', 'export', c.newKey, '--out', join(c.dir, 'new.kit.json')], exit: 1, message: /no SSE-C key named ".*" in the keychain: create one with/ },
  { area: 'keys', input: 'a kit export over an existing file', args: (c) => ['key', 'export', keyName, '--out', c.kit], exit: 2, message: /already exists; choose another file or pass --force/ },

  // recovery kits
  {
    area: 'recovery kits',
    input: 'a truncated kit',
    arrange: async (c) => writeFile(c.kit, (await readFile(c.kit, 'utf8')).slice(0, 100)),
    args: (c) => ['key', 'import', c.newKey, '--from', c.kit],
    exit: 1,
    message: /kit\.json is damaged or cut short .*nothing was imported/,
  },
  { area: 'recovery kits', input: 'a kit whose key was edited', arrange: kitEdited(flipFirstKeyByte), args: (c) => ['key', 'import', c.newKey, '--from', c.kit], exit: 1, message: /its key has fingerprint .* but the kit says .*damaged; nothing was imported/ },
  { area: 'recovery kits', input: 'a kit with the wrong fingerprint', arrange: kitEdited((kit) => ({ ...kit, fingerprint: 'AAAAAAAAAAAAAAAAAAAAAA==' })), args: (c) => ['key', 'import', c.newKey, '--from', c.kit], exit: 1, message: /but the kit says AAAAAAAAAAAAAAAAAAAAAA==/ },
  {
    area: 'recovery kits',
    input: 'a kit whose fingerprint was removed',
    arrange: kitEdited((kit) => ({ ...flipFirstKeyByte(kit), fingerprint: undefined })),
    args: (c) => ['key', 'import', c.newKey, '--from', c.kit],
    exit: 1,
    message: /kit\.json: the kit has no "fingerprint".*--base64/,
  },
  { area: 'recovery kits', input: 'a kit of a newer version', arrange: kitEdited((kit) => ({ ...kit, version: 2 })), args: (c) => ['key', 'import', c.newKey, '--from', c.kit], exit: 1, message: /kit\.json: recovery kit version 2 .*this cosync reads version 1/ },
  { area: 'recovery kits', input: 'a JSON file of another format', arrange: kitEdited((kit) => ({ ...kit, format: 'other-tool-key' })), args: (c) => ['key', 'import', c.newKey, '--from', c.kit], exit: 1, message: /kit\.json is not a cosync recovery kit \(format "other-tool-key"/ },
  { area: 'recovery kits', input: 'a kit for another algorithm', arrange: kitEdited((kit) => ({ ...kit, algorithm: 'SM4' })), args: (c) => ['key', 'import', c.newKey, '--from', c.kit], exit: 1, message: /kit\.json: algorithm "SM4" .*AES256/ },
  { area: 'recovery kits', input: 'a kit whose key is not text', arrange: kitEdited((kit) => ({ ...kit, key: 12 })), args: (c) => ['key', 'import', c.newKey, '--from', c.kit], exit: 1, message: /kit\.json is not a cosync recovery kit \(no "key" field\)/ },
  { area: 'recovery kits', input: 'a kit with a short key', arrange: kitEdited((kit) => ({ ...kit, key: (kit.key as string).slice(0, 20) })), args: (c) => ['key', 'import', c.newKey, '--from', c.kit], exit: 1, message: /kit\.json: an SSE-C key must be exactly 32 bytes .*the kit is damaged, nothing was imported/ },
  {
    area: 'recovery kits',
    input: 'a printable kit with a mistyped character',
    arrange: async (c) => {
      const text = await readFile(c.printableKit, 'utf8');
      const line = /^Key \(base64\): (\S)/m.exec(text) as RegExpExecArray;
      const typo = line[1] === 'A' ? 'B' : 'A';
      await writeFile(c.printableKit, text.replace(/^Key \(base64\): \S/m, `Key (base64): ${typo}`));
    },
    args: (c) => ['key', 'import', c.newKey, '--from', c.printableKit],
    exit: 1,
    message: /a character was mistyped \(check each group of four\)/,
  },
  { area: 'recovery kits', input: 'a kit that does not exist', args: (c) => ['key', 'import', c.newKey, '--from', join(c.dir, 'missing.kit.json')], exit: 1, message: /recovery kit .*missing\.kit\.json does not exist/ },
  { area: 'recovery kits', input: 'a folder given as the kit', args: (c) => ['key', 'import', c.newKey, '--from', c.source], exit: 2, message: /recovery kit .*source is a folder, not a file/ },

  // endpoints
  { area: 'endpoints', input: 'an ftp:// endpoint', args: (c) => ['backup', c.source, '--endpoint', 'ftp://example.com', '--bucket', bucket], exit: 1, message: /invalid endpoint "ftp:\/\/example\.com": expected http\(s\):\/\/host\[:port\]/ },
  { area: 'endpoints', input: 'an endpoint with a path', args: (c) => ['backup', c.source, '--endpoint', `${c.endpoint}/${bucket}`, '--bucket', bucket], exit: 1, message: /invalid endpoint .* with no path/ },
  { area: 'endpoints', input: 'an endpoint port beyond 65535', args: (c) => ['backup', c.source, '--endpoint', 'https://127.0.0.1:99999', '--bucket', bucket], exit: 1, message: /invalid endpoint port 99999/ },
  { area: 'endpoints', input: 'SSE-C over plain HTTP to another host', args: (c) => ['backup', c.source, '--endpoint', 'http://192.0.2.10:7480', '--bucket', bucket, '--key', keyName], exit: 1, message: /refusing SSE-C over plain HTTP to 192\.0\.2\.10.*use an https:\/\/ endpoint/ },
  { area: 'endpoints', input: 'a COS region of the wrong form', args: (c) => ['backup', c.source, '--region', 'Guangzhou', '--bucket', 'photos-1250000000'], exit: 1, message: /invalid COS region "Guangzhou": regions look like ap-guangzhou/ },
  { area: 'endpoints', input: 'no endpoint at all', args: (c) => ['backup', c.source, '--bucket', bucket], exit: 2, message: /missing --endpoint URL \(or --region for Tencent COS/ },

  // bucket names
  { area: 'bucket names', input: 'a bucket name in capitals', args: (c) => ['backup', c.source, '--endpoint', c.endpoint, '--bucket', 'MyBucket'], exit: 1, message: /invalid bucket name "MyBucket": use 3–63 lowercase letters/ },
  { area: 'bucket names', input: 'a COS bucket without its APPID', args: (c) => ['backup', c.source, '--region', 'ap-guangzhou', '--bucket', 'photos'], exit: 1, message: /invalid COS bucket name "photos": COS buckets are named name-APPID/ },
  { area: 'bucket names', input: 'a bucket that does not exist', args: (c) => ['backup', c.source, '--endpoint', c.endpoint, '--bucket', `${run}-missing`], exit: 1, message: /bucket ".*-missing" does not exist at https:\/\/127\.0\.0\.1:\d+: check the bucket name/ },
  { area: 'bucket names', input: 'a restore from a bucket that does not exist', args: (c) => ['restore', '--endpoint', c.endpoint, '--bucket', `${run}-missing`, '--to', join(c.dir, 'restored')], exit: 1, message: /bucket ".*-missing" does not exist/ },

  // prefixes
  { area: 'prefixes', input: 'a prefix with ".."', args: (c) => ['backup', c.source, ...at(c), '--prefix', 'photos/../secrets'], exit: 2, message: /invalid prefix "photos\/\.\.\/secrets": "\." and "\.\." segments are not allowed/ },
  { area: 'prefixes', input: "a folder prefix inside another folder's", args: (c) => ['folder', 'add', c.source, ...at(c), '--prefix', 'synced/inner', '--key', keyName], exit: 2, message: /prefix "synced\/inner\/" overlaps the prefix "synced\/" of folder/ },
  { area: 'prefixes', input: 'restoring a prefix that holds nothing', args: (c) => ['restore', ...at(c), '--prefix', 'no-such-prefix', '--to', join(c.dir, 'restored'), '--key', keyName], exit: 1, message: /nothing to restore: no objects under prefix "no-such-prefix\/"/ },

  // paths
  { area: 'paths', input: 'a backup path that does not exist', args: (c) => ['backup', join(c.dir, 'missing'), ...at(c)], exit: 1, message: /missing: no such file or folder; nothing was uploaded/ },
  { area: 'paths', input: 'a backup path through a file', args: (c) => ['backup', join(c.file, 'inner.txt'), ...at(c)], exit: 1, message: /inner\.txt: no such file or folder; nothing was uploaded/ },
  {
    area: 'paths',
    input: 'a backup folder that may not be listed (as user nobody)',
    arrange: async (c) => sourceModeForOthers(c, 0o711),
    asNobody: true,
    args: (c) => ['backup', c.source, ...at(c)],
    exit: 1,
    message: /cannot read folder .*source: EACCES/,
  },
  {
    area: 'paths',
    input: 'a backup file in a folder that may not be entered (as user nobody)',
    arrange: async (c) => sourceModeForOthers(c, 0o700),
    asNobody: true,
    args: (c) => ['backup', c.file, ...at(c)],
    exit: 1,
    message: /a\.txt: cannot be read \(EACCES\); nothing was uploaded/,
  },
  { area: 'paths', input: 'a sync folder that does not exist', args: (c) => ['folder', 'add', join(c.dir, 'missing'), ...at(c), '--prefix', 'new'], exit: 1, message: /missing: no such folder/ },
  { area: 'paths', input: 'a file where a sync folder is expected', args: (c) => ['folder', 'add', c.file, ...at(c), '--prefix', 'new'], exit: 2, message: /a\.txt is a file; folder add takes a folder/ },
  { area: 'paths', input: 'a sync folder inside another', args: () => ['folder', 'add', join(template, 'synced'), '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'new'], exit: 2, message: /overlaps folder .*a file must belong to one sync folder only/ },
  { area: 'paths', input: 'restore --to a file', args: (c) => ['restore', ...at(c), '--prefix', 'seed', '--to', c.file, '--key', keyName], exit: 2, message: /cannot restore into .*a\.txt: it is a file, not a folder/ },
  { area: 'paths', input: 'restore --to a folder under a file', args: (c) => ['restore', ...at(c), '--prefix', 'seed', '--to', join(c.file, 'inner'), '--key', keyName], exit: 2, message: /cannot restore into .*inner: .*a\.txt is a file, not a folder/ },
  { area: 'paths', input: 'restore --to a place no one may create folders (/sys)', args: (c) => ['restore', ...at(c), '--prefix', 'seed', '--to', `/sys/${run}`, '--key', keyName], exit: 1, message: /cannot create the folder \/sys\/.* \((EPERM|EACCES)\); nothing was restored/ },
  { area: 'paths', input: 'restore --to inside /proc (a file system without folders)', args: (c) => ['restore', ...at(c), '--prefix', 'seed', '--to', `/proc/${run}/restored`, '--key', keyName], exit: 1, message: /cannot create the folder \/proc\/.* \(ENOENT/ },
  {
    area: 'paths',
    input: 'a sync folder that is gone (unmounted drive)',
    arrange: folderEdited((folder, c) => ({ ...folder, localPath: join(c.dir, 'unmounted') })),
    args: () => ['sync', '--once'],
    exit: 1,
    message: /sync folder .*unmounted is missing \(moved, deleted, or on a drive that is not mounted\); nothing in the bucket is changed/,
    stdout: /^done in [\d.]+ s\n$/,
  },

  // ignore files
  {
    area: 'ignore files',
    input: 'a .cosyncignore that is a folder',
    arrange: async (c) => {
      await mkdir(join(c.source, '.cosyncignore'));
      await folderEdited((folder) => ({ ...folder, localPath: c.source }))(c);
    },
    args: () => ['sync', '--once'],
    exit: 1,
    message: /cannot read .*source\/\.cosyncignore \(EISDIR\): it is a folder; .cosyncignore must be a file/,
    stdout: /^done in [\d.]+ s\n$/,
  },
];

/** A case's environment, with PASSPHRASE_FILE standing for the file of that name in its folder. */
function placeCase(caseEnv: CliCase['env'], context: CaseContext): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(caseEnv ?? {}).map(([name, value]) => [name, value === 'PASSPHRASE_FILE' ? join(context.dir, 'passphrase') : value]));
}

function contextFor(dir: string): CaseContext {
  return {
    dir,
    configDir: join(dir, 'config'),
    configFile: join(dir, 'config', 'config.json'),
    kit: join(dir, 'kit.json'),
    printableKit: join(dir, 'kit.txt'),
    source: join(dir, 'source'),
    file: join(dir, 'source', 'a.txt'),
    newKey: uniqueName(`${run}-new`),
    endpoint: services.httpsEndpoint,
  };
}

/** Runs cosync in the set-up config (before the cases) and insists it works. */
async function setUp(args: ReadonlyArray<string>): Promise<RunResult> {
  const result = await runCosync(args, { configDir: join(template, 'config'), services, env });
  expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

beforeAll(async () => {
  services = requireServices();
  env.COSYNC_SECRET_ID = services.accessKey;
  env.COSYNC_SECRET_KEY = services.secretKey;
  bucket = await createBucket(services, 'cosync-catalogue');
  template = join(work(), 'template');
  await mkdir(join(template, 'source', 'sub'), { recursive: true });
  await mkdir(join(template, 'synced'));
  await writeFile(join(template, 'source', 'a.txt'), 'a\n');
  await writeFile(join(template, 'source', 'sub', 'b.txt'), 'b\n');
  await setUp(['key', 'generate', keyName]);
  await setUp(['key', 'export', keyName, '--out', join(template, 'kit.json'), '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'seed']);
  await setUp(['key', 'export', keyName, '--printable', '--out', join(template, 'kit.txt')]);
  await setUp(['backup', join(template, 'source'), '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'seed', '--key', keyName]);
  const added = await setUp(['folder', 'add', join(template, 'synced'), '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'synced', '--key', keyName, '--json']);
  folderId = (JSON.parse(added.stdout) as { id: string }).id;
  bucketBefore = await bucketState();
  expect(bucketBefore.objects).toEqual(['seed/source/a.txt', 'seed/source/sub/b.txt']);
});

/** The keychain's keys of this run (name and fingerprint). */
async function runKeys(): Promise<string[]> {
  const listed = await runCosync(['key', 'list'], { configDir: join(template, 'config'), services, env });
  return listed.stdout.split('\n').filter((line) => line.startsWith(run));
}

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];

describe.concurrent('the command line refuses bad input and writes nothing', () => {
  for (const [index, testCase] of CLI_CASES.entries()) {
    it(`${testCase.area}: ${testCase.input}`, async ({ expect }) => {
      const dir = join(work(), `case-${index}`);
      await cp(template, dir, { recursive: true, preserveTimestamps: true });
      const context = contextFor(dir);
      await testCase.arrange?.(context);
      const before = await tree(dir);
      const result = await runCosync(testCase.args(context), {
        configDir: context.configDir,
        services,
        env: { ...env, ...placeCase(testCase.env, context) },
        input: testCase.stdin,
        wrapper: testCase.asNobody === true ? NOBODY : undefined,
      });
      const shown = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
      expect(result.stderr.trim().split('\n'), shown).toHaveLength(1);
      expect(result.stderr, shown).toMatch(/^cosync: /);
      expect(result.stderr, shown).toMatch(testCase.message);
      expect(result.stderr, 'no stack traces or internal errors').not.toMatch(/unexpected error|\n\s+at |TypeError|ReferenceError/);
      expect(result.code, shown).toBe(testCase.exit);
      if (testCase.stdout === undefined) expect(result.stdout, shown).toBe('');
      else expect(result.stdout, shown).toMatch(testCase.stdout);
      await expectNothingWritten(dir, before, expect);
      await rm(dir, { recursive: true, force: true });
    });
  }
});

// ── the HTTP API of `cosync serve` ──

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

interface HttpCase {
  readonly input: string;
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  /** Headers besides the right Host, the right token and application/json (undefined removes one). */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string | Buffer;
  readonly status: number;
  /** The key words of the answer: `{ error }` for refused requests, a failed Result for refused calls. */
  readonly message: RegExp;
}

let serveDir: string;
let serveBefore: Record<string, string>;
let serveUrl: URL;
let serveToken: string;
let stopServe: (() => Promise<void>) | undefined;

/** A JSON call through the API. */
const call = (channel: string, payload: unknown): Pick<HttpCase, 'path' | 'body'> => ({ path: `/api/call/${channel}`, body: JSON.stringify(payload) });

const HTTP_CASES: ReadonlyArray<HttpCase> = [
  { input: 'no token', ...call('sync:overview', null), headers: { authorization: undefined }, status: 401, message: /missing or wrong token: send it as Authorization: Bearer TOKEN/ },
  { input: 'a wrong token', ...call('sync:overview', null), headers: { authorization: 'Bearer not-the-token' }, status: 401, message: /missing or wrong token/ },
  { input: 'the token only in the query of a call', path: '/api/call/sync:overview?token=TOKEN', body: 'null', headers: { authorization: undefined }, status: 401, message: /missing or wrong token/ },
  { input: 'the event stream without a token', method: 'GET', path: '/api/events', headers: { authorization: undefined }, status: 401, message: /missing or wrong token: use the URL cosync serve printed/ },
  { input: 'a call by GET', method: 'GET', path: '/api/call/sync:overview', status: 405, message: /the API takes POST/ },
  { input: 'an unknown channel', ...call('sync:format-disk', null), status: 404, message: /no API \/api\/call\/sync:format-disk/ },
  { input: 'a channel name from Object.prototype', ...call('__proto__', null), status: 404, message: /no API \/api\/call\/__proto__/ },
  { input: 'a body that is not JSON', path: '/api/call/sync:set-bandwidth', body: '{"bytesPerSecond": 10', status: 400, message: /request body is not JSON/ },
  { input: 'a body that is not declared JSON', ...call('sync:set-bandwidth', { bytesPerSecond: 4096 }), headers: { 'content-type': 'text/plain' }, status: 415, message: /send the request as application\/json/ },
  { input: 'a body over 4 MiB', path: '/api/call/sync:set-ignore-rules', body: Buffer.alloc(5 * 1024 * 1024, 0x20), status: 413, message: /request body larger than 4194304 bytes/ },
  { input: 'another Host (DNS rebinding)', ...call('sync:overview', null), headers: { host: 'evil.example:80' }, status: 421, message: /unexpected Host header/ },
  { input: 'another Origin', ...call('sync:overview', null), headers: { origin: 'http://evil.example' }, status: 403, message: /requests from other origins are refused/ },
  { input: 'a PUT outside the API', method: 'PUT', path: '/index.html', status: 405, message: /only GET is served outside \/api\// },
  { input: 'a drop path that climbs out', path: '/api/drop?path=../../etc/passwd', headers: { 'content-type': 'application/octet-stream' }, body: 'x', status: 400, message: /invalid drop path \\"\.\.\/\.\.\/etc\/passwd\\": expected a relative path/ },
  { input: 'a drop into an unknown drop id', path: '/api/drop?path=a.txt&drop=../../config', headers: { 'content-type': 'application/octet-stream' }, body: 'x', status: 400, message: /unknown drop id/ },
  { input: 'a payload field of the wrong type', ...call('sync:set-bandwidth', { bytesPerSecond: 'fast' }), status: 200, message: /"ok":false.*sync:set-bandwidth: invalid request \(bytesPerSecond must be a whole number from 1024/ },
  { input: 'an unknown payload field', ...call('sync:set-concurrency', { files: 2, parts: 2, threads: 9 }), status: 200, message: /invalid request \(unknown field \\"threads\\"\)/ },
  { input: 'a bad ignore rule', ...call('sync:set-ignore-rules', { folderId: 'FOLDER', text: '*.tmp\nphotos/**/[\n' }), status: 200, message: /"ok":false.*\.cosyncignore/ },
  { input: 'adding a file as a sync folder', ...call('sync:add-folder', { endpoint: 'ENDPOINT', region: undefined, bucket: 'BUCKET', prefix: 'api-new', pathStyle: true, account: undefined, localPath: 'FILE', sse: 'none', policy: 'keep' }), status: 200, message: /"ok":false.*is a file; folder add takes a folder/ },
  { input: 'adding a folder with a bad bucket name', ...call('sync:add-folder', { endpoint: 'ENDPOINT', bucket: 'Bad_Bucket', prefix: 'api-new', pathStyle: true, localPath: 'SOURCE', sse: 'none', policy: 'keep' }), status: 200, message: /"ok":false.*invalid bucket name \\"Bad_Bucket\\"/ },
  { input: 'importing a truncated kit', ...call('sync:import-key', { name: `${run}-api`, kitPath: 'TRUNCATED' }), status: 200, message: /"ok":false.*damaged or cut short/ },
  { input: 'a kit export over an existing file', ...call('sync:export-kit', { name: keyName, path: 'KIT' }), status: 200, message: /"ok":false.*already exists/ },
  { input: 'a restore of an unknown folder', ...call('sync:restore', { folderId: 'no-such-folder', scope: 'folder', paths: ['a.txt'], destination: null }), status: 200, message: /"ok":false.*no folder with id \\"no-such-folder\\"/ },
];

/** Fills the placeholders of a case with this run's values. */
function placeholders(text: string): string {
  return text
    .replaceAll('FOLDER', folderId)
    .replaceAll('ENDPOINT', services.httpsEndpoint)
    .replaceAll('BUCKET', bucket)
    .replaceAll('TRUNCATED', join(serveDir, 'truncated.kit.json'))
    .replaceAll('FILE', join(serveDir, 'source', 'a.txt'))
    .replaceAll('SOURCE', join(serveDir, 'source'))
    .replaceAll('KIT', join(serveDir, 'kit.json'))
    .replaceAll('TOKEN', serveToken);
}

function send(testCase: HttpCase): Promise<HttpAnswer> {
  const headers: Record<string, string> = { host: serveUrl.host, authorization: `Bearer ${serveToken}`, 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(testCase.headers ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const body = typeof testCase.body === 'string' ? placeholders(testCase.body) : testCase.body;
  return new Promise((resolve, reject) => {
    // A connection of its own: one the server stopped reading (an oversized body) cannot be reused.
    const outgoing = httpRequest({ agent: false, host: serveUrl.hostname, port: serveUrl.port, method: testCase.method ?? 'POST', path: placeholders(testCase.path), headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    // The server answers an oversized body before reading all of it, and may close the socket under the rest.
    outgoing.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    outgoing.end(body);
  });
}

describe('the HTTP API of `cosync serve` refuses bad requests and writes nothing', () => {
  beforeAll(async () => {
    serveDir = join(work(), 'serve');
    await cp(template, serveDir, { recursive: true, preserveTimestamps: true });
    // Its sync folder is an empty folder of its own: the engine has nothing to upload.
    await folderEdited((folder) => ({ ...folder, localPath: join(serveDir, 'synced') }))(contextFor(serveDir));
    await writeFile(join(serveDir, 'truncated.kit.json'), (await readFile(join(serveDir, 'kit.json'), 'utf8')).slice(0, 100));
    const child = spawnCosync(['serve', '--port', '0'], { configDir: join(serveDir, 'config'), services, env });
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    stopServe = async () => {
      child.kill('SIGTERM');
      await exited;
    };
    serveUrl = await servedUrl(child);
    serveToken = serveUrl.searchParams.get('token') as string;
    // Serving itself writes nothing but its own records: the snapshot is taken once it runs.
    serveBefore = await tree(serveDir);
  });

  afterAll(async () => {
    await stopServe?.();
  });

  for (const testCase of HTTP_CASES) {
    it(testCase.input, async () => {
      const answer = await send(testCase);
      expect(answer.status, answer.body).toBe(testCase.status);
      expect(answer.body).toMatch(testCase.message);
      expect(answer.body).not.toMatch(/internal error|"code":"internal"|\n\s+at /);
      await expectNothingWritten(serveDir, serveBefore, expect);
    });
  }
});

// ── the IPC contract: both bridges validate a payload before any work ──

interface ContractCase {
  readonly input: string;
  readonly channel: Channel;
  readonly payload: unknown;
  readonly reason: RegExp;
}

const CONTRACT_CASES: ReadonlyArray<ContractCase> = [
  { input: 'a payload where none is taken', channel: 'sync:overview', payload: { verbose: true }, reason: /sync:overview takes no payload/ },
  { input: 'a list instead of an object', channel: 'sync:files', payload: ['folder'], reason: /expected an object/ },
  { input: 'a missing field', channel: 'sync:retry', payload: { folderId: 'f' }, reason: /path must be a string/ },
  { input: 'an unknown field', channel: 'sync:remove-folder', payload: { folderId: 'f', force: true }, reason: /unknown field "force"/ },
  { input: 'a number where text is expected', channel: 'sync:files', payload: { folderId: 7 }, reason: /folderId must be a string/ },
  { input: 'blank text', channel: 'sync:generate-key', payload: { name: '   ' }, reason: /name must not be empty/ },
  { input: 'a NUL in a path', channel: 'sync:export-kit', payload: { name: 'k', path: '/tmp/kit\0.json' }, reason: /path must not contain NUL/ },
  { input: 'text over its limit', channel: 'sync:generate-key', payload: { name: 'k'.repeat(201) }, reason: /name is longer than 200 characters/ },
  { input: 'a fraction where a whole number is expected', channel: 'sync:set-concurrency', payload: { files: 1.5, parts: 2 }, reason: /files must be a whole number from 1 to 64/ },
  { input: 'a number out of range', channel: 'sync:activity', payload: { limit: 0 }, reason: /limit must be a whole number from 1 to 10000/ },
  { input: 'text where true or false is expected', channel: 'sync:set-paused', payload: { folderId: null, paused: 'yes' }, reason: /paused must be true or false/ },
  { input: 'a value outside its choices', channel: 'sync:list-remote', payload: { folderId: 'f', scope: 'everything', path: '' }, reason: /scope must be one of folder, bucket/ },
  { input: 'an empty list of paths', channel: 'sync:backup', payload: { folderId: 'f', paths: [], prefix: 'p' }, reason: /paths must not be empty/ },
  { input: 'a path list of the wrong type', channel: 'sync:restore', payload: { folderId: 'f', scope: 'folder', paths: 'a.txt', destination: null }, reason: /paths must be a list/ },
  { input: 'an unknown SSE mode', channel: 'sync:add-folder', payload: { endpoint: '', bucket: 'b', prefix: '', pathStyle: false, localPath: '/x', sse: 'aes', policy: 'keep' }, reason: /sse must be one of none, cos, kms, c/ },
];

describe('the IPC contract refuses bad payloads before any work', () => {
  for (const testCase of CONTRACT_CASES) {
    it(testCase.input, async () => {
      let worked = false;
      const work: ChannelHandler<Channel> = async () => {
        worked = true;
        return null as never;
      };
      const answer = await answerRequest(testCase.channel, testCase.payload, work);
      expect(answer.ok).toBe(false);
      expect(answer).toMatchObject({ error: { code: 'usage', message: expect.stringMatching(`^${testCase.channel}: invalid request \\(`) } });
      expect(answer.ok ? '' : answer.error.message).toMatch(testCase.reason);
      expect(worked, 'the handler ran').toBe(false);
    });
  }

  it('names that are not channels: unknown, empty, and inherited from Object.prototype', () => {
    for (const name of ['sync:nope', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) expect(isChannel(name), name).toBe(false);
    expect(Object.keys(REQUEST_VALIDATORS).every((name) => name.startsWith('sync:'))).toBe(true);
  });
});

// ── the catalogue as a whole ──

describe('the catalogue', () => {
  it('counts at least 40 refusals across every area, and the keychain holds only the set-up key', async () => {
    const areas = new Set(CLI_CASES.map((testCase) => testCase.area));
    expect([...areas].sort()).toEqual(['bucket names', 'config file', 'endpoints', 'flags', 'ignore files', 'keys', 'paths', 'prefixes', 'recovery kits']);
    expect(CLI_CASES.length + HTTP_CASES.length + CONTRACT_CASES.length).toBeGreaterThanOrEqual(40);
    // Every case ran with a key name of this run; none of them reached the keychain.
    const keys = await runKeys();
    expect(keys.map((line) => line.split('\t')[0])).toEqual([keyName]);
    expect(await bucketState()).toEqual(bucketBefore);
  });
});
