/**
 * The preload bridge: exposes only the typed contract to the renderer as `window.cosync`, never
 * ipcRenderer itself. CommonJS because sandboxed preloads cannot be ES modules.
 */
// A sandboxed preload may require only 'electron' (and a few polyfilled builtins), never our own
// modules, so it imports types from the contract and nothing else; the main process validates
// every channel and payload again.
import electron = require('electron');
import type { CosyncBridge, EngineEvent } from '../../app/contract.js';

const { contextBridge, ipcRenderer, webUtils } = electron;

/** Kept in step with EVENT_CHANNEL in app/contract.ts (a sandboxed preload cannot import it). */
const EVENT_CHANNEL = 'sync:event';

const bridge: CosyncBridge & { pathForFile(file: File): string; pickFolder(): Promise<string | undefined>; startAtLogin(wanted: boolean | null): Promise<boolean | undefined> } = {
  call: (channel, request) => {
    // Only contract channels: a compromised page must not reach other IPC (the main process also refuses unknown channels).
    if (typeof channel !== 'string' || !channel.startsWith('sync:')) {
      return Promise.resolve({ ok: false, error: { code: 'usage', message: `unknown channel ${String(channel)}` } });
    }
    return ipcRenderer.invoke(channel, request);
  },
  subscribe: (listener) => {
    const forward = (_event: unknown, payload: EngineEvent): void => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    ipcRenderer.send(EVENT_CHANNEL, 'subscribe');
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
  // Dropped files carry their path only through webUtils (File.path is gone since Electron 32).
  pathForFile: (file) => webUtils.getPathForFile(file),
  // The native folder picker; answers the chosen path, or undefined when cancelled.
  pickFolder: () => ipcRenderer.invoke('shell:pick-folder'),
  // Whether the app starts at login; true/false changes it, null only asks.
  startAtLogin: (wanted) => ipcRenderer.invoke('shell:start-at-login', typeof wanted === 'boolean' ? wanted : null),
};

contextBridge.exposeInMainWorld('cosync', bridge);
