/**
 * The one API contract between the engine and any UI (Electron preload bridge or the headless
 * daemon's HTTP bridge). Every request channel carries the `sync:` prefix; each has a request
 * type, a response type, and a validator that the main side runs before doing any work. The
 * engine pushes `EngineEvent`s the other way.
 *
 * To add a request channel: add it to ContractChannels, give it a validator in
 * REQUEST_VALIDATORS (the compiler insists), and a handler in main/daemon/api-handlers.ts (the
 * compiler insists there too). Both bridges pick it up from there.
 *
 * No secret comes back across here: keys appear only as fingerprints; store credentials cross
 * once, inward, through the write-only `sync:credentials-set`, and come back only as a masked SecretId.
 */
import { CosyncError, err, ok, type CosyncErrorInfo, type Result } from './result.js';
import { DELETE_POLICIES, type DeletePolicy } from './sync-model.js';
import { KNOWN_STORAGE_CLASSES } from './storage-class.js';
import type { FileStatus, FolderStateName, StateCounts, StatusBatch } from './sync-status.js';
import type { Dialect, SseMode } from './target.js';
import type { TransferEvent } from './transfer-events.js';

/** What a folder is doing, for the overview. */
export type FolderActivity = FolderStateName;

/** One sync folder as the overview shows it. */
export interface FolderOverview {
  readonly id: string;
  readonly localPath: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly sse: SseMode;
  readonly keyName: string | undefined;
  readonly policy: DeletePolicy;
  /** The storage class of new objects (undefined: the bucket's default, STANDARD). */
  readonly storageClass?: string | undefined;
  readonly activity: FolderActivity;
  readonly problem: CosyncErrorInfo | undefined;
  /** A watcher problem that makes the folder rely on periodic rescans. */
  readonly degraded: string | undefined;
  readonly counts: StateCounts;
  /** Bytes of every file known in the folder. */
  readonly bytesTotal: number;
  /** Bytes still to upload (queued and uploading files). */
  readonly bytesPending: number;
  /** Upload speed over the last few seconds. */
  readonly bytesPerSecond: number;
  /** Seconds until the pending bytes are sent at the current speed; undefined when idle or stalled. */
  readonly etaSeconds: number | undefined;
}

/** The whole engine at a glance. */
export interface Overview {
  readonly version: string;
  readonly paused: boolean;
  /** Upload limit in bytes per second; null: unlimited. */
  readonly bandwidthLimit: number | null;
  /** Files and data-carrying requests in flight at most, across all folders. */
  readonly concurrency: { readonly files: number; readonly parts: number };
  readonly folders: ReadonlyArray<FolderOverview>;
  /** Bytes per second across all folders, one sample a second, oldest first (the last few minutes). */
  readonly throughput: ReadonlyArray<number>;
}

/** A key as the UI sees it. */
export interface KeySummary {
  readonly name: string;
  readonly fingerprint: string | undefined;
  readonly createdAt: string | undefined;
  readonly kitExportedAt: string | undefined;
  /** Folders that use the key. */
  readonly folders: ReadonlyArray<string>;
}

/** Where a bucket is and how to reach it. */
export interface StoreLocation {
  /** Full endpoint URL, or empty with `region` for Tencent COS. */
  readonly endpoint: string;
  readonly region: string | undefined;
  readonly bucket: string;
  readonly prefix: string;
  readonly pathStyle: boolean;
  /** `cos` or `s3` when asked for (custom domains, private COS deployments); undefined: by host. */
  readonly dialect?: Dialect | undefined;
  readonly account: string | undefined;
}

export interface AddFolderRequest extends StoreLocation {
  readonly localPath: string;
  readonly sse: SseMode;
  readonly keyName: string | undefined;
  readonly kmsKeyId: string | undefined;
  readonly policy: DeletePolicy;
  /** The storage class of new objects, in the store's dialect (checked by the engine); undefined: the bucket's default. */
  readonly storageClass?: string | undefined;
}

/** Where remote paths start: a sync folder's prefix, or the root of its bucket. */
export type RemoteScope = 'folder' | 'bucket';

/** One entry of a folder's remote tree, one level at a time. */
export interface RemoteEntry {
  /** Folder-relative path; folders end with "/". */
  readonly path: string;
  readonly kind: 'file' | 'folder';
  readonly sizeBytes: number;
}

/** One bucket the credentials can see, as GET Service / ListBuckets names it. */
export interface BucketSummary {
  readonly name: string;
  /** The bucket's region where the store says (COS always does); undefined otherwise. */
  readonly region: string | undefined;
  readonly createdAt: string | undefined;
}

