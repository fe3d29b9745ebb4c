import net from 'node:net';

/**
 * A connection that never reads: paused before it connects, so Node never reads from the kernel
 * and the client's receive window closes once its buffer is full. Resolves once connected.
 */
export function connectNeverReading(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
    sock.pause();
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.on('error', () => {}); // a reset once we destroy it, or once the server cuts it
      resolve(sock);
    });
  });
}

/** `request` repeated until it fills `bytes` (pipelined requests in one buffer). */
export function pipelined(request: string, bytes: number): { data: Buffer; count: number } {
  const count = Math.ceil(bytes / request.length);
  return { data: Buffer.from(request.repeat(count), 'latin1'), count };
}

/**
 * Send `request`, wait for the first bytes of the answer, then destroy the socket (a reset: the rest
 * of the answer is unread). Resolves with the bytes seen; rejects when nothing arrives in `timeoutMs`.
 */
export function abortAfterFirstBytes(
  port: number,
  request: string | Buffer,
  timeoutMs = 5000,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no response bytes in time'));
    }, timeoutMs);
    sock.on('error', () => {});
    sock.once('data', (d) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(d.length);
    });
    sock.once('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before any response byte'));
    });
    sock.once('connect', () => sock.write(request));
  });
}

/** Send `request` and read until the server closes; resolves with the whole answer (latin1). */
export function exchange(port: number, request: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close in time: ${Buffer.concat(got).toString('latin1').slice(0, 200)}`));
    }, timeoutMs);
    sock.on('data', (d) => got.push(d));
    sock.on('error', () => {}); // a reset after a 413 (the body was not read) still counts as answered
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got).toString('latin1'));
    });
    sock.once('connect', () => sock.write(request));
  });
}

/** Run `task(i)` for i in [0, n) with at most `concurrency` at once; resolves with every result. */
export async function bounded<T>(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, lane));
  return out;
}
