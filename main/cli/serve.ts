/**
 * The headless daemon's HTTP bridge: the built renderer as static files, the contract's channels
 * as `POST /api/call/CHANNEL` (JSON in, Result out — the same handlers as Electron's IPC), engine
 * events as a server-sent-event stream, and `POST /api/drop` for files dropped on a browser
 * window (streamed to a staging folder, then backed up like local paths).
 *
 * It listens on loopback by default and every API request must carry the session token printed
 * at start (`Authorization: Bearer`, or `?token=` for the event stream, which browsers cannot
 * give headers), so other local users and web pages cannot read or drive it; the Host header
 * must name this server, which stops DNS-rebinding pages; no CORS headers are ever sent, so
 * other origins cannot read answers, and requests that change things must come from this origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { answerRequest, isChannel, type Channel, type ChannelHandler, type ChannelHandlers } from '../../app/contract.js';
import type { Daemon } from '../daemon/daemon.js';
import type { Logger } from '../log/logger.js';

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
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** A JSON request body larger than this is refused (the largest legitimate one is a list of paths). */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startServer(options: { daemon: Daemon; handlers: ChannelHandlers; host: string; port: number; logger: Logger; token?: string }): Promise<RunningServer> {
  const token = options.token ?? randomBytes(18).toString('base64url');
  const expected = Buffer.from(token);
  const streams = new Set<ServerResponse>();
  const { daemon, handlers } = options;
  let port = options.port;

  const authorized = (request: IncomingMessage, url: URL, allowQuery: boolean): boolean => {
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') === true ? header.slice(7) : allowQuery ? url.searchParams.get('token') : null;
    if (given === null || given === undefined) return false;
    const candidate = Buffer.from(given);
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  };

  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${options.host}:${port}`];
  const hostAllowed = (request: IncomingMessage): boolean => allowedHosts().includes((request.headers.host ?? '').toLowerCase());
  // Browsers send Origin on every cross-origin request and on same-origin POSTs: it must be ours.
  const originAllowed = (request: IncomingMessage): boolean => {
    const origin = request.headers.origin;
    return origin === undefined || allowedHosts().some((host) => origin.toLowerCase() === `http://${host}`);
  };

  const sendJson = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    response.end(JSON.stringify(body));
  };

  const readJson = async (request: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_JSON_BYTES) throw new BodyError(413, `request body larger than ${MAX_JSON_BYTES} bytes`);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new BodyError(400, 'request body is not JSON');
    }
  };

  const callChannel = async (response: ServerResponse, channel: Channel, payload: unknown): Promise<void> => {
    const result = await answerRequest(channel, payload, handlers[channel] as ChannelHandler<Channel>);
    sendJson(response, 200, result);
  };

  /** A browser drop: one file's bytes, stored under a drop folder at the path the browser gave. */
  const receiveDrop = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const relative = url.searchParams.get('path') ?? '';
    const segments = relative.split('/');
    if (relative === '' || relative.length > 4096 || segments.some((segment) => segment === '' || segment === '.' || segment === '..' || segment.includes('\\') || segment.includes('\0'))) {
      return sendJson(response, 400, { error: `invalid drop path ${JSON.stringify(relative)}: expected a relative path like "folder/file.txt"` });
    }
    const given = url.searchParams.get('drop');
    const dropFolder = given === null || given === '' ? await daemon.newDropFolder() : daemon.dropFolder(given);
    if (dropFolder === undefined) return sendJson(response, 400, { error: 'unknown drop id: start a new drop without ?drop=' });
    const path = join(dropFolder, ...segments);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await pipeline(request, createWriteStream(path, { mode: 0o600 }));
    // The entry to back up is the top-level item the user dropped (a file or a whole folder).
    sendJson(response, 200, { drop: basename(dropFolder), entry: join(dropFolder, segments[0] as string) });
  };

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (!hostAllowed(request)) return sendJson(response, 421, { error: 'unexpected Host header' });
      if (!originAllowed(request)) return sendJson(response, 403, { error: 'requests from other origins are refused' });
      if (url.pathname.startsWith('/api/')) {
        if (url.pathname === '/api/events' && request.method === 'GET') {
          if (!authorized(request, url, true)) return sendJson(response, 401, { error: 'missing or wrong token: use the URL cosync serve printed' });
          response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
          response.write(': connected\n\n');
          streams.add(response);
          const stop = daemon.subscribe((event) => response.write(`data: ${JSON.stringify(event)}\n\n`));
          request.on('close', () => {
            stop();
            streams.delete(response);
          });
          return;
        }
        if (request.method !== 'POST') return sendJson(response, 405, { error: 'the API takes POST (GET only for /api/events)' });
        if (!authorized(request, url, false)) return sendJson(response, 401, { error: 'missing or wrong token: send it as Authorization: Bearer TOKEN' });
        if (url.pathname === '/api/drop') return await receiveDrop(request, response, url);
        const channel = url.pathname.startsWith('/api/call/') ? decodeURIComponent(url.pathname.slice('/api/call/'.length)) : '';
        if (!isChannel(channel)) return sendJson(response, 404, { error: `no API ${url.pathname}` });
        if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return sendJson(response, 415, { error: 'send the request as application/json' });
        return await callChannel(response, channel, await readJson(request));
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return sendJson(response, 405, { error: 'only GET is served outside /api/' });
      // Static renderer files; anything outside its folder is refused.
      const relative = normalize(url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, ''));
      if (relative.startsWith('..')) return sendJson(response, 404, { error: 'not found' });
      try {
        const body = await readFile(join(RENDERER_DIR, relative));
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(relative)] ?? 'application/octet-stream',
          'content-security-policy': CONTENT_SECURITY_POLICY,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        });
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
      if (error instanceof BodyError) {
        if (!response.headersSent) sendJson(response, error.status, { error: error.message });
        return;
      }
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
