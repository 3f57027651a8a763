/** Numbers and times for people. */
export { formatBytes } from '../../app/transfer-events.js';
import { formatBytes } from '../../app/transfer-events.js';

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** "3 min ago", or the date for older times. */
export function formatAgo(time: number, now: number): string {
  const seconds = Math.max(0, (now - time) / 1000);
  if (seconds < 10) return 'just now';
  if (seconds < 3600) return `${formatDuration(seconds).split(' ').slice(0, 2).join(' ')} ago`;
  return new Date(time).toLocaleString();
}

export function plural(count: number, noun: string): string {
  return `${count.toLocaleString()} ${noun}${count === 1 ? '' : 's'}`;
}
