/**
 * How the UI reaches the engine. Inside Electron: the preload bridge (`window.cosync`). In a
 * plain browser: the headless daemon's HTTP/WebSocket bridge, which arrives with `cosync serve`;
 * until then the browser transport says plainly that it is not connected.
 */
import type { ResponseOf } from '../../app/contract.js';

/** The engine API as the UI sees it. */
export interface Transport {
  readonly kind: 'electron' | 'browser';
  version(): Promise<ResponseOf<'sync:version'>>;
}

/** The shape the preload exposes on `window.cosync`. */
interface PreloadBridge {
  version(): Promise<ResponseOf<'sync:version'>>;
}

function isPreloadBridge(value: unknown): value is PreloadBridge {
  return typeof value === 'object' && value !== null && typeof (value as { version?: unknown }).version === 'function';
}

/** Picks the preload bridge when present, else the browser transport. */
export function selectTransport(host: { cosync?: unknown }): Transport {
  const bridge = host.cosync;
  if (isPreloadBridge(bridge)) return { kind: 'electron', version: () => bridge.version() };
  return {
    kind: 'browser',
    version: async () => ({
      ok: false,
      error: { code: 'endpoint-unreachable', message: 'not connected to a cosync engine: open this page from the desktop app (the browser bridge to `cosync serve` is not built yet)' },
    }),
  };
}
