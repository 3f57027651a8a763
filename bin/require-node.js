// Refuses a Node older than package.json's `engines.node` (a `>=MAJOR.MINOR` range), with the
// command that installs a supported one. Imported first by bin/cosync.js; run by `npm install`
// (preinstall), so native modules are never built for a Node that cosync does not run on.
// Plain ES2020 with no dependencies, so that it still runs, and explains, on an old Node.
import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const range = packageJson.engines.node;
const match = /^>=(\d+)\.(\d+)$/.exec(range);
if (match === null) throw new Error(`bin/require-node.js: package.json engines.node must be ">=MAJOR.MINOR", not ${JSON.stringify(range)}`);
const [major, minor] = process.versions.node.split('.').map(Number);
const [needMajor, needMinor] = [Number(match[1]), Number(match[2])];
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  process.stderr.write(
    `cosync: needs Node ${needMajor}.${needMinor} or later (Node 24 LTS recommended); this is Node ${process.versions.node} (${process.execPath}).\n` +
      `  In the cosync folder, run \`. scripts/node-runtime.sh\`: it installs Node 24 LTS from the npm registry into .tools/node and puts it first on PATH; then run the command again.\n`,
  );
  process.exit(1);
}
