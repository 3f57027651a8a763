/**
 * Coordinates of the real local services (RGW, gnome-keyring) that scripts/test.sh starts, and
 * helpers to drive the built `cosync` binary against them. Integration tests call
 * `requireServices()`: without the services they fail with instructions — they never skip.
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startCosGateway, type CosGateway } from './cos-gateway.js';

/** The running services. */
export interface Services {
  readonly httpEndpoint: string;
  readonly httpsEndpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly caFile: string;
  readonly dbusAddress: string;
}

/** Reads the services' coordinates from the environment, failing loudly when they are missing. */
export function requireServices(): Services {
  const env = process.env;
  const needed = ['COSYNC_TEST_S3_HTTP', 'COSYNC_TEST_S3_HTTPS', 'COSYNC_TEST_S3_ACCESS_KEY', 'COSYNC_TEST_S3_SECRET_KEY', 'COSYNC_TEST_CA', 'DBUS_SESSION_BUS_ADDRESS'];
  const missing = needed.filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    throw new Error(`integration tests need the local services (missing ${missing.join(', ')}): run them through \`npm test\`, or \`npm run services:up\` and \`source .services/env\``);
  }
  return {
    httpEndpoint: env.COSYNC_TEST_S3_HTTP as string,
    httpsEndpoint: env.COSYNC_TEST_S3_HTTPS as string,
    accessKey: env.COSYNC_TEST_S3_ACCESS_KEY as string,
    secretKey: env.COSYNC_TEST_S3_SECRET_KEY as string,
    caFile: env.COSYNC_TEST_CA as string,
    dbusAddress: env.DBUS_SESSION_BUS_ADDRESS as string,
  };
}

/** The two wire dialects the integration suites run in: S3 straight to RGW, COS through the gateway. */
export type DialectName = 's3' | 'cos';
export const DIALECTS: ReadonlyArray<DialectName> = ['s3', 'cos'];

/**
 * How cosync reaches the test store in one dialect. Buckets are created and checked on RGW by
 * their RGW names (rawClient, readObject, listKeys): independent of the dialect under test.
 */
export interface StoreAccess {
  readonly dialect: DialectName;
  readonly services: Services;
  /** The endpoint cosync is given: RGW's HTTPS endpoint, or `https://cos.REGION.myqcloud.com:PORT`. */
  readonly endpoint: string;
  /** The SigV4 region: us-east-1 for RGW, the COS region from the host. */
  readonly region: string;
  readonly pathStyle: boolean;
  readonly accessKey: string;
  readonly secretKey: string;
  /** cosync's name of an RGW bucket (COS: NAME-APPID). */
  bucketName(rgwBucket: string): string;
  /** The RGW bucket behind a name cosync uses. */
  rgwBucket(bucketName: string): string;
  /** `--endpoint ENDPOINT --bucket NAME` for the CLI. */
  targetArgs(rgwBucket: string): string[];
  /** The environment a cosync process needs: credentials, and for COS the host-name resolution. */
  readonly env: Readonly<Record<string, string>>;
  /** The COS gateway (its knobs), in the COS dialect. */
  readonly gateway: CosGateway | undefined;
}

let gatewayStarted: Promise<CosGateway> | undefined;

/** The COS gateway of this test process, started on first use in front of RGW. */
export function cosGateway(services: Services): Promise<CosGateway> {
  gatewayStarted ??= startCosGateway({ rgwEndpoint: services.httpsEndpoint, rgwAccessKey: services.accessKey, rgwSecretKey: services.secretKey, caFile: services.caFile });
  return gatewayStarted;
}

const COS_HOSTS_PRELOAD = new URL('./cos-hosts.mjs', import.meta.url).href;

