/**
 * Crash simulation: `cosync sync --once` runs in a child process against RGW with SSE-C and
 * policy mirror, through a proxy that lets the test act at chosen requests. A seeded loop changes
 * files, starts the engine, changes more files when the engine's n-th write request arrives and,
 * in the rounds planned to be killed, kills it with SIGKILL at its k-th write: either before the
 * proxy forwards that write (the server never sees it) or once the server has answered and before
 * the engine hears (the server did the work; the journal cannot know). So every planned kill lands
 * while a write is in flight, whatever the load: events decide, not guessed milliseconds. At the
 * end one run goes to completion and every local file must equal its object byte for byte (read
 * with the key), the bucket must hold nothing else of ours, and the journal (cosync status) must agree.
 *
 * COSYNC_CRASH_ROUNDS (default 30) and COSYNC_CRASH_SEED replay or extend it (npm run soak:sync).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS, startFaultProxy, type ProxiedRequest } from '../../test/support/fault-proxy.js';
import { useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, requireServices, runCosync, spawnCosync, storeAccess, uniqueName, type Services } from '../../test/support/services.js';
import { seededRandom } from '../../test/support/random.js';
import { allKeys, bucketDigests, folderConfig, folderDigests } from '../../test/support/sync.js';
import type { SseCustomerKey } from '../secrets/secret-values.js';

const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.COSYNC_CRASH_ROUNDS ?? 30);
const SEED = Number(process.env.COSYNC_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Share of rounds planned to be killed. */
const KILLED_SHARE = 0.7;
/** The big file every killed round rewrites, so the round has work to do whatever else changed. */
const BIG = 'big.bin';
/**
 * Writes a killed round is sure to make before it can finish: its big file (over 11 MiB in 5 MiB
 * parts, spared from mid-run changes) needs an initiate and three parts, then a Complete.
 */
const SURE_WRITES = 5;

type Stage = 'before-forward' | 'before-answer';

/** What the proxy's hooks do during one round (decided from the seed before the round starts). */
interface RoundPlan {
  readonly root: string;
  /** The write at which to kill, and whether before it reaches the server or before its answer. */
  readonly kill: { readonly atWrite: number; readonly stage: Stage } | undefined;
  /** Write numbers at which to change files while the engine runs (one change per entry). */
  readonly changesAtWrites: ReadonlyArray<number>;
  readonly rng: () => number;
  /** A file mid-run changes leave alone (the big file of a killed round, so its writes surely come). */
  readonly spare: string | undefined;
  killEngine(): Promise<void>;
}

/** What happened during one round, as the hooks saw it. */
interface RoundLog {
  writes: number;
  /** The write in flight when the kill was sent. */
  killedDuring: string | undefined;
  /** Mid-run changes under way (awaited before the next round). */
  readonly changing: Array<Promise<void>>;
}

const work = useWorkDir('crash');
let services: Services;
let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined;
/** The round in progress; undefined between rounds, when requests pass untouched. */
let current: { readonly plan: RoundPlan; readonly log: RoundLog } | undefined;
/** Each write's number in its round, given when it arrives and looked up when its answer comes. */
const writeNumbers = new WeakMap<ProxiedRequest, number>();

beforeAll(async () => {
  services = requireServices();
  proxy = await startFaultProxy(services.httpEndpoint, NO_FAULTS, SEED, {
    beforeForward: (request) => atWrite(request, 'before-forward'),
    beforeAnswer: (request) => atWrite(request, 'before-answer'),
  });
});

afterAll(async () => {
  await proxy?.close();
});

/** Requests that change the bucket: PUT (objects, parts, copies), POST (initiate, complete, batch delete), DELETE. */
function isWrite(request: ProxiedRequest): boolean {
  return request.method === 'PUT' || request.method === 'POST' || request.method === 'DELETE';
}

/**
 * The proxy's hook for every request: numbers the round's writes as they arrive, makes the
 * changes planned at this write (the write waits for them) and, at the planned write and stage,
 * kills the engine and drops the request (by rejecting): the kill is sure to find it in flight.
 */
