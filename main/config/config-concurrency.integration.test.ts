/**
 * Config changes from many processes at once lose nothing: the built `cosync` binary, started 20
 * times at the same moment (folder add, then pause, then resume mixed with more adds, then pauses
 * through a running `serve` mixed with adds), against one config dir and RGW. Before config.json had a lock, 20 concurrent adds all said "added" and
 * about half the folders were gone afterwards.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, requireServices, runCosync, spawnCosync, type RunResult, type Services } from '../../test/support/services.js';

const work = useWorkDir('config-concurrency');
let services: Services;
let bucket: string;
let configDir: string;
const env: Record<string, string> = {};

function cosync(args: string[]): Promise<RunResult> {
  return runCosync(args, { configDir, services, env, timeoutMs: 170_000 });
}

/** Runs every command at once, as separate processes; each must succeed. */
async function allAtOnce(commands: ReadonlyArray<string[]>): Promise<void> {
  const results = await Promise.all(commands.map((args) => cosync(args)));
  for (const [index, result] of results.entries()) expect(result.code, `${(commands[index] as string[]).join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
}

async function addCommands(names: ReadonlyArray<string>): Promise<string[][]> {
  return Promise.all(
    names.map(async (name) => {
      await mkdir(join(work(), name));
      return ['folder', 'add', join(work(), name), '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', name];
    }),
  );
}

interface Listed {
  readonly id: string;
  readonly localPath: string;
  readonly paused: boolean;
}

async function listFolders(): Promise<Map<string, Listed>> {
  const listed = await cosync(['folder', 'list', '--json']);
  expect(listed.code, listed.stderr).toBe(0);
  const folders = JSON.parse(listed.stdout) as Listed[];
  return new Map(folders.map((folder) => [basename(folder.localPath), folder]));
}

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-config-lock');
  configDir = join(work(), 'config');
  env.COSYNC_SECRET_ID = services.accessKey;
  env.COSYNC_SECRET_KEY = services.secretKey;
});

describe('config.json under concurrent changes', () => {
  it('20 processes at once, with and without serve: every folder add, pause and resume is kept', async () => {
    const first = Array.from({ length: 20 }, (_, index) => `first-${index}`);
    await allAtOnce(await addCommands(first));
    const added = await listFolders();
    expect([...added.keys()].sort()).toEqual([...first].sort());

    await allAtOnce(first.map((name) => ['folder', 'pause', (added.get(name) as Listed).id]));
    expect([...(await listFolders()).values()].filter((folder) => folder.paused)).toHaveLength(20);

    // Resumes of the odd ones and adds of ten more, all at once.
    const odd = first.filter((_, index) => index % 2 === 1);
    const second = Array.from({ length: 10 }, (_, index) => `second-${index}`);
    await allAtOnce([...odd.map((name) => ['folder', 'resume', (added.get(name) as Listed).id]), ...(await addCommands(second))]);

    const afterMixed = await listFolders();
    expect([...afterMixed.keys()].sort()).toEqual([...first, ...second].sort());
    for (const [name, folder] of afterMixed) expect(folder.paused, name).toBe(first.includes(name) && !odd.includes(name));

    // With `serve` running, pauses are made by the engine (in its process) while adds come from
    // the CLI: the engine must change the file as it is, not the copy it started with.
    const serve = spawnCosync(['serve', '--port', '0'], { configDir, services, env });
    try {
      await new Promise<void>((resolve, reject) => {
        let text = '';
        serve.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (/serving http:\/\//.test(text)) resolve();
        });
        serve.on('close', () => reject(new Error(`serve exited early: ${text}`)));
      });
      const third = Array.from({ length: 10 }, (_, index) => `third-${index}`);
      const pauses = second.map((name) => ['folder', 'pause', (afterMixed.get(name) as Listed).id]);
      const results = await Promise.all([...pauses, ...(await addCommands(third))].map((args) => cosync(args)));
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      for (const result of results.slice(0, pauses.length)) expect(result.stdout).toMatch(/in the running engine/);
    } finally {
      serve.kill('SIGTERM');
      await new Promise((resolve) => serve.on('close', resolve));
    }

    const final = await listFolders();
    const third = Array.from({ length: 10 }, (_, index) => `third-${index}`);
    expect([...final.keys()].sort()).toEqual([...first, ...second, ...third].sort());
    for (const [name, folder] of final) expect(folder.paused, name).toBe((first.includes(name) && !odd.includes(name)) || second.includes(name));
    // Nothing left behind: no lock, no temporary files beside config.json.
    expect((await readdir(configDir)).filter((name) => name.startsWith('config.json'))).toEqual(['config.json']);
    JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8'));
  }, 300_000);

  it('the same folder added by 5 processes at once is added once; the others are told it overlaps', async () => {
    const [command] = await addCommands(['twice']);
    const results = await Promise.all(Array.from({ length: 5 }, () => cosync(command as string[])));
    expect(results.filter((result) => result.code === 0)).toHaveLength(1);
    for (const result of results.filter((other) => other.code !== 0)) expect(result.stderr).toMatch(/twice overlaps folder twice-[0-9a-f]{4}/);
    expect([...(await listFolders()).keys()].filter((name) => name === 'twice')).toHaveLength(1);
  }, 120_000);
});
