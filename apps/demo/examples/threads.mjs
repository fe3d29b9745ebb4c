// The threads chapter: one CPU-heavy task on the event loop's own thread, then the same task on a
// worker thread. A timer that should tick every 10 ms shows how long the event loop was stuck.
//
//   node apps/demo/examples/threads.mjs
//
// A thread is a light process: it shares its process's memory but has its own stack and is
// scheduled by the kernel (a kernel thread). Node runs your JavaScript on one thread, the event
// loop; `node:worker_threads` starts more kernel threads, each with its own event loop.
import { isMainThread, parentPort, threadId, Worker, workerData } from 'node:worker_threads';

function countPrimes(n) {
  let count = 0;
  for (let k = 2; k <= n; k++) {
    let prime = true;
    for (let d = 2; d * d <= k; d++) {
      if (k % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

if (!isMainThread) {
  parentPort.postMessage({ primes: countPrimes(workerData.n), thread: threadId });
} else {
  const n = Number(process.argv[2] ?? 3_000_000);
  /** Runs `task` while a 10 ms timer ticks; resolves with the result and the longest gap seen. */
  async function measure(task) {
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 10);
    const started = performance.now();
    const result = await task();
    const ms = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the timer see the end
    clearInterval(timer);
    return { result, ms, worst };
  }

  console.log(`process ${process.pid}, main thread id ${threadId}; counting primes <= ${n}`);
  const a = await measure(async () => countPrimes(n));
  console.log(
    `on the event loop (thread ${threadId}): ${a.result} primes in ${a.ms.toFixed(0)} ms; the event loop was stuck for ${a.worst.toFixed(0)} ms (a server would answer nobody meanwhile)`,
  );
  const b = await measure(
    () =>
      new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { n } });
        worker.once('message', resolve).once('error', reject);
      }),
  );
  console.log(
    `on a worker thread (thread ${b.result.thread}): ${b.result.primes} primes in ${b.ms.toFixed(0)} ms; the event loop's longest wait was ${b.worst.toFixed(0)} ms (it stayed free)`,
  );
}
