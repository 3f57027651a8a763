/**
 * The window end to end: Debian's Chromium (playwright-core) against `cosync serve`, with RGW and
 * gnome-keyring behind it. A new user generates a key, meets the recovery-kit gate, exports the
 * kit, adds an SSE-C folder, watches files go queued → uploading → synced, pauses and resumes,
 * drops a file for backup, restores it elsewhere byte-exact, and gets a clear error for an object
 * encrypted with another key. Screenshots of every view land in test-artifacts/ui/.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../scripts/chromium.mjs';
import { useWorkDir } from '../support/files.js';
import { createBucket, listKeys, rawClient, readObject, requireServices, runCosync, spawnCosync, uniqueName, type Services } from '../support/services.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/ui/', import.meta.url));
const work = useWorkDir('ui-e2e');
let services: Services;
let bucket: string;
let configDir: string;
const keyName = uniqueName('uikey');
const env: Record<string, string> = {};

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-ui');
  configDir = join(work(), 'config');
  env.COSYNC_SECRET_ID = services.accessKey;
  env.COSYNC_SECRET_KEY = services.secretKey;
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await runCosync(['key', 'delete', keyName, '--yes'], { configDir, services, env });
});

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('a new user sets up an SSE-C folder, syncs, pauses, backs up by drag-and-drop and restores — all from the window', async () => {
  const root = join(work(), 'Photos');
  await mkdir(join(root, 'sub'), { recursive: true });
  await writeFile(join(root, 'a.txt'), 'alpha\n');
  await writeFile(join(root, 'sub', 'b.txt'), 'beta\n');

  const server = spawnCosync(['serve', '--port', '0'], { configDir, services, env });
  let serverOutput = '';
  server.stderr.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
  const browser = await launchChromium();
  try {
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout.on('data', (chunk: Buffer) => {
        serverOutput += chunk.toString();
        const match = /serving (http:\/\/\S+)/.exec(serverOutput);
        if (match) resolve(match[1] as string);
      });
      server.on('close', () => reject(new Error(`serve exited early: ${serverOutput}`)));
    });
    const page = await browser.context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(url);

    // Empty state; the token has left the address bar.
    await page.getByRole('heading', { name: 'No sync folders yet' }).waitFor();
    expect(page.url()).not.toContain('token=');
    await page.getByText(/Connected to engine \d/).waitFor();
    await screenshot(page, '1-empty');

    // Settings: generate a key; the add-folder form refuses SSE-C until its kit is exported.
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('New key name').fill(keyName);
    await page.getByRole('button', { name: 'Generate key' }).click();
    await page.getByTestId('keys-feedback').getByText(/created \(fingerprint .+\)/).waitFor();
    await page.getByLabel('Local folder').fill(root);
    await page.getByLabel('Endpoint URL').fill(services.httpsEndpoint);
    await page.getByLabel('Bucket', { exact: true }).fill(bucket);
    await page.getByLabel('Prefix in the bucket').fill('photos');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByTestId('connection-feedback').getByText(/Connected:/).waitFor();
    await page.getByLabel(/SSE-C: your own key/).check();
    await page.getByLabel('Key', { exact: true }).selectOption(keyName);
    await page.getByTestId('kit-gate').waitFor();
    expect(await page.getByRole('button', { name: 'Add folder' }).isDisabled()).toBe(true);
    await screenshot(page, '2-settings-kit-gate');

    const kitPath = join(work(), `${keyName}.kit.json`);
    await page.getByLabel(`Recovery kit file for ${keyName}`).fill(kitPath);
    // Sealed is the window's default: the export waits for the passphrase, twice.
    expect(await page.getByLabel(`Seal the kit of ${keyName} under a passphrase`).isChecked()).toBe(true);
    const kitPassphrase = 'correct horse battery staple';
    await page.getByLabel(`Kit passphrase for ${keyName}`, { exact: true }).fill(kitPassphrase);
    await page.getByLabel(`Kit passphrase for ${keyName}, again`).fill(kitPassphrase);
    await page.getByRole('button', { name: `Export recovery kit of ${keyName}` }).click();
    await page.getByTestId('keys-feedback').getByText(/Sealed recovery kit of .* written/).waitFor();
    expect((await stat(kitPath)).mode & 0o777).toBe(0o600);
    // The fields are emptied once the engine answered.
    expect(await page.getByLabel(`Kit passphrase for ${keyName}`, { exact: true }).inputValue()).toBe('');
    // Opened as a user importing it on another machine would: with its passphrase.
    const { readKit } = await import('../../main/secrets/recovery-kit.js');
    const opened = await readKit(kitPath, { passphrase: async () => kitPassphrase });
    expect(opened.sealed).toBe(true);
    const kit = { key: Buffer.from(opened.key.revealBytes()).toString('base64'), fingerprint: opened.key.fingerprint };
    expect(await readFile(kitPath, 'utf8')).not.toContain(kit.key);
    await page.getByTestId('kit-gate').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Add folder' }).click();

    // The folder appears and syncs.
    const card = page.locator('article.folder-card');
    await card.waitFor();
    await waitFor(async () => (await card.getByTestId('count-synced').textContent()) === '2', 'the first two files to sync');
    expect(await listKeys(services, bucket, 'photos/')).toEqual(['photos/a.txt', 'photos/sub/b.txt']);
    await screenshot(page, '3-folders');

    // A large file under a bandwidth limit: seen queued/uploading with progress, then synced.
    await page.getByLabel('Upload limit in MiB per second (empty: none)').fill('1');
    await page.getByRole('button', { name: 'Set' }).click();
    await page.getByText('now 1.0 MiB/s').waitFor();
    await page.getByRole('tab', { name: 'Files' }).click();
    await page.locator('[data-path="a.txt"][data-state="synced"]').waitFor();
    const big = randomBytes(3 * 1024 * 1024);
    await writeFile(join(root, 'big.bin'), big);
    const seen = new Set<string>();
    await waitFor(async () => {
      const state = await page.locator('[data-path="big.bin"]').getAttribute('data-state', { timeout: 100 }).catch(() => null);
      if (state !== null) seen.add(state);
      if (state === 'uploading' && !seen.has('shot')) {
        seen.add('shot');
        await expect(page.locator('[data-path="big.bin"] progress').count()).resolves.toBe(1);
        await screenshot(page, '4-files-uploading');
      }
      return state === 'synced';
    }, 'big.bin to upload and sync', 60_000);
    expect(seen).toContain('uploading');
    expect((await readObject(services, bucket, 'photos/big.bin', Buffer.from(kit.key, 'base64'))).equals(big)).toBe(true);
    await page.getByLabel('Upload limit in MiB per second (empty: none)').fill('');
    await page.getByRole('button', { name: 'Set' }).click();
    await page.getByText('unlimited').waitFor();

    // Search and filter narrow the list.
    await page.getByLabel('Search by path').fill('sub/');
    await waitFor(async () => (await page.locator('[role="row"]').count()) === 1, 'the search to leave one row');
    await page.getByLabel('Search by path').fill('');

    // Pause all: a new file waits; resume: it goes up.
    await page.getByTestId('pause-all').click();
    await page.getByRole('tab', { name: 'Folders' }).click();
    await card.getByText('Paused').waitFor();
    await writeFile(join(root, 'while-paused.txt'), 'later\n');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await listKeys(services, bucket, 'photos/')).not.toContain('photos/while-paused.txt');
    await page.getByTestId('pause-all').click();
    await waitFor(async () => (await listKeys(services, bucket, 'photos/')).includes('photos/while-paused.txt'), 'the paused file to upload after resume');

    // Drag-and-drop backup: a file dropped on the window goes to backups/e2e/ with the folder's key.
    await page.getByRole('tab', { name: 'Backup' }).click();
    const dropped = randomBytes(200_000);
    const dataTransfer = await page.evaluateHandle((base64) => {
      const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.bin', { type: 'application/octet-stream' }));
      return transfer;
    }, dropped.toString('base64'));
    await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
    await page.getByTestId('dropped-summary').getByText(/1 file/).waitFor();
    await page.getByLabel('Backup prefix').fill('backups/e2e/');
    await screenshot(page, '5-backup-dropped');
    await page.getByRole('button', { name: 'Back up', exact: true }).click();
    await page.locator('li.job[data-state="finished"]').waitFor({ timeout: 30_000 });
    expect((await readObject(services, bucket, 'backups/e2e/dropped.bin', Buffer.from(kit.key, 'base64'))).equals(dropped)).toBe(true);
    await screenshot(page, '6-backup-done');

    // Restore the dropped file elsewhere, from the whole bucket's tree.
    await page.getByRole('tab', { name: 'Restore' }).click();
    await page.getByLabel('What to browse').selectOption('bucket');
    await page.getByRole('button', { name: 'backups/' }).click();
    await page.getByRole('button', { name: 'e2e/' }).click();
    await page.getByLabel('Select backups/e2e/dropped.bin').check();
    const restored = join(work(), 'restored');
    await page.getByLabel('Restore destination folder').fill(restored);
    await page.getByRole('button', { name: /^Restore 1 item/ }).click();
    await page.locator('li.job[data-state="finished"]').waitFor({ timeout: 30_000 });
    expect(createHash('sha256').update(await readFile(join(restored, 'dropped.bin'))).digest('hex')).toBe(createHash('sha256').update(dropped).digest('hex'));
    await screenshot(page, '7-restore');

    // An object encrypted with another key: "Check key" says so, and restoring it fails with a clear reason.
    const otherKey = randomBytes(32);
    await rawClient(services).send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'photos/foreign.bin',
        Body: randomBytes(1000),
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: otherKey.toString('base64'),
        SSECustomerKeyMD5: createHash('md5').update(otherKey).digest('base64'),
      }),
    );
    await page.getByRole('tab', { name: 'Folders' }).click();
    await page.getByRole('button', { name: 'Check key' }).click();
    await page.getByTestId('notice').getByText(new RegExp(`Key ${keyName} does NOT decrypt 1 of \\d+ checked objects \\(e\\.g\\. photos/foreign\\.bin\\)`)).waitFor();
    await page.getByRole('tab', { name: 'Restore' }).click();
    await page.getByLabel('Select foreign.bin').check();
    await page.getByLabel(/Another folder/).check();
    await page.getByLabel('Restore destination folder').fill(join(work(), 'restored-foreign'));
    await page.getByRole('button', { name: /^Restore 1 item/ }).click();
    const failedJob = page.locator('li.job[data-state="failed"]');
    await failedJob.waitFor({ timeout: 30_000 });
    await page.getByRole('tab', { name: 'Activity' }).click();
    await page.locator('.level-error').filter({ hasText: /foreign\.bin/ }).first().waitFor();
    const activityText = (await page.locator('ol.activity').first().textContent()) ?? '';
    expect(activityText).toMatch(/foreign\.bin.*(key|SSE-C)/i);
    await screenshot(page, '8-activity');

    // Ignore rules: a rule that cannot be read is refused with its line; good ones apply at once.
    await page.getByRole('tab', { name: 'Settings' }).click();
    const rules = page.getByLabel('.cosyncignore');
    await expect.poll(() => rules.isEnabled()).toBe(true);
    await rules.fill('*.log\nbroken[');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByTestId('ignore-feedback').getByText(/not saved: .*line 2/).waitFor();
    await rules.fill('# build noise\n*.log\n');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByTestId('ignore-feedback').getByText(/^Saved\./).waitFor();
    expect(await readFile(join(root, '.cosyncignore'), 'utf8')).toBe('# build noise\n*.log\n');
    await writeFile(join(root, 'debug.log'), 'noise\n');
    await writeFile(join(root, 'after-rules.txt'), 'kept\n');
    await waitFor(async () => (await listKeys(services, bucket, 'photos/')).includes('photos/after-rules.txt'), 'a file written after the rules to upload');
    expect(await listKeys(services, bucket, 'photos/')).not.toContain('photos/debug.log');
    await screenshot(page, '9-settings-rules');

    // Nothing the window ever held is a key.
    const html = await page.content();
    expect(html).not.toContain(kit.key);
    expect(html).not.toContain(kit.key.replace(/=+$/, ''));
    expect(consoleErrors).toEqual([]);
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('close', resolve));
  }
}, 240_000);
