// The thread side of core/worker-pool.ts. A pool sends each thread its init as the first message,
// not as workerData, because the thread may have been booted before the init existed
// (prestartWorkers: the repository key comes after the KDF).
import { parentPort } from 'node:worker_threads';

/**
 * Calls `start` with the pool's init (the first message), then gives every later message, a job,
 * to the handler `start` returned. Synchronous, so no job can slip in before the handler is set.
 */
export function serve<Init, Job>(start: (init: Init) => (job: Job) => void): void {
  const port = parentPort;
  if (port === null) throw new Error('serve() runs in a worker thread');
  let handle: ((job: Job) => void) | undefined;
  port.on('message', (message: unknown) => {
    if (handle === undefined) handle = start(message as Init);
    else handle(message as Job);
  });
}
