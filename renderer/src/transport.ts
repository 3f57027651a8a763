/**
 * How the UI reaches the engine. Inside Electron: the preload bridge (`window.cosync`). In a
 * plain browser: the headless daemon's HTTP/WebSocket bridge, which arrives with `cosync serve`;
 * until then the browser transport says plainly that it is not connected.
 */
import type { CosyncBridge } from '../../app/contract.js';

/** The engine API as the UI sees it: the contract's calls, plus which bridge carries them. */
export interface Transport extends CosyncBridge {
  readonly kind: 'electron' | 'browser';
}

function isPreloadBridge(value: unknown): value is CosyncBridge {
  return typeof value === 'object' && value !== null && typeof (value as { version?: unknown }).version === 'function';
}

/** The transport for a plain browser, until the daemon's bridge exists: every call says "not connected". */
export const notConnectedTransport: Transport = {
  kind: 'browser',
  version: async () => ({
    ok: false,
    error: {
      code: 'endpoint-unreachable',
      message: 'Not connected to a cosync engine. Open this window from the desktop app; the browser connection to a headless engine is not built yet.',
    },
  }),
};

/** Picks the preload bridge when the page runs inside cosync's Electron window, else the browser transport. */
export function selectTransport(host: { readonly cosync?: unknown }): Transport {
  const bridge = host.cosync;
  if (isPreloadBridge(bridge)) return { kind: 'electron', version: () => bridge.version() };
  return notConnectedTransport;
}
