/**
 * Every `cosync` command, defined once: name, summary, positionals, its option table and
 * examples. The parser, `cosync --help`, each command's own help and the completion scripts are
 * all made from this table (command-spec.ts, help-text.ts, completion.ts).
 *
 * To add an option, add it to its command's table here (with its description); the handler
 * gets it typed in `values`. A command's module is loaded only when it runs.
 */
import { defineCommand, type CommandEntry, type CommandSection, type GroupSpec, type OptionTable } from './command-spec.js';
import { SIZING_OPTIONS, STORAGE_CLASS_OPTION, TARGET_OPTIONS, TRAFFIC_LIMIT_OPTION, TRANSFER_OPTIONS } from './cli-options.js';

// ── keys ────────────────────────────────────────────────────────────────────────────

/** The options of `cosync key generate`. */
export const KEY_GENERATE_OPTIONS = {} as const satisfies OptionTable;

/** Where `key import` checks the key against existing objects before storing it. */
export const IMPORT_CHECK_OPTIONS = {
  folder: { type: 'string', value: 'ID', description: 'first check the key against objects of this sync folder (see `cosync folder list`)' },
  endpoint: TARGET_OPTIONS.endpoint,
  region: TARGET_OPTIONS.region,
  bucket: { type: 'string', value: 'B', description: 'first check the key against objects in this bucket (with --endpoint or --region)' },
  prefix: TARGET_OPTIONS.prefix,
  'path-style': TARGET_OPTIONS['path-style'],
  dialect: TARGET_OPTIONS.dialect,
  account: TARGET_OPTIONS.account,
} as const satisfies OptionTable;

/** The options of `cosync key import`. */
export const KEY_IMPORT_OPTIONS = {
  from: { type: 'string', value: 'KIT', description: 'read the key from a recovery kit file (JSON, or the printable text)', complete: 'file' },
  base64: { type: 'string', value: 'B64', description: 'the key as base64 of 32 bytes (visible to other users in the process list: prefer --stdin)' },
  stdin: { type: 'boolean', description: 'read the base64 key from stdin' },
  raw: { type: 'boolean', description: 'the --base64 or --stdin text is a 32-character text key, used as it is' },
  replace: { type: 'boolean', description: 'replace a different key stored under the same name' },
  ...IMPORT_CHECK_OPTIONS,
} as const satisfies OptionTable;

/** The options of `cosync key export`. */
export const KEY_EXPORT_OPTIONS = {
  out: { type: 'string', value: 'FILE', description: 'where to write the recovery kit (mode 0600)', complete: 'file' },
  force: { type: 'boolean', description: 'overwrite FILE if it exists' },
  printable: { type: 'boolean', description: 'write a text kit to print and keep on paper' },
  sealed: { type: 'boolean', description: 'seal the kit under a passphrase from COSYNC_KIT_PASSPHRASE_FILE (mode 0600), COSYNC_KIT_PASSPHRASE or piped stdin, never the command line' },
  endpoint: { type: 'string', value: 'URL', description: 'record in the kit where the data is (endpoint, bucket, prefix), for the restore' },
  bucket: { type: 'string', value: 'B', description: 'the bucket to record in the kit' },
  prefix: { type: 'string', value: 'P', description: 'the prefix to record in the kit' },
} as const satisfies OptionTable;

/** The options of `cosync key list`. */
export const KEY_LIST_OPTIONS = {} as const satisfies OptionTable;

/** The options of `cosync key verify`. */
export const KEY_VERIFY_OPTIONS = {
  endpoint: TARGET_OPTIONS.endpoint,
  region: TARGET_OPTIONS.region,
  bucket: TARGET_OPTIONS.bucket,
  prefix: TARGET_OPTIONS.prefix,
  'path-style': TARGET_OPTIONS['path-style'],
  account: TARGET_OPTIONS.account,
  limit: { type: 'string', value: 'N', description: 'check at most N objects (default 20)' },
} as const satisfies OptionTable;

/** The options of `cosync key delete`. */
export const KEY_DELETE_OPTIONS = {
  yes: { type: 'boolean', description: 'confirm: objects encrypted with the key become unreadable unless you kept its recovery kit' },
} as const satisfies OptionTable;

