// `npm run icons`: the app's icons, all drawn from build/icon.svg (the one source) by Debian's
// Chromium: build/icons/NxN.png for Linux (electron-builder takes the folder), and
// build/icon.png (1024 px) from which electron-builder makes the macOS .icns and Windows .ico.
// The PNGs are committed, so packaging needs no browser; run this again after editing the SVG.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const svg = readFileSync(join(root, 'build/icon.svg'), 'utf8');
const LINUX_SIZES = [16, 32, 48, 64, 128, 256, 512];

const browser = await launchChromium({ width: 1024, height: 1024 });
try {
  const page = await browser.context.newPage();
  const render = async (size, file) => {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg style="display:block;width:${size}px;height:${size}px" `)}</body></html>`);
    await page.screenshot({ path: file, omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    console.log(`icons: ${file}`);
  };
  mkdirSync(join(root, 'build/icons'), { recursive: true });
  for (const size of LINUX_SIZES) await render(size, join(root, 'build/icons', `${size}x${size}.png`));
  await render(1024, join(root, 'build/icon.png'));
} finally {
  await browser.close();
}
