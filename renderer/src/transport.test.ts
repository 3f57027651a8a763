// @vitest-environment jsdom
/** Which transport the window picks, and how the HTTP transport speaks to `cosync serve`. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineEvent } from '../../app/contract.js';
import { electronTransport, httpTransport, notConnectedTransport, selectTransport } from './transport.js';

type FetchCall = { readonly url: string; readonly init: RequestInit | undefined };

/** A fetch that records its calls and answers from `answer`. */
function fakeFetch(answer: (url: string, init: RequestInit | undefined) => Response | Promise<Response>) {
  const calls: FetchCall[] = [];
  const impl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof URL ? input.href : typeof input === 'string' ? input : input.url;
    calls.push({ url, init });
    return answer(url, init);
  }) as typeof fetch;
  return { impl, calls };
}

const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

function bridge() {
  return {
    call: vi.fn(async () => ({ ok: true as const, value: '9.9.9' })),
    subscribe: vi.fn(() => () => undefined),
    pathForFile: vi.fn((file: File) => `/home/me/Desktop/${file.name}`),
  };
}

describe('selectTransport', () => {
  beforeEach(() => {
    sessionStorage.clear();
    window.history.replaceState(null, '', '/');
  });
  afterEach(() => vi.unstubAllGlobals());

  it('uses the preload bridge when window.cosync has call and subscribe', async () => {
    const preload = bridge();
    const transport = selectTransport({ cosync: preload, location: window.location, sessionStorage, history: window.history });
    expect(transport.kind).toBe('electron');
    expect(await transport.call('sync:version', null)).toEqual({ ok: true, value: '9.9.9' });
    expect(preload.call).toHaveBeenCalledWith('sync:version', null);
    const listener = vi.fn();
    transport.subscribe(listener);
    expect(preload.subscribe).toHaveBeenCalledWith(listener);
  });

  it.each([
    ['a bridge without subscribe', { call: () => undefined }],
    ['a bridge without call', { subscribe: () => undefined }],
    ['an old bridge with version() only', { version: () => '1.0' }],
    ['a string', 'cosync'],
    ['null', null],
  ])('does not mistake %s for the preload bridge', (_name, cosync) => {
    expect(selectTransport({ cosync, location: window.location, sessionStorage, history: window.history })).toBe(notConnectedTransport);
  });

  it('talks HTTP to the daemon when the page was opened with ?token=, keeps the token for reloads and removes it from the address bar', async () => {
    window.history.replaceState(null, '', '/?token=s3cr%2Ft&view=1#files');
    const { impl, calls } = fakeFetch(() => json({ ok: true, value: '1.2.3' }));
    vi.stubGlobal('fetch', impl);

    const transport = selectTransport(window);

    expect(transport.kind).toBe('browser');
    expect(sessionStorage.getItem('cosync-token')).toBe('s3cr/t');
    expect(window.location.href).toBe('http://localhost:3000/?view=1#files');
    expect(window.location.href).not.toContain('s3cr');
    expect(await transport.call('sync:version', null)).toEqual({ ok: true, value: '1.2.3' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe('http://localhost:3000/api/call/sync:version');
    expect(new Headers(calls[0]?.init?.headers).get('authorization')).toBe('Bearer s3cr/t');
  });

  it('finds the token again in sessionStorage after a reload (no token in the URL any more)', async () => {
    sessionStorage.setItem('cosync-token', 'kept');
    const { impl, calls } = fakeFetch(() => json({ ok: true, value: '1.2.3' }));
    vi.stubGlobal('fetch', impl);
    const replaceState = vi.spyOn(window.history, 'replaceState');

    const transport = selectTransport(window);

    expect(transport.kind).toBe('browser');
    expect(replaceState).not.toHaveBeenCalled();
    await transport.call('sync:version', null);
    expect(new Headers(calls[0]?.init?.headers).get('authorization')).toBe('Bearer kept');
    replaceState.mockRestore();
  });

  it('is not connected without a bridge or a token, and says how to connect', async () => {
    const transport = selectTransport(window);
    expect(transport).toBe(notConnectedTransport);
    expect(transport.kind).toBe('none');
    expect(await transport.call('sync:overview', null)).toMatchObject({ ok: false, error: { code: 'endpoint-unreachable', message: expect.stringMatching(/Not connected.*cosync serve/) } });
    expect(await transport.prepareDrop([], () => undefined)).toMatchObject({ ok: false, error: { code: 'endpoint-unreachable' } });
  });

  it('is not connected when the page is a file (no HTTP origin), even with a token', () => {
    const location = { protocol: 'file:', href: 'file:///opt/cosync/index.html?token=abc' } as Location;
    expect(selectTransport({ location, sessionStorage })).toBe(notConnectedTransport);
    expect(sessionStorage.getItem('cosync-token')).toBeNull();
  });
});

describe('httpTransport', () => {
  const base = new URL('http://127.0.0.1:8400/');

  it('POSTs api/call/CHANNEL with the Bearer token and the JSON request, and returns the engine’s Result', async () => {
    const answer = { ok: true, value: [{ folderId: 'f1', path: 'a.txt', status: { state: 'synced' }, changedAt: 5 }] };
    const { impl, calls } = fakeFetch(() => json(answer));
    const transport = httpTransport(base, 'tok-123', impl);

    expect(await transport.call('sync:files', { folderId: 'f1' })).toEqual(answer);

    expect(calls).toHaveLength(1);
    const [{ url, init }] = calls as [FetchCall];
    expect(url).toBe('http://127.0.0.1:8400/api/call/sync:files');
    expect(init?.method).toBe('POST');
    const headers = new Headers(init?.headers);
    expect(headers.get('authorization')).toBe('Bearer tok-123');
    expect(headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(String(init?.body))).toEqual({ folderId: 'f1' });
  });

  it('passes an engine error Result through unchanged', async () => {
    const answer = { ok: false, error: { code: 'bucket-not-found', message: 'No bucket named x' } };
    const transport = httpTransport(base, 't', fakeFetch(() => json(answer)).impl);
    expect(await transport.call('sync:overview', null)).toEqual(answer);
  });

  it('turns 401 into a clear access-denied error', async () => {
    const transport = httpTransport(base, 'stale', fakeFetch(() => json({ error: 'unauthorized' }, 401)).impl);
    const answer = await transport.call('sync:overview', null);
    expect(answer).toEqual({ ok: false, error: { code: 'access-denied', message: expect.stringContaining('refused the access token') } });
  });

  it('turns another HTTP failure into an internal error naming the status and channel', async () => {
    const transport = httpTransport(base, 't', fakeFetch(() => new Response('boom', { status: 502 })).impl);
    expect(await transport.call('sync:keys', null)).toEqual({ ok: false, error: { code: 'internal', message: 'The engine answered HTTP 502 to sync:keys.' } });
  });

  it('turns a network failure into endpoint-unreachable instead of throwing', async () => {
    const transport = httpTransport(base, 't', fakeFetch(() => Promise.reject(new TypeError('fetch failed'))).impl);
    expect(await transport.call('sync:overview', null)).toEqual({ ok: false, error: { code: 'endpoint-unreachable', message: expect.stringContaining('does not answer') } });
  });

  describe('events', () => {
    class FakeEventSource {
      static last: FakeEventSource | undefined;
      onmessage: ((message: MessageEvent<string>) => void) | null = null;
      closed = false;
      constructor(readonly url: URL) {
        FakeEventSource.last = this;
      }
      close(): void {
        this.closed = true;
      }
    }
    afterEach(() => vi.unstubAllGlobals());

    it('subscribes to api/events with the token in the query, parses events, drops malformed ones and closes on unsubscribe', () => {
      vi.stubGlobal('EventSource', FakeEventSource);
      const transport = httpTransport(base, 'a b&c', fakeFetch(() => json({})).impl);
      const received: EngineEvent[] = [];
      const unsubscribe = transport.subscribe((event) => received.push(event));
      const source = FakeEventSource.last as FakeEventSource;
      expect(source.url.href).toBe('http://127.0.0.1:8400/api/events?token=a%20b%26c');

      const event: EngineEvent = { type: 'activity', entry: { time: 't', level: 'info', event: 'e', folder: undefined, text: 'hello' } };
      source.onmessage?.(new MessageEvent('message', { data: 'not json' }));
      source.onmessage?.(new MessageEvent('message', { data: JSON.stringify(event) }));
      expect(received).toEqual([JSON.parse(JSON.stringify(event))]);

      unsubscribe();
      expect(source.closed).toBe(true);
    });
  });

  describe('prepareDrop (browser: the bytes go to the daemon)', () => {
    it('uploads each file to api/drop, in one drop, and answers the top-level entries', async () => {
      let dropCount = 0;
      const { impl, calls } = fakeFetch((url) => {
        const path = new URL(url).searchParams.get('path') as string;
        dropCount++;
        return json({ drop: 'd1', entry: `/var/drops/d1/${path.split('/')[0]}` });
      });
      const transport = httpTransport(base, 'tok', impl);
      const progress: number[] = [];
      const files = [
        { file: new File(['abc'], 'a.txt'), relativePath: 'album/a.txt' },
        { file: new File(['defgh'], 'b.txt'), relativePath: 'album/sub/b.txt' },
        { file: new File(['x'], 'c.txt'), relativePath: 'c.txt' },
      ];

      const answer = await transport.prepareDrop(files, (sent) => progress.push(sent));

      expect(answer).toEqual({ ok: true, value: ['/var/drops/d1/album', '/var/drops/d1/c.txt'] });
      expect(dropCount).toBe(3);
      const urls = calls.map((call) => new URL(call.url));
      expect(urls.map((url) => url.pathname)).toEqual(['/api/drop', '/api/drop', '/api/drop']);
      expect(urls.map((url) => url.searchParams.get('path'))).toEqual(['album/a.txt', 'album/sub/b.txt', 'c.txt']);
      // The first upload opens the drop; the others join it.
      expect(urls.map((url) => url.searchParams.get('drop'))).toEqual([null, 'd1', 'd1']);
      expect(new Headers(calls[0]?.init?.headers).get('authorization')).toBe('Bearer tok');
      expect(progress).toEqual([3, 8, 9]);
    });

    it('stops at the first refused file and says which one', async () => {
      const transport = httpTransport(base, 'tok', fakeFetch(() => json({ error: 'disk full' }, 507)).impl);
      const answer = await transport.prepareDrop([{ file: new File(['a'], 'a.txt'), relativePath: 'a.txt' }], () => undefined);
      expect(answer).toEqual({ ok: false, error: { code: 'usage', message: 'a.txt: disk full' } });
    });
  });
});

describe('electronTransport.prepareDrop (the desktop app knows the real paths)', () => {
  it('answers the top-level dropped items: a dropped folder once, by its own path', async () => {
    const paths: Record<string, string> = { 'a.jpg': '/home/me/Pictures/album/a.jpg', 'b.jpg': '/home/me/Pictures/album/sub/b.jpg', 'notes.txt': '/home/me/notes.txt' };
    const transport = electronTransport({ ...bridge(), pathForFile: (file) => paths[file.name] ?? '' });
    const answer = await transport.prepareDrop(
      [
        { file: new File(['1'], 'a.jpg'), relativePath: 'album/a.jpg' },
        { file: new File(['2'], 'b.jpg'), relativePath: 'album/sub/b.jpg' },
        { file: new File(['3'], 'notes.txt'), relativePath: 'notes.txt' },
      ],
      () => undefined,
    );
    expect(answer).toEqual({ ok: true, value: ['/home/me/Pictures/album', '/home/me/notes.txt'] });
  });

  it('refuses a file without a local path (dragged from another app)', async () => {
    const transport = electronTransport({ ...bridge(), pathForFile: () => '' });
    const answer = await transport.prepareDrop([{ file: new File(['1'], 'x.png'), relativePath: 'x.png' }], () => undefined);
    expect(answer).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('x.png has no local path') } });
  });
});
