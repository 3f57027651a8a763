/**
 * The preload as Electron's sandbox runs it: a CommonJS script whose `require` yields only
 * `electron`. It is transpiled here from source, because vite cannot load `.cts` with
 * `import = require`, and run in a fresh VM context with a fake `electron`.
 */
import { readFile } from 'node:fs/promises';
import vm from 'node:vm';
import ts from 'typescript';
import { expect, it, vi } from 'vitest';

async function runPreload() {
  const source = await readFile(new URL('./preload.cts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const exposed = new Map<string, unknown>();
  const ipcRenderer = { invoke: vi.fn(async () => ({ ok: true, value: '1.2.3' })), send: vi.fn(), on: vi.fn() };
  const electron = { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api) }, ipcRenderer };
  const required: string[] = [];
  const require = (name: string) => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`a sandboxed preload cannot require ${name}`);
  };
  const module = { exports: {} };
  vm.runInNewContext(outputText, { require, module, exports: module.exports });
  return { exposed, ipcRenderer, required };
}

it('exposes only the typed bridge as window.cosync, never ipcRenderer', async () => {
  const { exposed, ipcRenderer, required } = await runPreload();
  expect(required).toEqual(['electron']);
  expect([...exposed.keys()]).toEqual(['cosync']);
  const bridge = exposed.get('cosync') as Record<string, unknown>;
  expect(Object.keys(bridge)).toEqual(['version']);
  expect(Object.values(bridge)).not.toContain(ipcRenderer);
  expect(Object.values(bridge)).not.toContain(ipcRenderer.invoke);
});

it('asks sync:version over invoke and hands back the Result', async () => {
  const { exposed, ipcRenderer } = await runPreload();
  const bridge = exposed.get('cosync') as { version(): Promise<unknown> };
  expect(await bridge.version()).toEqual({ ok: true, value: '1.2.3' });
  expect(ipcRenderer.invoke).toHaveBeenCalledWith('sync:version', null);
});