/** The options of `cosync key rotate`. */
export const KEY_ROTATE_OPTIONS = {
  folder: { type: 'string', value: 'ID', description: 'the sync folder whose objects are re-encrypted (see `cosync folder list`)' },
  'kit-out': { type: 'string', value: 'FILE', description: "where to write the new key's recovery kit, before any object is re-encrypted", complete: 'file' },
  force: { type: 'boolean', description: 'overwrite the --kit-out file if it exists' },
  sealed: KEY_EXPORT_OPTIONS.sealed,
  clear: { type: 'boolean', description: 'write the kit in clear instead of sealed (mode 0600): anyone with the file can read the data, so keep it offline' },
  printable: KEY_EXPORT_OPTIONS.printable,
  concurrency: TRANSFER_OPTIONS.concurrency,
  json: TRANSFER_OPTIONS.json,
  ...SIZING_OPTIONS,
} as const satisfies OptionTable;

const KEY: GroupSpec = {
  kind: 'group',
  name: 'key',
  summary: 'SSE-C keys, kept only in the OS keychain (or in the file keystore with --keystore file)',
  commands: [
    defineCommand({
      name: 'key generate',
      synopsis: 'NAME',
      summary: 'make a new 256-bit key; prints its fingerprint',
      details: ['Export its recovery kit right away (`cosync key export`): without the key, data encrypted with it cannot be recovered.'],
      options: KEY_GENERATE_OPTIONS,
      examples: ['cosync key generate photos', 'cosync key generate photos && cosync key export photos --out photos.kit.json'],
      run: async (parsed, session) => (await import('./key-commands.js')).keyGenerate(parsed, session),
    }),
    defineCommand({
      name: 'key import',
      synopsis: 'NAME (--from KIT | --base64 B64 | --stdin)',
      summary: 'import a key from a recovery kit, base64 text or stdin',
      details: [
        'With --folder ID, or --endpoint URL (or --region) and --bucket B, it first HEADs existing objects there with the key: if it decrypts none of them, nothing is stored.',
      ],
      options: KEY_IMPORT_OPTIONS,
      examples: [
        'cosync key import photos --from photos.kit.json',
        'cosync key import photos --from photos.kit.json --folder photos-1a2b3c',
        'cosync key import photos --stdin < key.b64',
      ],
      run: async (parsed, session) => (await import('./key-commands.js')).keyImport(parsed, session),
    }),
    defineCommand({
      name: 'key export',
      synopsis: 'NAME --out FILE',
      summary: 'write a recovery kit (JSON, mode 0600; --printable: text to print)',
      details: ['Anyone with the kit can read the data: keep it offline.'],
      options: KEY_EXPORT_OPTIONS,
      examples: ['cosync key export photos --out photos.kit.json', 'COSYNC_KIT_PASSPHRASE_FILE=~/.kit-pass cosync key export photos --out photos.sealed.json --sealed', 'cosync key export photos --out photos.txt --printable --endpoint https://s3.example.com --bucket backup'],
      run: async (parsed, session) => (await import('./key-commands.js')).keyExport(parsed, session),
    }),
    defineCommand({
      name: 'key list',
      synopsis: '',
      summary: 'names and fingerprints',
      options: KEY_LIST_OPTIONS,
      examples: ['cosync key list', 'cosync --keystore file key list'],
      run: async (parsed, session) => (await import('./key-commands.js')).keyList(parsed, session),
    }),
    defineCommand({
      name: 'key verify',
      synopsis: 'NAME (--endpoint URL | --region COS-REGION) --bucket B',
      summary: 'HEAD up to N objects (20) with the key: match / MISMATCH / not SSE-C',
      details: ['Exits 1 when an object is encrypted with another key, or none matches.'],
      options: KEY_VERIFY_OPTIONS,
      examples: ['cosync key verify photos --endpoint https://s3.example.com --bucket backup --prefix photos'],
      run: async (parsed, session) => (await import('./key-commands.js')).keyVerify(parsed, session),
    }),
    defineCommand({
      name: 'key delete',
      synopsis: 'NAME --yes',
      summary: 'remove a key from the keychain (objects encrypted with it become unreadable)',
      options: KEY_DELETE_OPTIONS,
      examples: ['cosync key delete old-photos --yes'],
      run: async (parsed, session) => (await import('./key-commands.js')).keyDelete(parsed, session),
    }),
    defineCommand({
      name: 'key rotate',
      synopsis: 'NAME --folder ID --kit-out FILE',
      summary: 'new key for a sync folder: every object of the folder is re-encrypted in place',
      details: [
        "The new key's kit goes to FILE first, sealed under a passphrase unless --clear or --printable (as `key export --sealed`), then every object of the folder (trash and conflict copies too) is re-encrypted in place; the old key stays in the keychain until the last object is done (the new one waits as NAME.rotating).",
        'Interrupted, the same command resumes. Stop `serve` for that folder meanwhile.',
      ],
      options: KEY_ROTATE_OPTIONS,
      examples: ['COSYNC_KIT_PASSPHRASE_FILE=~/.kit-pass cosync key rotate photos --folder photos-1a2b3c --kit-out photos-2.sealed.json', 'cosync key rotate photos --folder photos-1a2b3c --kit-out photos-2.kit.json --clear'],
      run: async (parsed, session) => (await import('./key-rotate-command.js')).keyRotateCommand(parsed, session),
    }),
  ],
};

