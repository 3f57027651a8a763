/**
 * A folder as the overview shows it: what it is doing (the tracker's FolderSyncState, set by the
 * folder's loop alone, global pause included), its counts, bytes pending and its speed.
 */
import type { FolderOverview } from '../../app/contract.js';
import type { FolderDescription } from '../sync/sync-engine.js';
import type { StatusTracker } from '../sync/status-tracker.js';

export function folderOverview(description: FolderDescription, status: StatusTracker, bytesPerSecond: number): FolderOverview {
  const { config } = description;
  const counts = status.counts(config.id);
  let bytesTotal = 0;
  let bytesPending = 0;
  const local = description.trees?.local;
  if (local !== undefined) for (const file of local.values()) bytesTotal += file.sizeBytes;
  for (const entry of status.entries(config.id)) {
    const { status: state } = entry;
    if (state.state === 'uploading') bytesPending += Math.max(0, state.bytesTotal - state.bytesDone);
    else if (state.state === 'queued' || state.state === 'hashing') bytesPending += local?.get(entry.path)?.sizeBytes ?? 0;
  }
  return {
    id: config.id,
    localPath: config.localPath,
    endpoint: config.endpoint,
    bucket: config.bucket,
    prefix: config.prefix,
    sse: config.sse,
    keyName: config.keyName,
    policy: config.policy,
    storageClass: config.storageClass,
    activity: status.folderState(config.id).state,
    problem: description.problem,
    degraded: description.degraded,
    counts,
    bytesTotal,
    bytesPending,
    bytesPerSecond: Math.round(bytesPerSecond),
    etaSeconds: bytesPerSecond > 0 && bytesPending > 0 ? Math.ceil(bytesPending / bytesPerSecond) : undefined,
  };
}
