/**
 * The one transfer pool of an engine (DESIGN.md: "p-queue pools (files, parts)"): how many files
 * are in flight, how many requests carry data, the part buffers those requests use and the
 * bandwidth budget they share. Sync, backup, restore and key rotation all draw from it, so a
 * restore started beside ten syncing folders does not open its own connections or buffers.
 */
import PQueue from 'p-queue';
import { COS_LIMITS, S3_LIMITS, type TransferSizing } from '../../app/part-size.js';
import type { Target } from '../../app/target.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { RemoteStore } from '../remote/remote-store.js';
import { TokenBucket } from './bandwidth.js';
import { BufferPool } from './buffer-pool.js';
import type { DownloadContext } from './download-file.js';
import type { UploadContext } from './upload-file.js';

/** The caps a pool starts with; `files` defaults to the parts, kept within 2 to 8. */
export interface TransferPoolSettings {
  /** Requests carrying data in flight (default 8). */
  readonly parts?: number | undefined;
  /** Files in flight (default: the parts, within 2 to 8). */
  readonly files?: number | undefined;
  /** Upload and download limit in bytes per second (undefined: none). */
  readonly bandwidthBytesPerSecond?: number | undefined;
}

/** Parts in flight when nothing says otherwise. */
export const DEFAULT_PART_CONCURRENCY = 8;

/** Files in flight for a part concurrency: enough to keep parts busy with small files, never a crowd. */
export function fileConcurrencyFor(parts: number): number {
  return Math.max(2, Math.min(parts, 8));
}

/** The queues, buffers and bandwidth budget every transfer of one engine shares. */
export class TransferPool {
  /** Files (sync actions, backup and restore items, re-encrypted objects) in flight. */
  readonly files: PQueue;
  /** Requests carrying data (PUT, UploadPart, ranged GET, part copies) in flight. */
  readonly parts: PQueue;
  /** Buffers for those requests; at most `parts.concurrency` are in use. */
  readonly buffers: BufferPool;
  readonly bandwidth: TokenBucket;

  constructor(settings: TransferPoolSettings = {}) {
    const parts = settings.parts ?? DEFAULT_PART_CONCURRENCY;
    this.files = new PQueue({ concurrency: settings.files ?? fileConcurrencyFor(parts) });
    this.parts = new PQueue({ concurrency: parts });
    this.buffers = new BufferPool(parts);
    this.bandwidth = new TokenBucket(settings.bandwidthBytesPerSecond);
  }

  /** Files and data-carrying requests in flight, at most. */
  get concurrency(): { files: number; parts: number } {
    return { files: this.files.concurrency, parts: this.parts.concurrency };
  }

  /** Changes the caps while running: more start at once; with fewer, the ones running finish first. */
  setConcurrency(caps: { files: number; parts: number }): void {
    this.files.concurrency = caps.files;
    this.parts.concurrency = caps.parts;
    this.buffers.setKeep(caps.parts);
  }

  /** Upload settings for one store: this pool's queues, buffers and bandwidth, the target's limits. */
  uploadContext(store: RemoteStore, target: Target, services: { readonly journal: Journal; readonly sizing: TransferSizing; readonly logger: Logger }): UploadContext {
    return {
      store,
      journal: services.journal,
      endpointId: target.endpoint.url,
      bucket: target.bucket,
      limits: target.dialect === 'cos' ? COS_LIMITS : S3_LIMITS,
      sizing: services.sizing,
      partQueue: this.parts,
      buffers: this.buffers,
      crc64Parts: target.dialect === 'cos',
      storageClass: target.storageClass,
      bandwidth: this.bandwidth,
      logger: services.logger,
    };
  }

  /** Download settings for one store: this pool's part queue and bandwidth. */
  downloadContext(store: RemoteStore, target: Target, services: { readonly journal: Journal; readonly overwrite: boolean }): DownloadContext {
    return { store, overwrite: services.overwrite, endpointId: target.endpoint.url, bucket: target.bucket, journal: services.journal, partQueue: this.parts, bandwidth: this.bandwidth };
  }
}
