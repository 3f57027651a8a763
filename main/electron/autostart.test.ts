/** The Linux autostart entry: written where the desktop looks, starts the app hidden, removed cleanly. */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { autostartFile, launchCommand, linuxStartsAtLogin, setLinuxStartAtLogin } from './autostart.js';

it('writes and removes ~/.config/autostart/cosync.desktop', async () => {
  const home = await mkdtemp(join(tmpdir(), 'cosync-autostart-'));
  const env = { HOME: home };
  expect(autostartFile(env)).toBe(join(home, '.config', 'autostart', 'cosync.desktop'));
  expect(await linuxStartsAtLogin(env)).toBe(false);
  await setLinuxStartAtLogin(true, env, '/opt/cosync/cosync');
  expect(await linuxStartsAtLogin(env)).toBe(true);
  const text = await readFile(autostartFile(env), 'utf8');
  expect(text).toMatch(/^\[Desktop Entry\]\nType=Application\nName=cosync\n/);
  expect(text).toContain('Exec="/opt/cosync/cosync" --hidden\n');
  expect((await stat(autostartFile(env))).mode & 0o777).toBe(0o644);
  await setLinuxStartAtLogin(false, env);
  expect(await linuxStartsAtLogin(env)).toBe(false);
  await setLinuxStartAtLogin(false, env); // removing twice is fine
});

it('follows XDG_CONFIG_HOME, starts the AppImage itself, and quotes the path', () => {
  expect(autostartFile({ HOME: '/home/me', XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/autostart/cosync.desktop');
  expect(launchCommand({ APPIMAGE: '/home/me/Apps/cosync.AppImage' }, '/tmp/.mount_x/cosync')).toBe('"/home/me/Apps/cosync.AppImage" --hidden');
  expect(launchCommand({}, '/opt/my "odd" $dir/cosync')).toBe('"/opt/my \\\\"odd\\\\" \\\\$dir/cosync" --hidden');
});
