/** The desktop shell with `electron` mocked (its runtime cannot be downloaded here). */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Listener = (...args: unknown[]) => unknown;

interface FakeWindow {
  readonly options: unknown;
  readonly webContents: { readonly listeners: Map<string, Listener>; openHandler?: Listener };
  loaded?: string;
}

const mock = vi.hoisted(() => {
  const handlers = new Map<string, Listener>();
  const appListeners = new Map<string, Listener>();
  const windows: FakeWindow[] = [];
  const state = {
    singleInstance: true,
    permissionHandler: undefined as Listener | undefined,
    permissionCheckHandler: undefined as Listener | undefined,
    headersHandler: undefined as Listener | undefined,
    ready: undefined as (() => void) | undefined,
  };
  class BrowserWindow {
    static getAllWindows = () => windows;
    webContents: FakeWindow['webContents'] & { on: (name: string, fn: Listener) => void; setWindowOpenHandler: (fn: Listener) => void };
    loaded?: string;
    constructor(readonly options: unknown) {
      const listeners = new Map<string, Listener>();
      this.webContents = {
        listeners,
        on: (name, fn) => void listeners.set(name, fn),
        setWindowOpenHandler: (fn) => {
          this.webContents.openHandler = fn;
        },
      };
      windows.push(this);
    }
    once(): void {}
    loadFile(file: string): Promise<void> {
      this.loaded = file;
      return Promise.resolve();
    }
  }
  const app = {
    requestSingleInstanceLock: () => state.singleInstance,
    quit: vi.fn(),
    getVersion: () => '0.1.0-test',
    on: (name: string, fn: Listener) => void appListeners.set(name, fn),
    whenReady: () => new Promise<void>((resolve) => (state.ready = resolve)),
  };
  return {
    handlers,
    appListeners,
    windows,
    state,
    /** Resolves app.whenReady(), as Electron does once it has started. */
    becomeReady: () => state.ready?.(),
    electron: {
      app,
      BrowserWindow,
      ipcMain: { handle: (channel: string, fn: Listener) => void handlers.set(channel, fn) },
      shell: { openExternal: vi.fn() },
      session: {
        defaultSession: {
          setPermissionRequestHandler: (fn: Listener) => (state.permissionHandler = fn),
          setPermissionCheckHandler: (fn: Listener) => (state.permissionCheckHandler = fn),
          webRequest: { onHeadersReceived: (fn: Listener) => (state.headersHandler = fn) },
        },
      },
    },
  };
});

vi.mock('electron', () => ({ ...mock.electron, default: mock.electron }));

const { hardenedWindowOptions, CONTENT_SECURITY_POLICY } = await import('./window-options.js');
const { handle, trustedFileSender } = await import('./ipc.js');

/** Imports main.ts afresh (it starts the shell as a side effect) and lets the app become ready. */
async function startShell(): Promise<void> {
  vi.resetModules();
  mock.handlers.clear();
  mock.appListeners.clear();
  mock.windows.length = 0;
  mock.electron.app.quit.mockClear();
  mock.state.ready = undefined;
  await import('./main.js');
  mock.becomeReady();
}

describe('window hardening', () => {
  it('isolates and sandboxes the renderer with no Node access', () => {
    expect(hardenedWindowOptions('/p/preload.cjs').webPreferences).toMatchObject({
      preload: '/p/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
  });

  it('has a strict CSP', () => {
    const directives = CONTENT_SECURITY_POLICY.split('; ');
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ]) {
      expect(directives).toContain(directive);
    }
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-|\*|http:|https:/);
  });

  it('gives the renderer page the same CSP in its meta tag (file:// pages get no headers)', async () => {
    const html = await readFile(new URL('../../renderer/index.html', import.meta.url), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    // frame-ancestors is ignored (with a console warning) in a meta tag, so only the header has it.
    const headerOnly = new Set(['frame-ancestors']);
    const expected = CONTENT_SECURITY_POLICY.split('; ').filter((directive) => !headerOnly.has(directive.split(' ')[0] ?? ''));
    expect(meta?.split('; ')).toEqual(expected);
  });
});

