/** The layer rules are enforced by lint: a forbidden import is an error, an allowed one is not. */
import { ESLint } from 'eslint';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { floorOf, ROOMS, roomsBelow, roomsNotBelow } from '../main/rooms.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfigFile: fileURLToPath(new URL('../eslint.config.js', import.meta.url)) });

/** Lints `code` as if it lived at `filePath` (the file need not exist) and returns the layering errors. */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  expect(result?.fatalErrorCount ?? 0).toBe(0);
  return (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-imports' && message.severity === 2).map((message) => message.message);
}

const using = (specifier: string, name: string) => `import { ${name} } from '${specifier}';\nexport const x = ${name};\n`;

describe('import layering', () => {
  it.each([
    ['app/ importing node:fs', 'app/bad.ts', using('node:fs', 'readFile')],
    ['app/ importing a bare Node builtin', 'app/bad.ts', using('path', 'join')],
    ['app/ importing a bare Node builtin subpath', 'app/bad.ts', using('fs/promises', 'readFile')],
    ['app/ importing electron', 'app/bad.ts', using('electron', 'app')],
    ['app/ importing react', 'app/bad.ts', using('react', 'useState')],
    ['app/ importing the engine', 'app/bad.ts', using('../main/journal/journal.js', 'Journal')],
    ['app/ importing the renderer', 'app/bad.ts', using('../renderer/src/app.js', 'App')],
    ['a test of app/ importing the engine', 'app/bad.test.ts', using('../main/journal/journal.js', 'Journal')],
    ['main/ importing electron', 'main/bad.ts', using('electron', 'app')],
    ['main/ (deeper) importing electron/main', 'main/transfer/bad.ts', using('electron/main', 'app')],
    ['main/ importing the renderer', 'main/bad.ts', using('../renderer/src/app.js', 'App')],
    ['main/electron importing the renderer', 'main/electron/bad.ts', using('../../renderer/src/app.js', 'App')],
    ['renderer/ importing the engine', 'renderer/src/bad.ts', using('../../main/journal/journal.js', 'Journal')],
    ['renderer/ importing the shell', 'renderer/src/bad.tsx', using('../../main/electron/ipc.js', 'handle')],
    ['renderer/ importing electron', 'renderer/src/bad.ts', using('electron', 'ipcRenderer')],
    ['renderer/ importing node:fs/promises', 'renderer/src/bad.ts', using('node:fs/promises', 'readFile')],
    ['renderer/ importing a bare Node builtin', 'renderer/src/bad.ts', using('crypto', 'createHash')],
  ])('rejects %s', async (_name, filePath, code) => {
    expect(await layerErrors(filePath, code)).not.toEqual([]);
  });

  it.each([
    ['app/ importing app/', 'app/good.ts', using('./result.js', 'ok')],
    ['a test of app/ importing Node', 'app/good.test.ts', using('node:crypto', 'createHash')],
    ['main/ importing app/ and Node', 'main/good.ts', "import { ok } from '../app/result.js';\nimport { join } from 'node:path';\nexport const x = [ok, join];\n"],
    ['main/electron importing electron and app/', 'main/electron/good.ts', "import { app } from 'electron';\nimport { ok } from '../../app/result.js';\nexport const x = [app, ok];\n"],
    ['renderer/ importing app/ and React', 'renderer/src/good.tsx', "import { ok } from '../../app/result.js';\nimport { useState } from 'react';\nexport const x = [ok, useState];\n"],
    ['the renderer build config importing Node', 'renderer/vite.config.ts', using('node:url', 'fileURLToPath')],
  ])('allows %s', async (_name, filePath, code) => {
    expect(await layerErrors(filePath, code)).toEqual([]);
  });
});

const arrows = (pick: (room: string) => string[]) => ROOMS.flatMap((from) => pick(from).map((to) => [`main/${from}/ importing main/${to}/`, from, to] as const));

