// Preloaded into every Node benchmark server (`node --expose-gc --import ./servers/_heap.mjs`).
// On SIGUSR2 it runs two full garbage collections and prints `HEAP <bytes>`: the live JS heap
// (`process.memoryUsage().heapUsed`) once everything unreachable is gone. The runner asks after a
// run's load has stopped, so what is left is the server's own steady state plus whatever it still
// holds of the closed connections.
process.on('SIGUSR2', () => {
  // Let sockets that wrk closed a moment ago finish closing (their 'close' runs on the next turns).
  setTimeout(() => {
    globalThis.gc?.();
    globalThis.gc?.();
    process.stdout.write(`HEAP ${process.memoryUsage().heapUsed}\n`);
  }, 100);
});