describe('IPC handlers', () => {
  const ownPage = 'file:///opt/cosync/resources/app.asar/dist/renderer/index.html';
  let registered: Map<string, Listener>;
  const work = vi.fn(async () => '1.2.3');

  beforeEach(() => {
    registered = new Map();
    work.mockClear();
    handle({ handle: (channel: string, fn: Listener) => void registered.set(channel, fn) } as never, 'sync:version', trustedFileSender(ownPage), work);
  });

  const invoke = (senderUrl: string | null, payload: unknown) =>
    (registered.get('sync:version') as Listener)({ senderFrame: senderUrl === null ? null : { url: senderUrl } }, payload);

  it("answers the app's own window with a Result value", async () => {
    expect(await invoke(ownPage, null)).toEqual({ ok: true, value: '1.2.3' });
    expect(await invoke(`${ownPage}#/settings`, undefined)).toEqual({ ok: true, value: '1.2.3' });
  });

  it('refuses a foreign sender before doing any work', async () => {
    for (const url of [
      'https://evil.example/',
      'https://evil.example/opt/cosync/resources/app.asar/dist/renderer/index.html',
      'file:///tmp/evil.html',
      'file://evil.example/opt/cosync/resources/app.asar/dist/renderer/index.html',
      'about:blank',
      '',
      'not a url',
      null,
    ]) {
      expect(await invoke(url, null)).toMatchObject({ ok: false, error: { code: 'access-denied' } });
    }
    expect(work).not.toHaveBeenCalled();
  });

  it('refuses an invalid payload before doing any work', async () => {
    for (const payload of [{ unexpected: true }, 'sync:version', 0, []]) {
      expect(await invoke(ownPage, payload)).toMatchObject({ ok: false, error: { code: 'usage', message: /invalid request/ } });
    }
    expect(work).not.toHaveBeenCalled();
  });

  it('turns thrown errors into error values', async () => {
    work.mockRejectedValueOnce(new Error('boom'));
    expect(await invoke(ownPage, null)).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
  });

  it('only trusts a file:// renderer', () => {
    expect(() => trustedFileSender('https://cosync.example/index.html')).toThrow(/file:\/\//);
  });
});

describe('the shell at start-up', () => {
  afterEach(() => {
    mock.state.singleInstance = true;
  });

  it('denies permissions, new windows and navigation, sets the CSP header and serves sync:version', async () => {
    await startShell();
    await vi.waitFor(() => expect(mock.windows).toHaveLength(1));
    const [window] = mock.windows;
    expect(window?.options).toMatchObject({ webPreferences: { preload: expect.stringMatching(/electron[/\\]preload\.cjs$/), sandbox: true } });
    expect(window?.loaded).toMatch(/renderer[/\\]index\.html$/);

    let granted: boolean | undefined;
    mock.state.permissionHandler?.({}, 'media', (allowed: boolean) => (granted = allowed));
    expect(granted).toBe(false);
    expect(mock.state.permissionCheckHandler?.({}, 'clipboard-read', 'file:///', {})).toBe(false);

    expect(window?.webContents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(window?.webContents.openHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(mock.electron.shell.openExternal).toHaveBeenCalledTimes(1);
    const navigation = { preventDefault: vi.fn() };
    window?.webContents.listeners.get('will-navigate')?.(navigation);
    expect(navigation.preventDefault).toHaveBeenCalled();

    let headers: unknown;
    mock.state.headersHandler?.({ responseHeaders: {} }, (response: { responseHeaders: unknown }) => (headers = response.responseHeaders));
    expect(headers).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });

    // The registered handler trusts the window's own page, and nothing else.
    const versionHandler = mock.handlers.get('sync:version') as Listener;
    const ownUrl = new URL(`file://${String(window?.loaded).replaceAll('\\', '/')}`).href;
    expect(await versionHandler({ senderFrame: { url: ownUrl } }, null)).toEqual({ ok: true, value: '0.1.0-test' });
    expect(await versionHandler({ senderFrame: { url: 'https://evil.example/' } }, null)).toMatchObject({ ok: false, error: { code: 'access-denied' } });
  });

  it('quits when the last window closes, except on macOS', async () => {
    await startShell();
    const allClosed = mock.appListeners.get('window-all-closed') as Listener;
    const platform = Object.getOwnPropertyDescriptor(process, 'platform') as PropertyDescriptor;
    try {
      Object.defineProperty(process, 'platform', { value: 'darwin' });
      allClosed();
      expect(mock.electron.app.quit).not.toHaveBeenCalled();
      Object.defineProperty(process, 'platform', { value: 'linux' });
      allClosed();
      expect(mock.electron.app.quit).toHaveBeenCalledTimes(1);
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
  });

  it('a second instance quits at once and opens no window', async () => {
    mock.state.singleInstance = false;
    await startShell();
    expect(mock.electron.app.quit).toHaveBeenCalledTimes(1);
    expect(mock.state.ready).toBeUndefined();
    expect(mock.windows).toHaveLength(0);
  });
});
