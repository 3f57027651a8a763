#!/usr/bin/env node
// The `cosync` command: runs the compiled CLI (built by `npm install` / `npm run build`).
// First, before anything that an old Node could not load: refuse a Node older than `engines`.
import './require-node.js';
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('cosync: not built yet; run `npm run build` in the cosync folder first\n');
  process.exit(1);
}
await import(entry.href);