/** Store credentials as they come from the window: they go into the OS keychain and never come back. */
export interface CredentialsRequest {
  readonly secretId: string;
  readonly secretKey: string;
  /** For temporary credentials (STS). */
  readonly sessionToken?: string | undefined;
  /** The keychain account; undefined: `default`. */
  readonly account?: string | undefined;
}

/** Where to list buckets: a COS region (every region's buckets, COS's GET Service) or an S3-compatible endpoint. */
export interface BucketListRequest {
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly pathStyle?: boolean | undefined;
  readonly account?: string | undefined;
}

/** A backup or restore started from the UI; its progress arrives as `job` events. */
export interface JobSummary {
  readonly id: string;
  readonly kind: 'backup' | 'restore' | 'rotate';
  readonly title: string;
  /** 'cancelled': stopped by sync:cancel-job; what it finished stays, and unfinished multipart work resumes next time. */
  readonly state: 'running' | 'finished' | 'failed' | 'cancelled';
  readonly filesDone: number;
  readonly filesFailed: number;
  readonly files: number;
  readonly bytesDone: number;
  readonly bytes: number;
  readonly error: CosyncErrorInfo | undefined;
  /** Archived files of a restore whose retrieval is under way: restore them again later. */
  readonly retrieving?: { readonly files: number; readonly note: string } | undefined;
  readonly startedAt: number;
}

/** A recent log line, for the activity panel (already redacted by the logger). */
export interface ActivityEntry {
  readonly time: string;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly event: string;
  readonly folder: string | undefined;
  readonly text: string;
}

/** What the engine pushes to a UI. */
export type EngineEvent =
  | { readonly type: 'status'; readonly batch: StatusBatch }
  | { readonly type: 'overview'; readonly overview: Overview }
  | { readonly type: 'job'; readonly job: JobSummary; readonly event: TransferEvent | undefined }
  | { readonly type: 'activity'; readonly entry: ActivityEntry };

