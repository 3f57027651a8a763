/**
 * The headless daemon's HTTP side: the built renderer as static files, plus a small JSON API and
 * a server-sent-event stream of status batches for a browser.
 *
 * It listens on loopback by default and every API request must carry the session token printed
 * at start (`?token=` or `Authorization: Bearer`), so other local users and web pages cannot read
 * or drive it; the Host header must name this server, which stops DNS-rebinding pages.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log/logger.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import type { StatusTracker } from '../sync/status-tracker.js';

const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** The same policy as the Electron window, plus connections back to this server. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startServer(options: { engine: SyncEngine; status: StatusTracker; host: string; port: number; logger: Logger; token?: string }): Promise<RunningServer> {
  const token = options.token ?? randomBytes(18).toString('base64url');
  const expected = Buffer.from(token);
  const streams = new Set<ServerResponse>();
  let port = options.port;

  const authorized = (request: IncomingMessage, url: URL): boolean => {
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') === true ? header.slice(7) : url.searchParams.get('token');
    if (given === null || given === undefined) return false;
    const candidate = Buffer.from(given);
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  };

  const hostAllowed = (request: IncomingMessage): boolean => {
    const host = (request.headers.host ?? '').toLowerCase();
    return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${options.host}:${port}`].includes(host);
  };

  const sendJson = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(JSON.stringify(body));
  };

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (!hostAllowed(request)) return sendJson(response, 421, { error: 'unexpected Host header' });
      if (request.method !== 'GET') return sendJson(response, 405, { error: 'only GET is served' });
      if (url.pathname.startsWith('/api/')) {
        if (!authorized(request, url)) return sendJson(response, 401, { error: 'missing or wrong token: use the URL cosync serve printed' });
        if (url.pathname === '/api/folders') {
          return sendJson(
            response,
            200,
            options.engine.describe().map((folder) => ({ ...folder, counts: options.status.counts(folder.config.id) })),
          );
        }
        if (url.pathname === '/api/files') {
          const folderId = url.searchParams.get('folder') ?? '';
          return sendJson(response, 200, options.status.list(folderId));
        }
        if (url.pathname === '/api/events') {
          response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
          response.write(': connected\n\n');
          streams.add(response);
          const subscription = options.status.subscribe((batch) => response.write(`data: ${JSON.stringify(batch)}\n\n`));
          request.on('close', () => {
            subscription.dispose();
            streams.delete(response);
          });
          return;
        }
        return sendJson(response, 404, { error: `no API ${url.pathname}` });
      }
      // Static renderer files; anything outside its folder is refused.
      const relative = normalize(url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, ''));
      if (relative.startsWith('..')) return sendJson(response, 404, { error: 'not found' });
      try {
        const body = await readFile(join(RENDERER_DIR, relative));
        response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(relative)] ?? 'application/octet-stream', 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' });
        response.end(body);
      } catch {
        if (relative === 'index.html') {
          response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          response.end('cosync is running, but the user interface is not built. Run `npm run build`, or use the API under /api/ with the token.\n');
        } else {
          sendJson(response, 404, { error: 'not found' });
        }
      }
    })().catch((error: unknown) => {
      options.logger.log('error', 'serve-request-failed', { message: (error as Error).message });
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    close: async () => {
      for (const stream of streams) stream.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
