/**
 * The preload bridge: exposes only the typed contract to the renderer as `window.cosync`, never
 * ipcRenderer itself. CommonJS because sandboxed preloads cannot be ES modules.
 */
// A sandboxed preload may require only 'electron' (and a few polyfilled builtins), never our own
// modules, so it imports types from the contract and nothing else.
import electron = require('electron');
import type { CosyncBridge, ResponseOf } from '../../app/contract.js';

const { contextBridge, ipcRenderer } = electron;

const bridge: CosyncBridge = {
  version: () => ipcRenderer.invoke('sync:version', null) as Promise<ResponseOf<'sync:version'>>,
};

contextBridge.exposeInMainWorld('cosync', bridge);
