/**
 * The window in Chinese and for everyone: Debian's Chromium with `locale: 'zh-CN'` against
 * `cosync serve` (RGW, gnome-keyring behind it) shows the Chinese window; switching to English in
 * Settings changes it in place, without a reload. Every view passes an axe-core audit (WCAG 2.1
 * A/AA rules) with no serious or critical finding, the main controls are reached and used by
 * keyboard with a visible focus ring, and at 200% zoom nothing scrolls sideways. Screenshots land
 * in test-artifacts/i18n/.
 */
import AxeBuilder from '@axe-core/playwright';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../scripts/chromium.mjs';
import { useWorkDir } from '../support/files.js';
import { createBucket, requireServices, runCosync, servedUrl, spawnCosync, type Services } from '../support/services.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/i18n/', import.meta.url));
const work = useWorkDir('locale-a11y');
let services: Services;
let configDir: string;
let env: Record<string, string>;
let root: string;

/** The views, by their tab's name in each language. */
const VIEWS = [
  ['folders', '文件夹', 'Folders'],
  ['files', '文件', 'Files'],
  ['restore', '恢复', 'Restore'],
  ['backup', '备份', 'Backup'],
  ['settings', '设置', 'Settings'],
  ['activity', '活动', 'Activity'],
] as const;

beforeAll(async () => {
  services = requireServices();
  const bucket = await createBucket(services, 'cosync-a11y');
  configDir = join(work(), 'config');
  env = { COSYNC_SECRET_ID: services.accessKey, COSYNC_SECRET_KEY: services.secretKey };
  root = join(work(), 'Docs');
  await mkdir(join(root, 'sub'), { recursive: true });
  await writeFile(join(root, 'a.txt'), 'alpha\n');
  await writeFile(join(root, 'sub', 'b.txt'), 'beta\n');
  const added = await runCosync(['folder', 'add', root, '--endpoint', services.httpsEndpoint, '--bucket', bucket, '--prefix', 'docs', '--sse', 'none'], { configDir, services, env });
  expect(added.code, added.stderr).toBe(0);
  await mkdir(ARTIFACTS, { recursive: true });
});

/** Serves the window for one browser session; stops the server after `body`. */
async function withWindow(options: Parameters<typeof launchChromium>[1] & { viewport?: { width: number; height: number } }, body: (page: Page) => Promise<void>): Promise<void> {
  const server = spawnCosync(['serve', '--port', '0'], { configDir, services, env });
  const browser = await launchChromium(options.viewport, { locale: options.locale, deviceScaleFactor: options.deviceScaleFactor });
  try {
    const url = await servedUrl(server);
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url.href);
    await body(page);
    expect(pageErrors).toEqual([]);
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('close', resolve));
  }
}

