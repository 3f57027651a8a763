/** The desktop shell with `electron` mocked (its runtime cannot be downloaded here). */
import { beforeEach, describe, expect, it, vi } from 'vitest';

type Listener = (...args: unknown[]) => unknown;

const mock = vi.hoisted(() => {
  const handlers = new Map<string, Listener>();
  const appListeners = new Map<string, Listener>();
  const windows: Array<{ options: unknown; webContents: { listeners: Map<string, Listener>; openHandler?: Listener } ; loaded?: string }> = [];
  const state = { permissionHandler: undefined as Listener | undefined, headersHandler: undefined as Listener | undefined, ready: undefined as (() => void) | undefined };
  class BrowserWindow {
    static getAllWindows = () => windows;
    webContents: { listeners: Map<string, Listener>; openHandler?: Listener; on: (name: string, fn: Listener) => void; setWindowOpenHandler: (fn: Listener) => void };
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
      windows.push(this as never);
    }
    once(): void {}
    loadFile(file: string): Promise<void> {
      this.loaded = file;
      return Promise.resolve();
    }
  }
  return {
    handlers,
    appListeners,
    windows,
    state,
    electron: {
      app: {
        requestSingleInstanceLock: () => true,
        quit: vi.fn(),
        on: (name: string, fn: Listener) => void appListeners.set(name, fn),
        whenReady: () => new Promise<void>((resolve) => (state.ready = resolve)),
      },
      BrowserWindow,
      ipcMain: { handle: (channel: string, fn: Listener) => void handlers.set(channel, fn) },
      shell: { openExternal: vi.fn() },
      session: {
        defaultSession: {
          setPermissionRequestHandler: (fn: Listener) => (state.permissionHandler = fn),
          webRequest: { onHeadersReceived: (fn: Listener) => (state.headersHandler = fn) },
        },
      },
    },
  };
});

vi.mock('electron', () => ({ ...mock.electron, default: mock.electron }));

const { hardenedWindowOptions, CONTENT_SECURITY_POLICY } = await import('./window-options.js');
const { handle, trustedFileSender } = await import('./ipc.js');

describe('window hardening', () => {
  it('isolates and sandboxes the renderer with no Node access', () => {
    expect(hardenedWindowOptions('/p/preload.cjs').webPreferences).toMatchObject({
      preload: '/p/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
  });

  it('has a strict CSP', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
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

  const invoke = (senderUrl: string, payload: unknown) => (registered.get('sync:version') as Listener)({ senderFrame: { url: senderUrl } }, payload);

  it("answers the app's own window with a Result value", async () => {
    expect(await invoke(`${ownPage}#/settings`, null)).toEqual({ ok: true, value: '1.2.3' });
  });

  it('refuses a foreign sender before doing any work', async () => {
    for (const url of ['https://evil.example/', 'file:///tmp/evil.html', '', 'not a url']) {
      expect(await invoke(url, null)).toMatchObject({ ok: false, error: { code: 'access-denied' } });
    }
    expect(work).not.toHaveBeenCalled();
  });

  it('refuses an invalid payload before doing any work', async () => {
    expect(await invoke(ownPage, { unexpected: true })).toMatchObject({ ok: false, error: { code: 'usage', message: /invalid request/ } });
    expect(work).not.toHaveBeenCalled();
  });

  it('turns thrown errors into error values', async () => {
    work.mockRejectedValueOnce(new Error('boom'));
    expect(await invoke(ownPage, null)).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
  });
});

describe('the shell at start-up', () => {
  it('denies permissions, new windows and navigation, and sets the CSP header', async () => {
    await import('./main.js');
    mock.state.ready?.();
    await vi.waitFor(() => expect(mock.windows).toHaveLength(1));
    const [window] = mock.windows;

    let granted: boolean | undefined;
    mock.state.permissionHandler?.({}, 'media', (allowed: boolean) => (granted = allowed));
    expect(granted).toBe(false);

    expect(window?.webContents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    const navigation = { preventDefault: vi.fn() };
    window?.webContents.listeners.get('will-navigate')?.(navigation);
    expect(navigation.preventDefault).toHaveBeenCalled();

    let headers: unknown;
    mock.state.headersHandler?.({ responseHeaders: {} }, (response: { responseHeaders: unknown }) => (headers = response.responseHeaders));
    expect(headers).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(mock.handlers.has('sync:version')).toBe(true);
    expect(window?.loaded).toMatch(/renderer[/\\]index\.html$/);
  });
});
