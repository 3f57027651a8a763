/** Entry point of the `cosync` binary. */
import { runCli } from './cli.js';

// The AWS SDK warns on Node 20 about its releases after January 2027; cosync pins an SDK version
// that supports Node 20, and a multi-line warning would break "errors are one line on stderr".
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await runCli(process.argv.slice(2), {
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
});
