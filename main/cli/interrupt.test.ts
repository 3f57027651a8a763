import { afterEach, expect, it, vi } from 'vitest';
import { EXIT_CODES } from './exit-codes.js';
import { listenForInterrupt } from './interrupt.js';

afterEach(() => vi.restoreAllMocks());

it('the first Ctrl-C aborts the run and says so; the second exits at once with 130', () => {
  const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  const told = vi.fn();
  const interruption = listenForInterrupt(told);
  try {
    process.emit('SIGINT');
    expect(interruption.interrupted).toBe(true);
    expect(interruption.signal.reason).toMatchObject({ code: 'aborted' });
    expect(told).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    process.emit('SIGINT');
    expect(exit).toHaveBeenCalledWith(EXIT_CODES.interrupted.code);
  } finally {
    interruption.dispose();
  }
  expect(process.listenerCount('SIGINT')).toBe(0);
});
