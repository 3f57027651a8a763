import { describe, expect, it, vi } from 'vitest';
import { formatDuration, LiveProgress, RateMeter } from './live-progress.js';

describe('live progress', () => {
  it('formats durations', () => {
    expect(formatDuration(5)).toBe('0:05');
    expect(formatDuration(125)).toBe('2:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('--:--');
  });

  it('measures the recent rate', () => {
    const meter = new RateMeter();
    meter.record(0, 0);
    meter.record(1000, 10 * 1024 * 1024);
    expect(meter.bytesPerSecond()).toBe(10 * 1024 * 1024);
  });

  it('redraws a block with files in flight, totals, speed and ETA, and keeps finished lines', () => {
    vi.useFakeTimers();
    let clock = 0;
    let screen = '';
    const plainLines: string[] = [];
    const live = new LiveProgress((text) => (screen += text), (event) => plainLines.push(event.type), () => 100, () => clock);
    const MiB = 1024 * 1024;
    live.handle({ type: 'run-started', direction: 'backup', files: 2, bytes: 100 * MiB });
    live.handle({ type: 'file-started', path: '/data/a.bin', key: 'a.bin', bytes: 60 * MiB });
    clock = 2000;
    live.handle({ type: 'file-progress', path: '/data/a.bin', bytesDone: 20 * MiB, bytes: 60 * MiB });
    screen = '';
    vi.advanceTimersByTime(150);
    expect(screen).toContain('/data/a.bin');
    expect(screen).toContain('20.0 MiB/60.0 MiB  33%');
    expect(screen).toMatch(/uploading 0\/2 files {2}20\.0 MiB\/100\.0 MiB 20% {2}10\.0 MiB\/s {2}ETA 0:08/);
    live.handle({ type: 'file-finished', path: '/data/a.bin', key: 'a.bin', bytes: 60 * MiB, result: 'uploaded', detail: 'x' });
    expect(screen).toContain('\x1b['); // the block was erased before the permanent line
    expect(plainLines).toEqual(['run-started', 'file-finished']);
    live.handle({ type: 'run-finished', direction: 'backup', succeeded: 1, failed: 0, skipped: 0, bytes: 60 * MiB, seconds: 3 });
    expect(plainLines.at(-1)).toBe('run-finished');
    vi.useRealTimers();
  });
});