// ── credentials and the file keystore ───────────────────────────────────────────────

/** The options of `cosync credentials set`. */
export const CREDENTIALS_SET_OPTIONS = {
  'secret-id': { type: 'string', value: 'ID', description: 'the COS SecretId or S3 access key id' },
  'secret-key-env': { type: 'string', value: 'VAR', description: 'read the secret key from this environment variable instead of stdin' },
  'session-token-env': { type: 'string', value: 'VAR', description: 'read a session token (temporary credentials) from this environment variable' },
  process: { type: 'string', value: 'COMMAND', description: 'instead of keys: a command that prints temporary credentials as JSON (AWS credential_process format), run again before they expire' },
  account: { type: 'string', value: 'NAME', description: 'store them under this account name (default: default)' },
} as const satisfies OptionTable;

/** The options of `cosync credentials show and credentials delete`. */
export const CREDENTIALS_ACCOUNT_OPTIONS = {
  account: { type: 'string', value: 'NAME', description: 'the account (default: default)' },
} as const satisfies OptionTable;

const CREDENTIALS: GroupSpec = {
  kind: 'group',
  name: 'credentials',
  summary: 'COS SecretId/SecretKey or S3 access keys, kept in the OS keychain',
  details: ['COSYNC_SECRET_ID and COSYNC_SECRET_KEY in the environment take precedence over the keychain.'],
  commands: [
    defineCommand({
      name: 'credentials set',
      synopsis: '--secret-id ID',
      summary: 'store credentials; reads the secret key from stdin (or --secret-key-env VAR)',
      options: CREDENTIALS_SET_OPTIONS,
      examples: ['cosync credentials set --secret-id AKIDEXAMPLE < secret-key.txt', 'cosync credentials set --account work --secret-id AKIDEXAMPLE --secret-key-env WORK_SECRET', "cosync credentials set --account sts --process '/opt/bin/cos-sts --role backup'"],
      run: async (parsed, session) => (await import('./credentials-command.js')).credentialsSet(parsed, session),
    }),
    defineCommand({
      name: 'credentials show',
      synopsis: '',
      summary: 'which secret id is stored (the secret key is never shown)',
      options: CREDENTIALS_ACCOUNT_OPTIONS,
      examples: ['cosync credentials show', 'cosync credentials show --account work'],
      run: async (parsed, session) => (await import('./credentials-command.js')).credentialsShow(parsed, session),
    }),
    defineCommand({
      name: 'credentials delete',
      synopsis: '',
      summary: 'remove stored credentials',
      options: CREDENTIALS_ACCOUNT_OPTIONS,
      examples: ['cosync credentials delete --account work'],
      run: async (parsed, session) => (await import('./credentials-command.js')).credentialsDelete(parsed, session),
    }),
  ],
};

