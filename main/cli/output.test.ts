import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { transferPrinter } from './output.js';

function capture(json: boolean) {
  let stdout = '';
  const print = transferPrinter({ stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true }, stdin: Readable.from([]), env: {} }, json);
  return { print, output: () => stdout };
}

describe('transfer output', () => {
  it('says when an upload resumes, and summarizes the run', () => {
    const { print, output } = capture(false);
    print({ type: 'file-resumed', path: '/d/big.bin', key: 'big.bin', partsDone: 9, partCount: 25 });
    print({ type: 'file-finished', path: '/d/big.bin', key: 'big.bin', bytes: 200 * 1024 * 1024, result: 'uploaded', detail: 'multipart, 25 parts, 9 resumed' });
    print({ type: 'run-finished', direction: 'backup', succeeded: 1, failed: 0, skipped: 0, bytes: 200 * 1024 * 1024, seconds: 2 });
    expect(output()).toBe(
      'resumed: 9 of 25 parts already uploaded  /d/big.bin\n' +
        'uploaded  /d/big.bin -> big.bin  200.0 MiB  (multipart, 25 parts, 9 resumed)\n' +
        'backup: 1 uploaded, 0 failed; 200.0 MiB in 2.0 s, 100.0 MiB/s\n',
    );
  });

  it('prints one JSON object per event with --json', () => {
    const { print, output } = capture(true);
    print({ type: 'file-skipped', path: '/d/link', reason: 'symbolic link (not followed)' });
    expect(JSON.parse(output())).toEqual({ type: 'file-skipped', path: '/d/link', reason: 'symbolic link (not followed)' });
  });
});
