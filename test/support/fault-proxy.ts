/**
 * A fault-injecting HTTP proxy for tests: sits between cosync and RGW on loopback and, from a
 * seeded random sequence, answers 503 SlowDown or 500 InternalError, resets connections, or
 * delays requests before forwarding them. Used to prove that transfers still complete
 * byte-exact under faults. Its hooks let a test act at a chosen request (hold it, change files,
 * kill the client), so what happens "while a request is in flight" is an observed event, not a
 * guessed moment.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './random.js';

/** How often each fault happens (probabilities per request). */
export interface FaultRates {
  readonly slowDown: number;
  readonly internalError: number;
  readonly reset: number;
  readonly delay: number;
}

/** No injected faults: a plain pass-through (with hooks). */
export const NO_FAULTS: FaultRates = { slowDown: 0, internalError: 0, reset: 0, delay: 0 };

/** A request as the proxy saw it arrive (its headers; the body has not been read yet). */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Called with every request that is forwarded; the request waits for the returned promise. A
 * rejected promise drops the connection instead: before forwarding, the server never sees the
 * request; before answering, the server did the work but the client never hears of it.
 */
export interface ProxyHooks {
  beforeForward?(request: ProxiedRequest): Promise<void> | void;
  beforeAnswer?(request: ProxiedRequest, statusCode: number): Promise<void> | void;
}

/** What the proxy did. */
export interface FaultCounts {
  requests: number;
  slowDown: number;
  internalError: number;
  reset: number;
  delayed: number;
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/** Starts the proxy in front of `upstream` (http://host:port). */
export async function startFaultProxy(upstream: string, rates: FaultRates, seed: number, hooks: ProxyHooks = {}): Promise<{ url: string; counts: FaultCounts; close(): Promise<void> }> {
  const random = seededRandom(seed);
  const target = new URL(upstream);
  const counts: FaultCounts = { requests: 0, slowDown: 0, internalError: 0, reset: 0, delayed: 0 };

  const drain = (incoming: IncomingMessage): Promise<void> =>
    new Promise((resolve) => {
      incoming.on('data', () => undefined);
      incoming.on('end', resolve);
      incoming.on('error', () => resolve());
    });

  const forwardNow = (incoming: IncomingMessage, outgoing: ServerResponse, seen: ProxiedRequest): void => {
    const upstreamRequest = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (upstreamResponse) => {
        const statusCode = upstreamResponse.statusCode ?? 502;
        void Promise.resolve(hooks.beforeAnswer?.(seen, statusCode)).then(
          () => {
            outgoing.writeHead(statusCode, upstreamResponse.headers);
            upstreamResponse.pipe(outgoing);
          },
          () => {
            upstreamResponse.resume();
            outgoing.destroy();
          },
        );
      },
    );
    upstreamRequest.on('error', () => outgoing.destroy());
    incoming.pipe(upstreamRequest);
  };

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const seen: ProxiedRequest = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers };
    if (hooks.beforeForward === undefined) return forwardNow(incoming, outgoing, seen);
    // Not read while the hook decides: a held request's body stays with the client.
    incoming.pause();
    void Promise.resolve(hooks.beforeForward(seen)).then(
      () => forwardNow(incoming, outgoing, seen),
      () => outgoing.destroy(),
    );
  };

  const server: Server = createServer((incoming, outgoing) => {
    counts.requests++;
    const roll = random();
    let threshold = rates.slowDown;
    if (roll < threshold) {
      counts.slowDown++;
      void drain(incoming).then(() => {
        outgoing.writeHead(503, { 'content-type': 'application/xml' });
        outgoing.end(errorXml('SlowDown', 'Please reduce your request rate.'));
      });
      return;
    }
    threshold += rates.internalError;
    if (roll < threshold) {
      counts.internalError++;
      void drain(incoming).then(() => {
        outgoing.writeHead(500, { 'content-type': 'application/xml' });
        outgoing.end(errorXml('InternalError', 'injected by the test proxy'));
      });
      return;
    }
    threshold += rates.reset;
    if (roll < threshold) {
      counts.reset++;
      incoming.socket.destroy();
      return;
    }
    threshold += rates.delay;
    if (roll < threshold) {
      counts.delayed++;
      incoming.pause();
      setTimeout(() => {
        incoming.resume();
        forward(incoming, outgoing);
      }, 100 + Math.floor(random() * 400));
      return;
    }
    forward(incoming, outgoing);
  });
  // Resets come only from the seeded faults: with Node's default keep-alive timeout (5 s), a
  // client reusing an idle socket just as the proxy closes it would get unplanned ones.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
