/** The layer rules are enforced by lint: a forbidden import is an error, an allowed one is not. */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
