/**
 * Names a bucket cannot hold, end to end: the built `cosync` binary against RGW and gnome-keyring,
 * with real files whose names are not UTF-8, NFC/NFD twins and a path whose key is over 1,024
 * bytes beside ordinary files. `backup` and `sync --once` upload the others, report each refused
 * file with its own error, count it as failed (exit code of a partial run), and `status` shows it
 * as an error until its name is fixed.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWorkDir } from '../../test/support/files.js';
import { createBucket, listKeys, readObject, requireServices, runCosync, uniqueName, type RunResult, type Services } from '../../test/support/services.js';
import { EXIT_CODES } from './exit-codes.js';

/** "Finished, but some files failed" (EXIT_CODES.someFailed): the other files were done. */
const PARTIAL_RUN_EXIT = EXIT_CODES.someFailed.code;
const NFC = 'caf\u00e9.txt';
const NFD = 'cafe\u0301.txt';
/** `bad\xFF\xFEname.txt`: not UTF-8, as a Latin-1 system would write "badÿþname.txt". */
const BAD_NAME = Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xfe]), Buffer.from('name.txt')]);
const BAD_PRINTED = 'bad\\xFF\\xFEname.txt';
/** Four segments under the OS's 255-byte limit and a file name: over 1,024 bytes with any prefix. */
const DEEP = ['a'.repeat(250), 'b'.repeat(250), 'c'.repeat(250), 'd'.repeat(250)];
const LONG_PATH = [...DEEP, 'x'.repeat(30)].join('/');

const work = useWorkDir('file-names-cli');
let services: Services;
let bucket: string;
let configDir: string;
let customerKey: Buffer;
const keyName = uniqueName('names');
const env: Record<string, string> = {};

async function cosync(args: string[]): Promise<RunResult> {
  return runCosync(args, { configDir, services, env });
}

/** A folder of ordinary files with every kind of name a bucket cannot hold beside them. */
async function writeAwkwardFolder(root: string): Promise<void> {
  await mkdir(join(root, 'sub'), { recursive: true });
  await writeFile(join(root, 'ok.txt'), 'ok');
  await writeFile(join(root, 'sub', 'fine.txt'), 'fine');
  await writeFile(Buffer.concat([Buffer.from(`${root}/`), BAD_NAME]), 'bad');
  await writeFile(join(root, NFD), 'decomposed');
  await writeFile(join(root, NFC), 'composed');
  await mkdir(join(root, ...DEEP), { recursive: true });
  await writeFile(join(root, LONG_PATH), 'long');
}

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-names');
  configDir = join(work(), 'config');
  env.COSYNC_SECRET_ID = services.accessKey;
  env.COSYNC_SECRET_KEY = services.secretKey;
  expect((await cosync(['key', 'generate', keyName])).code).toBe(0);
  const kit = join(work(), 'kit.json');
  expect((await cosync(['key', 'export', keyName, '--out', kit])).code).toBe(0);
  customerKey = Buffer.from((JSON.parse(await readFile(kit, 'utf8')) as { key: string }).key, 'base64');
});

afterAll(async () => {
  await cosync(['key', 'delete', keyName, '--yes']);
});

