/**
 * A real forward proxy on loopback for tests: Debian's tinyproxy, started on a free port with
 * its own config and log, so a test can count what went through it. It forwards plain HTTP
 * requests (adding `Via: 1.1 tinyproxy`) and tunnels HTTPS with CONNECT; with `credentials`
 * it demands Basic proxy authentication (407 for HTTP; tinyproxy answers CONNECT with 401).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './wait.js';

/** A running tinyproxy. */
export interface ForwardProxy {
  /** `http://127.0.0.1:PORT`, without credentials. */
  readonly url: string;
  readonly port: number;
  /** The request lines it logged: `GET http://127.0.0.1:7480/bucket?… HTTP/1.1`, `CONNECT 127.0.0.1:7443 HTTP/1.1`. */
  requestLines(): Promise<string[]>;
  close(): Promise<void>;
}

/** A port nothing listens on right now (the proxy binds it next; a dead-proxy test leaves it unbound). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Starts tinyproxy; `credentials` makes it demand that user name and password. */
export async function startForwardProxy(options: { credentials?: { user: string; password: string } } = {}): Promise<ForwardProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'cosync-tinyproxy-'));
  const port = await freePort();
  const log = join(dir, 'tinyproxy.log');
  const config = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 120',
    `LogFile "${log}"`,
    // Connect level logs each request line and each CONNECT, nothing more.
    'LogLevel Connect',
    'MaxClients 64',
    'Allow 127.0.0.1',
    ...(options.credentials === undefined ? [] : [`BasicAuth ${options.credentials.user} ${options.credentials.password}`]),
  ];
  await writeFile(join(dir, 'tinyproxy.conf'), `${config.join('\n')}\n`);
  // -d: stay in the foreground, so the child is the proxy and killing it stops it.
  const child = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.on('close', () => (exited = true));
  await until(async () => {
    if (exited) throw new Error(`tinyproxy exited before it listened on ${port}: ${stderr}`);
    return accepts(port);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async requestLines() {
      const text = await readFile(log, 'utf8');
      return [...text.matchAll(/Request \(file descriptor \d+\): (.*)$/gm)].map((match) => match[1] ?? '');
    },
    async close() {
      if (!exited) child.kill('SIGTERM');
      await closed;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
