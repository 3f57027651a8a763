/**
 * Hardened BrowserWindow settings and the Content-Security-Policy, as pure values so a test can
 * check them without Electron's runtime.
 */
import type { BrowserWindowConstructorOptions } from 'electron';

/** Strict CSP: only the app's own files; no inline script, no remote anything. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Options for the main window: isolated, sandboxed renderer with no Node access. */
export function hardenedWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1100,
    height: 750,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'cosync',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}
