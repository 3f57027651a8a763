/**
 * The preload bridge: exposes only the typed contract to the renderer (never ipcRenderer).
 * CommonJS because sandboxed preloads cannot be ES modules.
 */
// A sandboxed preload may require only 'electron' (and a few builtins), never our own modules.
import electron = require('electron');
import type { ResponseOf } from '../../app/contract.js';

const { contextBridge, ipcRenderer } = electron;

const bridge = {
  version: (): Promise<ResponseOf<'sync:version'>> => ipcRenderer.invoke('sync:version', null) as Promise<ResponseOf<'sync:version'>>,
};

contextBridge.exposeInMainWorld('cosync', bridge);
