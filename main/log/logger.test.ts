import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileLogger } from './logger.js';

describe('FileLogger', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'cosync-log-'));
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(directory, { recursive: true, force: true });
  });

  const records = (file: string): Array<Record<string, unknown>> =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes each record as one JSON line as soon as it is logged, in a 0600 file', () => {
    const logger = new FileLogger(join(directory, 'logs'));
    logger.log('info', 'first', { n: 1 });
    // Readable before close: a kill -9 right after log() keeps the line.
    expect(records(logger.file).map((record) => record.event)).toEqual(['first']);
    logger.log('warn', 'second', { n: 2 });
    logger.log('debug', 'below the minimum level');
    expect(records(logger.file).map((record) => [record.level, record.event, record.n])).toEqual([
      ['info', 'first', 1],
      ['warn', 'second', 2],
    ]);
    expect(statSync(logger.file).mode & 0o777).toBe(0o600);
    logger.close();
  });

  it('appends to an existing log after a restart', () => {
    const first = new FileLogger(directory);
    first.log('info', 'before');
    first.close();
    const second = new FileLogger(directory);
    second.log('info', 'after');
    second.close();
    expect(records(join(directory, 'cosync.log')).map((record) => record.event)).toEqual(['before', 'after']);
  });

  it('rotates by size, keeping the newest files and counting what was there before it opened', async () => {
    const logger = new FileLogger(directory, { maxBytes: 400, keep: 2 });
    for (let index = 0; index < 40; index++) logger.log('info', 'line', { index, padding: 'x'.repeat(40) });
    logger.close();
    expect(readdirSync(directory).sort()).toEqual(['cosync.1.log', 'cosync.2.log', 'cosync.log']);
    for (const name of readdirSync(directory)) expect(statSync(join(directory, name)).size).toBeLessThanOrEqual(400);
    const kept = await new FileLogger(directory, { keep: 2 }).recentLines(1000);
    const indexes = kept.map((line) => (JSON.parse(line) as { index: number }).index);
    // The newest lines, in order, with nothing missing between them.
    expect(indexes.at(-1)).toBe(39);
    expect(indexes).toEqual(Array.from({ length: indexes.length }, (_, offset) => 40 - indexes.length + offset));

    // A logger opened on a nearly full file rotates at once instead of overshooting.
    const reopened = new FileLogger(directory, { maxBytes: statSync(join(directory, 'cosync.log')).size + 10, keep: 2 });
    reopened.log('info', 'does not fit');
    reopened.close();
    expect(records(join(directory, 'cosync.log')).map((record) => record.event)).toEqual(['does not fit']);
  });

  it('follows a rotation done by another process instead of writing into the renamed file forever', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const logger = new FileLogger(directory);
    logger.log('info', 'one');
    renameSync(logger.file, join(directory, 'cosync.1.log'));
    // Within the same second the open file is trusted: the line lands in the renamed file.
    logger.log('info', 'two');
    vi.setSystemTime(Date.now() + 1500);
    logger.log('info', 'three');
    logger.close();
    expect(records(join(directory, 'cosync.1.log')).map((record) => record.event)).toEqual(['one', 'two']);
    expect(records(logger.file).map((record) => record.event)).toEqual(['three']);
  });

  it('never throws when the log folder cannot be written, and still tells listeners', () => {
    // A file where the log folder's parent should be: mkdir fails.
    const blocked = join(directory, 'not-a-folder');
    writeFileSync(blocked, 'x');
    const logger = new FileLogger(join(blocked, 'logs'));
    const seen: string[] = [];
    logger.onDidLog((line) => seen.push(line));
    expect(() => logger.log('error', 'cannot write')).not.toThrow();
    expect(seen).toHaveLength(1);
    logger.close();
  });
});
