/** The desktop shell with `electron` mocked (its runtime cannot be downloaded here). */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    static fromWebContents = () => null;
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
  const trays: Array<{ image: unknown; tooltip: string; menu: Array<{ label: string; enabled: boolean; click?: () => void }>; listeners: Map<string, Listener> }> = [];
  class Tray {
    image: unknown;
    tooltip = '';
    menu: Array<{ label: string; enabled: boolean; click?: () => void }> = [];
    listeners = new Map<string, Listener>();
    constructor(image: unknown) {
      this.image = image;
      trays.push(this);
    }
    setImage(image: unknown): void {
      this.image = image;
    }
    setToolTip(text: string): void {
      this.tooltip = text;
    }
    setContextMenu(menu: Array<{ label: string; enabled: boolean; click?: () => void }>): void {
      this.menu = menu;
    }
    on(name: string, fn: Listener): void {
      this.listeners.set(name, fn);
    }
  }
  const notifications: Array<{ title: string; body: string }> = [];
  class Notification {
    static isSupported = () => true;
    constructor(readonly options: { title: string; body: string }) {}
    show(): void {
      notifications.push(this.options);
    }
  }
  const app = {
    requestSingleInstanceLock: () => state.singleInstance,
    quit: vi.fn(),
    getVersion: () => '0.1.0-test',
    getLocale: () => 'en-US',
    on: (name: string, fn: Listener) => void appListeners.set(name, fn),
    getPath: () => '/nonexistent',
    loginItem: { openAtLogin: false },
    setLoginItemSettings(settings: { openAtLogin: boolean }) {
      this.loginItem = { openAtLogin: settings.openAtLogin };
    },
    getLoginItemSettings() {
      return this.loginItem;
    },
    whenReady: () => new Promise<void>((resolve) => (state.ready = resolve)),
  };
  return {
    handlers,
    appListeners,
    trays,
    notifications,
    windows,
    state,
    /** Resolves app.whenReady(), as Electron does once it has started. */
    becomeReady: () => state.ready?.(),
    electron: {
      app,
      BrowserWindow,
      Tray,
      Notification,
      Menu: { buildFromTemplate: (template: unknown) => template },
      nativeImage: { createFromBitmap: (buffer: Buffer, size: { width: number }) => ({ buffer, width: size.width, addRepresentation: () => undefined }) },
      dialog: { showOpenDialog: vi.fn(async () => ({ canceled: false, filePaths: ['/home/me/Documents'] })) },
      ipcMain: { handle: (channel: string, fn: Listener) => void handlers.set(channel, fn), on: (channel: string, fn: Listener) => void handlers.set(`on:${channel}`, fn) },
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

/**
 * Waits until `check` passes. vi.waitFor gives up after 1 s by default, and starting the real
 * engine behind the window takes longer than that on a loaded 2-core CI box; the test's own
 * timeout is the bound that matters, this one only names the check that never passed.
 */
const eventually = <T>(check: () => T | Promise<T>): Promise<T> => vi.waitFor(check, { timeout: 30_000, interval: 20 });

const { hardenedWindowOptions, CONTENT_SECURITY_POLICY } = await import('./window-options.js');
const { handle, trustedFileSender } = await import('./ipc.js');

/** Imports main.ts afresh (it starts the shell as a side effect) and lets the app become ready. */
async function startShell(options: { brokenConfig?: boolean } = {}): Promise<void> {
  // The engine keeps its config, journal and logs here instead of the user's folders.
  process.env.COSYNC_CONFIG_DIR = await mkdtemp(join(tmpdir(), 'cosync-shell-'));
  // Start at login writes ~/.config/autostart on Linux: never the real one.
  process.env.XDG_CONFIG_HOME = process.env.COSYNC_CONFIG_DIR;
  if (options.brokenConfig === true) await writeFile(join(process.env.COSYNC_CONFIG_DIR, 'config.json'), '{ not json');
  vi.resetModules();
  mock.handlers.clear();
  mock.appListeners.clear();
  mock.windows.length = 0;
  mock.trays.length = 0;
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
    await eventually(() => expect(mock.windows).toHaveLength(1));
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

    // Every contract channel has a handler; each trusts the window's own page, and nothing else.
    const { REQUEST_VALIDATORS } = await import('../../app/contract.js');
    for (const channel of Object.keys(REQUEST_VALIDATORS)) expect(mock.handlers.has(channel), channel).toBe(true);
    const versionHandler = mock.handlers.get('sync:version') as Listener;
    const ownUrl = new URL(`file://${String(window?.loaded).replaceAll('\\', '/')}`).href;
    expect(await versionHandler({ senderFrame: { url: ownUrl } }, null)).toEqual({ ok: true, value: '0.1.0-test' });
    expect(await versionHandler({ senderFrame: { url: 'https://evil.example/' } }, null)).toMatchObject({ ok: false, error: { code: 'access-denied' } });
    // The engine behind them is the real one (no folders configured in this test).
    const overview = (await (mock.handlers.get('sync:overview') as Listener)({ senderFrame: { url: ownUrl } }, null)) as { ok: boolean; value: { folders: unknown[] } };
    expect(overview).toMatchObject({ ok: true, value: { folders: [], paused: false, version: '0.1.0-test' } });
    expect(await (mock.handlers.get('sync:files') as Listener)({ senderFrame: { url: ownUrl } }, { folderId: 42 })).toMatchObject({ ok: false, error: { code: 'usage' } });

    // Events go only to the app's own page, and stop when it goes away.
    const sent: unknown[] = [];
    const contentsListeners = new Map<string, Listener>();
    const sender = { isDestroyed: () => false, send: (_channel: string, event: unknown) => sent.push(event), once: (name: string, fn: Listener) => void contentsListeners.set(name, fn) };
    const subscribe = mock.handlers.get('on:sync:event') as Listener;
    subscribe({ senderFrame: { url: 'https://evil.example/' }, sender });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(contentsListeners.size).toBe(0);
    subscribe({ senderFrame: { url: ownUrl }, sender });
    await eventually(() => expect(contentsListeners.has('destroyed')).toBe(true));

    // The tray shows the engine's state, with a menu; the folder picker answers the window only.
    await eventually(() => expect(mock.trays).toHaveLength(1));
    const [tray] = mock.trays;
    expect(tray?.tooltip).toBe('cosync — no sync folders yet');
    expect(tray?.menu.map((item) => item.label)).toEqual(['no sync folders yet', 'Open cosync', 'Pause syncing', 'Quit cosync']);
    const pick = mock.handlers.get('shell:pick-folder') as Listener;
    expect(await pick({ senderFrame: { url: ownUrl }, sender: {} })).toBe('/home/me/Documents');
    expect(await pick({ senderFrame: { url: 'https://evil.example/' }, sender: {} })).toBeUndefined();
    expect(mock.electron.dialog.showOpenDialog).toHaveBeenCalledTimes(1);
    const startAtLogin = mock.handlers.get('shell:start-at-login') as Listener;
    expect(await startAtLogin({ senderFrame: { url: ownUrl } }, null)).toBe(false);
    expect(await startAtLogin({ senderFrame: { url: ownUrl } }, true)).toBe(true);
    expect(await startAtLogin({ senderFrame: { url: 'https://evil.example/' } }, false)).toBeUndefined();
    expect(await startAtLogin({ senderFrame: { url: ownUrl } }, 'no')).toBe(true);
    // "Pause syncing" in the tray pauses the engine, and the menu then offers to resume.
    tray?.menu.find((item) => item.label === 'Pause syncing')?.click?.();
    await eventually(() => expect(tray?.menu.map((item) => item.label)).toContain('Resume syncing'));
    expect(tray?.tooltip).toBe('cosync — no sync folders yet');

    // Quitting drains the engine first, then quits for real.
    const beforeQuit = mock.appListeners.get('before-quit') as Listener;
    const quitEvent = { preventDefault: vi.fn() };
    beforeQuit(quitEvent);
    expect(quitEvent.preventDefault).toHaveBeenCalled();
    await eventually(() => expect(mock.electron.app.quit).toHaveBeenCalledTimes(1));
    const secondQuit = { preventDefault: vi.fn() };
    beforeQuit(secondQuit);
    expect(secondQuit.preventDefault).not.toHaveBeenCalled();
  });

  it('keeps syncing in the tray when the window closes; without an engine, closing quits (except on macOS)', async () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform') as PropertyDescriptor;
    try {
      await startShell();
      await eventually(() => expect(mock.trays).toHaveLength(1));
      Object.defineProperty(process, 'platform', { value: 'linux' });
      (mock.appListeners.get('window-all-closed') as Listener)();
      expect(mock.electron.app.quit).not.toHaveBeenCalled();

      // A broken config.json: no engine, no tray; the window says why, and closing it quits.
      await startShell({ brokenConfig: true });
      await eventually(() => expect(mock.windows).toHaveLength(1));
      const overview = (await eventually(async () => (mock.handlers.get('sync:overview') as Listener)({ senderFrame: { url: new URL(`file://${String(mock.windows[0]?.loaded)}`).href } }, null))) as {
        ok: boolean;
        error: { code: string; message: string };
      };
      expect(overview).toMatchObject({ ok: false, error: { code: 'config-invalid', message: /config\.json is not valid JSON/ } });
      expect(mock.trays).toHaveLength(0);
      const allClosed = mock.appListeners.get('window-all-closed') as Listener;
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

  it('started at login (--hidden), it opens no window until the tray asks for one', async () => {
    process.argv.push('--hidden');
    try {
      await startShell();
      await eventually(() => expect(mock.trays).toHaveLength(1));
      expect(mock.windows).toHaveLength(0);
      mock.trays[0]?.menu.find((item) => item.label === 'Open cosync')?.click?.();
      expect(mock.windows).toHaveLength(1);
    } finally {
      process.argv.pop();
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
