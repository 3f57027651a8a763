/**
 * Key rotation without a server: the checks `cosync key rotate` makes before it touches the
 * bucket (in-process CLI, keys in memory), and the journal's bookkeeping that lets a rotation
 * resume and keeps the sync trees from mistaking re-encrypted objects for someone else's change.
 * The rotation itself, against RGW and gnome-keyring, is in key-rotation.integration.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncFolderConfig } from '../../app/sync-model.js';
import { runCli } from '../cli/cli.js';
import { Journal } from '../journal/journal.js';
import { Keychain } from '../secrets/keychain.js';
import { pendingKeyName } from './key-rotation.js';
import { MemorySecretStore } from '../secrets/secret-store.js';
import { SseCustomerKey } from '../secrets/secret-values.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cosync-rotate-unit-'));
  dirs.push(dir);
  return dir;
}

function folder(overrides: Partial<SyncFolderConfig> & { id: string }): SyncFolderConfig {
  return {
    localPath: `/tmp/${overrides.id}`,
    // Nothing answers here: every check below must fail before the bucket is contacted.
    endpoint: 'https://127.0.0.1:9',
    bucket: 'bucket',
    prefix: `${overrides.id}/`,
    region: undefined,
    pathStyle: true,
    sse: 'c',
    keyName: 'photos',
    kmsKeyId: undefined,
    account: undefined,
    policy: 'keep',
    paused: false,
    createdAt: new Date(0).toISOString(),
    ...overrides,
  };
}

/** A config dir with these folders and a keychain holding key "photos". */
async function setUp(folders: SyncFolderConfig[]): Promise<{ configDir: string; store: MemorySecretStore }> {
  const configDir = join(tempDir(), 'config');
  await mkdir(configDir);
  await writeFile(join(configDir, 'config.json'), JSON.stringify({ version: 1, keys: {}, folders }));
  const store = new MemorySecretStore();
  await new Keychain(store).putKey('photos', SseCustomerKey.generate());
  return { configDir, store };
}

async function rotate(args: string[], setup: { configDir: string; store: MemorySecretStore }, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['key', 'rotate', ...args], {
    io: {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      stdin: Readable.from(['']),
      env: { COSYNC_CONFIG_DIR: setup.configDir, COSYNC_SECRET_ID: 'id', COSYNC_SECRET_KEY: 'secret', ...env },
    },
    secretStore: setup.store,
  });
  return { code, stdout, stderr };
}

