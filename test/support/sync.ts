/** Helpers for folder-sync tests: an engine over real RGW, and the bucket compared with a folder. */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeletePolicy, SyncFolderConfig } from '../../app/sync-model.js';
import { folderTarget } from '../../app/sync-model.js';
import { Journal } from '../../main/journal/journal.js';
import type { Logger, LogLevel } from '../../main/log/logger.js';
import type { ObjectEncryption } from '../../main/remote/remote-store.js';
import { S3RemoteStore } from '../../main/remote/s3-remote-store.js';
import { StoreCredentials, type SseCustomerKey } from '../../main/secrets/secret-values.js';
import { StatusTracker } from '../../main/sync/status-tracker.js';
import { SyncEngine, type FolderRunOutcome } from '../../main/sync/sync-engine.js';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { listKeys, rawClient, type StoreAccess } from './services.js';

const MiB = 1024 * 1024;

/** A folder's config in the access's dialect; `bucket` is the RGW bucket. */
export function folderConfig(access: StoreAccess, overrides: Partial<SyncFolderConfig> & { localPath: string; bucket: string }): SyncFolderConfig {
  return {
    id: 'test-folder',
    endpoint: access.endpoint,
    prefix: 'sync/',
    region: undefined,
    pathStyle: access.pathStyle,
    sse: 'c',
    keyName: 'test',
    kmsKeyId: undefined,
    account: undefined,
    policy: 'keep' as DeletePolicy,
    paused: false,
    createdAt: new Date().toISOString(),
    ...overrides,
    bucket: access.bucketName(overrides.bucket),
  };
}

/** cosync's store for a folder, in the folder's dialect (COS by its host). */
export function storeFor(access: StoreAccess, folder: SyncFolderConfig): S3RemoteStore {
  return new S3RemoteStore(folderTarget(folder), new StoreCredentials(access.accessKey, access.secretKey));
}

/** A logger that remembers events (to count moves, uploads…). */
export class RecordingLogger implements Logger {
  readonly records: Array<{ level: LogLevel; event: string; fields: Record<string, unknown> }> = [];
  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    this.records.push({ level, event, fields });
  }
  count(event: string): number {
    return this.records.filter((record) => record.event === event).length;
  }
}

/** Runs `sync --once` in-process for one folder with a fresh engine (as a new process would). */
export async function syncOnce(
  access: StoreAccess,
  folder: SyncFolderConfig,
  journalFile: string,
  encryption: ObjectEncryption,
  logger: Logger = new RecordingLogger(),
): Promise<FolderRunOutcome> {
  const journal = new Journal(journalFile);
  const status = new StatusTracker();
  const engine = new SyncEngine([folder], {
    journal,
    logger,
    status,
    connect: async () => ({ store: storeFor(access, folder), encryption }),
    sizing: { multipartThresholdBytes: 5 * MiB, preferredPartBytes: 5 * MiB },
  });
  try {
    const [outcome] = await engine.runOnce();
    return outcome as FolderRunOutcome;
  } finally {
    await engine.stop(0);
    status.dispose();
    journal.close();
  }
}

/** Every file under a folder: relative path → SHA-256 of its content. */
export async function folderDigests(root: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const walk = async (directory: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const path = `${prefix}${entry.name}`;
      if (entry.isDirectory()) await walk(join(directory, entry.name), `${path}/`);
      else if (entry.isFile()) result.set(path, createHash('sha256').update(await readFile(join(directory, entry.name))).digest('hex'));
    }
  };
  await walk(root, '');
  return result;
}

/** Every key under a prefix (all pages), listed on RGW by an independent client. */
export async function allKeys(access: StoreAccess, folder: SyncFolderConfig, prefix = folder.prefix): Promise<string[]> {
  return listKeys(access.services, access.rgwBucket(folder.bucket), prefix);
}

/** Reads every object of `paths` with the key (one independent SDK client, 16 at a time) and returns path → SHA-256. */
export async function bucketDigests(access: StoreAccess, folder: SyncFolderConfig, paths: ReadonlyArray<string>, key: SseCustomerKey | undefined): Promise<Map<string, string>> {
  const client = rawClient(access.services);
  const customer = key === undefined ? {} : { SSECustomerAlgorithm: 'AES256', SSECustomerKey: Buffer.from(key.revealBytes()).toString('base64') };
  const result = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++] as string;
      const response = await client.send(new GetObjectCommand({ Bucket: access.rgwBucket(folder.bucket), Key: folder.prefix + path, ...customer }));
      const bytes = await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      result.set(path, createHash('sha256').update(bytes).digest('hex'));
    }
  };
  try {
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    client.destroy();
  }
  return result;
}
