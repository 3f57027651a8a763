// What the benchmark scripts share: running a command, and the local services (started if they
// are not running, and then stopped again by `stop()`), with their coordinates from .services/env.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function sh(command, args, options = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

export function useServices(root) {
  let started = false;
  if (spawnSync('bash', [join(root, 'scripts/services.sh'), 'status'], { stdio: 'ignore' }).status !== 0) {
    console.log('bench: starting services');
    sh('bash', [join(root, 'scripts/services.sh'), 'up']);
    started = true;
  }
  const services = Object.fromEntries(
    readFileSync(join(root, '.services/env'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('export '))
      .map((line) => line.slice('export '.length).split(/=(.*)/s).slice(0, 2)),
  );
  return {
    services,
    stop: () => {
      if (started) sh('bash', [join(root, 'scripts/services.sh'), 'down']);
    },
  };
}

/** Installs Debian packages providing the peer tools (`/usr/bin/NAME`) when missing: as root, or says the command. */
export function ensurePeers(packages) {
  const missing = Object.entries(packages).filter(([binary]) => !existsSync(`/usr/bin/${binary}`)).map(([, name]) => name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`install the peers first: sudo apt-get install -y ${missing.join(' ')}`);
  sh('apt-get', ['update', '-qq']);
  sh('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