describe('the rooms of main/ (main/rooms.js)', () => {
  it.each(arrows(roomsNotBelow))('rejects %s', async (_name, from, to) => {
    expect(await layerErrors(`main/${from}/bad.ts`, using(`../${to}/thing.js`, 'thing'))).not.toEqual([]);
  });

  it.each(arrows(roomsBelow))('allows %s', async (_name, from, to) => {
    expect(await layerErrors(`main/${from}/good.ts`, using(`../${to}/thing.js`, 'thing'))).toEqual([]);
  });

  // The floors the design asks for (issue 15): whatever else changes in the table, these hold.
  it.each([
    ['remote/ importing secret values', 'main/remote/good.ts', using('../secrets/secret-values.js', 'SseCustomerKey'), true],
    ['transfer/ importing the journal and the store', 'main/transfer/good.ts', "import { Journal } from '../journal/journal.js';\nimport type { RemoteStore } from '../remote/remote-store.js';\nexport const x: [typeof Journal, RemoteStore?] = [Journal];\n", true],
    ['keys/ importing a copy', 'main/keys/good.ts', using('../transfer/copy-object.js', 'copyObjectWithFallback'), true],
    ['keys/ importing app/keys.ts (a file, not the room)', 'main/keys/good.ts', using('../../app/keys.js', 'validateKeyName'), true],
    ['secrets/ importing key rotation', 'main/secrets/bad.ts', using('../keys/key-rotation.js', 'rotateFolderKey'), false],
    ['secrets/ importing the journal', 'main/secrets/bad.ts', using('../journal/journal.js', 'Journal'), false],
    ['remote/ importing transfer/', 'main/remote/bad.ts', using('../transfer/upload-file.js', 'uploadFile'), false],
    ['journal/ importing remote/ (one floor)', 'main/journal/bad.ts', using('../remote/remote-store.js', 'x'), false],
    ['transfer/ (deeper) importing sync/', 'main/transfer/deep/bad.ts', using('../../sync/folder-sync.js', 'FolderSync'), false],
    ['sync/ importing keys/ (one floor)', 'main/sync/bad.ts', using('../keys/verify-key.js', 'x'), false],
    ['sync/ importing the engine', 'main/sync/bad.ts', using('../engine/engine.js', 'openEngine'), false],
    ['the engine importing the daemon', 'main/engine/bad.ts', using('../daemon/daemon.js', 'Daemon'), false],
    ['the daemon importing the engine', 'main/daemon/good.ts', using('../engine/engine.js', 'openEngine'), true],
    ['the desktop shell importing the CLI', 'main/electron/bad.ts', using('../cli/cli.js', 'runCli'), false],
    ['the CLI importing the desktop shell', 'main/cli/bad.ts', using('../electron/ipc.js', 'x'), false],
    ['a test driving the CLI from transfer/', 'main/transfer/good.test.ts', using('../cli/cli.js', 'runCli'), true],
  ])('%s', async (_name, filePath, code, allowed) => {
    const errors = await layerErrors(filePath, code);
    if (allowed) expect(errors).toEqual([]);
    else expect(errors).not.toEqual([]);
  });

  it('holds in the code as it is, dynamic import() included (which lint does not see)', () => {
    const mainDir = join(root, 'main');
    const sources = readdirSync(mainDir, { recursive: true, encoding: 'utf8' })
      .map((file) => file.split(sep).join('/'))
      .filter((file) => /\.(?:ts|tsx|cts|mts)$/.test(file) && !/\.(?:test|d)\.ts$/.test(file));
    const wrong: string[] = [];
    for (const file of sources) {
      const from = file.split('/')[0] as string;
      if (!file.includes('/') || !ROOMS.includes(from)) {
        wrong.push(`main/${file} is in no room of main/rooms.js`);
        continue;
      }
      const allowed = new Set([from, ...roomsBelow(from)]);
      const text = readFileSync(join(mainDir, file), 'utf8');
      for (const [, specifier] of text.matchAll(/(?:\bfrom|\bimport\s*\(|\bimport|\brequire\s*\()\s*['"](\.[^'"]+)['"]/g)) {
        // Relative to main/, '/'-separated: "transfer/upload-file.js", or "../app/result.js".
        const target = posix.normalize(posix.join(posix.dirname(file), specifier as string));
        if (target.startsWith('../app/')) continue;
        const to = target.split('/')[0] as string;
        if (!allowed.has(to)) wrong.push(`main/${file} imports ${specifier} (main/${from}/ may not import main/${to}/)`);
      }
    }
    expect(sources.length).toBeGreaterThan(50);
    expect(wrong).toEqual([]);
  });

  it('is the map docs/architecture.md shows', () => {
    // Each room row of the document's table: | floor (on its first room only) | `room/` | … |
    const documented: Record<string, number> = {};
    let floor = Number.NaN;
    for (const line of readFileSync(join(root, 'docs/architecture.md'), 'utf8').split('\n')) {
      const cells = line.split('|').map((cell) => cell.trim());
      const roomCell = /^`([a-z-]+)\/`$/.exec(cells[2] ?? '');
      if (!line.startsWith('|') || roomCell === null) continue;
      if (cells[1] !== '') floor = Number.parseInt(cells[1] as string, 10);
      documented[roomCell[1] as string] = floor;
    }
    expect(documented).toEqual(Object.fromEntries(ROOMS.map((name) => [name, floorOf(name)])));
  });
});
