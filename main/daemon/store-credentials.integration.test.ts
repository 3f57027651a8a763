/**
 * First run through `cosync serve`'s HTTP API, on a machine with an empty config and a keyring of
 * its own: the window's credentials go into the keychain, the buckets are listed from RGW with
 * them, the credentials are removed again — and the secret appears nowhere afterwards: not in an
 * answer, not in an event, not in a log or any other file under the machine's HOME.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { filesUnder } from '../../test/support/files.js';
import { startPrivateKeyring, type PrivateKeyring } from '../../test/support/private-keyring.js';
import { createBucket, requireServices, servedUrl, spawnCosync, type Services } from '../../test/support/services.js';
import { until } from '../../test/support/wait.js';

let services: Services;
let bucket: string;
let keyring: PrivateKeyring;

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-first-run');
  keyring = await startPrivateKeyring('first-run-password');
});

afterAll(async () => {
  await keyring?.stop();
});


it('sets credentials, lists buckets with them and deletes them, and the secret is nowhere afterwards', async () => {
  // No credentials in the environment: only what the window sends.
  const child = spawnCosync(['serve', '--port', '0'], {
    configDir: '',
    services,
    env: { HOME: keyring.home, DBUS_SESSION_BUS_ADDRESS: keyring.busAddress, COSYNC_CONFIG_DIR: undefined, COSYNC_SECRET_ID: undefined, COSYNC_SECRET_KEY: undefined },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const answers: string[] = [];
  let events = '';
  const abortEvents = new AbortController();
  try {
    const base = await servedUrl(child);
    const token = base.searchParams.get('token') as string;
    const call = async (channel: string, body: unknown): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }> => {
      const response = await fetch(new URL(`/api/call/${channel}`, base), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await response.text();
      answers.push(text);
      return JSON.parse(text) as { ok: boolean; value?: unknown; error?: { code: string; message: string } };
    };
    const stream = await fetch(new URL(`/api/events?token=${token}`, base), { signal: abortEvents.signal });
    const reading = (async () => {
      const decoder = new TextDecoder();
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) events += decoder.decode(chunk.value);
    })().catch(() => undefined);
    await until(() => events.includes(': connected'));

    const endpoint = { endpoint: services.httpsEndpoint, pathStyle: true };
    // Before any credentials: a clear refusal that says how to give them.
    expect(await call('sync:list-buckets', endpoint)).toMatchObject({ ok: false, error: { code: 'credentials-missing' } });

    const set = await call('sync:credentials-set', { secretId: services.accessKey, secretKey: services.secretKey });
    expect(set).toEqual({ ok: true, value: { account: 'default', secretId: `${services.accessKey.slice(0, 4)}…${services.accessKey.slice(-4)}` } });

    const listed = await call('sync:list-buckets', endpoint);
    expect(listed.ok, JSON.stringify(listed)).toBe(true);
    expect((listed.value as Array<{ name: string }>).map((entry) => entry.name)).toContain(bucket);

    // An account with nothing stored, a COS region that is no region: specific refusals.
    expect(await call('sync:credentials-delete', { account: 'nobody' })).toEqual({ ok: false, error: { code: 'credentials-missing', message: 'no credentials stored for account nobody' } });
    expect(await call('sync:list-buckets', { region: 'Guangzhou' })).toMatchObject({ ok: false, error: { code: 'endpoint-invalid' } });

    expect(await call('sync:credentials-delete', {})).toEqual({ ok: true, value: null });
    expect(await call('sync:list-buckets', endpoint)).toMatchObject({ ok: false, error: { code: 'credentials-missing' } });
    // The log line of the deletion is written before its answer; an overview event follows within a second.
    await until(() => events.includes('"type":"overview"'));
    abortEvents.abort();
    await reading;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('close', resolve));
  }

  const files = await filesUnder(keyring.home);
  const logs = files.filter((path) => path.includes(`${join('cosync', 'logs')}`));
  expect(logs.length, files.join('\n')).toBeGreaterThan(0);
  const logText = (await Promise.all(logs.map((path) => readFile(path, 'utf8')))).join('\n');
  expect(logText).toMatch(/credentials-set/);
  expect(logText).toMatch(/credentials-deleted/);
  for (const [where, text] of [
    ['answers', answers.join('\n')],
    ['events', events],
    ['output', output],
  ] as const) {
    expect(text.includes(services.secretKey), where).toBe(false);
  }
  for (const path of files) expect((await readFile(path)).includes(services.secretKey), path).toBe(false);
});
