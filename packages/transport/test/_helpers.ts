import { connect, type Socket } from 'node:net';
import type { Connection, ConnectionHandlers, Listener, ListenerAddress } from '../src/index';

/** TCP port of a listener bound to host/port. */
export function portOf(l: Listener): number {
  const a: ListenerAddress = l.address();
  if (!('port' in a)) throw new Error('not a TCP listener');
  return a.port;
}

/** Connect a node:net client and wait until connected. */
export function dial(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Collect everything a client socket receives until it ends or closes. */
export function collect(s: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('error', () => {});
    s.once('close', () => resolve(Buffer.concat(parts)));
  });
}

/** Resolve once the predicate holds (polled; bounded by `ms`). */
export async function until(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Records every handler call (event log) and keeps the connections seen. */
export class Recorder implements ConnectionHandlers {
  events: string[] = [];
  conns: Connection[] = [];
  received = new Map<number, Buffer[]>();
  closeErrors = new Map<number, Error | undefined>();
  onOpen(conn: Connection): void {
    this.events.push(`open:${conn.id}`);
    this.conns.push(conn);
  }
  onData(conn: Connection, chunk: Uint8Array): void {
    this.events.push(`data:${conn.id}`);
    let list = this.received.get(conn.id);
    if (!list) this.received.set(conn.id, (list = []));
    list.push(Buffer.from(chunk)); // copy: chunk is only valid during the call
  }
  onClose(conn: Connection, err?: Error): void {
    this.events.push(`close:${conn.id}`);
    this.closeErrors.set(conn.id, err);
  }
  text(id: number): string {
    return Buffer.concat(this.received.get(id) ?? []).toString();
  }
}
