/**
 * One engine per config: `cosync serve`, the desktop app and `cosync sync --once` each run the
 * sync engine over the same journal and folders, and two at once would upload, move and delete
 * against each other; `cosync key rotate` rewrites every object of a folder and must not meet
 * an engine writing with the old key. The running engine records itself in `engine.json` in the state folder
 * (pid, and for `serve` the URL and token of its API, mode 0600) so that a second one refuses to
 * start, and so that CLI commands like `cosync pause` can reach it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CosyncError } from '../../app/result.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { isProcessAlive } from '../fs/process-alive.js';

export interface EngineRecord {
  readonly pid: number;
  readonly kind: 'serve' | 'desktop' | 'sync-once' | 'key-rotate';
  readonly startedAt: string;
  /** The API of a `serve` engine. */
  readonly url?: string;
  readonly token?: string;
}

/**
 * State folders claimed by this process. A record naming our own pid is otherwise taken as stale
 * (after a restart in a container the new process often gets the pid the killed one had).
 */
const claimedHere = new Map<string, EngineRecord>();

export function engineFile(stateDir: string): string {
  return join(stateDir, 'engine.json');
}

/** The engine running on this state folder, if any (a record left by a killed process is ignored). */
export function runningEngine(stateDir: string): EngineRecord | undefined {
  const here = claimedHere.get(resolve(stateDir));
  if (here !== undefined) return here;
  let record: EngineRecord;
  try {
    record = JSON.parse(readFileSync(engineFile(stateDir), 'utf8')) as EngineRecord;
  } catch {
    return undefined;
  }
  if (typeof record.pid !== 'number' || record.pid === process.pid || !isProcessAlive(record.pid)) return undefined;
  return record;
}

const DESCRIPTIONS: Readonly<Record<EngineRecord['kind'], string>> = {
  serve: '`cosync serve`',
  desktop: 'the cosync desktop app',
  'sync-once': '`cosync sync --once`',
  'key-rotate': '`cosync key rotate`',
};

/** Records this process as the engine, or refuses when another one runs. */
export async function claimEngine(stateDir: string, record: Omit<EngineRecord, 'pid' | 'startedAt'>): Promise<EngineClaim> {
  const other = runningEngine(stateDir);
  if (other !== undefined) {
    throw new CosyncError(
      'usage',
      `${DESCRIPTIONS[other.kind]} is already ${other.kind === 'key-rotate' ? "re-encrypting a folder's objects" : 'syncing these folders'} (pid ${other.pid}${other.url === undefined ? '' : `, ${other.url.replace(/\?token=.*/, '')}`}); ` +
        `stop it first (a second engine would work against it), or use --config-dir for separate folders. If no such process exists, remove ${engineFile(stateDir)}`,
    );
  }
  const claim = new EngineClaim(stateDir, { ...record, pid: process.pid, startedAt: new Date().toISOString() });
  claimedHere.set(resolve(stateDir), claim.current);
  await claim.write();
  return claim;
}

export class EngineClaim {
  constructor(
    private readonly stateDir: string,
    private record: EngineRecord,
  ) {}

  get current(): EngineRecord {
    return this.record;
  }

  /** Adds the API's address (serve), for CLI commands that talk to the running engine. */
  async advertise(url: string, token: string): Promise<void> {
    this.record = { ...this.record, url, token };
    claimedHere.set(resolve(this.stateDir), this.record);
    await this.write();
  }

  async write(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(engineFile(this.stateDir), `${JSON.stringify(this.record)}\n`, { mode: 0o600 });
  }

  /** Removes the record, if it is still this process's. */
  async release(): Promise<void> {
    claimedHere.delete(resolve(this.stateDir));
    try {
      const current = JSON.parse(readFileSync(engineFile(this.stateDir), 'utf8')) as EngineRecord;
      if (current.pid === process.pid) await rm(engineFile(this.stateDir), { force: true });
    } catch {
      // Already gone.
    }
  }
}