/** The test store in a dialect (COS starts this process's gateway). */
export async function storeAccess(services: Services, dialect: DialectName): Promise<StoreAccess> {
  if (dialect === 's3') {
    return {
      dialect,
      services,
      endpoint: services.httpsEndpoint,
      region: 'us-east-1',
      pathStyle: true,
      accessKey: services.accessKey,
      secretKey: services.secretKey,
      bucketName: (rgwBucket) => rgwBucket,
      rgwBucket: (bucketName) => bucketName,
      targetArgs: (rgwBucket) => ['--endpoint', services.httpsEndpoint, '--bucket', rgwBucket],
      env: { COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey },
      gateway: undefined,
    };
  }
  const gateway = await cosGateway(services);
  const suffix = `-${gateway.appId}`;
  return {
    dialect,
    services,
    endpoint: gateway.endpoint,
    region: gateway.region,
    pathStyle: false,
    accessKey: gateway.secretId,
    secretKey: gateway.secretKey,
    bucketName: (rgwBucket) => gateway.cosBucket(rgwBucket),
    rgwBucket: (bucketName) => (bucketName.endsWith(suffix) ? bucketName.slice(0, -suffix.length) : bucketName),
    targetArgs: (rgwBucket) => ['--endpoint', gateway.endpoint, '--bucket', gateway.cosBucket(rgwBucket)],
    env: {
      COSYNC_SECRET_ID: gateway.secretId,
      COSYNC_SECRET_KEY: gateway.secretKey,
      // BUCKET-APPID.cos.REGION.myqcloud.com → 127.0.0.1 inside the cosync process (see cos-hosts.mjs).
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${COS_HOSTS_PRELOAD}`.trim(),
    },
    gateway,
  };
}

/** A unique, valid name for buckets and keys. */
export function uniqueName(stem: string): string {
  return `${stem}-${randomBytes(5).toString('hex')}`;
}

/** A raw S3 client (not cosync's code) for arranging and checking bucket state independently. */
export function rawClient(services: Services, endpoint = services.httpsEndpoint): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: services.accessKey, secretAccessKey: services.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca: readFileSync(services.caFile), keepAlive: true, maxSockets: 16 }) }),
  });
}

/** Creates a fresh bucket and returns its name. */
export async function createBucket(services: Services, stem = 'cosync-test'): Promise<string> {
  const bucket = uniqueName(stem);
  await rawClient(services).send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Every key in a bucket (under a prefix). */
export async function listKeys(services: Services, bucket: string, prefix = ''): Promise<string[]> {
  const client = rawClient(services);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const response = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(response.Contents ?? []).map((item) => item.Key as string));
    token = response.IsTruncated === true ? response.NextContinuationToken : undefined;
  } while (token !== undefined);
  client.destroy();
  return keys.sort();
}

/** Reads an object with the raw client; `key` is the SSE-C key bytes or undefined. */
export async function readObject(services: Services, bucket: string, objectKey: string, customerKey?: Buffer): Promise<Buffer> {
  const response = await rawClient(services).send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: objectKey,
      ...(customerKey === undefined ? {} : { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64') }),
    }),
  );
  return Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** Result of one cosync run. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const BIN = fileURLToPath(new URL('../../bin/cosync.js', import.meta.url));

/** Options for running the `cosync` binary in tests. */
export interface CosyncRunOptions {
  readonly configDir: string;
  readonly services: Services;
  readonly env?: Record<string, string | undefined>;
  readonly input?: string;
  readonly timeoutMs?: number;
  /** A command that runs cosync, e.g. `['setpriv', '--reuid=65534', …]` to run it as another user. */
  readonly wrapper?: ReadonlyArray<string>;
}

/** Starts the built `cosync` binary with an isolated config dir and the services' environment. */
export function spawnCosync(args: ReadonlyArray<string>, options: CosyncRunOptions): ChildProcessWithoutNullStreams {
  const merged: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: process.env.COSYNC_TEST_KEYRING_HOME ?? process.env.HOME,
      DBUS_SESSION_BUS_ADDRESS: options.services.dbusAddress,
      NODE_EXTRA_CA_CERTS: options.services.caFile,
      COSYNC_CONFIG_DIR: options.configDir,
      ...options.env,
    };
  // A variable set to undefined is removed (spawn would pass the text "undefined").
  const childEnv = Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const [command, ...wrapperArgs] = [...(options.wrapper ?? []), process.execPath, BIN, ...args] as [string, ...string[]];
  return spawn(command, wrapperArgs, { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The URL (with its token) a running `cosync serve` prints once it listens; rejects if it exits first. */
export function servedUrl(child: ChildProcessWithoutNullStreams): Promise<URL> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /serving (http:\/\/\S+)/.exec(text);
      if (match) resolve(new URL(match[1] as string));
    });
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('close', () => reject(new Error(`serve exited early: ${text}`)));
  });
}

/** Calls `handle` with each `--json` event a running `cosync` prints on stdout. */
export function onJsonEvents<E = { type: string; bytesDone?: number }>(child: ChildProcessWithoutNullStreams, handle: (event: E) => void): void {
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) handle(JSON.parse(line) as E);
  });
}

/** Runs the built `cosync` binary to completion. */
export function runCosync(args: ReadonlyArray<string>, options: CosyncRunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnCosync(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
