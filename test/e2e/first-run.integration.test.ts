/**
 * First run in the window, end to end: Chromium against `cosync serve` with an empty config and
 * a keyring of its own, no credentials anywhere. The new user picks the store, signs in, picks
 * the bucket from the list, then the folder in the add-folder form, and the first file syncs —
 * no terminal. Afterwards the secret is in neither the page, the logs nor any file under HOME.
 * Screenshots of every step land in test-artifacts/first-run/.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../scripts/chromium.mjs';
import { filesUnder, useWorkDir } from '../support/files.js';
import { startPrivateKeyring, type PrivateKeyring } from '../support/private-keyring.js';
import { createBucket, listKeys, requireServices, servedUrl, spawnCosync, type Services } from '../support/services.js';
import { until } from '../support/wait.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/first-run/', import.meta.url));
const work = useWorkDir('first-run-e2e');
let services: Services;
let bucket: string;
let keyring: PrivateKeyring;

beforeAll(async () => {
  services = requireServices();
  bucket = await createBucket(services, 'cosync-first-ui');
  keyring = await startPrivateKeyring('first-run-ui');
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await keyring?.stop();
});

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

it('a new user goes from the first screen to the first synced file without a terminal, and the secret stays out of page, logs and files', async () => {
  const root = join(work(), 'Documents');
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'hello.txt'), 'hello\n');
  const server = spawnCosync(['serve', '--port', '0'], {
    configDir: '',
    services,
    env: { HOME: keyring.home, DBUS_SESSION_BUS_ADDRESS: keyring.busAddress, COSYNC_CONFIG_DIR: undefined, COSYNC_SECRET_ID: undefined, COSYNC_SECRET_KEY: undefined },
  });
  let serverOutput = '';
  server.stderr.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
  const browser = await launchChromium();
  let pages = '';
  try {
    const url = await servedUrl(server);
    const page = await browser.context.newPage();
    await page.goto(url.toString());

    await page.getByRole('heading', { name: 'Where are your files to go?' }).waitFor();
    await screenshot(page, '1-where');
    await page.getByLabel('Another S3-compatible store').check();
    await page.getByLabel('Endpoint URL').fill(services.httpsEndpoint);
    await page.getByLabel(/Path-style addressing/).check();
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Access key').fill(services.accessKey);
    await page.getByLabel('Secret key').fill(services.secretKey);
    await screenshot(page, '2-sign-in');
    await page.getByLabel('Secret key').press('Enter');

    await page.getByRole('heading', { name: 'Choose a bucket' }).waitFor();
    await page.getByText(/Signed in as .+…/).waitFor();
    await page.getByLabel('Search buckets').fill(bucket);
    await page.getByLabel(bucket).check();
    pages += await page.content();
    await screenshot(page, '3-bucket');
    await page.getByRole('button', { name: 'Next' }).click();

    // The add-folder form, with the store and bucket already chosen.
    expect(await page.getByLabel('Bucket', { exact: true }).inputValue()).toBe(bucket);
    expect(await page.getByLabel('Endpoint URL').inputValue()).toBe(services.httpsEndpoint);
    await page.getByLabel('Local folder').fill(root);
    await page.getByLabel('Prefix in the bucket').fill('first');
    await page.getByLabel('None', { exact: true }).check();
    await screenshot(page, '4-folder');
    await page.getByRole('button', { name: 'Add folder' }).click();
    await until(async () => (await listKeys(services, bucket, 'first/')).includes('first/hello.txt'));
    await page.locator('.folder-grid').waitFor();
    pages += await page.content();
    await screenshot(page, '5-synced');
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('close', resolve));
  }

  expect(pages.includes(services.secretKey)).toBe(false);
  expect(serverOutput.includes(services.secretKey)).toBe(false);
  const files = await filesUnder(keyring.home);
  expect(files.some((path) => path.includes(join('cosync', 'logs'))), files.join('\n')).toBe(true);
  for (const path of files) expect((await readFile(path)).includes(services.secretKey), path).toBe(false);
});
