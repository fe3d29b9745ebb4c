import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode, WebSocketError, WebSocketErrorCode } from '../src/index';
import { rawClient, startServer } from './_helpers';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('WebSocketErrorCode: one table maps each code to its close code and status', () => {
  it('every code is a stable WS_* string, and the class takes its numbers from the code', () => {
    const codes = Object.values(WebSocketErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) {
      expect(c).toMatch(/^WS_[A-Z0-9_]+$/);
      const e = new WebSocketError(c, 'x');
      expect(e.code).toBe(c);
      expect(Number.isInteger(e.closeCode) && Number.isInteger(e.status)).toBe(true);
      // a handshake refusal has a status and no close code; a connection error the reverse
      if (e.status !== 0) expect(e.closeCode).toBe(0);
    }
    expect(new WebSocketError(WebSocketErrorCode.RSV_BITS, '').closeCode).toBe(CloseCode.PROTOCOL_ERROR);
    expect(new WebSocketError(WebSocketErrorCode.INVALID_UTF8, '').closeCode).toBe(CloseCode.INVALID_PAYLOAD);
    expect(new WebSocketError(WebSocketErrorCode.TOO_BIG, '').closeCode).toBe(CloseCode.MESSAGE_TOO_BIG);
    expect(new WebSocketError(WebSocketErrorCode.BACKPRESSURE_TIMEOUT, '').closeCode).toBe(
      CloseCode.POLICY_VIOLATION,
    );
    expect(new WebSocketError(WebSocketErrorCode.VERSION, '').status).toBe(426);
    expect(new WebSocketError(WebSocketErrorCode.ORIGIN, '').status).toBe(403);
    expect(new WebSocketError(WebSocketErrorCode.METHOD, '').status).toBe(405);
  });

  it('handleProtocols choosing a protocol not offered: 500 WS_PROTOCOL_NOT_OFFERED on the wire', async () => {
    const s = await startServer({ handleProtocols: () => 'nope' });
    cleanups.push(s.close);
    const c = await rawClient(s.port, 'Sec-WebSocket-Protocol: chat\r\n');
    cleanups.push(() => {
      c.socket.destroy();
    });
    expect(c.head).toMatch(/^HTTP\/1\.1 500 /);
    expect(c.head).toContain('X-WebSocket-Error: WS_PROTOCOL_NOT_OFFERED');
  });

  it('a handshake callback that throws: 500 WS_INTERNAL on the wire', async () => {
    const s = await startServer({
      verifyOrigin: () => {
        throw new Error('boom');
      },
    });
    cleanups.push(s.close);
    const rejected = new Promise<WebSocketError>((r) => s.wss.once('rejected', r));
    const c = await rawClient(s.port, 'Origin: http://a.example\r\n');
    cleanups.push(() => {
      c.socket.destroy();
    });
    expect(c.head).toMatch(/^HTTP\/1\.1 500 /);
    expect(c.head).toContain('X-WebSocket-Error: WS_INTERNAL');
    expect((await rejected).code).toBe(WebSocketErrorCode.INTERNAL);
  });
});
