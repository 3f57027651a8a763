/**
 * The desktop shell: one hardened window over the renderer, IPC wired to the contract.
 * It stays thin — the engine is shared with the headless daemon and lives in main/.
 */
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { handle, trustedFileSender } from './ipc.js';
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

  void app.whenReady().then(() => {
    hardenSession();
    // app.getVersion() is package.json's version (Electron reads it at start-up).
    handle(ipcMain, 'sync:version', trustedFileSender(rendererUrl), async () => app.getVersion());
    createWindow();
    // macOS: clicking the dock icon with no window open makes a new one.
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  // macOS apps stay running with no windows; elsewhere closing the last window quits.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
