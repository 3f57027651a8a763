/**
 * A Secret Service of a test's own: a dbus-daemon session bus and a gnome-keyring-daemon with a
 * fresh HOME, unlocked with a known password — "another machine", or a keyring a test may stop
 * and restart without touching the shared one that scripts/services.sh started for every suite.
 *
 * Both daemons run in the foreground as children of the test process, so they are stopped by
 * their own pids. The bus knows no .service files (as in services.sh): with the keyring down, a
 * client fails at once instead of auto-starting a stray daemon.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A private session bus with gnome-keyring on it. */
export interface PrivateKeyring {
  /** The fresh HOME; the keyring's files are in `keyringDir`. */
  readonly home: string;
  readonly keyringDir: string;
  readonly busAddress: string;
  /** The pid of the running gnome-keyring-daemon. */
  readonly keyringPid: number | undefined;
  /**
   * Stops gnome-keyring (SIGTERM) and starts it again on the same bus and HOME, unlocking with
   * `password` (default: the one it was created with); waits until the keyring is unlocked
   * unless `expectUnlocked` is false (a wrong password leaves it locked).
   */
  restartKeyring(password?: string, expectUnlocked?: boolean): Promise<void>;
  /** Stops both daemons and removes every file. */
  stop(): Promise<void>;
}

/** Starts a bus and an unlocked keyring (the login keyring is created with `password` on first start). */
export async function startPrivateKeyring(password: string): Promise<PrivateKeyring> {
  // Unix socket paths are limited to 107 bytes: keep the bus socket in a short /tmp folder.
  const root = await mkdtemp('/tmp/cosync-kr-');
  const home = join(root, 'home');
  const runtime = join(root, 'run');
  await mkdir(home, { mode: 0o700 });
  await mkdir(runtime, { mode: 0o700 });
  const busAddress = `unix:path=${join(root, 'bus')}`;
  await writeFile(
    join(root, 'session.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>${busAddress}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`,
  );
  // Nothing of the user's own session: no inherited runtime dir (its keyring control socket), display or bus.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: runtime, DBUS_SESSION_BUS_ADDRESS: busAddress };
  const log: string[] = [];

  const bus = spawn('dbus-daemon', [`--config-file=${join(root, 'session.conf')}`, '--nofork', '--print-address=1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  bus.stderr.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  await new Promise<void>((resolveReady, reject) => {
    bus.once('error', reject);
    bus.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code}): ${log.join('')}`)));
    bus.stdout.once('data', () => resolveReady());
  });

  let keyring: ChildProcess | undefined;
  const busCall = (...args: string[]): Promise<string> =>
    run('dbus-send', [`--bus=${busAddress}`, '--print-reply=literal', ...args], { env, timeout: 5_000 }).then(({ stdout }) => stdout);

  const startKeyring = async (unlockWith: string, expectUnlocked: boolean): Promise<void> => {
    const child = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    // --unlock reads the login keyring's password from stdin, up to end of input.
    child.stdin?.end(unlockWith);
    keyring = child;
    await waitFor('gnome-keyring to own org.freedesktop.secrets', async () => {
      if (child.exitCode !== null) throw new Error(`gnome-keyring-daemon exited (${child.exitCode}): ${log.join('')}`);
      return (await busCall('--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets')).includes('true');
    });
    if (!expectUnlocked) return;
    await waitFor('the default keyring to be unlocked', async () => {
      const locked = await busCall(
        '--dest=org.freedesktop.secrets',
        '/org/freedesktop/secrets/aliases/default',
        'org.freedesktop.DBus.Properties.Get',
        'string:org.freedesktop.Secret.Collection',
        'string:Locked',
      );
      return /\bfalse\b/.test(locked);
    });
  };

  const stopKeyring = async (): Promise<void> => {
    const child = keyring;
    keyring = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!stopped) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  try {
    await startKeyring(password, true);
  } catch (error) {
    bus.kill('SIGTERM');
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  return {
    home,
    keyringDir: join(home, '.local', 'share', 'keyrings'),
    busAddress,
    get keyringPid() {
      return keyring?.pid;
    },
    async restartKeyring(unlockWith = password, expectUnlocked = true) {
      await stopKeyring();
      await startKeyring(unlockWith, expectUnlocked);
    },
    async stop() {
      await stopKeyring();
      if (bus.exitCode === null && bus.signalCode === null) {
        const exited = new Promise<void>((resolveExit) => bus.once('exit', () => resolveExit()));
        bus.kill('SIGTERM');
        await exited;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
      // A daemon that exited will not come back: fail now, with its log.
      if (error instanceof Error && / exited \(/.test(error.message)) throw error;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : ` (${(lastError as Error).message})`}`);
}
