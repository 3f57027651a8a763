/** Entry point of the `cosync` binary. */
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
});
