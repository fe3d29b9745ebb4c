/**
 * The WebSocket layer's diagnostics channels over real sockets: open (subprotocol), close (code and
 * reason from the `ws` client), and a protocol error (RSV bits on a frame) with its code.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import WsClient from 'ws';
import {
  WebSocketChannel,
  type WebSocketCloseMessage,
  type WebSocketErrorMessage,
  type WebSocketOpenMessage,
} from '../src/index';
import { clientFrame, rawClient, startServer } from './_helpers';

const cleanups: Array<() => Promise<void> | void> = [];
function on<T>(name: string, into: T[]): void {
  const fn = (m: unknown) => into.push(m as T);
  subscribe(name, fn);
  cleanups.push(() => {
    unsubscribe(name, fn);
  });
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(pred: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('strata:websocket:* channels', () => {
  it('open carries the subprotocol; close the code and reason the client sent', async () => {
    const opens: WebSocketOpenMessage[] = [];
    const closes: WebSocketCloseMessage[] = [];
    on(WebSocketChannel.OPEN, opens);
    on(WebSocketChannel.CLOSE, closes);
    const s = await startServer({ handleProtocols: (offered) => offered[0] ?? false });
    cleanups.push(s.close);
    const client = new WsClient(`ws://127.0.0.1:${s.port}/`, ['chat']);
    await new Promise((r) => client.once('open', r));
    client.close(4001, 'bye now');
    await until(() => closes.length === 1);
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({ server: true, protocol: 'chat', extensions: '' });
    expect(closes[0]).toMatchObject({ server: true, code: 4001, reason: 'bye now', error: null });
    expect(closes[0]!.websocket).toBe(opens[0]!.websocket);
  });

  it('a protocol error (RSV bits without an extension): error with its code and close code 1002', async () => {
    const errors: WebSocketErrorMessage[] = [];
    const closes: WebSocketCloseMessage[] = [];
    on(WebSocketChannel.ERROR, errors);
    on(WebSocketChannel.CLOSE, closes);
    const s = await startServer();
    cleanups.push(s.close);
    const c = await rawClient(s.port);
    cleanups.push(() => {
      c.socket.destroy();
    });
    c.socket.write(clientFrame(0x1, 'hi', true, 0b100));
    await until(() => closes.length === 1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ server: true, code: 'WS_RSV_BITS', closeCode: 1002 });
    expect(closes[0]).toMatchObject({ code: 1002 });
    expect(closes[0]!.error).toBe(errors[0]!.error);
  });
});
