/**
 * The one loop of a folder (daemon mode) against an in-memory bucket: a wake runs a cycle that
 * scans, lists and starts a plan; the plan's end wakes the same loop, which finds nothing left and
 * the folder goes idle. Every step is told to the tracker as the folder's state.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FolderStateChange } from '../../app/sync-status.js';
import { useWorkDir } from '../../test/support/files.js';
import { openMemoryFolder } from '../../test/support/memory-folder.js';
import { untilEvent } from '../../test/support/wait.js';
import { NULL_LOGGER } from '../log/logger.js';
import { FolderLoop } from './folder-loop.js';
import type { StatusTracker } from './status-tracker.js';

const work = useWorkDir('folder-loop');

/** Waits for `condition`, checked whenever the folder's state changes. */
function untilFolderState(tracker: StatusTracker, condition: () => boolean): Promise<void> {
  return untilEvent((listener) => {
    const subscription = tracker.onDidChangeFolderState(listener);
    return () => subscription.dispose();
  }, condition);
}

describe('FolderLoop', () => {
  it('runs scan → plan → uploads → the plan’s end wakes it once more → idle, telling the tracker each folder state', async () => {
    const folder = await openMemoryFolder(work(), 'loop');
    await writeFile(join(folder.root, 'a.txt'), 'a');
    await writeFile(join(folder.root, 'b.txt'), 'b');
    const changes: FolderStateChange[] = [];
    folder.status.onDidChangeFolderState((change) => changes.push(change));
    let opened = 0;
    const loop = new FolderLoop(folder.sync.config, {
      open: async () => {
        opened++;
        return folder.sync;
      },
      states: folder.status,
      logger: NULL_LOGGER,
      timings: {},
    });
    loop.wake();
    loop.wake(); // while a cycle runs: one more after it, not a second loop
    await untilFolderState(folder.status, () => folder.store.objects.size === 2 && !loop.cycling && folder.status.folderState('f').state === 'idle');
    const names = changes.map((change) => change.state.state);
    // Scanning first; syncing while the two uploads run; the plan's end wakes a last cycle, which finds nothing and ends idle.
    expect(names.slice(0, 2)).toEqual(['scanning', 'syncing']);
    expect(changes[1]?.state).toEqual({ state: 'syncing', actions: 2 });
    expect(names.slice(-2)).toEqual(['scanning', 'idle']);
    expect(opened).toBeGreaterThanOrEqual(2);
    expect(folder.store.calls.filter((call) => call.startsWith('put '))).toHaveLength(2);
    await loop.stop();
    loop.wake(); // stopped: nothing runs
    expect(loop.cycling).toBe(false);
    folder.close();
  });

  it('a folder that cannot be opened is in error, and is tried again after the problem retry time', async () => {
    const folder = await openMemoryFolder(work(), 'broken');
    let attempts = 0;
    const loop = new FolderLoop(folder.sync.config, {
      open: async () => {
        attempts++;
        if (attempts === 1) throw new Error('keychain locked');
        return folder.sync;
      },
      states: folder.status,
      logger: NULL_LOGGER,
      timings: { problemRetryMs: 1 },
    });
    const states: string[] = [];
    folder.status.onDidChangeFolderState(({ state }) => states.push(state.state === 'error' ? `error: ${state.message}` : state.state));
    loop.wake();
    await untilFolderState(folder.status, () => attempts === 2 && folder.status.folderState('f').state === 'idle');
    // The retry's cycle is still shown as the error until it gets through.
    expect(states).toEqual(['scanning', 'error: keychain locked', 'idle']);
    await loop.stop();
    folder.close();
  });
});