/** Where `keystore passphrase` takes the new passphrase from (never argv). */
export const NEW_PASSPHRASE_SOURCES =
  'put the new passphrase in a file only you can read (chmod 600) and set COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE to its path, set COSYNC_KEYSTORE_NEW_PASSPHRASE, or pipe it on stdin';

/** What `keystore passphrase` says to any argument, which may be the passphrase itself. */
export const KEYSTORE_PASSPHRASE_MISUSE = `cosync keystore passphrase takes no arguments: the new passphrase is never read from the command line, where other users can see it; ${NEW_PASSPHRASE_SOURCES}`;

const KEYSTORE: GroupSpec = {
  kind: 'group',
  name: 'keystore',
  summary: 'the file keystore (--keystore file or COSYNC_KEYSTORE=file)',
  // A word after `keystore` may be a passphrase typed as an argument by mistake: it is never repeated back.
  misuse: 'expected: cosync keystore passphrase (the only keystore action)',
  commands: [
    defineCommand({
      name: 'keystore passphrase',
      synopsis: '',
      summary: 're-encrypt it under a new passphrase, read from COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE, COSYNC_KEYSTORE_NEW_PASSPHRASE or piped stdin',
      details: [
        'A fresh salt and the current scrypt cost are used. The current passphrase comes as always from COSYNC_KEYSTORE_PASSPHRASE_FILE or COSYNC_KEYSTORE_PASSPHRASE; the new one (at least 8 characters) from the file named by COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE (mode 0600), from COSYNC_KEYSTORE_NEW_PASSPHRASE, or from the first line of piped stdin — never from the command line.',
      ],
      options: {},
      misuse: KEYSTORE_PASSPHRASE_MISUSE,
      examples: ['COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE=~/.new-passphrase cosync --keystore file keystore passphrase', 'pass show cosync-new | cosync --keystore file keystore passphrase'],
      run: async (parsed, session) => (await import('./keystore-command.js')).changePassphraseCommand(parsed, session),
    }),
  ],
};

// ── transfers ───────────────────────────────────────────────────────────────────────

/** The options of `cosync backup`. */
export const BACKUP_OPTIONS = {
  ...TARGET_OPTIONS,
  ...TRANSFER_OPTIONS,
  ...SIZING_OPTIONS,
  'storage-class': STORAGE_CLASS_OPTION,
  'traffic-limit': TRAFFIC_LIMIT_OPTION,
  'stale-upload-hours': { type: 'string', value: 'H', description: 'abort unfinished multipart uploads under the prefix older than H hours (default 24)' },
} as const satisfies OptionTable;

/** The options of `cosync restore`. */
export const RESTORE_OPTIONS = {
  ...TARGET_OPTIONS,
  to: { type: 'string', value: 'DIR', description: 'the folder to restore into (made if missing)', complete: 'directory' },
  overwrite: { type: 'boolean', description: 'replace local files that differ (without it they are left alone and reported)' },
  'restore-tier': {
    type: 'string',
    value: 'TIER',
    description: 'how archived (ARCHIVE, DEEP_ARCHIVE, GLACIER) objects are retrieved: Standard (default; about 3–5 h, DEEP_ARCHIVE 12 h), Expedited (1–5 min, not DEEP_ARCHIVE) or Bulk (5–12 h, DEEP_ARCHIVE 48 h)',
    complete: ['Standard', 'Expedited', 'Bulk'],
  },
  'restore-days': { type: 'string', value: 'N', description: 'how many days a retrieved archived object stays readable (default 1, at most 365)' },
  wait: { type: 'boolean', description: 'wait for archived objects being retrieved (polling with growing pauses) and download them, instead of exiting 5' },
  ...TRANSFER_OPTIONS,
  'traffic-limit': TRAFFIC_LIMIT_OPTION,
} as const satisfies OptionTable;

const COS_NOTE =
  "Tencent COS: --region ap-guangzhou alone selects https://cos.ap-guangzhou.myqcloud.com, the virtual-hosted BUCKET-APPID.cos.REGION.myqcloud.com addresses and COS's x-cos- headers.";

