/** The layer rules are enforced by lint: a forbidden import is an error, an allowed one is not. */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  return (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

describe('import layering', () => {
  it.each([
    ['app/ importing a Node builtin', 'app/bad.ts', "import { readFile } from 'node:fs';\nexport const x = readFile;\n"],
    ['app/ importing a bare Node builtin', 'app/bad.ts', "import { join } from 'path';\nexport const x = join;\n"],
    ['app/ importing electron', 'app/bad.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['app/ importing the engine', 'app/bad.ts', "import { Journal } from '../main/journal/journal.js';\nexport const x = Journal;\n"],
    ['main/ importing electron', 'main/bad.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['main/ importing the renderer', 'main/bad.ts', "import { App } from '../renderer/src/app.js';\nexport const x = App;\n"],
    ['renderer/ importing the engine', 'renderer/src/bad.ts', "import { Journal } from '../../main/journal/journal.js';\nexport const x = Journal;\n"],
    ['renderer/ importing Node', 'renderer/src/bad.ts', "import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n"],
  ])('rejects %s', async (_name, filePath, code) => {
    expect(await layerErrors(filePath, code)).not.toEqual([]);
  });

  it.each([
    ['app/ importing app/', 'app/good.ts', "import { ok } from './result.js';\nexport const x = ok;\n"],
    ['main/ importing app/ and Node', 'main/good.ts', "import { ok } from '../app/result.js';\nimport { join } from 'node:path';\nexport const x = [ok, join];\n"],
    ['main/electron importing electron', 'main/electron/good.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['renderer/ importing app/', 'renderer/src/good.ts', "import { ok } from '../../app/result.js';\nexport const x = ok;\n"],
  ])('allows %s', async (_name, filePath, code) => {
    expect(await layerErrors(filePath, code)).toEqual([]);
  });
});
