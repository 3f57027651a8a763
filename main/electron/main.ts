/**
 * The desktop shell: one hardened window over the renderer, IPC wired to the contract.
 * It stays thin — the engine is shared with the headless daemon and lives in main/.
 */
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { handle, trustedFileSender } from './ipc.js';
import { CONTENT_SECURITY_POLICY, hardenedWindowOptions } from './window-options.js';

const preloadPath = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const rendererFile = fileURLToPath(new URL('../../renderer/index.html', import.meta.url));
const rendererUrl = pathToFileURL(rendererFile).href;

function packageVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return packageJson.version;
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow(hardenedWindowOptions(preloadPath));
  // Links the user clicks open in the system browser; the app window never navigates away or spawns windows.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.once('ready-to-show', () => window.show());
  void window.loadFile(rendererFile);
  return window;
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
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    });
    handle(ipcMain, 'sync:version', trustedFileSender(rendererUrl), async () => packageVersion());
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