const BACKUP = defineCommand({
  name: 'backup',
  synopsis: 'PATH... (--endpoint URL | --region COS-REGION) --bucket B',
  summary: 'upload files and folders once, each object encrypted on the server',
  details: [COS_NOTE, 'Exit code 3: some files failed, the others were uploaded; 4: the store was unreachable or failing after retries, run it again later.'],
  options: BACKUP_OPTIONS,
  positionals: 'file',
  examples: [
    'cosync backup ~/Photos --endpoint https://s3.example.com --bucket backup --prefix laptop --key photos',
    'cosync backup report.pdf notes/ --region ap-guangzhou --bucket docs-1250000000 --sse cos',
  ],
  run: async (parsed, session) => (await import('./transfer-commands.js')).backupCommand(parsed, session),
});

const RESTORE = defineCommand({
  name: 'restore',
  synopsis: '(--endpoint URL | --region COS-REGION) --bucket B --to DIR',
  summary: 'download every object under a prefix (or one object) into a folder, verified',
  details: [
    COS_NOTE,
    'Archived objects are not failed: restore asks the store to retrieve them (POST Object restore, --restore-tier, --restore-days), reports each as "retrieving from archive, ready in about N hours", and a later run (or --wait) downloads them.',
    'Exit code 3: some files failed, the others were restored; 4: the store was unreachable or failing after retries, run it again later; 5: archived files are still being retrieved, run it again later.',
  ],
  options: RESTORE_OPTIONS,
  examples: [
    'cosync restore --endpoint https://s3.example.com --bucket backup --prefix laptop/Photos --to ~/Photos-restored --key photos',
    'cosync restore --region ap-guangzhou --bucket docs-1250000000 --prefix report.pdf --to .',
  ],
  run: async (parsed, session) => (await import('./transfer-commands.js')).restoreCommand(parsed, session),
});

// ── folder sync ─────────────────────────────────────────────────────────────────────

/** The options of `cosync folder add`. */
export const FOLDER_ADD_OPTIONS = {
  ...TARGET_OPTIONS,
  policy: {
    type: 'string',
    value: 'keep|mirror|trash',
    description: 'what a local delete does in the bucket: keep (default: objects stay), mirror (deleted too), trash (moved to .cosync-trash/DATE/)',
    complete: ['keep', 'mirror', 'trash'],
  },
  'storage-class': STORAGE_CLASS_OPTION,
  'traffic-limit': TRAFFIC_LIMIT_OPTION,
  'kit-saved': { type: 'boolean', description: "acknowledge that the --key's recovery kit is kept elsewhere (otherwise it must have been exported first)" },
  json: { type: 'boolean', description: 'print the added folder as JSON' },
} as const satisfies OptionTable;

/** The options of `cosync folder list`. */
export const FOLDER_LIST_OPTIONS = { json: { type: 'boolean', description: 'print the folders as JSON' } } as const satisfies OptionTable;

/** The options of `cosync folder remove, pause and resume`. */
export const FOLDER_ID_OPTIONS = {} as const satisfies OptionTable;

