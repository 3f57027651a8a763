// A child process for the crash tests of main/fs/atomic-write.ts and main/fs/file-lock.ts: it
// writes or locks through the built helpers and reports each step on stdout, so the test can
// SIGKILL it at an observed point (never after a guessed delay).
//
//   node write-child.mjs loop FILE              writes versions 1, 2, 3 … of FILE; prints "wrote N" after each
//   node write-child.mjs stall-rename FILE N    writes version N, but stops for good at its rename; prints "renaming"
//   node write-child.mjs hold-lock LOCKFILE     takes the lock, prints "holding", keeps it until killed
import { createHash } from 'node:crypto';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const [mode, path, count] = process.argv.slice(2);
/** Stays alive until killed (a promise alone does not keep Node running: it would exit with 13). */
const forever = () => new Promise(() => setInterval(() => {}, 60_000));
const dist = new URL('../../dist/main/fs/', import.meta.url);

/**
 * Version `n` of the test file: a header naming the version and the body's SHA-256, then 4 MiB.
 * The two bodies are made once, so the loop spends its time writing (where a kill must not hurt).
 */
const bodies = [0, 1].map((parity) => {
  const body = Buffer.alloc(4 * 1024 * 1024, `body ${parity} `);
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
});
function versionBytes(n) {
  const { body, sha256 } = bodies[n % 2];
  return Buffer.concat([Buffer.from(`${JSON.stringify({ version: n, sha256 })}\n`), body]);
}

if (mode === 'stall-rename') {
  // Fault injection at the OS edge: the helper's rename (and link) never return, so the process
  // is certainly between its write and its rename when the test kills it.
  const promises = createRequire(import.meta.url)('node:fs/promises');
  const stall = async () => {
    process.stdout.write('renaming\n');
    await forever();
  };
  promises.rename = stall;
  promises.link = stall;
  syncBuiltinESMExports();
}

if (mode === 'loop' || mode === 'stall-rename') {
  const { writeFileAtomic } = await import(new URL('atomic-write.js', dist).href);
  for (let n = Number(count ?? 1); ; n++) {
    await writeFileAtomic(path, versionBytes(n), { mode: 0o600 });
    process.stdout.write(`wrote ${n}\n`);
  }
} else if (mode === 'hold-lock') {
  const { withFileLock } = await import(new URL('file-lock.js', dist).href);
  await withFileLock(path, { subject: 'the test file', code: 'busy' }, async () => {
    process.stdout.write('holding\n');
    await forever();
  });
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