describe('names a bucket cannot hold', () => {
  it('backup uploads the ordinary files and reports each refused one as failed', async () => {
    const root = join(work(), 'backup-me');
    await writeAwkwardFolder(root);
    const result = await cosync(['backup', root, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'bk', '--key', keyName]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(PARTIAL_RUN_EXIT);
    expect(result.stderr).not.toMatch(/unexpected error|ENOENT/);
    const failed = result.stdout.split('\n').filter((line) => line.startsWith('failed'));
    expect(failed).toHaveLength(3);
    expect(failed).toContain(`failed    ${join(root, BAD_PRINTED)}: the file name is not valid UTF-8 (bytes shown as \\xNN), and object keys must be UTF-8; this file is not backed up — rename it to UTF-8 (e.g. convmv -f latin1 -t utf8 --notest)`);
    expect(failed).toContain(
      `failed    ${join(root, NFD)} -> bk/backup-me/${NFC}: its name differs from ${join(root, NFC)} only in Unicode normalization (NFC/NFD), so both map to the object key "bk/backup-me/${NFC}"; ${join(root, NFC)} is backed up there and this file is not — rename one of them`,
    );
    expect(failed.find((line) => line.includes('x'.repeat(30)))).toMatch(/^failed {4}\S+ -> bk\/backup-me\/a{250}\/\S+: its object key would be 1047 bytes, over the store's limit of 1024 bytes \(prefix included\); not uploaded/);
    expect(result.stdout).toMatch(/backup: 3 uploaded, 3 failed/);
    expect(await listKeys(services, bucket, 'bk/')).toEqual([`bk/backup-me/${NFC}`, 'bk/backup-me/ok.txt', 'bk/backup-me/sub/fine.txt']);
    expect((await readObject(services, bucket, `bk/backup-me/${NFC}`, customerKey)).toString()).toBe('composed');

    // Named on the command line, the file arrives as Node decodes argv: with U+FFFD, naming no file.
    const named = await cosync(['backup', join(root, BAD_NAME.toString('utf8')), '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'bk', '--key', keyName]);
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/^cosync: \S+bad\uFFFD\uFFFDname\.txt: no file or folder has this name; if its real name is not valid UTF-8 .*rename it to UTF-8 first .*nothing was uploaded\n$/);
  }, 60_000);

  it('sync --once syncs the others, counts the refused ones as failed, status shows them as errors until they are renamed', async () => {
    const root = join(work(), 'sync-me');
    await writeAwkwardFolder(root);
    const added = await cosync(['folder', 'add', root, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--sse', 'c', '--key', keyName, '--prefix', 'sy']);
    expect(added.code, added.stderr).toBe(0);

    const first = await cosync(['sync', '--once']);
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(PARTIAL_RUN_EXIT);
    expect(first.stdout).toMatch(/sync-me-[0-9a-f]{4}: 3 files, 3 changes applied, 3 failed/);
    expect(first.stderr).toMatch(new RegExp(`: ${BAD_PRINTED.replace(/\\/g, '\\\\')}: the file name is not valid UTF-8`));
    expect(first.stderr).toMatch(new RegExp(`: ${NFD}: its name differs from ${NFC} only in Unicode normalization`));
    expect(first.stderr).toMatch(/: a{250}\/b{250}\/c{250}\/d{250}\/x{30}: its object key would be 1037 bytes, over the store's limit of 1024 bytes/);
    expect(await listKeys(services, bucket, 'sy/')).toEqual([`sy/${NFC}`, 'sy/ok.txt', 'sy/sub/fine.txt']);

    const status = await cosync(['status', '--json']);
    const [report] = JSON.parse(status.stdout) as Array<{ counts: Record<string, number>; files: Array<{ path: string; state: string; error?: { code: string } }> }>;
    expect(report?.counts).toEqual({ synced: 3, pending: 0, error: 3 });
    expect(report?.files.filter((file) => file.state === 'error').map((file) => `${file.path}:${file.error?.code}`).sort()).toEqual(
      [`${BAD_PRINTED}:name-unsupported`, `${LONG_PATH}:name-unsupported`, `${NFD}:name-unsupported`].sort(),
    );
    expect((await cosync(['status'])).stdout).toMatch(new RegExp(`error {4}${BAD_PRINTED.replace(/\\/g, '\\\\')}: the file name is not valid UTF-8`));

    // A second run finds the same: still failed, nothing uploaded twice.
    const again = await cosync(['sync', '--once']);
    expect(again.code).toBe(PARTIAL_RUN_EXIT);
    expect(again.stdout).toMatch(/3 files, 0 changes applied, 3 failed/);

    // Names fixed: everything syncs, nothing fails, status is clean.
    await rename(Buffer.concat([Buffer.from(`${root}/`), BAD_NAME]), join(root, 'bad-renamed.txt'));
    await rename(join(root, NFD), join(root, 'cafe-decomposed.txt'));
    await rm(join(root, DEEP[0] as string), { recursive: true });
    const fixed = await cosync(['sync', '--once']);
    expect(fixed.code, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect(fixed.stdout).toMatch(/5 files, 2 changes applied, 0 failed/);
    const after = JSON.parse((await cosync(['status', '--json'])).stdout) as Array<{ counts: Record<string, number> }>;
    expect(after[0]?.counts).toEqual({ synced: 5, pending: 0, error: 0 });
    expect(await listKeys(services, bucket, 'sy/')).toEqual(['sy/bad-renamed.txt', 'sy/cafe-decomposed.txt', `sy/${NFC}`, 'sy/ok.txt', 'sy/sub/fine.txt']);
  }, 90_000);
});
