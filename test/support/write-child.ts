/** Drives test/support/write-child.mjs (a writer or lock holder in its own process) from a test. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const CHILD = fileURLToPath(new URL('./write-child.mjs', import.meta.url));

/** Starts the child in one of its modes (see write-child.mjs). */
export function startWriteChild(...args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Resolves with the first stdout line that `accept` takes (the child's report of a step). */
export function waitForLine(child: ChildProcessWithoutNullStreams, accept: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      const found = lines.find(accept);
      if (found !== undefined) resolve(found);
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before reporting: ${stderr}`)));
  });
}

/** SIGKILL, and wait until the child is gone. */
export async function killChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  expect(child.exitCode, 'the child ended before it was killed').toBeNull();
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
