/**
 * Ctrl-C for a one-off transfer: the first SIGINT (or SIGTERM) aborts the run's signal, so no
 * new file or part starts, parts in flight end or stay journaled, and the command says how to
 * resume; a second SIGINT exits at once (EXIT_CODES.interrupted), for a user who will not wait.
 */
import { setMaxListeners } from 'node:events';
import { CosyncError } from '../../app/result.js';
import { EXIT_CODES } from './exit-codes.js';

/** What the first Ctrl-C of a transfer (backup, restore, sync --once) tells the user. */
export const STOPPING_MESSAGE = 'cosync: stopping: no new file or part starts; parts in flight finish or are kept to resume (Ctrl-C again quits at once)\n';

/** A run's cancellation by the user, until disposed. */
export interface Interruption {
  readonly signal: AbortSignal;
  /** Whether the user interrupted the run. */
  readonly interrupted: boolean;
  dispose(): void;
}

/** Listens for Ctrl-C; `onFirst` tells the user the run is stopping. */
export function listenForInterrupt(onFirst: () => void): Interruption {
  const abort = new AbortController();
  // Every request in flight listens to the signal; past 10 listeners Node would print a leak warning.
  setMaxListeners(1000, abort.signal);
  const onSignal = (): void => {
    if (abort.signal.aborted) process.exit(EXIT_CODES.interrupted.code);
    abort.abort(new CosyncError('aborted', 'interrupted'));
    onFirst();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    get interrupted() {
      return abort.signal.aborted;
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
