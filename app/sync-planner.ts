/**
 * The planner: a pure function from the three trees of a folder to the actions that bring the
 * bucket to the folder's state. It holds no state and does no I/O, so after a crash the plan is
 * simply computed again from the journal, and tables and seeded property tests cover it whole.
 *
 * One-way mirror, local → bucket. The synced tree (the last state both sides agreed on) is what
 * lets it tell which side changed:
 *   local new, no object            → upload
 *   local new, an object we never wrote at that path → adopt (keep it if it is our content,
 *                                     otherwise preserve it as a conflict copy and upload)
 *   local changed                   → upload (preserving the object first if someone else changed it too)
 *   local same, object gone         → upload again (someone deleted it)
 *   local same, object changed      → preserve theirs as a conflict copy, upload ours
 *   local gone + a new local file with the same identity or content → move (server-side copy)
 *   local gone                      → by policy: keep (forget), mirror (delete), trash (move to trash)
 *   object changed/removed by someone else and local gone → forget: never delete what we did not write
 *   objects we never synced and have no local file → left alone
 */
import { TRASH_PREFIX, type DeletePolicy, type LocalFile, type SyncAction, type SyncedFile, type SyncTrees } from './sync-model.js';

/** Everything the planner looks at besides the trees. */
export interface PlanOptions {
  readonly policy: DeletePolicy;
  /** Folder-relative paths no longer synced (ignore rules); their objects are kept, never deleted. */
  readonly isIgnored?: (path: string) => boolean;
  /** Names the trash folder of deletions planned now (e.g. pathStamp(Date.now())). */
  readonly trashStamp: string;
}

/** The plan, plus what the planner noticed without acting on it. */
export interface Plan {
  readonly actions: SyncAction[];
  /** Objects under the prefix that no local file maps to and cosync never synced: left alone. */
  readonly remoteOnly: number;
}

/** True when the local file holds the content recorded as synced (size, then mtime or hash). */
export function holdsSyncedContent(local: LocalFile, synced: SyncedFile): boolean {
  if (local.sizeBytes !== synced.sizeBytes) return false;
  if (local.mtimeMs === synced.mtimeMs) return true;
  // Touched (or saved unchanged): the mtime moved, the content did not.
  return local.hash !== null && synced.hash !== null && local.hash === synced.hash;
}

/** True when the object is still the one cosync wrote when it recorded `synced`. */
function objectIsOurs(trees: SyncTrees, synced: SyncedFile): boolean {
  const remote = trees.remote.get(synced.path);
  if (remote === undefined || remote.sizeBytes !== synced.sizeBytes) return false;
  return synced.etag === null || remote.etag === synced.etag;
}

