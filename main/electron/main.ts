/**
 * The desktop shell: one hardened window over the renderer, IPC wired to the contract.
 * It stays thin — the engine is shared with the headless daemon and lives in main/.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, session, shell, Tray, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EVENT_CHANNEL, REQUEST_VALIDATORS, type Channel, type ChannelHandler } from '../../app/contract.js';
import { Session } from '../engine/session.js';
import { channelHandlers } from '../daemon/api-handlers.js';
import { Daemon } from '../daemon/daemon.js';
import { HIDDEN_FLAG, linuxStartsAtLogin, setLinuxStartAtLogin } from './autostart.js';
import { handle, trustedFileSender, type SenderCheck } from './ipc.js';
import { createShellText, type ShellText } from './shell-text.js';
import { NotificationPolicy, trayIconBitmap, trayMenu, trayStateOf, trayTooltip, type ShellNotification, type TrayState } from './tray-status.js';
import { CONTENT_SECURITY_POLICY, hardenedWindowOptions } from './window-options.js';

// dist/main/electron/main.js → dist/main/electron/preload.cjs and dist/renderer/index.html.
const preloadPath = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const rendererFile = fileURLToPath(new URL('../../renderer/index.html', import.meta.url));
const rendererUrl = pathToFileURL(rendererFile).href;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow(hardenedWindowOptions(preloadPath));
  // No new windows: links with target=_blank go to the system browser (https only), never into the app.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  // The window only ever shows the renderer; a link or script that tries to navigate it goes nowhere.
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.once('ready-to-show', () => window.show());
  void window.loadFile(rendererFile);
  return window;
}

function hardenSession(): void {
  // The app needs no camera, microphone, notifications-by-web-API, geolocation, …: refuse every
  // request, and answer every synchronous permission check with "no" as well.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  // A CSP header for anything loaded over a protocol with headers. Pages loaded from file:// get
  // no response headers, so renderer/index.html carries the same policy in a <meta> tag.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
}

/** Sends engine events to a window that asked for them, until it goes away. */
function subscribeWindow(event: IpcMainEvent, isTrusted: SenderCheck, daemon: Daemon): void {
  if (!isTrusted(event.senderFrame?.url ?? '')) return;
  const contents = event.sender;
  const stop = daemon.subscribe((engineEvent) => {
    if (!contents.isDestroyed()) contents.send(EVENT_CHANNEL, engineEvent);
  });
  // A reload subscribes again; the old subscription ends with the old page.
  contents.once('did-start-navigation', stop);
  contents.once('destroyed', stop);
}

function trayIcon(state: TrayState): Electron.NativeImage {
  const image = nativeImage.createFromBitmap(trayIconBitmap(state, 16), { width: 16, height: 16 });
  // A sharper one for HiDPI screens.
  image.addRepresentation({ scaleFactor: 2, width: 32, height: 32, buffer: trayIconBitmap(state, 32) });
  return image;
}

