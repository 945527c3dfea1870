// Whether a process id belongs to a running process on this host: for locks, runs and leftovers
// named after the process that made them. A pid reused since by an unrelated process reads as
// alive, the safe side: a run keeps blocking, a lock stays held, a leftover is removed later.
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as someone else. ESRCH: no such process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