describe('cosync key rotate: refused before anything is touched', () => {
  it.each([
    ['no --folder', ['photos', '--kit-out', '/tmp/never.kit'], 2, /missing --folder ID/],
    ['an unknown folder', ['photos', '--folder', 'nope', '--kit-out', '/tmp/never.kit'], 2, /no folder with id "nope" \(folders: docs, plain, other-key\)/],
    ['a folder without SSE-C', ['photos', '--folder', 'plain', '--kit-out', '/tmp/never.kit'], 2, /folder plain does not use SSE-C.*only SSE-C keys are rotated/],
    ["a key that is not the folder's", ['photos', '--folder', 'other-key', '--kit-out', '/tmp/never.kit'], 2, /folder other-key is encrypted with key "music", not "photos"; run `cosync key rotate music --folder other-key`/],
    ['no --kit-out', ['photos', '--folder', 'docs'], 2, /needs --kit-out FILE: the new key's recovery kit is written before any object is re-encrypted/],
    ['an invalid key name', ['no/slash', '--folder', 'docs', '--kit-out', '/tmp/never.kit'], 2, /invalid key name/],
    // The kit is sealed by default: without a passphrase nothing starts.
    ['no kit passphrase', ['photos', '--folder', 'docs', '--kit-out', '/tmp/never.kit'], 2, /no kit passphrase on stdin \(its first line is empty\): put the kit passphrase in a file only you can read/],
    ['--sealed with --clear', ['photos', '--folder', 'docs', '--kit-out', '/tmp/never.kit', '--sealed', '--clear'], 2, /a kit is either sealed or clear: give --sealed \(the default\) or --clear, not both/],
    ['--printable with --sealed', ['photos', '--folder', 'docs', '--kit-out', '/tmp/never.kit', '--printable', '--sealed'], 2, /a kit is either printable or sealed, not both/],
  ])('%s', async (_name, args, exitCode, message) => {
    const setup = await setUp([folder({ id: 'docs' }), folder({ id: 'plain', sse: 'none', keyName: undefined }), folder({ id: 'other-key', keyName: 'music' })]);
    const result = await rotate(args, setup);
    expect(result.code, result.stderr).toBe(exitCode);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    // No new key was made.
    expect(await setup.store.listAccounts()).toEqual(['sse-c-key:photos']);
  });

  it('a key that another folder also uses', async () => {
    const setup = await setUp([folder({ id: 'docs' }), folder({ id: 'pictures' })]);
    const result = await rotate(['photos', '--folder', 'docs', '--kit-out', join(tempDir(), 'new.kit')], setup);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/key photos is also the key of folder pictures: after rotating it for docs alone, their objects would be readable only with the old key's recovery kit/);
  });

  it('a --kit-out file that already exists (unless --force)', async () => {
    const setup = await setUp([folder({ id: 'docs' })]);
    const kit = join(tempDir(), 'taken.kit');
    writeFileSync(kit, 'something precious');
    const result = await rotate(['photos', '--folder', 'docs', '--kit-out', kit], setup);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/taken\.kit already exists; choose another file for the new key's recovery kit, or pass --force/);
    expect(await setup.store.listAccounts()).toEqual(['sse-c-key:photos']);
  });

  it('a kit passphrase too short to seal with', async () => {
    const setup = await setUp([folder({ id: 'docs' })]);
    const result = await rotate(['photos', '--folder', 'docs', '--kit-out', join(tempDir(), 'new.kit')], setup, { COSYNC_KIT_PASSPHRASE: 'short' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the kit passphrase is too short; choose one of at least \d+ characters/);
    expect(await setup.store.listAccounts()).toEqual(['sse-c-key:photos']);
  });

  it('a missing key, with how to get it back', async () => {
    const setup = await setUp([folder({ id: 'docs', keyName: 'lost' })]);
    const result = await rotate(['lost', '--folder', 'docs', '--kit-out', join(tempDir(), 'new.kit')], setup);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no SSE-C key named "lost" in the keychain.*cosync key import lost --from KIT/);
  });

  it('is in --help', async () => {
    let stdout = '';
    await runCli(['--help'], { io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true }, stdin: Readable.from(['']), env: {} }, secretStore: new MemorySecretStore() });
    expect(stdout).toContain('key rotate NAME --folder ID --kit-out FILE');
  });

  it('names the pending key NAME.rotating, and refuses names too long for that', () => {
    expect(pendingKeyName('photos')).toBe('photos.rotating');
    expect(() => pendingKeyName('k'.repeat(60))).toThrow(/too long to rotate/);
  });
});

