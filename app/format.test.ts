/** Sizes, speeds, durations and dates read naturally in English and in Chinese. */
import { describe, expect, it } from 'vitest';
import { CLI_FORMAT, createFormatter } from './format.js';

describe('formatter', () => {
  it.each<[string, (locale: string) => string, string, string]>([
    ['a count', (locale) => createFormatter(locale).number(12_345), '12,345', '12,345'],
    ['bytes', (locale) => createFormatter(locale).bytes(1023), '1,023 B', '1,023 B'],
    ['KiB', (locale) => createFormatter(locale).bytes(1536), '1.5 KiB', '1.5 KiB'],
    ['a speed', (locale) => createFormatter(locale).rate(20 * 1024 * 1024), '20.0 MiB/s', '20.0 MiB/s'],
    ['a moment', (locale) => createFormatter(locale).duration(0.2), '1 sec', '1秒'],
    ['minutes', (locale) => createFormatter(locale).duration(125), '2 min 5 sec', '2分钟5秒'],
    ['hours', (locale) => createFormatter(locale).duration(7260), '2 hr 1 min', '2小时1分钟'],
    ['just now', (locale) => createFormatter(locale).ago(1_000, 5_000), 'now', '现在'],
    ['seconds ago', (locale) => createFormatter(locale).ago(0, 30_000), '30 seconds ago', '30秒钟前'],
    ['minutes ago', (locale) => createFormatter(locale).ago(0, 125_000), '2 minutes ago', '2分钟前'],
  ])('%s', (_what, format, english, chinese) => {
    expect(format('en-US')).toBe(english);
    expect(format('zh-CN')).toBe(chinese);
  });

  it('writes dates in the locale, and with the zone where they must be unambiguous', () => {
    const time = Date.UTC(2026, 11, 1, 20, 5, 9);
    expect(createFormatter('zh-CN').date(time)).toMatch(/^2026年12月[12]日$/);
    expect(createFormatter('en-US').date(time)).toMatch(/^Dec [12], 2026$/);
    // An hour and more ago: the date itself, not a relative time.
    expect(createFormatter('en-US').ago(time, time + 4 * 3600_000)).toMatch(/2026/);
    expect(CLI_FORMAT.dateTime(new Date(time))).toMatch(/2026, \d+:\d\d:\d\d [AP]M \S+$/);
  });
});
