// Whether a process id belongs to a running process on this host: for files named after the
// process that made them (locks, half-made caches), removed once it is gone. A pid reused since
// by another process only delays that removal; nothing is ever removed for a live one.
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as someone else. ESRCH: no such process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
