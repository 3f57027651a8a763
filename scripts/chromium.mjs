// Debian's Chromium driven by playwright-core (its own browsers cannot be downloaded here; see
// TESTBED.md), with a fresh profile per launch. Used by the UI end-to-end test and `bench:ui`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.COSYNC_CHROMIUM ?? '/usr/bin/chromium';

/**
 * A headless Chromium with a throwaway profile; close() removes the profile too. `options` adds
 * context options such as `locale` (the browser's language, navigator.languages) or
 * `deviceScaleFactor`.
 */
export async function launchChromium(viewport = { width: 1280, height: 860 }, options = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'cosync-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    ...options,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
