/**
 * The sync domain: folders and the three trees the journal keeps for each (see DESIGN.md, "Three
 * trees"). Paths are relative to the folder root, "/"-separated and NFC-normalized — the same
 * string the object key ends with — so a tree entry and its object always share one name.
 */
import { addressingFor, parseEndpoint, type Dialect, type SseMode, type Target } from './target.js';
import { parseStorageClass } from './storage-class.js';

/** What happens to the object of a file deleted locally. */
export type DeletePolicy = 'keep' | 'mirror' | 'trash';

export const DELETE_POLICIES: ReadonlyArray<DeletePolicy> = ['keep', 'mirror', 'trash'];

/** Objects under this folder-relative prefix are the trash, never part of the mirrored tree. */
export const TRASH_PREFIX = '.cosync-trash/';

/** A sync folder as configured: a local folder paired with a bucket/prefix and its encryption. */
export interface SyncFolderConfig {
  readonly id: string;
  /** Absolute local path. */
  readonly localPath: string;
  readonly endpoint: string;
  readonly bucket: string;
  /** Normalized prefix: empty or ending in "/". */
  readonly prefix: string;
  readonly region: string | undefined;
  readonly pathStyle: boolean;
  /** The header dialect asked for (`--dialect`); undefined: by host (COS for Tencent's hosts). */
  readonly dialect?: Dialect | undefined;
  readonly sse: SseMode;
  readonly keyName: string | undefined;
  readonly kmsKeyId: string | undefined;
  /** Keychain account of the store credentials (undefined: the default account). */
  readonly account: string | undefined;
  readonly policy: DeletePolicy;
  readonly paused: boolean;
  readonly createdAt: string;
  /** The storage class of new objects (undefined: the bucket's default, STANDARD). */
  readonly storageClass?: string | undefined;
  /** COS's per-request server-side limit, bit/s (`x-cos-traffic-limit`). */
  readonly trafficLimitBits?: number | undefined;
}

/** A file as last observed on disk. */
export interface LocalFile {
  readonly path: string;
  /** The name on disk relative to the root when it differs from `path` (e.g. NFD on macOS). */
  readonly diskPath?: string | undefined;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  /** Stable identity on this machine ("device:inode"), which survives renames and moves. */
  readonly fileId: string | null;
  /** Hex MD5 of the content, when known (computed only for files that differ from the synced state). */
  readonly hash: string | null;
}

/** An object as last observed in the bucket (listing or our own writes). */
export interface RemoteFile {
  readonly path: string;
  readonly sizeBytes: number;
  readonly etag: string | null;
}

/** The last state both sides agreed on: this content (local identity) is this object. */
export interface SyncedFile {
  readonly path: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly fileId: string | null;
  readonly hash: string | null;
  readonly etag: string | null;
  /** SSE-C key fingerprint the object was written with. */
  readonly keyFingerprint: string | null;
}

/** The three trees of one folder, keyed by path. */
export interface SyncTrees {
  readonly local: ReadonlyMap<string, LocalFile>;
  readonly remote: ReadonlyMap<string, RemoteFile>;
  readonly synced: ReadonlyMap<string, SyncedFile>;
}

/** Why a file is uploaded. */
export type UploadReason = 'new' | 'modified' | 'remote-missing' | 'remote-changed';

/**
 * One step towards convergence. Each path appears in at most one action of a plan (a move
 * covers two), so actions of a plan can run in any order and in parallel.
 */
export type SyncAction =
  /** Upload the local file; with preserveRemote, first keep the object someone else wrote at a conflict-copy path. */
  | { readonly kind: 'upload'; readonly path: string; readonly sizeBytes: number; readonly reason: UploadReason; readonly preserveRemote: boolean }
  /** A local file whose path already has an object we never synced: keep it if its content is ours, else preserve it and upload. */
  | { readonly kind: 'adopt'; readonly path: string; readonly sizeBytes: number }
  /** Rename or move: copy `from`'s object to `to` on the server (falling back to uploading `to`), then dispose of `from` by policy. */
  | { readonly kind: 'move'; readonly from: string; readonly to: string; readonly sizeBytes: number; readonly deleteSource: boolean }
  /** The local file is gone: delete its object (policy mirror). */
  | { readonly kind: 'delete-remote'; readonly path: string }
  /** The local file is gone: move its object into the dated trash (policy trash). */
  | { readonly kind: 'trash-remote'; readonly path: string; readonly trashPath: string }
  /** Journal only: stop tracking a path whose object stays (policy keep, ignored, or no longer ours). */
  | { readonly kind: 'forget'; readonly path: string; readonly reason: string }
  /** Journal only: the file was touched but its content is what was synced; record the new identity. */
  | { readonly kind: 'refresh'; readonly path: string };

/** Conflict copies sit beside the original: `dir/name.cosync-conflict-STAMP.ext`. */
export function conflictCopyPath(path: string, stamp: string): string {
  const slash = path.lastIndexOf('/');
  const directory = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${directory}${stem}.cosync-conflict-${stamp}${extension}`;
}

/** A timestamp usable in object keys and file names: 2026-11-26T21-50-27Z. */
export function pathStamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
}

/** The bucket location and encryption of a folder, in the form every transfer takes. */
export function folderTarget(folder: SyncFolderConfig): Target {
  const endpoint = parseEndpoint(folder.endpoint);
  const addressing = addressingFor(endpoint, { region: folder.region, pathStyle: folder.pathStyle, dialect: folder.dialect });
  return {
    endpoint,
    bucket: folder.bucket,
    prefix: folder.prefix,
    ...addressing,
    sse: folder.sse,
    keyName: folder.keyName,
    kmsKeyId: folder.kmsKeyId,
    storageClass: folder.storageClass === undefined ? undefined : parseStorageClass(folder.storageClass, addressing.dialect),
    trafficLimitBits: folder.trafficLimitBits,
  };
}
