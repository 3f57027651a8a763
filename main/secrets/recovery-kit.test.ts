/** Recovery kits, JSON and printable: written 0600, read back, and a mistyped key is caught by the fingerprint. */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { formatKit, formatPrintableKit, readKit, writeKit } from './recovery-kit.js';
import { SseCustomerKey } from './secret-values.js';

const key = SseCustomerKey.generate();
const location = { endpoint: 'https://cos.ap-guangzhou.myqcloud.com', bucket: 'examplebucket-1250000000', prefix: 'photos/' };
const now = new Date('2026-11-27T10:00:00Z');

it('reads back both forms, with the name and where the key is used', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'cosync-kit-'));
  for (const [name, format] of [
    ['kit.json', formatKit],
    ['kit.txt', formatPrintableKit],
  ] as const) {
    const path = join(directory, name);
    await writeKit(path, format('photos', key, location, now), false);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const read = await readKit(path);
    expect(read.key.fingerprint).toBe(key.fingerprint);
    expect(read.name).toBe('photos');
    await expect(writeKit(path, 'x', false)).rejects.toThrow(/already exists; choose another file or pass --force/);
  }
  expect((await readKit(join(directory, 'kit.json'))).location).toEqual(location);
});

it('prints the key in groups of four, with the fingerprint and how to restore', () => {
  const text = formatPrintableKit('photos', key, location, now);
  expect(text).toMatch(/^COSYNC RECOVERY KIT — key "photos"/);
  const groups = text.match(/^Key \(base64\): (.+)\n\s+(.+)$/m);
  expect(`${groups?.[1]} ${groups?.[2]}`.split(' ').join('')).toBe(key.revealBase64());
  expect(groups?.[1]?.split(' ').every((group) => group.length === 4)).toBe(true);
  expect(text).toContain(`Fingerprint:  ${key.fingerprint}`);
  expect(text).toContain('Prefix:       photos/');
  expect(text).toContain('cosync key import photos --from THAT-FILE');
});

it('a key typed back from paper with a mistake is refused, naming the check', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'cosync-kit-'));
  const printed = formatPrintableKit('photos', key, location, now);
  const base64 = key.revealBase64();
  // Change one character of the key (keeping it valid base64 of 32 bytes).
  const wrongChar = base64[5] === 'A' ? 'B' : 'A';
  const typo = printed.replace(base64.slice(4, 8), base64.slice(4, 5) + wrongChar + base64.slice(6, 8));
  const path = join(directory, 'typed.txt');
  await writeFile(path, typo);
  await expect(readKit(path)).rejects.toThrow(/a character was mistyped \(check each group of four\); nothing was imported/);
  await writeFile(path, 'hello');
  await expect(readKit(path)).rejects.toThrow(/not a cosync recovery kit \(neither its JSON form nor its printable form\)/);
  expect(await readFile(path, 'utf8')).toBe('hello');
});
