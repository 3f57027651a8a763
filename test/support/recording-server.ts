/**
 * A local HTTP server that records every request (method, path, query, headers, body) and
 * answers like a minimal S3/COS, so tests can assert the exact headers cosync sends in each
 * dialect. Responses echo the SSE-C key MD5 in the request's own dialect; a test may script
 * its own answer to any request (an error, an object's bytes).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One recorded request. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly bodyBytes: number;
  readonly body: Buffer;
}

/** A test's own answer to a request, instead of the minimal S3 one. */
export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/** Extra response headers per request, chosen by the test. */
export type ResponseHeaders = (request: RecordedRequest) => Record<string, string>;

const OBJECT_BODY = Buffer.from('hello');

/** A test's answers: a response (possibly later, to hold a request in flight), or undefined for the usual one. */
export type ResponseScript = (request: RecordedRequest) => ScriptedResponse | undefined | Promise<ScriptedResponse | undefined>;

/**
 * The encryption headers a real server answers a request with, in the request's own dialect: the
 * SSE-C algorithm and key MD5, or the SSE-COS/SSE-KMS value (on writes), as S3 and COS echo them.
 */
export function encryptionEcho(headers: IncomingHttpHeaders): Record<string, string> {
  const echo: Record<string, string> = {};
  for (const prefix of ['x-amz', 'x-cos']) {
    const md5 = headers[`${prefix}-server-side-encryption-customer-key-md5`];
    if (typeof md5 === 'string') {
      echo[`${prefix}-server-side-encryption-customer-algorithm`] = 'AES256';
      echo[`${prefix}-server-side-encryption-customer-key-md5`] = md5;
    }
    const sse = headers[`${prefix}-server-side-encryption`];
    if (typeof sse === 'string') echo[`${prefix}-server-side-encryption`] = sse;
  }
  return echo;
}

/** Starts the server on an ephemeral loopback port. */
export async function startRecordingServer(
  extraHeaders: ResponseHeaders = () => ({}),
  script: ResponseScript = () => undefined,
): Promise<{ url: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    // The usual answer: a minimal S3.
    const answer = (request: RecordedRequest, url: URL) => {
      const echo: Record<string, string> = {};
      Object.assign(echo, encryptionEcho(incoming.headers));
      const headers = { ...echo, ...extraHeaders(request) };
      const xml = (body: string) => {
        outgoing.writeHead(200, { 'content-type': 'application/xml', ...headers });
        outgoing.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
      };
      if (request.method === 'POST' && url.searchParams.has('uploads')) {
        return xml('<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>');
      }
      if (request.method === 'POST' && url.searchParams.has('uploadId')) {
        return xml('<CompleteMultipartUploadResult><Location>l</Location><Bucket>b</Bucket><Key>k</Key><ETag>"abc-2"</ETag></CompleteMultipartUploadResult>');
      }
      if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
        return xml('<ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>');
      }
      if (request.method === 'PUT' && (incoming.headers['x-amz-copy-source'] !== undefined || incoming.headers['x-cos-copy-source'] !== undefined)) {
        return xml(`<CopyObjectResult><ETag>"copied"</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyObjectResult>`);
      }
      if (request.method === 'PUT') {
        outgoing.writeHead(200, { etag: `"etag-${url.searchParams.get('partNumber') ?? 'object'}"`, ...headers });
        return outgoing.end();
      }
      if (request.method === 'HEAD' || request.method === 'GET') {
        outgoing.writeHead(200, { 'content-length': String(OBJECT_BODY.length), etag: '"5d41402abc4b2a76b9719d911017c592"', 'last-modified': new Date().toUTCString(), ...headers });
        return outgoing.end(request.method === 'GET' ? OBJECT_BODY : undefined);
      }
      outgoing.writeHead(204, headers);
      outgoing.end();
    };
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'http://recording');
      const body = Buffer.concat(chunks);
      const request: RecordedRequest = { method: incoming.method ?? '', path: url.pathname, query: url.searchParams, headers: incoming.headers, bodyBytes: body.length, body };
      requests.push(request);
      void Promise.resolve(script(request)).then((scripted) => {
        // A client that gave up on a held request has closed its socket.
        if (outgoing.destroyed) return;
        if (scripted === undefined) return answer(request, url);
        outgoing.writeHead(scripted.status, scripted.headers ?? {});
        outgoing.end(scripted.body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
