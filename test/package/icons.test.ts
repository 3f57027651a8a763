/**
 * The icons electron-builder is given exist and are what they claim: drawn from build/icon.svg
 * by `npm run icons`, square PNGs at their named sizes, and a 1024 px one for macOS and Windows
 * (electron-builder makes .icns and .ico from it and wants at least 512 px).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Width and height from a PNG's IHDR chunk. */
async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const bytes = await readFile(path);
  expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), `${path} is a PNG`).toBe(true);
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

it('gives electron-builder existing icons of the sizes it needs', async () => {
  const config = JSON.parse(await readFile(join(ROOT, 'build/electron-builder.json'), 'utf8')) as { linux: { icon: string }; mac: { icon: string }; win: { icon: string } };
  const linuxIcons = (await readdir(join(ROOT, config.linux.icon))).sort();
  expect(linuxIcons).toEqual(['128x128.png', '16x16.png', '256x256.png', '32x32.png', '48x48.png', '512x512.png', '64x64.png']);
  for (const name of linuxIcons) {
    const size = Number(name.split('x')[0]);
    expect(await pngSize(join(ROOT, config.linux.icon, name))).toEqual({ width: size, height: size });
  }
  for (const icon of [config.mac.icon, config.win.icon]) expect(await pngSize(join(ROOT, icon))).toEqual({ width: 1024, height: 1024 });
});
