/**
 * Start at login. macOS and Windows have it built into Electron (login items); on Linux Electron
 * has nothing, and the freedesktop way is a `.desktop` file in ~/.config/autostart. Either way the
 * app starts with `--hidden`: in the tray, without a window.
 */
import { readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const HIDDEN_FLAG = '--hidden';

/** Where the autostart entry goes on Linux ($XDG_CONFIG_HOME/autostart/cosync.desktop). */
export function autostartFile(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(config, 'autostart', 'cosync.desktop');
}

/** The command that starts this app: the AppImage itself when run from one (its mount point changes every run). */
export function launchCommand(env: NodeJS.ProcessEnv = process.env, execPath = process.execPath): string {
  const binary = env.APPIMAGE !== undefined && env.APPIMAGE !== '' ? env.APPIMAGE : execPath;
  // Exec= quoting (freedesktop Desktop Entry spec): double quotes, with \\ " ` $ escaped.
  return `"${binary.replace(/[\\"`$]/g, (character) => `\\\\${character}`)}" ${HIDDEN_FLAG}`;
}

/** Whether the Linux autostart entry is there (and is ours). */
export async function linuxStartsAtLogin(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const text = await readFile(autostartFile(env), 'utf8').catch(() => undefined);
  return text !== undefined && /^X-cosync=true$/m.test(text) && !/^Hidden=true$/m.test(text);
}

/** Writes or removes the Linux autostart entry. */
export async function setLinuxStartAtLogin(wanted: boolean, env: NodeJS.ProcessEnv = process.env, execPath = process.execPath): Promise<void> {
  const file = autostartFile(env);
  if (!wanted) {
    await rm(file, { force: true });
    return;
  }
  await mkdir(join(file, '..'), { recursive: true });
  const entry = ['[Desktop Entry]', 'Type=Application', 'Name=cosync', 'Comment=Encrypted folder backup to Tencent COS and S3', `Exec=${launchCommand(env, execPath)}`, 'Terminal=false', 'X-GNOME-Autostart-enabled=true', 'X-cosync=true', ''];
  await writeFile(file, entry.join('\n'), { mode: 0o644 });
}
