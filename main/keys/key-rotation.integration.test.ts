/**
 * `cosync key rotate` end to end: the built binary against RGW (which cannot copy SSE-C objects,
 * so every object is streamed through the client) and gnome-keyring. A rotation re-encrypts every
 * object of the folder — conflict copies and the trash too — after which the old key reads nothing
 * and the new key everything; a kill -9 in the middle leaves every object readable with one of
 * the two keys and the same command finishes the job; `sync --once` afterwards has nothing to do;
 * and neither key appears in anything cosync wrote.
 */
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, useWorkDir, writeRandomFile } from '../../test/support/files.js';
import { createBucket, DIALECTS, listKeys, onJsonEvents, rawClient, readObject, requireServices, runCosync, spawnCosync, storeAccess, uniqueName, type RunResult, type Services, type StoreAccess } from '../../test/support/services.js';
import { bucketDigests, folderConfig, folderDigests } from '../../test/support/sync.js';
import { contentDigest } from '../transfer/content-digest.js';
import { readKit } from '../secrets/recovery-kit.js';
import type { SseCustomerKey } from '../secrets/secret-values.js';

const MiB = 1024 * 1024;
let services: Services;
/** The dialect under test, its bucket (RGW name) and work folder: set for each dialect's block. */
let access: StoreAccess;
let bucket: string;
let dialectWork: () => string;
const work = (): string => dialectWork();
let configDir: string;
const env: Record<string, string> = {};
/** Everything cosync printed, for the leak scan. */
const outputs: string[] = [];
/** Every key these tests made, old and new, for the leak scan. */
const allKeys: SseCustomerKey[] = [];
/** Small transfers split into parts, so a 12 MiB file is a multipart object. */
const SIZING = ['--multipart-threshold', '5', '--part-size', '5'];
/**
 * The two long tests sync, rotate and check 150 files and a multipart one through the CLI: about
 * a minute on an idle 2-core box, and over three on one loaded 10 times over (CI with other work).
 */
const LONG_TEST_TIMEOUT_MS = 420_000;
let headClient: S3Client | undefined;
/** The passphrase new keys' kits are sealed under (they are, unless --clear), from a 0600 file as a user would give it. */
const KIT_PASSPHRASE = randomBytes(18).toString('base64');
const kitPassphrase = { passphrase: async (): Promise<string> => KIT_PASSPHRASE };

async function cosync(args: string[]): Promise<RunResult> {
  const result = await runCosync(args, { configDir, services, env, timeoutMs: 180_000 });
  outputs.push(result.stdout, result.stderr);
  return result;
}