/** Channel → request/response types. */
export interface ContractChannels {
  /** The engine's version. */
  'sync:version': { readonly request: null; readonly response: string };
  /** Folders, their states and counts, global pause and bandwidth. */
  'sync:overview': { readonly request: null; readonly response: Overview };
  /** Every known file of a folder with its state. */
  'sync:files': { readonly request: { readonly folderId: string }; readonly response: ReadonlyArray<FileStatus> };
  /** Pauses or resumes one folder (persisted), or everything when folderId is null (until restart). */
  'sync:set-paused': { readonly request: { readonly folderId: string | null; readonly paused: boolean }; readonly response: null };
  /** Tries a failing file again now. */
  'sync:retry': { readonly request: { readonly folderId: string; readonly path: string }; readonly response: null };
  /** Sets the upload limit (bytes/s; null: unlimited); saved for the next start. */
  'sync:set-bandwidth': { readonly request: { readonly bytesPerSecond: number | null }; readonly response: null };
  /** Sets how many files and data-carrying requests are in flight at most; saved for the next start. */
  'sync:set-concurrency': { readonly request: { readonly files: number; readonly parts: number }; readonly response: null };
  /** Adds a sync folder and starts syncing it. */
  'sync:add-folder': { readonly request: AddFolderRequest; readonly response: FolderOverview };
  /** Stops syncing a folder; nothing is deleted locally or in the bucket. */
  'sync:remove-folder': { readonly request: { readonly folderId: string }; readonly response: null };
  /** Checks credentials and bucket access. */
  'sync:test-connection': { readonly request: StoreLocation; readonly response: { readonly description: string } };
  /** Keys in the keychain (fingerprints only). */
  'sync:keys': { readonly request: null; readonly response: ReadonlyArray<KeySummary> };
  /** Generates a new SSE-C key. */
  'sync:generate-key': { readonly request: { readonly name: string }; readonly response: KeySummary };
  /**
   * Writes a key's recovery kit to a file (mode 0600) on the engine's machine: sealed under
   * `passphrase` when one is given (at least 8 characters), else in clear.
   */
  'sync:export-kit': { readonly request: { readonly name: string; readonly path: string; readonly passphrase?: string | undefined }; readonly response: KeySummary };
  /**
   * Imports a key from a recovery kit file (JSON, printable or sealed) on the engine's machine;
   * never replaces a different key. A sealed kit without `passphrase` answers
   * 'kit-passphrase-needed', a wrong one 'kit-passphrase-wrong'.
   */
  'sync:import-key': { readonly request: { readonly name: string; readonly kitPath: string; readonly passphrase?: string | undefined }; readonly response: KeySummary };
  /**
   * Rotates a sync folder's SSE-C key (see `cosync key rotate`): a new key, its recovery kit
   * written to `kitPath` first, every object re-encrypted; the folder pauses meanwhile.
   */
  'sync:rotate-key': { readonly request: { readonly folderId: string; readonly kitPath: string }; readonly response: JobSummary };
  /** Checks a folder's key against its objects. */
  'sync:verify-key': {
    readonly request: { readonly folderId: string };
    readonly response: { readonly checked: number; readonly matched: number; readonly mismatched: ReadonlyArray<string>; readonly notSseC: number };
  };
  /**
   * One level of a remote tree, reached with a sync folder's store and key: the folder's own
   * objects (scope `folder`, paths relative to its prefix) or the whole bucket (scope `bucket`,
   * e.g. to find one-off backups).
   */
  'sync:list-remote': { readonly request: { readonly folderId: string; readonly scope: RemoteScope; readonly path: string }; readonly response: ReadonlyArray<RemoteEntry> };
  /**
   * Restores files or folders (paths as in list-remote) into `destination`, or — scope `folder`
   * only, destination null — back to their place in the folder.
   */
  'sync:restore': {
    readonly request: { readonly folderId: string; readonly scope: RemoteScope; readonly paths: ReadonlyArray<string>; readonly destination: string | null };
    readonly response: JobSummary;
  };
  /**
   * Backs up local files or folders once, into the bucket of a sync folder with its encryption,
   * under `prefix` (bucket-relative; it must not overlap a sync folder's prefix).
   */
  'sync:backup': { readonly request: { readonly folderId: string; readonly paths: ReadonlyArray<string>; readonly prefix: string }; readonly response: JobSummary };
  /** A folder's ignore rules: its `.cosyncignore` (gitignore syntax) and the built-in ones. */
  'sync:ignore-rules': { readonly request: { readonly folderId: string }; readonly response: { readonly text: string; readonly builtIn: ReadonlyArray<string> } };
  /** Replaces a folder's `.cosyncignore`; refused, with the lines at fault, when a rule cannot be read. */
  'sync:set-ignore-rules': { readonly request: { readonly folderId: string; readonly text: string }; readonly response: null };
  /** Backups and restores of this run. */
  'sync:jobs': { readonly request: null; readonly response: ReadonlyArray<JobSummary> };
  /** Stops a running job (backup, restore, key rotation) as Ctrl-C stops the CLI's; a job no longer running is left as it is. */
  'sync:cancel-job': { readonly request: { readonly jobId: string }; readonly response: null };
  /**
   * Stores the store's SecretId/SecretKey (and session token) in the OS keychain under `account`.
   * Write-only: the answer names the SecretId masked ("AKID…cdef"), never the secret.
   */
  'sync:credentials-set': { readonly request: CredentialsRequest; readonly response: { readonly account: string; readonly secretId: string } };
  /** Removes an account's credentials from the keychain; 'credentials-missing' when there were none. */
  'sync:credentials-delete': { readonly request: { readonly account?: string | undefined }; readonly response: null };
  /** The buckets the account's credentials can see, with their regions, sorted by name. */
  'sync:list-buckets': { readonly request: BucketListRequest; readonly response: ReadonlyArray<BucketSummary> };
  /** Recent log entries, newest last. */
  'sync:activity': { readonly request: { readonly limit: number }; readonly response: ReadonlyArray<ActivityEntry> };
}

/** Every channel name. */
export type Channel = keyof ContractChannels;

/** The request type of a channel. */
export type RequestOf<C extends Channel> = ContractChannels[C]['request'];

/** What a channel answers: a Result, because thrown errors lose everything but their message across IPC. */
export type ResponseOf<C extends Channel> = Result<ContractChannels[C]['response']>;

/** The outcome of validating an untrusted payload. */
export type Validation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Validates an untrusted payload; returns the typed request or a reason it is invalid. */
export type PayloadValidator<C extends Channel> = (payload: unknown) => Validation<RequestOf<C>>;

// ── validators ──
// Small combinators: each field checker returns the value or throws a reason; `record` turns
// that into a Validation and refuses unknown fields (a typo must not be silently ignored).

class Invalid extends Error {}

type Field<T> = (value: unknown, name: string) => T;

