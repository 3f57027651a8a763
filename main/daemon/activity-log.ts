/** The log file's JSON lines as the window's Activity entries. */
import type { ActivityEntry } from '../../app/contract.js';
import { formatLogFields } from '../log/logger.js';

/** A log line as an activity entry; undefined for lines that are not cosync records. */
export function activityEntryOf(line: string): ActivityEntry | undefined {
  try {
    const { time, level, event, folder, ...fields } = JSON.parse(line) as Record<string, unknown>;
    if (typeof time !== 'string' || typeof event !== 'string') return undefined;
    const text = formatLogFields(fields);
    return {
      time,
      level: level === 'debug' || level === 'warn' || level === 'error' ? level : 'info',
      event,
      folder: typeof folder === 'string' ? folder : undefined,
      text,
    };
  } catch {
    return undefined;
  }
}