/** axe-core's serious and critical findings on what the page shows now, one line each. */
async function seriousFindings(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

it('shows the Chinese window to a Chinese browser, passes axe on every view, and switches to English in place', async () => {
  await withWindow({ locale: 'zh-CN' }, async (page) => {
    await page.getByText(/^已连接到同步引擎 \d/).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    const card = page.locator('article.folder-card');
    await expect.poll(() => card.getByTestId('count-synced').textContent(), { timeout: 60_000 }).toBe('2');

    const findings: string[] = [];
    for (const [id, chinese] of VIEWS) {
      const tab = page.locator(`#tab-${id}`);
      expect(await tab.textContent()).toMatch(new RegExp(`^${chinese}`));
      await tab.click();
      await page.locator(`[role="tabpanel"][aria-labelledby="tab-${id}"]`).waitFor();
      if (id === 'files') await page.locator('[data-path="a.txt"]').waitFor();
      if (id === 'restore') await page.getByRole('list', { name: '存储桶中的文件和文件夹' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, `zh-${id}.png`), fullPage: true });
      findings.push(...(await seriousFindings(page)).map((finding) => `${id}: ${finding}`));
    }
    expect(findings).toEqual([]);

    // Settings › Language: English at once, in the same document (a marker set before survives).
    await page.getByRole('tab', { name: '设置' }).click();
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    await page.getByLabel('此窗口的语言').selectOption('en');
    await page.getByRole('tab', { name: 'Settings' }).waitFor();
    await page.getByRole('heading', { name: 'Encryption keys (SSE-C)' }).waitFor();
    expect(await page.evaluate(() => (window as Window & { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.evaluate(() => [document.documentElement.lang, localStorage.getItem('cosync.language')])).toEqual(['en', 'en']);
    await page.screenshot({ path: join(ARTIFACTS, 'en-settings-after-switch.png'), fullPage: true });
  });
}, 240_000);

it('is used by keyboard alone, with a visible focus, and at 200% zoom nothing scrolls sideways', async () => {
  // 200% zoom: the same window at half the CSS pixels and twice the device pixels.
  await withWindow({ locale: 'en-US', viewport: { width: 640, height: 430 }, deviceScaleFactor: 2 }, async (page) => {
    await page.getByText(/^Connected to engine \d/).waitFor();
    await page.locator('article.folder-card').waitFor();

    /** Tabs forward until `matches` says the focused element is the one wanted; answers what was passed on the way. */
    const tabTo = async (wanted: string, matches: (element: Element) => boolean): Promise<void> => {
      for (let step = 0; step < 40; step++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(`(${matches.toString()})(document.activeElement)`)) return;
      }
      throw new Error(`Tab never reached ${wanted}`);
    };
    const focusRing = () =>
      page.evaluate(() => {
        const style = getComputedStyle(document.activeElement as Element);
        return { style: style.outlineStyle, width: Number.parseFloat(style.outlineWidth) };
      });

    // Pause all, by keyboard; the ring shows where the focus is.
    await tabTo('Pause all', (element) => element.getAttribute('data-testid') === 'pause-all');
    expect(await focusRing()).toEqual({ style: 'solid', width: 2 });
    await page.keyboard.press('Enter');
    await page.getByTestId('pause-all').getByText('Resume all').waitFor();
    await page.keyboard.press('Space');
    await page.getByTestId('pause-all').getByText('Pause all').waitFor();

    // The upload limit: typed and set with Enter.
    await tabTo('the upload limit', (element) => element.getAttribute('aria-label') === 'Upload limit in MiB per second (empty: none)');
    await page.keyboard.type('2');
    await page.keyboard.press('Enter');
    await page.getByText('now 2.0 MiB/s').waitFor();
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await page.getByText('unlimited').waitFor();

    // The tabs: one stop; the arrows move between views.
    await tabTo('the selected tab', (element) => element.getAttribute('role') === 'tab');
    expect(await focusRing()).toEqual({ style: 'solid', width: 2 });
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Files' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-files');

    // The file list: reached by Tab, rows chosen with the arrows.
    await tabTo('the file list', (element) => element.getAttribute('role') === 'grid');
    await page.locator('[data-path="a.txt"]').waitFor();
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('[role="row"][aria-selected="true"]').getAttribute('data-path')).toBe('sub/b.txt');

    // Every view at 200%: no sideways scrolling, no serious axe finding; screenshots for a look.
    const findings: string[] = [];
    for (const [id, , english] of VIEWS) {
      const tab = page.locator(`#tab-${id}`);
      expect(await tab.textContent()).toMatch(new RegExp(`^${english}`));
      await tab.click();
      await page.locator(`[role="tabpanel"][aria-labelledby="tab-${id}"]`).waitFor();
      const overflow = await page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        // What sticks out, to say in the failure what to fix.
        const wide = [...document.querySelectorAll('body *')].filter((element) => element.getBoundingClientRect().right > width + 0.5).map((element) => `${element.tagName.toLowerCase()}.${element.className}`);
        return { by: document.documentElement.scrollWidth - width, wide: wide.slice(0, 5) };
      });
      expect(overflow, `${id} scrolls sideways at 200%`).toEqual({ by: 0, wide: [] });
      await page.screenshot({ path: join(ARTIFACTS, `zoom200-${id}.png`), fullPage: true });
      findings.push(...(await seriousFindings(page)).map((finding) => `${id}: ${finding}`));
    }
    expect(findings).toEqual([]);
  });
}, 240_000);