const FOLDER: GroupSpec = {
  kind: 'group',
  name: 'folder',
  summary: 'sync folders: one-way mirrors of a local folder to bucket/prefix',
  details: ['A .cosyncignore file (gitignore syntax) at the folder\'s root excludes paths; temp and OS files are always excluded.'],
  commands: [
    defineCommand({
      name: 'folder add',
      synopsis: 'PATH (--endpoint URL | --region COS-REGION) --bucket B',
      summary: 'sync a local folder to bucket/prefix (with --key: its recovery kit must have been exported, or --kit-saved)',
      options: FOLDER_ADD_OPTIONS,
      positionals: 'directory',
      examples: [
        'cosync folder add ~/Documents --endpoint https://s3.example.com --bucket backup --prefix docs --key docs-key',
        'cosync folder add ~/Music --region ap-guangzhou --bucket music-1250000000 --sse cos --policy trash',
      ],
      run: async (parsed, session) => (await import('./sync-commands.js')).folderAdd(parsed, session),
    }),
    defineCommand({
      name: 'folder list',
      synopsis: '',
      summary: 'the sync folders, with their ids',
      options: FOLDER_LIST_OPTIONS,
      examples: ['cosync folder list', 'cosync folder list --json'],
      run: async (parsed, session) => (await import('./sync-commands.js')).folderList(parsed, session),
    }),
    defineCommand({
      name: 'folder remove',
      synopsis: 'ID',
      summary: 'stop syncing a folder (nothing is deleted locally or in the bucket)',
      options: FOLDER_ID_OPTIONS,
      examples: ['cosync folder remove docs-1a2b3c'],
      run: async (parsed, session) => (await import('./sync-commands.js')).folderRemove(parsed, session),
    }),
    defineCommand({
      name: 'folder pause',
      synopsis: 'ID',
      summary: 'stop syncing a folder until it is resumed (saved; a running engine applies it at once)',
      options: FOLDER_ID_OPTIONS,
      examples: ['cosync folder pause docs-1a2b3c'],
      run: async (parsed, session) => (await import('./sync-commands.js')).folderPause(parsed, session),
    }),
    defineCommand({
      name: 'folder resume',
      synopsis: 'ID',
      summary: 'sync a paused folder again',
      options: FOLDER_ID_OPTIONS,
      examples: ['cosync folder resume docs-1a2b3c'],
      run: async (parsed, session) => (await import('./sync-commands.js')).folderResume(parsed, session),
    }),
  ],
};

/** How the sync engine runs (sync --once and serve). */
const ENGINE_OPTIONS = {
  concurrency: TRANSFER_OPTIONS.concurrency,
  bwlimit: TRANSFER_OPTIONS.bwlimit,
  ...SIZING_OPTIONS,
} as const satisfies OptionTable;

/** The options of `cosync sync`. */
export const SYNC_OPTIONS = {
  once: { type: 'boolean', description: 'sync every folder to convergence and exit (required; `cosync serve` keeps them in sync)' },
  folder: { type: 'string', value: 'ID', description: 'only this folder' },
  json: { type: 'boolean', description: 'print one JSON object per folder' },
  ...ENGINE_OPTIONS,
} as const satisfies OptionTable;

/** The options of `cosync serve`. */
export const SERVE_OPTIONS = {
  port: { type: 'string', value: 'N', description: 'listen on this port (default 0: any free port)' },
  host: { type: 'string', value: 'H', description: 'listen on this address (default 127.0.0.1)' },
  ...ENGINE_OPTIONS,
} as const satisfies OptionTable;

/** The options of `cosync pause and resume`. */
export const PAUSE_OPTIONS = {
  folder: { type: 'string', value: 'ID', description: 'only this folder (saved); without it, everything in the running engine until it restarts' },
} as const satisfies OptionTable;

/** The options of `cosync status`. */
export const STATUS_OPTIONS = {
  folder: { type: 'string', value: 'ID', description: 'only this folder' },
  files: { type: 'boolean', description: 'list every file with its state, not only the failing ones' },
  json: { type: 'boolean', description: 'print JSON' },
} as const satisfies OptionTable;

/** The options of `cosync logs`. */
export const LOGS_OPTIONS = {
  lines: { type: 'string', value: 'N', description: 'how many recent entries (default 50)' },
  json: { type: 'boolean', description: 'print the entries as the JSON lines they are stored as' },
} as const satisfies OptionTable;