function showWindow(): void {
  const [window] = BrowserWindow.getAllWindows();
  if (window === undefined) {
    createWindow();
    return;
  }
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

/** The tray icon, its menu and desktop notifications, following the engine's events. */
function startTray(daemon: Daemon, text: ShellText): void {
  const tray = new Tray(trayIcon('idle'));
  const notifications = new NotificationPolicy(text);
  let shownState: TrayState | undefined;
  const notify = (notes: ShellNotification[]): void => {
    if (!Notification.isSupported()) return;
    for (const note of notes) new Notification({ title: note.title, body: note.body }).show();
  };
  const render = (): void => {
    const overview = daemon.overview();
    const state = trayStateOf(overview);
    if (state !== shownState) tray.setImage(trayIcon(state));
    shownState = state;
    tray.setToolTip(trayTooltip(overview, text));
    const actions: Record<string, () => void> = {
      open: showWindow,
      'toggle-pause': () => void daemon.setPaused(null, !overview.paused).then(render),
      quit: () => app.quit(),
    };
    tray.setContextMenu(Menu.buildFromTemplate(trayMenu(overview, text).map((item) => ({ label: item.label, enabled: item.enabled, click: actions[item.id] }))));
  };
  tray.on('click', showWindow);
  render();
  daemon.subscribe((event) => {
    if (event.type === 'overview') {
      notify(notifications.onOverview(event.overview));
      render();
    } else if (event.type === 'job') {
      notify(notifications.onJob(event.job));
    }
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window !== undefined) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });

  let daemon: Daemon | undefined;
  let stopped = false;
  let trayRunning = false;

  void app.whenReady().then(async () => {
    hardenSession();
    // The tray, menu and notifications speak the system's language (known once the app is ready).
    const shellText = createShellText(app.getLocale());
    const isTrusted = trustedFileSender(rendererUrl);
    // The same engine as `cosync serve`, in this process; config, journal and logs in the same
    // places. The window opens first: if the engine cannot start (a broken config.json), every
    // request answers with the reason instead of the app showing nothing.
    const processSession = new Session({ io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env } });
    const opening = Daemon.open(processSession, { kind: 'desktop', version: app.getVersion() });
    opening.catch(() => undefined);
    const handlers = opening.then((opened) => channelHandlers(opened, processSession));
    handlers.catch(() => undefined);
    for (const channel of Object.keys(REQUEST_VALIDATORS) as Channel[]) {
      const work: ChannelHandler<Channel> = async (request) => ((await handlers)[channel] as ChannelHandler<Channel>)(request);
      handle(ipcMain, channel, isTrusted, work);
    }
    ipcMain.on(EVENT_CHANNEL, (event) => void opening.then((opened) => subscribeWindow(event, isTrusted, opened), () => undefined));
    // The native folder picker (Electron only; in a browser the path is typed). Same sender check as the contract.
    ipcMain.handle('shell:pick-folder', async (event: IpcMainInvokeEvent): Promise<string | undefined> => {
      if (!isTrusted(event.senderFrame?.url ?? '')) return undefined;
      const window = BrowserWindow.fromWebContents(event.sender);
      const options = { title: shellText('dialog.pickFolder'), properties: ['openDirectory' as const, 'createDirectory' as const] };
      const picked = window === null ? await dialog.showOpenDialog(options) : await dialog.showOpenDialog(window, options);
      return picked.canceled ? undefined : picked.filePaths[0];
    });
    // Start at login: true/false sets it, null only asks. The window starts hidden then (the tray is there).
    ipcMain.handle('shell:start-at-login', async (event: IpcMainInvokeEvent, wanted: unknown): Promise<boolean | undefined> => {
      if (!isTrusted(event.senderFrame?.url ?? '')) return undefined;
      if (process.platform === 'linux') {
        if (typeof wanted === 'boolean') await setLinuxStartAtLogin(wanted);
        return linuxStartsAtLogin();
      }
      if (typeof wanted === 'boolean') app.setLoginItemSettings({ openAtLogin: wanted, args: [HIDDEN_FLAG] });
      return app.getLoginItemSettings({ args: [HIDDEN_FLAG] }).openAtLogin;
    });
    // Started at login: in the tray only, until the user opens the window.
    const startHidden = process.argv.includes(HIDDEN_FLAG);
    if (!startHidden) createWindow();
    // macOS: clicking the dock icon with no window open makes a new one.
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
    daemon = await opening.catch((error: unknown) => {
      processSession.logger.log('error', 'engine-start-failed', { message: (error as Error).message });
      return undefined;
    });
    if (daemon === undefined) {
      // No engine, no tray: the window is the only place that can say why.
      if (startHidden) createWindow();
      return;
    }
    trayRunning = true;
    startTray(daemon, shellText);
    await daemon.start();
  });

  // Graceful quit: files in flight finish (or are cut off cleanly after the drain time), the journal closes.
  app.on('before-quit', (event) => {
    if (stopped || daemon === undefined) return;
    event.preventDefault();
    const running = daemon;
    daemon = undefined;
    void running.stop().finally(() => {
      stopped = true;
      app.quit();
    });
  });

  // Syncing goes on with the window closed while the tray is there (quit from its menu); without a
  // tray (the engine did not start), closing the last window quits — except on macOS, where apps stay.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin' && !trayRunning) app.quit();
  });
}