describe('journal bookkeeping of a rotation', () => {
  const base = { folderId: 'docs', keyName: 'photos', pendingKeyName: 'photos.rotating', oldFingerprint: 'old==', newFingerprint: 'new==', startedAt: 1 };
  const synced = (path: string, etag: string) => ({ path, sizeBytes: 5, mtimeMs: 1, fileId: '1:1', hash: 'aa', etag, keyFingerprint: 'old==' });

  it('keeps at most one unfinished rotation per folder, survives a reopen, and forgets per-object records when done', () => {
    const file = join(tempDir(), 'journal.sqlite');
    const journal = new Journal(file);
    const rotation = journal.beginKeyRotation(base);
    expect(() => journal.beginKeyRotation(base)).toThrow(/UNIQUE/);
    journal.beginRotatingObject(rotation.id, 'docs/a.txt', 'etag-a');
    journal.close();

    const reopened = new Journal(file);
    expect(reopened.unfinishedKeyRotation('docs')).toMatchObject({ ...base, id: rotation.id, state: 're-encrypting', finishedAt: null });
    expect(reopened.keyRotationObjects(rotation.id).get('docs/a.txt')).toEqual({ oldEtag: 'etag-a', newEtag: null, done: false });
    reopened.setKeyRotationState(rotation.id, 'done', 99);
    expect(reopened.unfinishedKeyRotation('docs')).toBeUndefined();
    expect(reopened.keyRotationObjects(rotation.id).size).toBe(0);
    // A later rotation of the same folder can start.
    expect(reopened.beginKeyRotation({ ...base, startedAt: 100 }).id).not.toBe(rotation.id);
    reopened.close();
  });

  it('carries the sync trees over to the new ETag only where they described the re-encrypted object', () => {
    const journal = new Journal(':memory:');
    const rotation = journal.beginKeyRotation(base);
    // ours.txt: synced and remote agree (ours). theirs.txt: changed by someone else before the rotation.
    journal.recordSyncOutcome('docs', [
      { path: 'ours.txt', synced: synced('ours.txt', 'e1'), remote: { path: 'ours.txt', sizeBytes: 5, etag: 'e1' } },
      { path: 'theirs.txt', synced: synced('theirs.txt', 'e2'), remote: { path: 'theirs.txt', sizeBytes: 5, etag: 'e2' } },
    ]);
    journal.writeRemoteChanges('docs', [{ path: 'theirs.txt', file: { path: 'theirs.txt', sizeBytes: 6, etag: 'e2-changed' } }]);
    journal.recordObject({ endpoint: 'https://s3', bucket: 'b', key: 'docs/ours.txt', localPath: '/x', sizeBytes: 5, mtimeMs: 1, digest: 'md5:aa', keyFingerprint: 'old==', etag: 'e1', uploadedAt: 1 });

    const rotated = { rotationId: rotation.id, folderId: 'docs', endpoint: 'https://s3', bucket: 'b', oldFingerprint: 'old==', newFingerprint: 'new==' };
    journal.beginRotatingObject(rotation.id, 'docs/ours.txt', 'e1');
    journal.recordRotatedObject({ ...rotated, key: 'docs/ours.txt', path: 'ours.txt', sizeBytes: 5, newEtag: 'n1' });
    journal.beginRotatingObject(rotation.id, 'docs/theirs.txt', 'e2-changed');
    journal.recordRotatedObject({ ...rotated, key: 'docs/theirs.txt', path: 'theirs.txt', sizeBytes: 6, newEtag: 'n2' });
    // The trash is not part of the trees: nothing to carry over, but the object counts as done.
    journal.beginRotatingObject(rotation.id, 'docs/.cosync-trash/x/gone.txt', 'e3');
    journal.recordRotatedObject({ ...rotated, key: 'docs/.cosync-trash/x/gone.txt', path: '.cosync-trash/x/gone.txt', sizeBytes: 1, newEtag: 'n3' });

    const state = journal.loadSyncFolder('docs');
    expect(state.synced.get('ours.txt')).toMatchObject({ etag: 'n1', keyFingerprint: 'new==' });
    expect(state.remote.get('ours.txt')).toEqual({ path: 'ours.txt', sizeBytes: 5, etag: 'n1' });
    // Someone else's change stays one: the synced state still names the object we wrote.
    expect(state.synced.get('theirs.txt')).toMatchObject({ etag: 'e2', keyFingerprint: 'new==' });
    expect(state.remote.get('theirs.txt')).toEqual({ path: 'theirs.txt', sizeBytes: 6, etag: 'n2' });
    expect(state.remote.has('.cosync-trash/x/gone.txt')).toBe(false);
    expect(journal.getObject('https://s3', 'b', 'docs/ours.txt')).toMatchObject({ etag: 'n1', keyFingerprint: 'new==' });
    expect([...journal.keyRotationObjects(rotation.id)].map(([key, record]) => [key, record.done, record.newEtag])).toEqual([
      ['docs/.cosync-trash/x/gone.txt', true, 'n3'],
      ['docs/ours.txt', true, 'n1'],
      ['docs/theirs.txt', true, 'n2'],
    ]);
    journal.close();
  });

  it('counts objects uploaded with the key outside the folder (cosync backup)', () => {
    const journal = new Journal(':memory:');
    const record = { endpoint: 'https://s3', bucket: 'b', localPath: '/x', sizeBytes: 1, mtimeMs: 1, digest: 'md5:aa', keyFingerprint: 'old==', etag: 'e', uploadedAt: 1 };
    journal.recordObject({ ...record, key: 'docs/in.txt' });
    journal.recordObject({ ...record, key: 'backup/out.txt' });
    journal.recordObject({ ...record, key: 'backup/other-key.txt', keyFingerprint: 'other==' });
    expect(journal.objectsWithKeyOutside('old==', 'https://s3', 'b', 'docs/')).toEqual({ count: 1, examples: ['b/backup/out.txt'] });
    journal.close();
  });
});
