/**
 * Temporary credentials end to end through the COS gateway: a script acts as the credential
 * process and hands out gateway-issued STS keys (which the gateway accepts only with their token
 * in x-cos-security-token); a backup works with them, survives the token expiring in the middle of
 * the run, and a process that fails stops the backup with its message before anything is uploaded.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CosGateway, TemporaryCredentials } from '../../test/support/cos-gateway.js';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, listKeys, requireServices, runCosync, storeAccess, uniqueName, type Services, type StoreAccess } from '../../test/support/services.js';

let services: Services;
let access: StoreAccess;
let gateway: CosGateway;
let bucket: string;
const work = useWorkDir('sts');

beforeAll(async () => {
  services = requireServices();
  access = await storeAccess(services, 'cos');
  gateway = access.gateway as CosGateway;
  bucket = await createBucket(services, 'cosync-sts');
});

/** A credential process for one test: it prints what `handOut` last wrote and counts its runs. */
async function credentialProcess(name: string): Promise<{ command: string; handOut(credentials: TemporaryCredentials): Promise<void>; fail(message: string): Promise<void>; runs(): Promise<number> }> {
  const dir = join(work(), name);
  await mkdir(dir, { recursive: true });
  const script = join(dir, 'credentials.sh');
  const printed = join(dir, 'printed.json');
  const runs = join(dir, 'runs');
  const program = (body: string) => writeFile(script, `echo run >> '${runs}'\n${body}\n`);
  return {
    command: `sh '${script}' --role backup`,
    handOut: async (credentials) => {
      const expiration = new Date(Date.now() + 3_600_000).toISOString();
      await writeFile(printed, JSON.stringify({ Version: 1, AccessKeyId: credentials.secretId, SecretAccessKey: credentials.secretKey, SessionToken: credentials.sessionToken, Expiration: expiration }));
      await program(`cat '${printed}'`);
    },
    fail: (message) => program(`echo '${message}' >&2\nexit 3`),
    runs: async () => (await readFile(runs, 'utf8').catch(() => '')).split('\n').filter((line) => line === 'run').length,
  };
}

/** Every file under a folder, as text. */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(entries.filter((entry) => entry.isFile()).map((entry) => readFile(join(entry.parentPath, entry.name), 'utf8')));
  return texts.join('\n');
}

async function sourceFolder(name: string, files: number): Promise<string> {
  const source = join(work(), name, 'source');
  await mkdir(source, { recursive: true });
  for (let index = 0; index < files; index += 1) await writeFile(join(source, `file-${String(index).padStart(3, '0')}.txt`), `content of file ${index}\n`);
  return source;
}

