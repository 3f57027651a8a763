/**
 * Numbers, sizes, rates, durations and dates for people, in a locale, with `Intl` (ECMA-402) so
 * nothing here depends on Node or the DOM. One formatter serves the window (in the language it
 * shows) and the CLI (always English: its messages stay English, as rclone's and coscli's do, but
 * its figures are formatted here too, so both say "1.5 MiB" the same way).
 *
 * Sizes keep binary units (KiB, MiB: 1024-based, as the part sizes and the bandwidth limit are
 * set) in every language; only the number is localized.
 */

/** The formats of one locale. */
export interface Formatter {
  readonly locale: string;
  /** A count: 10,000 (en), 10,000 (zh-CN). */
  number(value: number): string;
  /** A byte count: 0 B, 1.5 KiB, 20.0 MiB. */
  bytes(bytes: number): string;
  /** A speed: 1.5 MiB/s. */
  rate(bytesPerSecond: number): string;
  /** An estimate or a wait, to the two largest units: 59 sec, 2 min 5 sec, 2 hr 1 min (2小时1分钟). */
  duration(seconds: number): string;
  /** How long ago a moment was: "now", "30 seconds ago", "2 minutes ago"; older than an hour, its date and time. */
  ago(time: number, now: number): string;
  /** A calendar date: Dec 1, 2026 (2026年12月1日). */
  date(time: number | string | Date): string;
  /** A time of day: 8:05:09 PM (20:05:09). */
  time(time: number | string | Date): string;
  /** A date and time with its zone, unambiguous in a log or a terminal. */
  dateTime(time: number | string | Date): string;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
/** Under this, "just now" rather than a count of seconds. */
const JUST_NOW_SECONDS = 10;

/** The formatter for a BCP 47 locale ('en', 'zh-CN'); Intl falls back to its default for one it lacks. */
export function createFormatter(locale: string): Formatter {
  const whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const tenths = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const unit = (name: 'second' | 'minute' | 'hour') => new Intl.NumberFormat(locale, { style: 'unit', unit: name, unitDisplay: 'short', maximumFractionDigits: 0 });
  const seconds = unit('second');
  const minutes = unit('minute');
  const hours = unit('hour');
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const times = new Intl.DateTimeFormat(locale, { timeStyle: 'medium' });
  const dateTimes = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'long' });
  const recent = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  // Chinese writes "2分钟5秒" without a space; English "2 min 5 s" with one.
  const joiner = locale.toLowerCase().startsWith('zh') ? '' : ' ';
  const toDate = (time: number | string | Date): Date => (time instanceof Date ? time : new Date(time));

  const bytes = (count: number): string => {
    let value = count;
    let step = 0;
    while (value >= 1024 && step < BYTE_UNITS.length - 1) {
      value /= 1024;
      step++;
    }
    return step === 0 ? `${whole.format(Math.round(value))} B` : `${tenths.format(value)} ${BYTE_UNITS[step]}`;
  };

  const duration = (total: number): string => {
    if (total < 60) return seconds.format(Math.max(1, Math.round(total)));
    if (total < 3600) return [minutes.format(Math.floor(total / 60)), seconds.format(Math.round(total % 60))].join(joiner);
    return [hours.format(Math.floor(total / 3600)), minutes.format(Math.round((total % 3600) / 60))].join(joiner);
  };

  return {
    locale,
    number: (value) => whole.format(value),
    bytes,
    rate: (bytesPerSecond) => `${bytes(bytesPerSecond)}/s`,
    duration,
    ago: (time, now) => {
      const elapsed = Math.max(0, (now - time) / 1000);
      if (elapsed < JUST_NOW_SECONDS) return relative.format(0, 'second');
      if (elapsed < 60) return relative.format(-Math.round(elapsed), 'second');
      if (elapsed < 3600) return relative.format(-Math.floor(elapsed / 60), 'minute');
      return recent.format(toDate(time));
    },
    date: (time) => dates.format(toDate(time)),
    time: (time) => times.format(toDate(time)),
    dateTime: (time) => dateTimes.format(toDate(time)),
  };
}

/** The CLI's formats: English, whatever the terminal's locale, like its messages. */
export const CLI_FORMAT: Formatter = createFormatter('en-US');
