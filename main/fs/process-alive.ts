/** Whether a process with this pid exists on this host (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's (then it is not ours either, but it holds the pid).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
