/**
 * Which HTTP proxy a request to the store goes through, decided in one place for the SDK's
 * handler and the lean transport alike (and so for the CLI, the daemon and `serve`).
 *
 * The environment is read as curl reads it (https://curl.se/libcurl/c/CURLOPT_NOPROXY.html,
 * https://curl.se/docs/manpage.html#ENVIRONMENT): `https_proxy`/`HTTPS_PROXY` for https URLs,
 * `http_proxy`/`HTTP_PROXY` for http URLs (the lower-case name wins), `no_proxy`/`NO_PROXY`
 * for the hosts that bypass it. HTTPS goes through the proxy with CONNECT; credentials in the
 * proxy URL (`http://user:password@proxy:3128`, percent-encoded) are sent as Basic
 * Proxy-Authorization and never shown: messages name the proxy without them.
 */
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { CosyncError } from '../../app/result.js';

/** The environment variables proxies are read from. */
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

/** The proxy chosen for a URL. */
export interface ProxyChoice {
  readonly url: URL;
  /** The variable it came from, e.g. `HTTPS_PROXY`, for messages. */
  readonly variable: string;
  /** The proxy's address for messages and logs: scheme, host and port, never the credentials. */
  readonly display: string;
}

/** The first variable set (non-empty), lower-case name first as curl reads them. */
function firstSet(env: ProxyEnvironment, names: ReadonlyArray<string>): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** A proxy URL without its credentials. */
export function displayProxy(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** The port a URL addresses, its scheme's default when it names none. */
function effectivePort(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** A host name as NO_PROXY compares it: lower case, without IPv6 brackets or a trailing dot. */
function bareHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** One NO_PROXY entry split into host (or CIDR) and the port it is limited to, if any. */
function parseNoProxyEntry(entry: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1] ?? '', port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  // A bare IPv6 address (curl wants them without brackets) has several colons and no port.
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort !== null) return { host: withPort[1] ?? '', port: Number(withPort[2]) };
  return { host: entry, port: undefined };
}

