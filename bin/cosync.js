#!/usr/bin/env node
// The `cosync` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// Let V8 optimize a function only after four times the default amount of work (interrupt
// budget): a command's run is short, and compiling code that is warm only for a moment cost
// about a sixth of the CPU of a backup of 1,000 small files (measured: 2.1 → 1.7 CPU-s).
// Really hot code (hashing loops, the sync engine in a long `serve`) is still optimized.
// Set before any of cosync's modules load, so that all their functions get the larger budget.
setFlagsFromString('--interrupt-budget=270336');

const entry = new URL('../dist/main/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('cosync: not built yet; run `npm run build` in the cosync folder first\n');
  process.exit(1);
}
await import(entry.href);
