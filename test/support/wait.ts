/**
 * Waiting in tests for something to happen, never for a guessed number of milliseconds: a loaded
 * 2-core CI box makes every guess wrong some day. Neither helper has a deadline of its own: the
 * test's timeout bounds the wait.
 */

/**
 * Resolves once `condition` holds: checked at once and again after every event `subscribe`
 * delivers (for a source that announces its changes, such as the engine's events).
 */
export function untilEvent<E>(subscribe: (listener: (event: E) => void) => () => void, condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    // The unsubscribe function arrives only when subscribe returns; an event delivered during
    // subscribe is checked all the same, and the subscription ended right after.
    const subscription: { stop?: () => void; met: boolean } = { met: false };
    const check = (): void => {
      if (subscription.met || !condition()) return;
      subscription.met = true;
      subscription.stop?.();
      resolve();
    };
    subscription.stop = subscribe(check);
    if (subscription.met) subscription.stop();
    else check();
  });
}

/**
 * Resolves once `condition` holds, asking again and again (for a state that announces nothing,
 * such as a bucket's listing). The pause only spaces the questions; it decides nothing.
 */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
}