async function expectOk(args: string[]): Promise<RunResult> {
  const result = await cosync(args);
  expect(result.code, `cosync ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

/** A key of the keychain, read back through its recovery kit as a user would. */
async function exportKey(keyName: string, file: string): Promise<SseCustomerKey> {
  await expectOk(['key', 'export', keyName, '--out', file]);
  const { key } = await readKit(file);
  allKeys.push(key);
  return key;
}

/** HTTP status of a HEAD with the key (or without one), by a client that is not cosync's. */
async function headStatus(objectKey: string, key: SseCustomerKey | undefined): Promise<number> {
  headClient ??= rawClient(services);
  try {
    const customer = key === undefined ? {} : { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.revealBase64() };
    await headClient.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey, ...customer }));
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

/** The user metadata of an object, read with the key. */
async function metadataOf(objectKey: string, key: SseCustomerKey): Promise<Record<string, string>> {
  headClient ??= rawClient(services);
  const response = await headClient.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey, SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.revealBase64() }));
  return response.Metadata ?? {};
}

async function putObject(objectKey: string, body: Buffer, key: SseCustomerKey | undefined): Promise<void> {
  const client = rawClient(services);
  const customer = key === undefined ? {} : { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.revealBase64() };
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: body, ...customer }));
  client.destroy();
}

async function etags(prefix: string): Promise<Map<string, string>> {
  const client = rawClient(services);
  const response = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  client.destroy();
  return new Map((response.Contents ?? []).map((item) => [item.Key as string, item.ETag as string]));
}

async function addFolder(root: string, prefix: string, keyName: string, extra: string[] = []): Promise<string> {
  const added = await expectOk(['folder', 'add', root, ...access.targetArgs(bucket), '--prefix', prefix, '--key', keyName, '--json', ...extra]);
  return (JSON.parse(added.stdout) as { id: string }).id;
}

function syncActions(result: RunResult): number {
  return (JSON.parse(result.stdout.trim()) as { actions: number }).actions;
}


beforeAll(() => {
  services = requireServices();
});
afterAll(() => headClient?.destroy());

describe.each(DIALECTS)('cosync key rotate on RGW (%s dialect)', (dialect) => {
  const blockWork = useWorkDir(`rotate-${dialect}`);
  beforeAll(async () => {
    dialectWork = blockWork;
    access = await storeAccess(services, dialect);
    bucket = await createBucket(services, 'cosync-rotate');
    configDir = join(work(), 'config');
    Object.assign(env, access.env);
    env.COSYNC_KIT_PASSPHRASE_FILE = join(work(), 'kit-passphrase');
    await writeFile(env.COSYNC_KIT_PASSPHRASE_FILE, `${KIT_PASSPHRASE}\n`, { mode: 0o600 });
    outputs.length = 0;
    allKeys.length = 0;
  });

  it('re-encrypts every object (conflict copies and trash too): the old key reads nothing, the new key everything, sync has nothing to do', async () => {
    const keyName = uniqueName('rot');
    await expectOk(['key', 'generate', keyName]);
    const oldKey = await exportKey(keyName, join(work(), 'docs-old.kit'));
    const root = join(work(), 'docs');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'a.txt'), 'alpha\n');
    await writeFile(join(root, 'sub', 'b.txt'), randomBytes(3000));
    await writeFile(join(root, 'c.txt'), 'ours\n');
    const gone = randomBytes(700);
    await writeFile(join(root, 'gone.txt'), gone);
    await writeRandomFile(join(root, 'big.bin'), 12 * MiB + 5);
    const id = await addFolder(root, 'docs', keyName, ['--policy', 'trash']);
    const sync = ['sync', '--once', '--folder', id, '--json', ...SIZING];
    await expectOk(sync);

    // The trash: a file deleted locally is moved to docs/.cosync-trash/DATE/.
    await rm(join(root, 'gone.txt'));
    await expectOk(sync);
    // A conflict copy: someone else (with the key) changed c.txt; theirs is kept beside ours.
    const theirs = Buffer.from('theirs, written by someone else\n');
    await putObject('docs/c.txt', theirs, oldKey);
    await expectOk(sync);
    // An object that is not SSE-C at all: no key protects it, the rotation leaves it alone.
    await putObject('docs/plain-note.txt', Buffer.from('not encrypted'), undefined);

    const before = await listKeys(services, bucket, 'docs/');
    const trashKey = before.find((key) => key.startsWith('docs/.cosync-trash/') && key.endsWith('/gone.txt')) as string;
    const conflictKey = before.find((key) => /^docs\/c\.cosync-conflict-.*\.txt$/.test(key)) as string;
    expect(trashKey, before.join('\n')).toBeDefined();
    expect(conflictKey, before.join('\n')).toBeDefined();
    expect(before).toHaveLength(7);
    const etagsBefore = await etags('docs/');
    const metadataBefore = { small: await metadataOf('docs/sub/b.txt', oldKey), big: await metadataOf('docs/big.bin', oldKey) };
    expect(metadataBefore.small['cosync-writer']).toBe(id);

    // Parts of 6 MiB instead of 5: the multipart object's ETag changes, which sync must not take for someone else's change.
    const kit = join(work(), 'docs-new.kit');
    const rotated = await expectOk(['key', 'rotate', keyName, '--folder', id, '--kit-out', kit, '--multipart-threshold', '5', '--part-size', '6']);
    expect(rotated.stdout).toMatch(new RegExp(`key ${keyName} rotated for folder ${id}: 6 objects re-encrypted now, 0 by an earlier run, 1 not SSE-C \\(left as they are\\)`));
    expect(rotated.stderr).toMatch(new RegExp(`rotating key ${keyName} for folder ${id} .*: 7 objects, 6 to re-encrypt .*, 0 already re-encrypted, 1 not SSE-C`));
    expect(rotated.stderr).toMatch(/re-encrypted 6 of 6 objects/);

    // The kit of the new key, sealed (by default) and mode 0600; the keychain has the new key under the old name, and no pending entry.
    expect((await stat(kit)).mode & 0o777).toBe(0o600);
    const { key: newKey, name: kitName, sealed } = await readKit(kit, kitPassphrase);
    allKeys.push(newKey);
    expect(sealed).toBe(true);
    expect(await readFile(kit, 'utf8')).not.toContain(newKey.revealBase64());
    expect(rotated.stderr).toContain(`the new key's sealed recovery kit is in ${kit} (fingerprint ${newKey.fingerprint}); it opens only with its passphrase`);
    expect(kitName).toBe(keyName);
    expect(newKey.fingerprint).not.toBe(oldKey.fingerprint);
    expect(rotated.stdout).toContain(`fingerprint ${newKey.fingerprint}`);
    const listed = (await expectOk(['key', 'list'])).stdout;
    expect(listed).toContain(`${keyName}\t${newKey.fingerprint}\n`);
    expect(listed).not.toContain(`${keyName}.rotating`);
    const config = JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8')) as { keys: Record<string, { fingerprint: string; kitExportedAt?: string }> };
    expect(config.keys[keyName]).toMatchObject({ fingerprint: newKey.fingerprint });
    expect(config.keys[keyName]?.kitExportedAt).toBeDefined();

    // The old key reads nothing, the new key everything, byte for byte.
    const sseC = before.filter((key) => key !== 'docs/plain-note.txt');
    for (const key of sseC) {
      expect(await headStatus(key, oldKey), `${key} with the old key`).toBe(400);
      await expect(readObject(services, bucket, key, Buffer.from(oldKey.revealBytes())), key).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
      expect(await headStatus(key, newKey), `${key} with the new key`).toBe(200);
    }
    const folder = folderConfig(access, { id, localPath: root, bucket, prefix: 'docs/' });
    const local = await folderDigests(root);
    expect(await bucketDigests(access, folder, [...local.keys()], newKey)).toEqual(local);
    expect((await readObject(services, bucket, conflictKey, Buffer.from(newKey.revealBytes()))).equals(theirs)).toBe(true);
    expect((await readObject(services, bucket, trashKey, Buffer.from(newKey.revealBytes()))).equals(gone)).toBe(true);
    expect((await readObject(services, bucket, 'docs/plain-note.txt')).toString()).toBe('not encrypted');
    const etagsAfter = await etags('docs/');
    expect(etagsAfter.get('docs/big.bin')).not.toBe(etagsBefore.get('docs/big.bin'));

    // Metadata survives: the writer mark and mtime as they were; the digest keyed anew by the new key
    // (restore checks it); the part size of the multipart copy.
    const small = await metadataOf('docs/sub/b.txt', newKey);
    expect(small).toEqual({ ...metadataBefore.small, 'cosync-digest': contentDigest(createHash('md5').update(await readFile(join(root, 'sub', 'b.txt'))).digest(), newKey) });
    expect(small['cosync-digest']).not.toBe(metadataBefore.small['cosync-digest']);
    expect(await metadataOf('docs/big.bin', newKey)).toEqual({ ...metadataBefore.big, 'cosync-part-bytes': String(6 * MiB) });
    const restoreTo = join(work(), 'docs-restored');
    const restored = await expectOk(['restore', ...access.targetArgs(bucket), '--prefix', 'docs/sub', '--to', restoreTo, '--key', keyName]);
    expect(restored.stdout).toMatch(/restored .*b\.txt .*verified by digest/);
    expect((await readFile(join(restoreTo, 'b.txt'))).equals(await readFile(join(root, 'sub', 'b.txt')))).toBe(true);

    // Sync finds nothing to do: no upload, no conflict copy of the re-encrypted objects.
    const after = await expectOk(sync);
    expect(syncActions(after)).toBe(0);
    expect(await listKeys(services, bucket, 'docs/')).toEqual(before);
    expect(await etags('docs/')).toEqual(etagsAfter);

    // Run again: nothing is left to rotate; a second rotation needs its own kit file.
    const again = await cosync(['key', 'rotate', keyName, '--folder', id, '--kit-out', kit]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/docs-new\.kit already exists; choose another file for the new key's recovery kit, or pass --force/);
  }, LONG_TEST_TIMEOUT_MS);

  it('refuses, before anything changes, when an object of the folder is encrypted with neither key', async () => {
    const keyName = uniqueName('rotbad');
    await expectOk(['key', 'generate', keyName]);
    const oldKey = await exportKey(keyName, join(work(), 'odd-old.kit'));
    const root = join(work(), 'odd');
    await mkdir(root);
    await writeFile(join(root, 'mine.txt'), 'mine\n');
    const id = await addFolder(root, 'odd', keyName);
    await expectOk(['sync', '--once', '--folder', id, '--json']);
    await putObject('odd/intruder.bin', randomBytes(100), (await readKit(join(work(), 'docs-new.kit'), kitPassphrase)).key);

    const kit = join(work(), 'odd-new.kit');
    const refused = await cosync(['key', 'rotate', keyName, '--folder', id, '--kit-out', kit]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(
      new RegExp(`1 object of folder ${id} cannot be read with key ${keyName} \\(fingerprint ${escape(oldKey.fingerprint)}\\): odd/intruder\\.bin \\(this machine has no record of its key\\)\\. Nothing was re-encrypted\\.`),
    );
    // Nothing changed: no pending key, no kit, the folder's object still under the old key.
    expect((await expectOk(['key', 'list'])).stdout).not.toContain(`${keyName}.rotating`);
    await expect(stat(kit)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await headStatus('odd/mine.txt', oldKey)).toBe(200);
  });

  it('killed with SIGKILL in the middle, every object stays readable with one of the keys, and the same command resumes and finishes', async () => {
    const keyName = uniqueName('rotkill');
    await expectOk(['key', 'generate', keyName]);
    const oldKey = await exportKey(keyName, join(work(), 'many-old.kit'));
    const root = join(work(), 'many');
    await mkdir(root);
    for (let index = 0; index < 150; index++) await writeFile(join(root, `f${String(index).padStart(3, '0')}.bin`), randomBytes(500 + index * 40));
    await writeRandomFile(join(root, 'big.bin'), 12 * MiB);
    const id = await addFolder(root, 'many', keyName);
    await expectOk(['sync', '--once', '--folder', id, '--json', ...SIZING]);
    const objects = await listKeys(services, bucket, 'many/');
    expect(objects).toHaveLength(151);

    const kit = join(work(), 'many-new.kit');
    // A clear kit, asked for explicitly.
    const rotateArgs = ['key', 'rotate', keyName, '--folder', id, '--kit-out', kit, '--clear', '--concurrency', '2', ...SIZING];
    const child = spawnCosync([...rotateArgs, '--json'], { configDir, services, env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let reEncryptedBeforeKill = 0;
    const KILL_AFTER = 30;
    onJsonEvents<{ type: string }>(child, (event) => {
      if (event.type === 'object-re-encrypted' && ++reEncryptedBeforeKill === KILL_AFTER) child.kill('SIGKILL');
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    outputs.push(stderr);
    expect(exit, stderr).toEqual({ code: null, signal: 'SIGKILL' });

    // The kit was written before the first object changed; it holds the new key, in clear.
    const { key: newKey, sealed } = await readKit(kit);
    allKeys.push(newKey);
    expect(sealed).toBe(false);
    // Right after the kill: every object answers to exactly one of the two keys, some to each.
    const answers: Array<{ key: string; old: number; new: number }> = [];
    for (const key of objects) answers.push({ key, old: await headStatus(key, oldKey), new: await headStatus(key, newKey) });
    for (const answer of answers) expect([answer.old, answer.new].sort(), answer.key).toEqual([200, 400]);
    const underNewKey = answers.filter((answer) => answer.new === 200).length;
    expect(underNewKey).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(underNewKey).toBeLessThan(objects.length);
    // Both keys are in the keychain, the new one under the pending name.
    const listed = (await expectOk(['key', 'list'])).stdout;
    expect(listed).toContain(`${keyName}\t${oldKey.fingerprint}\n`);
    expect(listed).toContain(`${keyName}.rotating\t${newKey.fingerprint}\n`);

    const resumed = await expectOk(rotateArgs);
    expect(resumed.stderr).toMatch(new RegExp(`resuming the rotation of key ${keyName} .*: 151 objects, ${151 - underNewKey} to re-encrypt .*, ${underNewKey} already re-encrypted`));
    expect(resumed.stderr).toMatch(/already holds the new key's recovery kit/);
    expect(resumed.stdout).toMatch(new RegExp(`${151 - underNewKey} objects re-encrypted now, ${underNewKey} by an earlier run`));

    for (const key of objects) expect(await headStatus(key, oldKey), key).toBe(400);
    const folder = folderConfig(access, { id, localPath: root, bucket, prefix: 'many/' });
    const local = await folderDigests(root);
    expect(await bucketDigests(access, folder, [...local.keys()], newKey)).toEqual(local);
    const listedAfter = (await expectOk(['key', 'list'])).stdout;
    expect(listedAfter).toContain(`${keyName}\t${newKey.fingerprint}\n`);
    expect(listedAfter).not.toContain(`${keyName}.rotating`);
    expect(syncActions(await expectOk(['sync', '--once', '--folder', id, '--json', ...SIZING]))).toBe(0);
    expect(await listKeys(services, bucket, 'many/')).toEqual(objects);
  }, LONG_TEST_TIMEOUT_MS);

  it('leaves no key in anything it wrote: config, journal, logs, output (kits excepted)', async () => {
    // Old and new of the full and the killed rotation, and the refused one's key.
    expect(allKeys).toHaveLength(5);
    const files = await filesUnder(configDir);
    expect(files.some((file) => file.endsWith('config.json'))).toBe(true);
    expect(files.some((file) => file.endsWith('journal.sqlite'))).toBe(true);
    expect(files.some((file) => file.endsWith('cosync.log'))).toBe(true);
    const contents = await Promise.all(files.map(async (file) => ({ file, content: await readFile(file) })));
    for (const key of allKeys) {
      const raw = Buffer.from(key.revealBytes());
      const forms = [raw.toString('base64'), raw.toString('base64').replace(/=+$/, ''), raw.toString('base64url'), raw.toString('hex'), raw.toString('hex').toUpperCase()];
      for (const { file, content } of contents) {
        for (const form of forms) expect(content.includes(form), `${file} contains key ${key.fingerprint} as ${form.length} characters`).toBe(false);
        expect(content.includes(raw), `${file} contains key ${key.fingerprint} raw`).toBe(false);
      }
      for (const output of outputs) for (const form of forms) expect(output.includes(form), `output contains key ${key.fingerprint}`).toBe(false);
    }
    for (const { file, content } of contents) expect(content.includes(KIT_PASSPHRASE), `${file} contains the kit passphrase`).toBe(false);
    for (const output of outputs) expect(output.includes(KIT_PASSPHRASE), 'output contains the kit passphrase').toBe(false);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