const MAX_TEXT = 4096;

const text =
  (options: { allowEmpty?: boolean; max?: number } = {}): Field<string> =>
  (value, name) => {
    if (typeof value !== 'string') throw new Invalid(`${name} must be a string`);
    if (!options.allowEmpty && value.trim() === '') throw new Invalid(`${name} must not be empty`);
    if (value.length > (options.max ?? MAX_TEXT)) throw new Invalid(`${name} is longer than ${options.max ?? MAX_TEXT} characters`);
    if (value.includes('\0')) throw new Invalid(`${name} must not contain NUL`);
    return value;
  };

const optional =
  <T>(field: Field<T>): Field<T | undefined> =>
  (value, name) =>
    value === undefined || value === null || value === '' ? undefined : field(value, name);

const nullable =
  <T>(field: Field<T>): Field<T | null> =>
  (value, name) =>
    value === null ? null : field(value, name);

const boolean: Field<boolean> = (value, name) => {
  if (typeof value !== 'boolean') throw new Invalid(`${name} must be true or false`);
  return value;
};

const oneOf =
  <T extends string>(choices: ReadonlyArray<T>): Field<T> =>
  (value, name) => {
    if (typeof value !== 'string' || !choices.includes(value as T)) throw new Invalid(`${name} must be one of ${choices.join(', ')}`);
    return value as T;
  };

const integer =
  (min: number, max: number): Field<number> =>
  (value, name) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new Invalid(`${name} must be a whole number from ${min} to ${max}`);
    return value;
  };

const list =
  <T>(field: Field<T>, max: number): Field<ReadonlyArray<T>> =>
  (value, name) => {
    if (!Array.isArray(value)) throw new Invalid(`${name} must be a list`);
    if (value.length === 0) throw new Invalid(`${name} must not be empty`);
    if (value.length > max) throw new Invalid(`${name} has more than ${max} entries`);
    return value.map((item, index) => field(item, `${name}[${index}]`));
  };

type Shape = Record<string, Field<unknown>>;
type ShapeValue<S extends Shape> = { readonly [K in keyof S]: ReturnType<S[K]> };

function record<S extends Shape>(shape: S): (payload: unknown) => Validation<ShapeValue<S>> {
  return (payload) => {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { ok: false, reason: 'expected an object' };
    const unknown = Object.keys(payload).filter((name) => !Object.prototype.hasOwnProperty.call(shape, name));
    if (unknown.length > 0) return { ok: false, reason: `unknown field ${unknown.map((name) => JSON.stringify(name)).join(', ')}` };
    try {
      const value = Object.fromEntries(Object.entries(shape).map(([name, field]) => [name, field((payload as Record<string, unknown>)[name], name)]));
      return { ok: true, value: value as ShapeValue<S> };
    } catch (error) {
      if (error instanceof Invalid) return { ok: false, reason: error.message };
      throw error;
    }
  };
}

const noPayload =
  (channel: string) =>
  (payload: unknown): Validation<null> =>
    payload === null || payload === undefined ? { ok: true, value: null } : { ok: false, reason: `${channel} takes no payload` };

/** Refuses a payload that sets more than one of `names` (they are alternatives). */
function exclusive<T>(names: ReadonlyArray<keyof T & string>, validate: (payload: unknown) => Validation<T>): (payload: unknown) => Validation<T> {
  return (payload) => {
    const validated = validate(payload);
    if (!validated.ok) return validated;
    const given = names.filter((name) => validated.value[name] !== undefined);
    return given.length > 1 ? { ok: false, reason: `give ${given.join(' or ')}, not both` } : validated;
  };
}

const folderId = text({ max: 200 });
const account = text({ max: 200 });
/** A kit passphrase: any text, spaces included (text() would refuse one of spaces only). */
const passphrase = text({ allowEmpty: true, max: 1024 });
const SSE_MODES: ReadonlyArray<SseMode> = ['none', 'cos', 'kms', 'c'];
const REMOTE_SCOPES: ReadonlyArray<RemoteScope> = ['folder', 'bucket'];

const STORE_LOCATION = {
  endpoint: text({ allowEmpty: true }),
  region: optional(text({ max: 100 })),
  bucket: text({ max: 200 }),
  prefix: text({ allowEmpty: true, max: 1024 }),
  pathStyle: boolean,
  dialect: optional(oneOf<Dialect>(['cos', 's3'])),
  account: optional(account),
};

