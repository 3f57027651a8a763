/** cosync's version: package.json's, read once (dist/main/config → the package root). */
import { readFile } from 'node:fs/promises';

let cached: Promise<string> | undefined;

export function cosyncVersion(): Promise<string> {
  cached ??= readFile(new URL('../../../package.json', import.meta.url), 'utf8').then((text) => (JSON.parse(text) as { version: string }).version);
  return cached;
}