/** Whether an IP address lies in a CIDR block such as 10.0.0.0/8 or fd00::/8. */
function inCidr(address: string, cidr: string): boolean {
  const [network = '', bitsText = ''] = cidr.split('/');
  const family = isIP(network);
  const bits = Number(bitsText);
  if (family === 0 || isIP(address) !== family || !Number.isInteger(bits)) return false;
  const block = new BlockList();
  try {
    block.addSubnet(network, bits, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
  return block.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether NO_PROXY exempts a host and port, as curl matches it: entries separated by commas or
 * spaces, `*` alone exempts every host; a name matches itself and every host under it (a
 * leading `.` or `*.` is ignored: `example.com` and `.example.com` both match
 * `cos.example.com`, neither matches `notexample.com`); IP addresses match exactly or by CIDR
 * (`10.0.0.0/8`), IPv6 without brackets. An entry with a port (`host:8080`, `[::1]:8080`, as Go
 * and Node read them) exempts that port only. Loopback is not exempt unless listed (as in curl):
 * list `localhost,127.0.0.1,::1` to reach local stores directly.
 */
export function noProxyMatches(noProxy: string, host: string, port: number): boolean {
  const target = bareHost(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const parsed = parseNoProxyEntry(entry);
    if (parsed.port !== undefined && parsed.port !== port) continue;
    const name = bareHost(parsed.host.replace(/^\*?\./, ''));
    if (name === '') continue;
    if (name.includes('/')) {
      if (inCidr(target, name)) return true;
    } else if (isIP(name) !== 0 || isIP(target) !== 0) {
      if (name === target) return true;
    } else if (target === name || target.endsWith(`.${name}`)) {
      return true;
    }
  }
  return false;
}

/** The proxy for a request to `target`, or undefined to connect directly. */
export function proxyFor(target: URL, env: ProxyEnvironment): ProxyChoice | undefined {
  const names = target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
  const setting = firstSet(env, names);
  if (setting === undefined) return undefined;
  const noProxy = firstSet(env, ['no_proxy', 'NO_PROXY']);
  if (noProxy !== undefined && noProxyMatches(noProxy.value, target.hostname, effectivePort(target))) return undefined;
  // curl takes a proxy without a scheme as http://.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(setting.value) ? setting.value : `http://${setting.value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CosyncError('config-invalid', `${setting.name} is not a proxy URL: write it as http://host:port or http://user:password@host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CosyncError('config-invalid', `${setting.name} names a ${url.protocol.replace(/:$/, '')} proxy (${displayProxy(url)}); cosync goes through HTTP proxies only: write it as http://host:port (or https:// for TLS to the proxy)`);
  }
  return { url, variable: setting.name, display: displayProxy(url) };
}

/**
 * Marks an error that happened on the way to the proxy (connecting to it, TLS with it, its answer
 * to CONNECT), not on the way through it to the store. The original error stays as `cause`, and
 * its code is kept so the retry policy treats a refused connection as it always does.
 */
export class ProxyConnectError extends Error {
  readonly code: string | undefined;

  constructor(
    readonly proxy: ProxyChoice,
    cause: unknown,
    /** The proxy's answer to CONNECT when it was not 200, e.g. 407 (tinyproxy says 401). */
    readonly status?: { readonly code: number; readonly text: string },
  ) {
    const code = (cause as { code?: string } | undefined)?.code;
    super(`cannot connect through the proxy ${proxy.display}: ${status !== undefined ? `CONNECT answered ${status.code} ${status.text}` : (code ?? (cause as Error | undefined)?.message ?? String(cause))}`, { cause });
    this.name = 'ProxyConnectError';
    this.code = code;
  }
}

/** TLS errors with the proxy itself (an https:// proxy), by OpenSSL's and Node's codes. */
const TLS_PROBLEM = /CERT|SSL|TLS|SELF_SIGNED|ISSUER/;

/**
 * The proxy's own answer among the store's: a 407 (no store sends it), or a 401 without the
 * request id every answer of RGW, S3 (`x-amz-request-id`) and COS (`x-cos-request-id`) carries.
 */
function proxyAnswerOf(error: unknown, status: number | undefined): { code: number; text: string } | undefined {
  if (status === 407) return { code: 407, text: 'Proxy Authentication Required' };
  const headers = (error as { $response?: { headers?: Record<string, unknown> } } | undefined)?.$response?.headers ?? {};
  if (status === 401 && !('x-amz-request-id' in headers) && !('x-cos-request-id' in headers)) return { code: 401, text: 'Unauthorized' };
  return undefined;
}

/**
 * The message for an error a proxy caused, or undefined when the proxy had no part in it. A 407
 * can only come from a proxy (no store answers with it); a ProxyConnectError was raised on the
 * way to it.
 */
export function proxyErrorOf(error: unknown, status: number | undefined, proxy: ProxyChoice | undefined): CosyncError | undefined {
  if (proxy === undefined) return undefined;
  const where = `the proxy ${proxy.display} (from ${proxy.variable})`;
  const answer = error instanceof ProxyConnectError ? error.status : proxyAnswerOf(error, status);
  // 401 too: tinyproxy 1.11 answers wrong credentials with 401 (no credentials with 407).
  if (answer !== undefined && (answer.code === 407 || answer.code === 401)) {
    const hasCredentials = proxy.url.username !== '' || proxy.url.password !== '';
    return new CosyncError(
      'proxy-refused',
      `${where} refused the request: ${answer.code} ${answer.text}, ${hasCredentials ? 'the user name or password in the proxy URL was not accepted' : 'and the proxy URL carries no user name and password'}; set ${proxy.variable}=${proxy.url.protocol}//USER:PASSWORD@${proxy.url.host} (percent-encode special characters), or add the store's host to NO_PROXY if it needs no proxy`,
    );
  }
  if (!(error instanceof ProxyConnectError)) return undefined;
  if (answer !== undefined) {
    return new CosyncError('proxy-refused', `${where} would not open a tunnel to the store: it answered CONNECT with ${answer.code} ${answer.text}; ask its administrator to allow CONNECT to the store's host and port, or list that host in NO_PROXY if it needs no proxy`);
  }
  const code = error.code ?? '';
  if (TLS_PROBLEM.test(code)) {
    return new CosyncError(
      'tls-untrusted',
      `TLS with ${where} failed (${code}): if the proxy speaks plain HTTP, write http:// in ${proxy.variable}; if its certificate is signed by your own CA, point NODE_EXTRA_CA_CERTS at that CA's certificate`,
    );
  }
  const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host name not found' : code !== '' ? code.toLowerCase() : (error.cause as Error | undefined)?.message ?? 'no answer';
  return new CosyncError('endpoint-unreachable', `cannot reach ${where} (${why}): check the proxy's address in ${proxy.variable}, or unset it (or list the store's host in NO_PROXY) to connect directly`);
}

type ConnectStep = HttpsProxyAgent<string>['connect'];

/**
 * Makes every failure of an agent's connect step (the part that talks to the proxy) a
 * ProxyConnectError. https-proxy-agent hands a CONNECT answer other than 200 to Node's HTTP
 * client as if the store had given it; here it fails the request as the proxy's answer instead.
 */
function markingProxyErrors<T extends { connect: ConnectStep }>(agent: T, proxy: ProxyChoice): T {
  const connect: ConnectStep = agent.connect.bind(agent);
  agent.connect = async (request, options) => {
    let answer: { code: number; text: string } | undefined;
    // https-proxy-agent tells the CONNECT answer this way (http-proxy-agent emits the event too, with no answer).
    request.once('proxyConnect', (response?: { statusCode?: number; statusText?: string }) => {
      if (typeof response?.statusCode === 'number') answer = { code: response.statusCode, text: response.statusText ?? '' };
    });
    let socket: Awaited<ReturnType<ConnectStep>>;
    try {
      socket = await connect(request, options);
    } catch (error) {
      throw new ProxyConnectError(proxy, error);
    }
    if (answer !== undefined && answer.code !== 200) {
      socket.destroy();
      throw new ProxyConnectError(proxy, undefined, answer);
    }
    return socket;
  };
  return agent;
}

/** The connection pool for requests to `endpoint`: direct, or through the proxy the environment names. */
export function agentFor(endpoint: URL, options: AgentOptions, env: ProxyEnvironment): { agent: HttpAgent | HttpsAgent; proxy: ProxyChoice | undefined } {
  const proxy = proxyFor(endpoint, env);
  if (proxy === undefined) return { agent: endpoint.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options), proxy };
  // HTTPS: a CONNECT tunnel through the proxy, TLS with the store inside it. HTTP: requests in
  // absolute form to the proxy.
  const agent = endpoint.protocol === 'https:' ? markingProxyErrors(new HttpsProxyAgent(proxy.url, options), proxy) : markingProxyErrors(new HttpProxyAgent(proxy.url, options), proxy);
  return { agent, proxy };
}