describe('temporary credentials from a credential process (COS gateway)', () => {
  const noStaticKeys = { COSYNC_SECRET_ID: undefined, COSYNC_SECRET_KEY: undefined };
  const run = (configDir: string, args: string[]) => runCosync(args, { configDir, services, env: { ...access.env, ...noStaticKeys }, timeoutMs: 300_000 });

  /** A config dir and an account whose credentials come from a fresh credential process with gateway-issued keys. */
  async function accountWithProcess(name: string) {
    const configDir = join(work(), name, 'config');
    const account = uniqueName('sts');
    const process = await credentialProcess(name);
    const issued = gateway.issueTemporaryCredentials();
    await process.handOut(issued);
    const set = await run(configDir, ['credentials', 'set', '--account', account, '--process', process.command]);
    expect(set.code, set.stderr).toBe(0);
    return { configDir, account, process, issued, set };
  }

  it('backs up with the keys the process hands out, and keeps them off disk', async () => {
    const { configDir, account, process, issued, set } = await accountWithProcess('first');
    expect(set.stdout).toContain(`temporary, from \`${process.command}\``);
    const show = await run(configDir, ['credentials', 'show', '--account', account]);
    expect(show.stdout).toContain(`temporary credentials from \`${process.command}\``);

    const source = await sourceFolder('first', 3);
    const backup = await run(configDir, ['backup', source, ...access.targetArgs(bucket), '--prefix', 'first', '--sse', 'cos', '--account', account]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/backup: 3 uploaded, 0 failed/);
    expect(await listKeys(services, bucket, 'first/')).toEqual(['first/source/file-000.txt', 'first/source/file-001.txt', 'first/source/file-002.txt']);
    const onDisk = await allText(configDir);
    expect(onDisk).not.toContain(issued.secretKey);
    expect(onDisk).not.toContain(issued.sessionToken);
    expect(backup.stdout + backup.stderr).not.toContain(issued.sessionToken);
  });

  it('runs the process again when the token expires in the middle of a backup, and completes', async () => {
    const { configDir, account, process, issued: first } = await accountWithProcess('expiry');
    const runsBefore = await process.runs();

    const files = 30;
    const source = await sourceFolder('expiry', files);
    let uploadsSeen = 0;
    let expired = false;
    let handedOut: Promise<void> = Promise.resolve();
    // The gateway asks this about every request it authenticated: after the 10th upload the first
    // token expires and the process hands out new keys.
    gateway.failNext((request) => {
      if (expired || request.method !== 'PUT' || request.key?.startsWith('expiry/') !== true) return false;
      uploadsSeen += 1;
      if (uploadsSeen === 10) {
        expired = true;
        handedOut = process.handOut(gateway.issueTemporaryCredentials());
        gateway.expire(first);
      }
      return false;
    }, { status: 500, code: 'Unused', message: 'never injected' });
    const backup = await run(configDir, ['backup', source, ...access.targetArgs(bucket), '--prefix', 'expiry', '--sse', 'cos', '--account', account, '--concurrency', '1']);
    await handedOut;
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(new RegExp(`backup: ${files} uploaded, 0 failed`));
    expect((await listKeys(services, bucket, 'expiry/')).length).toBe(files);
    expect(expired).toBe(true);
    // The store did refuse the expired token, and the process ran once more for it.
    expect(gateway.requests.some((request) => request.code === 'ExpiredToken')).toBe(true);
    expect((await process.runs()) - runsBefore).toBe(2);
  });

  it('a process that fails stops the backup with its message, and nothing is uploaded', async () => {
    const { configDir, account, process } = await accountWithProcess('failing');
    await process.fail('token service unreachable');
    const source = await sourceFolder('failing', 2);
    const backup = await run(configDir, ['backup', source, ...access.targetArgs(bucket), '--prefix', 'failing', '--sse', 'cos', '--account', account]);
    expect(backup.code).not.toBe(0);
    expect(backup.stderr).toMatch(/the credential process `sh '[^`]*credentials\.sh' --role backup` failed \(exit code 3\): token service unreachable/);
    expect(await listKeys(services, bucket, 'failing/')).toEqual([]);
  });

  it('refuses to store a process that prints bad JSON or expired credentials', async () => {
    const configDir = join(work(), 'refused', 'config');
    const account = uniqueName('sts');
    const dir = join(work(), 'refused');
    await mkdir(dir, { recursive: true });
    const notJson = await run(configDir, ['credentials', 'set', '--account', account, '--process', "echo 'AccessKeyId=AKID'"]);
    expect(notJson.code).not.toBe(0);
    expect(notJson.stderr).toMatch(/the credential process `echo 'AccessKeyId=AKID'` printed something that is not JSON/);
    const stale = JSON.stringify({ Version: 1, AccessKeyId: 'AKIDold', SecretAccessKey: 'old', SessionToken: 'old', Expiration: '2020-01-01T00:00:00Z' });
    await writeFile(join(dir, 'stale.json'), stale);
    const expiredOutput = await run(configDir, ['credentials', 'set', '--account', account, '--process', `cat '${join(dir, 'stale.json')}'`]);
    expect(expiredOutput.code).not.toBe(0);
    expect(expiredOutput.stderr).toMatch(/printed credentials that expired at 2020-01-01T00:00:00.000Z/);
    expect((await run(configDir, ['credentials', 'show', '--account', account])).code).not.toBe(0);
  });
});
