/**
 * Crash simulation: `cosync sync --once` runs in a child process against RGW with SSE-C and
 * policy mirror; a seeded loop changes files, starts the engine, keeps changing files while it
 * runs, and kills it with SIGKILL at a random moment. At the end one run goes to completion and
 * every local file must equal its object byte for byte (read with the key), the bucket must hold
 * nothing else of ours, and the journal (cosync status) must agree.
 *
 * COSYNC_CRASH_ROUNDS (default 30) and COSYNC_CRASH_SEED replay or extend it (npm run soak:sync).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, DIALECTS, requireServices, runCosync, spawnCosync, storeAccess, uniqueName, type Services } from '../../test/support/services.js';
import { seededRandom } from '../../test/support/random.js';
import { allKeys, bucketDigests, folderConfig, folderDigests } from '../../test/support/sync.js';
import type { SseCustomerKey } from '../secrets/secret-values.js';

const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.COSYNC_CRASH_ROUNDS ?? 30);
const SEED = Number(process.env.COSYNC_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

const work = useWorkDir('crash');
let services: Services;

beforeAll(() => {
  services = requireServices();
});

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(root, path)));
    else files.push(path);
  }
  return files;
}

/** One random change to the folder: create, modify, rename, move a directory, delete. */
async function mutate(root: string, rng: () => number): Promise<void> {
  const files = await listFiles(root);
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
      // The big file is rewritten whole (multipart, killed half-way more often than not).
      if (file === 'big.bin') await writeRandomFile(join(root, file), 11 * MiB + Math.floor(rng() * MiB));
      else await writeFile(join(root, file), randomBytes(Math.floor(rng() * 20_000)));
    } else if (roll < 0.65) {
      await mkdir(join(root, directory), { recursive: true });
      await rename(join(root, pick(files)), join(root, fresh));
    } else if (roll < 0.75) {
      const [from, to] = rng() < 0.5 ? ['a', 'c'] : ['c', 'a'];
      await rename(join(root, from), join(root, to)).catch(() => undefined);
    } else {
      const file = pick(files);
      if (file !== 'big.bin') await rm(join(root, file));
    }
  } catch {
    // A path that moved under another change: that is part of the weather.
  }
}

describe(`crash simulation (seed ${SEED}, ${ROUNDS} rounds)`, () => {
  it.each(DIALECTS)('killed at random moments while files change, it converges and loses nothing (%s dialect)', async (dialect) => {
    const access = await storeAccess(services, dialect);
    const rng = seededRandom(SEED);
    const root = join(work(), dialect, 'folder');
    const configDir = join(work(), dialect, 'config');
    const bucket = await createBucket(services, 'cosync-crash');
    const keyName = uniqueName('crash');
    const env = access.env;
    const run = (args: string[], timeoutMs = 120_000) => runCosync(args, { configDir, services, env, timeoutMs });
    const context = `seed ${SEED} (replay: COSYNC_CRASH_SEED=${SEED})`;

    await mkdir(join(root, 'a', 'deep'), { recursive: true });
    await mkdir(join(root, 'b'), { recursive: true });
    for (let i = 0; i < 40; i++) await writeFile(join(root, pick(i), `s${i}.bin`), randomBytes(100 + i * 300));
    await writeRandomFile(join(root, 'big.bin'), 11 * MiB);
    expect((await run(['key', 'generate', keyName])).code).toBe(0);
    const added = await run(['folder', 'add', root, ...access.targetArgs(bucket), '--prefix', 'crash', '--sse', 'c', '--key', keyName, '--policy', 'mirror', '--kit-saved', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const folderId = (JSON.parse(added.stdout) as { id: string }).id;

    const syncArgs = ['sync', '--once', '--json', '--part-size', '5', '--multipart-threshold', '5', '--concurrency', '4'];
    let kills = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const changes = Math.floor(rng() * 4);
      for (let i = 0; i < changes; i++) await mutate(root, rng);
      const child = spawnCosync(syncArgs, { configDir, services, env });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      // Change files while it runs, then kill it somewhere between start-up and the end of the run.
      const killAfter = 150 + Math.floor(rng() * 1500);
      const midChanges = Math.floor(rng() * 3);
      for (let i = 0; i < midChanges; i++) {
        await new Promise((resolve) => setTimeout(resolve, killAfter / (midChanges + 1)));
        await mutate(root, rng);
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfter / (midChanges + 1));
      const code = await exited;
      clearTimeout(timer);
      if (code === null) kills++;
      // A run that was not killed must not have failed for any reason but files changing under it.
      else if (code !== 0) expect(stderr, `${context}, round ${round}`).toMatch(/changed while|changed during|modified while/i);
    }

    const final = await run(syncArgs, 300_000);
    expect(final.code, `${context}: ${final.stderr}`).toBe(0);
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
    // Runs with little to do can finish before their kill; most must still be cut off mid-way.
    expect(kills, `${context}: the loop should really kill the engine`).toBeGreaterThanOrEqual(Math.floor(ROUNDS / 4));
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
