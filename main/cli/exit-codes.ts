/**
 * The exit codes of the `cosync` binary, so scripts can tell a usage error from a partial run
 * from a hiccup worth trying again, as rclone documents its own
 * (https://rclone.org/docs/#exit-code: "5 - Temporary error (one that more retries might fix)").
 * The README's table and `cosync --help` list them from here.
 */
import type { ErrorCode } from '../../app/result.js';

/** Every exit code cosync uses, with what it means. */
export const EXIT_CODES = {
  ok: { code: 0, meaning: 'success: everything was done' },
  failure: { code: 1, meaning: 'failure: the command did not do its job (bad credentials, a wrong key, a missing bucket, …)' },
  usage: { code: 2, meaning: 'usage error: an unknown command or option, or a missing or invalid argument; nothing was done' },
  someFailed: { code: 3, meaning: 'finished, but some files failed: the others were done; the failed ones are listed' },
  temporary: { code: 4, meaning: 'temporary error, try again: the store was unreachable, failing (5xx) or throttling after every retry' },
  // Not 3: nothing failed, and not 4: trying again soon does not help; the archive needs hours.
  stillRetrieving: { code: 5, meaning: 'finished, but some archived files are still being retrieved: the others were done; run the same restore again later (or with --wait)' },
  // 128 + SIGINT, as shells report a command ended by Ctrl-C and other CLIs exit on it.
  interrupted: { code: 130, meaning: 'interrupted (Ctrl-C): backup, restore, sync --once or key rotate stopped cleanly; run the same command again to resume' },
} as const;

/**
 * Errors that a later run may well not meet: the network or the store's own trouble, which
 * main/remote/retry.ts already retried (connection refused or reset, DNS, 5xx, throttling).
 */
export function isTemporary(code: ErrorCode): boolean {
  return code === 'endpoint-unreachable' || code === 'server-unavailable';
}

/** The exit code of an error that ended a command. */
export function exitCodeForError(code: ErrorCode): number {
  if (code === 'usage') return EXIT_CODES.usage.code;
  return isTemporary(code) ? EXIT_CODES.temporary.code : EXIT_CODES.failure.code;
}

/**
 * The exit code of a run that went through its files (backup, restore, sync): 0 when none failed
 * (5 when archived files are still being retrieved); 4 when every failure was temporary; 3 when
 * some failed and others were done; 1 when none was.
 */
export function exitCodeForRun(failures: ReadonlyArray<ErrorCode>, done: number, retrieving = 0): number {
  if (failures.length === 0) return retrieving > 0 ? EXIT_CODES.stillRetrieving.code : EXIT_CODES.ok.code;
  if (failures.every(isTemporary)) return EXIT_CODES.temporary.code;
  return done > 0 ? EXIT_CODES.someFailed.code : EXIT_CODES.failure.code;
}
