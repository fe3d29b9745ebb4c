/**
 * Worker-thread entry for the compute pool (built to dist/prime-worker.js). Receives
 * `{ id, n }`, answers `{ id, primes, ms }`. One job at a time; the pool queues the rest.
 */
import { parentPort } from 'node:worker_threads';
import { countPrimes } from './primes';

if (parentPort === null) throw new Error('prime-worker.js must run as a worker thread');
const port = parentPort;
port.on('message', (job: { id: number; n: number }) => {
  const start = performance.now();
  const primes = countPrimes(job.n);
  port.postMessage({ id: job.id, primes, ms: Math.round((performance.now() - start) * 10) / 10 });
});
