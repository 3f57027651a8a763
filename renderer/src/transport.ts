/**
 * How the UI reaches the engine. Inside Electron: the preload bridge (`window.cosync`). In a plain
 * browser: the headless daemon's HTTP bridge (`cosync serve`), with the token from the URL it
 * printed. Both carry the same contract; only dropped files differ (Electron knows their paths,
 * a browser streams their bytes to the daemon).
 */
import type { Channel, CosyncBridge, EngineEvent, RequestOf, ResponseOf } from '../../app/contract.js';
import type { Result } from '../../app/result.js';
import { i18n } from './i18n.js';

/** A file the user dropped, with its path relative to the drop (folders are walked). */
export interface DroppedFile {
  readonly file: File;
  readonly relativePath: string;
}

/** The engine API as the UI sees it: the contract, plus how dropped files become paths the engine can read. */
export interface Transport extends CosyncBridge {
  readonly kind: 'electron' | 'browser' | 'none';
  /**
   * Local paths of the top-level dropped items, as the engine sees them: Electron gives the real
   * paths; a browser uploads the bytes to the daemon, which keeps them until their backup is done.
   */
  prepareDrop(files: ReadonlyArray<DroppedFile>, onProgress: (bytesSent: number) => void): Promise<Result<string[]>>;
  /** The native folder picker, where there is one (the desktop app); the chosen path or undefined. */
  readonly pickFolder?: () => Promise<string | undefined>;
  /** Start at login (the desktop app): true/false sets it, null asks; answers the current setting. */
  readonly startAtLogin?: (wanted: boolean | null) => Promise<boolean | undefined>;
}

type PreloadBridge = CosyncBridge & {
  pathForFile(file: File): string;
  pickFolder?: () => Promise<string | undefined>;
  startAtLogin?: (wanted: boolean | null) => Promise<boolean | undefined>;
};

function isPreloadBridge(value: unknown): value is PreloadBridge {
  return typeof value === 'object' && value !== null && typeof (value as { call?: unknown }).call === 'function' && typeof (value as { subscribe?: unknown }).subscribe === 'function';
}

// Errors the window composes itself are in its language (the engine's own stay as it sends them).
const notConnected = () => ({ code: 'endpoint-unreachable' as const, message: i18n.t('transport.notConnected') });

/** The transport when there is nothing to talk to: every call says so. */
export const notConnectedTransport: Transport = {
  kind: 'none',
  call: async () => ({ ok: false, error: notConnected() }),
  subscribe: () => () => undefined,
  prepareDrop: async () => ({ ok: false, error: notConnected() }),
};

/** The Electron preload bridge. */
export function electronTransport(bridge: PreloadBridge): Transport {
  return {
    kind: 'electron',
    ...(typeof bridge.pickFolder === 'function' ? { pickFolder: () => (bridge.pickFolder as () => Promise<string | undefined>)() } : {}),
    ...(typeof bridge.startAtLogin === 'function' ? { startAtLogin: (wanted: boolean | null) => (bridge.startAtLogin as (wanted: boolean | null) => Promise<boolean | undefined>)(wanted) } : {}),
    call: (channel, request) => bridge.call(channel, request),
    subscribe: (listener) => bridge.subscribe(listener),
    prepareDrop: async (files) => {
      // Only the top-level items: the engine walks folders itself.
      const tops = new Map<string, string>();
      for (const { file, relativePath } of files) {
        const top = relativePath.split('/')[0] as string;
        const path = bridge.pathForFile(file);
        if (path === '') return { ok: false, error: { code: 'usage', message: i18n.t('transport.noLocalPath', { path: relativePath }) } };
        // A file inside a dropped folder: its folder's path is its own path minus the rest of the relative path.
        const depth = relativePath.split('/').length - 1;
        let topPath = path;
        for (let index = 0; index < depth; index++) topPath = topPath.slice(0, Math.max(topPath.lastIndexOf('/'), topPath.lastIndexOf('\\')));
        tops.set(top, topPath);
      }
      return { ok: true, value: [...tops.values()] };
    },
  };
}

/** The headless daemon over HTTP, authenticated by the per-run token. */
export function httpTransport(base: URL, token: string, fetchImpl: typeof fetch = fetch.bind(globalThis)): Transport {
  const call = async <C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
    try {
      const response = await fetchImpl(new URL(`api/call/${channel}`, base), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      if (response.status === 401) return { ok: false, error: { code: 'access-denied', message: i18n.t('transport.accessDenied') } };
      if (!response.ok) return { ok: false, error: { code: 'internal', message: i18n.t('transport.httpError', { status: response.status, channel }) } };
      return (await response.json()) as ResponseOf<C>;
    } catch {
      return { ok: false, error: { code: 'endpoint-unreachable', message: i18n.t('transport.unreachable') } };
    }
  };
  return {
    kind: 'browser',
    call,
    subscribe: (listener) => {
      // EventSource cannot send headers: the token goes in the query (the daemon accepts it there for this stream only).
      const source = new EventSource(new URL(`api/events?token=${encodeURIComponent(token)}`, base));
      source.onmessage = (message: MessageEvent<string>) => {
        try {
          listener(JSON.parse(message.data) as EngineEvent);
        } catch {
          // A malformed event is dropped; the next overview repairs the picture.
        }
      };
      return () => source.close();
    },
    prepareDrop: async (files, onProgress) => {
      let drop = '';
      let sent = 0;
      const tops = new Set<string>();
      for (const { file, relativePath } of files) {
        try {
          const url = new URL('api/drop', base);
          url.searchParams.set('path', relativePath);
          if (drop !== '') url.searchParams.set('drop', drop);
          const response = await fetchImpl(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: file });
          const answer = (await response.json()) as { drop?: string; entry?: string; error?: string };
          if (!response.ok || answer.drop === undefined || answer.entry === undefined) return { ok: false, error: { code: 'usage', message: `${relativePath}: ${answer.error ?? i18n.t('transport.httpStatus', { status: response.status })}` } };
          drop = answer.drop;
          tops.add(answer.entry);
          sent += file.size;
          onProgress(sent);
        } catch {
          return { ok: false, error: { code: 'endpoint-unreachable', message: i18n.t('transport.sendFailed', { path: relativePath }) } };
        }
      }
      return { ok: true, value: [...tops] };
    },
  };
}

/**
 * Picks the preload bridge inside cosync's Electron window; else the daemon's HTTP bridge when
 * the page was opened with its token (kept for reloads in sessionStorage and removed from the
 * address bar, so it does not end up in screenshots or history); else "not connected".
 */
export function selectTransport(host: { readonly cosync?: unknown; readonly location?: Location; readonly sessionStorage?: Storage; readonly history?: History }): Transport {
  if (isPreloadBridge(host.cosync)) return electronTransport(host.cosync);
  const location = host.location;
  if (location === undefined || !location.protocol.startsWith('http')) return notConnectedTransport;
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    host.sessionStorage?.setItem('cosync-token', fromUrl);
    url.searchParams.delete('token');
    host.history?.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  const token = fromUrl ?? host.sessionStorage?.getItem('cosync-token') ?? null;
  if (token === null) return notConnectedTransport;
  return httpTransport(new URL('/', url), token);
}