async function atWrite(request: ProxiedRequest, stage: Stage): Promise<void> {
  const round = current;
  if (round === undefined || !isWrite(request)) return;
  const { plan, log } = round;
  if (stage === 'before-forward') {
    writeNumbers.set(request, ++log.writes);
    const changes = plan.changesAtWrites.filter((at) => at === log.writes).length;
    if (changes > 0) {
      const changing = (async () => {
        for (let i = 0; i < changes; i++) await mutate(plan.root, plan.rng, plan.spare);
      })();
      log.changing.push(changing);
      await changing;
    }
  }
  if (plan.kill === undefined || writeNumbers.get(request) !== plan.kill.atWrite || stage !== plan.kill.stage) return;
  log.killedDuring = `write ${plan.kill.atWrite}: ${request.method} ${request.url.split('?')[0] ?? ''} (${stage})`;
  await plan.killEngine();
  throw new Error('the engine was killed during this request');
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(root, path)));
    else files.push(path);
  }
  return files;
}

/** One random change to the folder: create, modify, rename, move a directory, delete; `spare` is left alone. */
async function mutate(root: string, rng: () => number, spare?: string): Promise<void> {
  const files = (await listFiles(root)).filter((file) => file !== spare);
  const pick = <T>(items: T[]): T => items[Math.floor(rng() * items.length)] as T;
  const directory = pick(['', 'a', 'b', 'a/deep']);
  const fresh = `${directory === '' ? '' : `${directory}/`}f${Math.floor(rng() * 1e6)}.bin`;
  const roll = rng();
  try {
    if (roll < 0.3 || files.length === 0) {
      await mkdir(join(root, directory), { recursive: true });
      await writeFile(join(root, fresh), randomBytes(Math.floor(rng() * 20_000)));
    } else if (roll < 0.5) {
      const file = pick(files);
      // The big file is rewritten whole (multipart).
      if (file === BIG) await writeRandomFile(join(root, file), 11 * MiB + Math.floor(rng() * MiB));
      else await writeFile(join(root, file), randomBytes(Math.floor(rng() * 20_000)));
    } else if (roll < 0.65) {
      await mkdir(join(root, directory), { recursive: true });
      await rename(join(root, pick(files)), join(root, fresh));
    } else if (roll < 0.75) {
      // The big file lives at the top, so moving a directory never moves it.
      const [from, to] = rng() < 0.5 ? ['a', 'c'] : ['c', 'a'];
      await rename(join(root, from), join(root, to)).catch(() => undefined);
    } else {
      const file = pick(files);
      if (file !== BIG) await rm(join(root, file));
    }
  } catch {
    // A path that moved under another change: that is part of the weather.
  }
}

