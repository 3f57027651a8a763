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
  const ipcRenderer = { invoke: vi.fn(async () => ({ ok: true, value: '1.2.3' })), send: vi.fn(), on: vi.fn(), removeListener: vi.fn() };
  const webUtils = { getPathForFile: vi.fn(() => '/home/me/photo.jpg') };
  const electron = { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api) }, ipcRenderer, webUtils };
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
  expect(Object.keys(bridge)).toEqual(['call', 'subscribe', 'pathForFile', 'pickFolder', 'startAtLogin']);
  for (const value of [ipcRenderer, ipcRenderer.invoke, ipcRenderer.on, ipcRenderer.send]) expect(Object.values(bridge)).not.toContain(value);
});

type Bridge = { call(channel: unknown, request: unknown): Promise<unknown>; subscribe(listener: (event: unknown) => void): () => void; pathForFile(file: unknown): string };

it('calls contract channels over invoke and hands back the Result', async () => {
  const { exposed, ipcRenderer } = await runPreload();
  const bridge = exposed.get('cosync') as Bridge;
  expect(await bridge.call('sync:version', null)).toEqual({ ok: true, value: '1.2.3' });
  expect(ipcRenderer.invoke).toHaveBeenCalledWith('sync:version', null);
});

it('refuses anything that is not a contract channel without touching IPC', async () => {
  const { exposed, ipcRenderer } = await runPreload();
  const bridge = exposed.get('cosync') as Bridge;
  for (const channel of ['ELECTRON_BROWSER_REQUIRE', 'other:thing', 42, null, { toString: () => 'sync:version' }]) {
    expect(await bridge.call(channel, null)).toMatchObject({ ok: false, error: { code: 'usage' } });
  }
  expect(ipcRenderer.invoke).not.toHaveBeenCalled();
});

it('subscribes to engine events and unsubscribes', async () => {
  const { exposed, ipcRenderer } = await runPreload();
  const bridge = exposed.get('cosync') as Bridge;
  const events: unknown[] = [];
  const stop = bridge.subscribe((event) => events.push(event));
  expect(ipcRenderer.send).toHaveBeenCalledWith('sync:event', 'subscribe');
  const [channel, forward] = ipcRenderer.on.mock.calls[0] as unknown as [string, (sender: unknown, event: unknown) => void];
  expect(channel).toBe('sync:event');
  forward({ sender: 'ipc' }, { type: 'overview' });
  expect(events).toEqual([{ type: 'overview' }]);
  stop();
  expect(ipcRenderer.removeListener).toHaveBeenCalledWith('sync:event', forward);
});

it('asks the main process for the native folder picker', async () => {
  const { exposed, ipcRenderer } = await runPreload();
  await (exposed.get('cosync') as Bridge & { pickFolder(): Promise<unknown> }).pickFolder();
  expect(ipcRenderer.invoke).toHaveBeenCalledWith('shell:pick-folder');
});

it('asks and sets start-at-login, passing only true, false or null', async () => {
  const { exposed, ipcRenderer } = await runPreload();
  const bridge = exposed.get('cosync') as { startAtLogin(wanted: unknown): Promise<unknown> };
  await bridge.startAtLogin(true);
  await bridge.startAtLogin('yes please');
  expect(ipcRenderer.invoke.mock.calls).toEqual([
    ['shell:start-at-login', true],
    ['shell:start-at-login', null],
  ]);
});

it('gives dropped files their paths through webUtils', async () => {
  const { exposed } = await runPreload();
  expect((exposed.get('cosync') as Bridge).pathForFile({})).toBe('/home/me/photo.jpg');
});