export function planSync(trees: SyncTrees, options: PlanOptions): Plan {
  const isIgnored = (path: string): boolean => path.startsWith(TRASH_PREFIX) || (options.isIgnored?.(path) ?? false);
  const actions: SyncAction[] = [];

  // Departures: synced paths with no local file. Indexed by identity and by content so that an
  // arrival (a local file never synced) can be recognized as the same file under a new name.
  const departuresById = new Map<string, SyncedFile>();
  const departuresByContent = new Map<string, SyncedFile>();
  const departures: SyncedFile[] = [];
  for (const synced of trees.synced.values()) {
    if (trees.local.has(synced.path) || isIgnored(synced.path)) continue;
    departures.push(synced);
    // Only an object still intact can be the source of a server-side copy.
    if (!objectIsOurs(trees, synced)) continue;
    if (synced.fileId !== null) departuresById.set(synced.fileId, synced);
    if (synced.hash !== null) departuresByContent.set(`${synced.sizeBytes}:${synced.hash}`, synced);
  }
  const movedAway = new Set<string>();
  const claimMoveSource = (local: LocalFile): SyncedFile | undefined => {
    const byId = local.fileId === null ? undefined : departuresById.get(local.fileId);
    const candidates = [
      byId !== undefined && byId.sizeBytes === local.sizeBytes && byId.mtimeMs === local.mtimeMs ? byId : undefined,
      local.hash === null ? undefined : departuresByContent.get(`${local.sizeBytes}:${local.hash}`),
    ];
    for (const candidate of candidates) {
      if (candidate !== undefined && !movedAway.has(candidate.path)) {
        movedAway.add(candidate.path);
        return candidate;
      }
    }
    return undefined;
  };

  // Sorted so that plans (and the moves they pick) are deterministic whatever the map order.
  const localPaths = [...trees.local.keys()].sort();
  for (const path of localPaths) {
    const local = trees.local.get(path) as LocalFile;
    if (isIgnored(path)) continue;
    const synced = trees.synced.get(path);
    const remote = trees.remote.get(path);
    if (synced === undefined) {
      if (remote !== undefined) {
        // Someone (or an earlier install) put an object here. Same size may be the same content: check before overwriting.
        if (remote.sizeBytes === local.sizeBytes) actions.push({ kind: 'adopt', path, sizeBytes: local.sizeBytes });
        else actions.push({ kind: 'upload', path, sizeBytes: local.sizeBytes, reason: 'new', preserveRemote: true });
        continue;
      }
      const source = claimMoveSource(local);
      if (source !== undefined) {
        actions.push({ kind: 'move', from: source.path, to: path, sizeBytes: local.sizeBytes, deleteSource: options.policy !== 'keep' });
      } else {
        actions.push({ kind: 'upload', path, sizeBytes: local.sizeBytes, reason: 'new', preserveRemote: false });
      }
      continue;
    }
    const ours = objectIsOurs(trees, synced);
    if (!holdsSyncedContent(local, synced)) {
      // Our change wins in the bucket; a change someone else made meanwhile is kept beside it.
      actions.push({ kind: 'upload', path, sizeBytes: local.sizeBytes, reason: 'modified', preserveRemote: remote !== undefined && !ours });
    } else if (remote === undefined) {
      actions.push({ kind: 'upload', path, sizeBytes: local.sizeBytes, reason: 'remote-missing', preserveRemote: false });
    } else if (!ours) {
      actions.push({ kind: 'upload', path, sizeBytes: local.sizeBytes, reason: 'remote-changed', preserveRemote: true });
    } else if (local.mtimeMs !== synced.mtimeMs || local.fileId !== synced.fileId) {
      actions.push({ kind: 'refresh', path });
    }
  }

  for (const synced of departures) {
    if (movedAway.has(synced.path)) continue;
    const { path } = synced;
    if (options.policy === 'keep') {
      actions.push({ kind: 'forget', path, reason: 'deleted locally; the object is kept (policy keep)' });
    } else if (!objectIsOurs(trees, synced)) {
      actions.push({ kind: 'forget', path, reason: 'deleted locally, but the object was changed or removed by someone else; left as it is' });
    } else if (options.policy === 'mirror') {
      actions.push({ kind: 'delete-remote', path });
    } else {
      actions.push({ kind: 'trash-remote', path, trashPath: `${TRASH_PREFIX}${options.trashStamp}/${path}` });
    }
  }
  for (const synced of trees.synced.values()) {
    if (isIgnored(synced.path)) actions.push({ kind: 'forget', path: synced.path, reason: 'now ignored; the object is kept' });
  }

  let remoteOnly = 0;
  for (const path of trees.remote.keys()) {
    if (!trees.local.has(path) && !trees.synced.has(path) && !isIgnored(path)) remoteOnly++;
  }
  return { actions, remoteOnly };
}

/** Every path an action reads or writes (to keep two actions on one path from running at once). */
export function pathsOf(action: SyncAction): string[] {
  switch (action.kind) {
    case 'move':
      return [action.from, action.to];
    case 'trash-remote':
      return [action.path, action.trashPath];
    default:
      return [action.path];
  }
}