/** Validators for every channel (a missing entry is a compile error). */
export const REQUEST_VALIDATORS: { readonly [C in Channel]: PayloadValidator<C> } = {
  'sync:version': noPayload('sync:version'),
  'sync:overview': noPayload('sync:overview'),
  'sync:files': record({ folderId }),
  'sync:set-paused': record({ folderId: nullable(folderId), paused: boolean }),
  'sync:retry': record({ folderId, path: text({ max: 4096 }) }),
  'sync:set-bandwidth': record({ bytesPerSecond: nullable(integer(1024, 100 * 1024 ** 3)) }),
  'sync:set-concurrency': record({ files: integer(1, 64), parts: integer(1, 64) }),
  'sync:add-folder': record({
    ...STORE_LOCATION,
    localPath: text(),
    sse: oneOf(SSE_MODES),
    keyName: optional(text({ max: 200 })),
    kmsKeyId: optional(text({ max: 500 })),
    policy: oneOf(DELETE_POLICIES),
    storageClass: optional(oneOf(KNOWN_STORAGE_CLASSES)),
  }),
  'sync:remove-folder': record({ folderId }),
  'sync:test-connection': record(STORE_LOCATION),
  'sync:keys': noPayload('sync:keys'),
  'sync:generate-key': record({ name: text({ max: 200 }) }),
  'sync:export-kit': record({ name: text({ max: 200 }), path: text(), passphrase: optional(passphrase) }),
  'sync:import-key': record({ name: text({ max: 200 }), kitPath: text(), passphrase: optional(passphrase) }),
  'sync:rotate-key': record({ folderId, kitPath: text() }),
  'sync:verify-key': record({ folderId }),
  'sync:list-remote': record({ folderId, scope: oneOf(REMOTE_SCOPES), path: text({ allowEmpty: true }) }),
  'sync:restore': record({ folderId, scope: oneOf(REMOTE_SCOPES), paths: list(text(), 10_000), destination: nullable(text()) }),
  'sync:backup': record({ folderId, paths: list(text(), 10_000), prefix: text({ max: 1024 }) }),
  'sync:ignore-rules': record({ folderId }),
  'sync:set-ignore-rules': record({ folderId, text: text({ allowEmpty: true, max: 256 * 1024 }) }),
  'sync:jobs': noPayload('sync:jobs'),
  'sync:cancel-job': record({ jobId: text({ max: 200 }) }),
  'sync:activity': record({ limit: integer(1, 10_000) }),
  'sync:credentials-set': record({
    secretId: text({ max: 256 }),
    secretKey: text({ max: 1024 }),
    sessionToken: optional(text({ max: 8192 })),
    account: optional(account),
  }),
  'sync:credentials-delete': record({ account: optional(account) }),
  'sync:list-buckets': exclusive(['region', 'endpoint'], record({ region: optional(text({ max: 100 })), endpoint: optional(text()), pathStyle: optional(boolean), account: optional(account) })),
};

/** True for strings that name a channel of the contract. */
export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(REQUEST_VALIDATORS, name);
}

/** The work behind a channel, given a validated request. */
export type ChannelHandler<C extends Channel> = (request: RequestOf<C>) => Promise<ContractChannels[C]['response']>;

/** A handler for every channel (a missing one is a compile error). */
export type ChannelHandlers = { readonly [C in Channel]: ChannelHandler<C> };

/**
 * Validates an untrusted payload, runs the handler, and turns any failure into a Result — the
 * one way both bridges (IPC and HTTP) answer a request.
 */
export async function answerRequest<C extends Channel>(channel: C, payload: unknown, work: ChannelHandler<C>): Promise<ResponseOf<C>> {
  const validated = REQUEST_VALIDATORS[channel](payload);
  if (!validated.ok) return err({ code: 'usage', message: `${channel}: invalid request (${validated.reason})` });
  try {
    return ok(await work(validated.value));
  } catch (error) {
    if (error instanceof CosyncError) return err(error.toInfo());
    return err({ code: 'internal', message: error instanceof Error ? error.message : String(error) });
  }
}

/** The name of the one push channel (Electron: `webContents.send`; HTTP: the event stream). */
export const EVENT_CHANNEL = 'sync:event';

/**
 * What the Electron preload exposes to the renderer as `window.cosync`, and what the browser
 * transport implements over HTTP: one call for every request channel, and a subscription to events.
 */
export interface CosyncBridge {
  call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>>;
  /** Starts receiving engine events; returns the unsubscribe function. */
  subscribe(listener: (event: EngineEvent) => void): () => void;
}
