/**
 * `electron-builder --dir` (what `npm run package:dir` runs) produces an unpacked app whose
 * app.asar holds the built main process, preload and renderer — and nothing of the tests, source
 * maps or build caches — with the native modules unpacked beside it (asar cannot hold them).
 *
 * Electron's runtime cannot be downloaded here, so electron-builder is pointed at a stand-in
 * dist folder (TESTBED.md); and neither can Electron's headers, so native modules are not
 * rebuilt for Electron's ABI in this test (-c.npmRebuild=false; a rebuild would also rewrite
 * node_modules under the other tests' feet). On a machine with internet, `npm run package`
 * rebuilds them.
 */
import { listPackage } from '@electron/asar';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { useWorkDir } from '../support/files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const work = useWorkDir('package-dir');

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

it('packs the built main, preload and renderer into app.asar, with native modules unpacked', async () => {
  const standIn = join(work(), 'electron-dist');
  await mkdir(standIn);
  await writeFile(join(standIn, 'electron'), '#!/bin/sh\necho "stand-in for the Electron runtime" >&2\nexit 1\n');
  await chmod(join(standIn, 'electron'), 0o755);
  const output = join(work(), 'release');
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/electron-builder/cli.js'), '--dir', '--config', 'build/electron-builder.json', `-c.electronDist=${standIn}`, '-c.npmRebuild=false', `-c.directories.output=${output}`],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  const resources = join(output, 'linux-unpacked', 'resources');
  const inAsar = new Set(listPackage(join(resources, 'app.asar'), { isPack: false }).map((path) => path.replace(/^\//, '')));

  const packageJson = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { main: string };
  for (const needed of [packageJson.main, 'dist/main/electron/preload.cjs', 'dist/main/daemon/daemon.js', 'dist/app/contract.js', 'dist/renderer/index.html', 'package.json']) {
    expect(inAsar.has(needed), needed).toBe(true);
  }
  const rendererAssets = [...inAsar].filter((path) => path.startsWith('dist/renderer/assets/'));
  expect(rendererAssets.some((path) => path.endsWith('.js'))).toBe(true);
  expect(rendererAssets.some((path) => path.endsWith('.css'))).toBe(true);
  // Production dependencies are in; tests, source maps, type declarations and build caches are not.
  expect(inAsar.has('node_modules/@aws-sdk/client-s3/package.json')).toBe(true);
  expect([...inAsar].filter((path) => /\.test\.|\.map$|tsbuildinfo|^dist\/tsc\//.test(path))).toEqual([]);
  expect([...inAsar].filter((path) => path.startsWith('node_modules/vitest/') || path.startsWith('node_modules/electron/'))).toEqual([]);

  // Native modules live outside the archive, where the OS can load them.
  const unpacked = (await filesUnder(join(resources, 'app.asar.unpacked'))).map((path) => path.slice(resources.length + 1));
  // better-sqlite3 13 ships Node-API builds, which Node and Electron load alike (no rebuild for either).
  expect(unpacked).toContain('app.asar.unpacked/node_modules/better-sqlite3/prebuilds/linux-x64.node');
  expect(unpacked.some((path) => /app\.asar\.unpacked\/node_modules\/@github\/keytar\/.*linux-x64.*\/keytar\.node$|keytar\/build\/Release\/keytar\.node$/.test(path))).toBe(true);
  expect(await readdir(join(output, 'linux-unpacked'))).toContain('cosync');
}, 480_000); // electron-builder packs all of node_modules: over 3 min on a 2-core box loaded 10 times over
