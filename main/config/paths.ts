/**
 * Where cosync keeps its files, per OS conventions — or all under one folder when the user (or a
 * test) passes `--config-dir` / COSYNC_CONFIG_DIR, so that runs can be isolated from each other.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The folders cosync writes to. None of them ever holds a secret in clear. */
export interface AppPaths {
  /** config.json: folders, targets, key names and fingerprints. */
  readonly configDir: string;
  /** journal.sqlite and other state that can be rebuilt from the bucket. */
  readonly stateDir: string;
  /** Rotated structured logs. */
  readonly logDir: string;
}

/** Resolves the app's folders from an explicit override, the environment, or OS defaults. */
export function resolveAppPaths(override: string | undefined, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): AppPaths {
  const explicit = override ?? (env.COSYNC_CONFIG_DIR !== undefined && env.COSYNC_CONFIG_DIR !== '' ? env.COSYNC_CONFIG_DIR : undefined);
  if (explicit !== undefined) {
    const root = resolve(explicit);
    return { configDir: root, stateDir: root, logDir: join(root, 'logs') };
  }
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  switch (platform) {
    case 'darwin':
      return {
        configDir: join(home, 'Library', 'Application Support', 'cosync'),
        stateDir: join(home, 'Library', 'Application Support', 'cosync'),
        logDir: join(home, 'Library', 'Logs', 'cosync'),
      };
    case 'win32': {
      const roaming = env.APPDATA ?? join(home, 'AppData', 'Roaming');
      const local = env.LOCALAPPDATA ?? join(home, 'AppData', 'Local');
      return { configDir: join(roaming, 'cosync'), stateDir: join(local, 'cosync'), logDir: join(local, 'cosync', 'logs') };
    }
    default: {
      const config = env.XDG_CONFIG_HOME || join(home, '.config');
      const state = env.XDG_STATE_HOME || join(home, '.local', 'state');
      return { configDir: join(config, 'cosync'), stateDir: join(state, 'cosync'), logDir: join(state, 'cosync', 'logs') };
    }
  }
}