const SYNC_COMMANDS: ReadonlyArray<CommandEntry> = [
  FOLDER,
  defineCommand({
    name: 'sync',
    synopsis: '--once',
    summary: 'sync every folder to convergence and exit (for scripts and cron)',
    details: ['Exit code 3: some files failed, the others are in sync; 4: a store was unreachable or failing after retries, run it again later.'],
    options: SYNC_OPTIONS,
    examples: ['cosync sync --once', 'cosync sync --once --folder docs-1a2b3c --json'],
    run: async (parsed, session) => (await import('./sync-commands.js')).syncCommand(parsed, session),
  }),
  defineCommand({
    name: 'serve',
    synopsis: '',
    summary: 'keep every folder in sync (watching), and serve the UI and API; prints the URL',
    options: SERVE_OPTIONS,
    examples: ['cosync serve', 'cosync serve --port 8377 --bwlimit 2'],
    run: async (parsed, session) => (await import('./sync-commands.js')).serveCommand(parsed, session),
  }),
  defineCommand({
    name: 'pause',
    synopsis: '',
    summary: 'pause the running engine: everything (until it restarts), or one folder (saved)',
    options: PAUSE_OPTIONS,
    examples: ['cosync pause', 'cosync pause --folder docs-1a2b3c'],
    run: async (parsed, session) => (await import('./sync-commands.js')).pauseCommand(parsed, session),
  }),
  defineCommand({
    name: 'resume',
    synopsis: '',
    summary: 'resume the running engine, or one folder (saved)',
    options: PAUSE_OPTIONS,
    examples: ['cosync resume', 'cosync resume --folder docs-1a2b3c'],
    run: async (parsed, session) => (await import('./sync-commands.js')).resumeCommand(parsed, session),
  }),
  defineCommand({
    name: 'status',
    synopsis: '',
    summary: 'per folder and per file, as of the last scan',
    options: STATUS_OPTIONS,
    examples: ['cosync status', 'cosync status --folder docs-1a2b3c --files'],
    run: async (parsed, session) => (await import('./sync-commands.js')).statusCommand(parsed, session),
  }),
  defineCommand({
    name: 'logs',
    synopsis: '',
    summary: 'recent log entries (secrets are never logged)',
    options: LOGS_OPTIONS,
    examples: ['cosync logs', 'cosync logs --lines 200 --json'],
    run: async (parsed, session) => (await import('./sync-commands.js')).logsCommand(parsed, session),
  }),
];

// ── help and shells ─────────────────────────────────────────────────────────────────

/** The shells `cosync completion` writes scripts for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;

const HELP_COMMANDS: ReadonlyArray<CommandEntry> = [
  defineCommand({
    name: 'help',
    synopsis: '[COMMAND [SUBCOMMAND]]',
    summary: "a command's usage, options and examples (the same as COMMAND --help)",
    options: {},
    examples: ['cosync help backup', 'cosync help key import'],
    run: async (parsed, session) => (await import('./help-text.js')).helpCommand(parsed, session),
  }),
  defineCommand({
    name: 'completion',
    synopsis: 'bash|zsh|fish',
    summary: 'print a shell completion script (commands, options, file names for path options)',
    details: [
      'bash: add `source <(cosync completion bash)` to ~/.bashrc.',
      'zsh: add `source <(cosync completion zsh)` to ~/.zshrc (after compinit).',
      'fish: `cosync completion fish > ~/.config/fish/completions/cosync.fish`.',
    ],
    options: {},
    positionals: COMPLETION_SHELLS,
    examples: ['source <(cosync completion bash)', 'cosync completion fish > ~/.config/fish/completions/cosync.fish'],
    run: async (parsed, session) => (await import('./completion.js')).completionCommand(parsed, session),
  }),
];

/** `cosync --help`'s headings, in order, with every command under one of them. */
export const COMMAND_SECTIONS: ReadonlyArray<CommandSection> = [
  { title: 'Keys (SSE-C, kept only in the OS keychain, or in the file keystore with --keystore file)', entries: [KEY] },
  { title: 'Credentials (COS SecretId/SecretKey or S3 access keys, kept in the OS keychain)', notes: CREDENTIALS.details, entries: [CREDENTIALS] },
  { title: 'File keystore (--keystore file or COSYNC_KEYSTORE=file)', entries: [KEYSTORE] },
  { title: 'Transfers', notes: [COS_NOTE], entries: [BACKUP, RESTORE] },
  { title: 'Folder sync (one-way mirror, local folder → bucket/prefix)', notes: FOLDER.details, entries: SYNC_COMMANDS },
  { title: 'Help and shells', entries: HELP_COMMANDS },
];

/** The words `cosync` takes first: commands and groups. */
export const TOP_LEVEL: ReadonlyArray<CommandEntry> = COMMAND_SECTIONS.flatMap((section) => section.entries);

/** Options only `cosync` itself takes, before any command. */
export const TOP_LEVEL_OPTIONS = {
  version: { type: 'boolean', description: 'print the version' },
} as const satisfies OptionTable;