describe(`crash simulation (seed ${SEED}, ${ROUNDS} rounds)`, () => {
  it('killed while writes are in flight and files change, it converges and loses nothing', async () => {
    const rng = seededRandom(SEED);
    const root = join(work(), 'folder');
    const configDir = join(work(), 'config');
    const bucket = await createBucket(services, 'cosync-crash');
    const keyName = uniqueName('crash');
    const env = { COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey };
    const run = (args: string[], timeoutMs = 120_000) => runCosync(args, { configDir, services, env, timeoutMs });
    const context = `seed ${SEED} (replay: COSYNC_CRASH_SEED=${SEED})`;
    if (proxy === undefined) throw new Error('the proxy did not start');

    await mkdir(join(root, 'a', 'deep'), { recursive: true });
    await mkdir(join(root, 'b'), { recursive: true });
    for (let i = 0; i < 40; i++) await writeFile(join(root, pick(i), `s${i}.bin`), randomBytes(100 + i * 300));
    await writeRandomFile(join(root, BIG), 11 * MiB);
    expect((await run(['key', 'generate', keyName])).code).toBe(0);
    // Through the proxy (plain HTTP on loopback, where SSE-C is allowed), so the test sees every request.
    const added = await run(['folder', 'add', root, '--endpoint', proxy.url, '--bucket', bucket, '--prefix', 'crash', '--sse', 'c', '--key', keyName, '--policy', 'mirror', '--kit-saved', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const folderId = (JSON.parse(added.stdout) as { id: string }).id;

    const syncArgs = ['sync', '--once', '--json', '--part-size', '5', '--multipart-threshold', '5', '--concurrency', '4'];
    const plannedKills: number[] = [];
    const kills: number[] = [];
    const missed: string[] = [];
    for (let number = 0; number < ROUNDS; number++) {
      // The whole round is decided here, from the seed; its changes draw from their own sequence,
      // so a round that makes fewer requests than planned does not shift later rounds.
      const killed = rng() < KILLED_SHARE;
      const changesBefore = Math.floor(rng() * 4);
      const kill = killed ? { atWrite: 1 + Math.floor(rng() * SURE_WRITES), stage: rng() < 0.5 ? ('before-forward' as const) : ('before-answer' as const) } : undefined;
      const lastChangeAt = kill?.atWrite ?? SURE_WRITES;
      const changesAtWrites = Array.from({ length: Math.floor(rng() * 3) }, () => 1 + Math.floor(rng() * lastChangeAt));
      const roundRng = seededRandom(Math.floor(rng() * 2 ** 32));
      const where = `${context}, round ${number}`;

      for (let i = 0; i < changesBefore; i++) await mutate(root, roundRng);
      if (killed) await writeRandomFile(join(root, BIG), 11 * MiB + Math.floor(roundRng() * MiB));
      const child = spawnCosync(syncArgs, { configDir, services, env });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      const log: RoundLog = { writes: 0, killedDuring: undefined, changing: [] };
      const killEngine = async (): Promise<void> => {
        child.kill('SIGKILL');
        await exited;
      };
      current = { plan: { root, kill, changesAtWrites, rng: roundRng, spare: killed ? BIG : undefined, killEngine }, log };
      const { code, signal } = await exited;
      current = undefined;
      await Promise.all(log.changing);

      if (kill !== undefined) {
        plannedKills.push(number);
        if (log.killedDuring !== undefined && signal === 'SIGKILL') kills.push(number);
        else missed.push(`round ${number}: planned a kill at write ${kill.atWrite} (${kill.stage}); the engine made ${log.writes} writes and exited with ${code ?? signal}: ${stderr}`);
      } else if (code !== 0) {
        // A run that was not killed must not have failed for any reason but files changing under it.
        expect(stderr, where).toMatch(/changed while|changed during|modified while/i);
      }
    }
    // Every round planned to be killed was killed, each while one of its writes was in flight.
    expect(missed, context).toEqual([]);
    expect(kills, context).toEqual(plannedKills);

    const final = await run(syncArgs, 300_000);
    expect(final.code, `${context}: ${final.stderr}`).toBe(0);
    // Checked straight on RGW, not through the proxy.
    const access = await storeAccess(services, 's3');
    const folder = folderConfig(access, { id: folderId, localPath: root, bucket, prefix: 'crash/' });
    const local = await folderDigests(root);
    const key = await keyFromKeychain(keyName, configDir);
    const withKey = await bucketDigests(access, folder, [...local.keys()], key);
    for (const [path, digest] of local) expect(withKey.get(path), `${context}: ${path}`).toBe(digest);
    // Mirror: nothing of ours beyond the folder (no leftovers of renames or deletions, no half uploads).
    expect(await allKeys(access, folder), context).toEqual([...local.keys()].map((path) => `crash/${path}`).sort());
    const status = await run(['status', '--json']);
    const [report] = JSON.parse(status.stdout) as Array<{ counts: { synced: number; pending: number; error: number } }>;
    expect(report?.counts, context).toEqual({ synced: local.size, pending: 0, error: 0 });
    await run(['key', 'delete', keyName, '--yes']);
  }, 30 * 60_000);
});

function pick(i: number): string {
  return ['', 'a', 'b', 'a/deep'][i % 4] as string;
}

/** Exports the key through the CLI (a kit file) and reads it back, as a user restoring would. */
async function keyFromKeychain(keyName: string, configDir: string): Promise<SseCustomerKey> {
  const kit = join(configDir, 'kit.json');
  const exported = await runCosync(['key', 'export', keyName, '--out', kit], { configDir, services });
  expect(exported.code, exported.stderr).toBe(0);
  const { readKit } = await import('../secrets/recovery-kit.js');
  return (await readKit(kit)).key;
}
