import { describe, expect, it } from 'vitest';
import type { WebSocketError } from '../src/_constants';
import { formatDeflateParams, parseExtensions, readDeflateParams } from '../src/_deflate';
import { acceptKey, isValidKey, negotiate, type UpgradeRequest } from '../src/_handshake';
import { rawClient, startServer } from './_helpers';

function req(headers: Record<string, string>, method = 'GET', httpVersion = '1.1'): UpgradeRequest {
  const base: Record<string, string> = {
    host: 'example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
  };
  const all = { ...base, ...headers };
  const raw: string[] = [];
  for (const [k, v] of Object.entries(all)) if (v !== '') raw.push(k, v);
  return {
    method,
    httpVersion,
    rawHeaders: raw,
    header: (n) => (all[n] === '' ? undefined : all[n]),
  };
}

function refused(r: UpgradeRequest, opts = {}): WebSocketError {
  try {
    negotiate(r, { perMessageDeflate: {}, ...opts });
  } catch (e) {
    return e as WebSocketError;
  }
  throw new Error('accepted');
}

describe('handshake (RFC 6455 §4.2)', () => {
  it('computes Sec-WebSocket-Accept (RFC example)', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const ok = negotiate(req({}), { perMessageDeflate: null });
    expect(ok.response.toString()).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
    );
  });

  it('validates keys: 16 bytes of base64', () => {
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe(true);
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZR==')).toBe(false); // non-zero padding bits
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ=')).toBe(false);
    expect(isValidKey('dGhlIHNhbXBsZSBub25j*Q==')).toBe(false);
    expect(isValidKey('AAAAAAAAAAAAAAAAAAAAAAAAAA==')).toBe(false);
  });

  it('refuses bad requests with a status and a stable code', () => {
    const cases: Array<[UpgradeRequest, number, string]> = [
      [req({}, 'POST'), 405, 'WS_METHOD'],
      [req({}, 'GET', '1.0'), 400, 'WS_HTTP_VERSION'],
      [req({ upgrade: 'h2c' }), 400, 'WS_UPGRADE_HEADER'],
      [req({ upgrade: '' }), 400, 'WS_UPGRADE_HEADER'],
      [req({ connection: 'keep-alive' }), 400, 'WS_CONNECTION_HEADER'],
      [req({ 'sec-websocket-version': '8' }), 426, 'WS_VERSION'],
      [req({ 'sec-websocket-version': '' }), 426, 'WS_VERSION'],
      [req({ 'sec-websocket-key': 'short' }), 400, 'WS_KEY'],
      [req({ 'sec-websocket-key': '' }), 400, 'WS_KEY'],
      [req({ 'sec-websocket-extensions': 'permessage-deflate; x="unterminated' }), 400, 'WS_EXTENSIONS'],
      [req({ 'sec-websocket-protocol': 'a,,b' }), 400, 'WS_PROTOCOL'],
    ];
    for (const [r, status, code] of cases) {
      const e = refused(r);
      expect([e.status, e.code]).toEqual([status, code]);
    }
    expect(
      refused(req({ origin: 'https://evil.example' }), {
        verifyOrigin: (o: string) => o === 'https://good.example',
      }).status,
    ).toBe(403);
  });

  it('accepts token lists in Upgrade and Connection, case-insensitively', () => {
    expect(() =>
      negotiate(req({ connection: 'keep-alive, UPGRADE', upgrade: 'WebSocket' }), {
        perMessageDeflate: null,
      }),
    ).not.toThrow();
  });

  it('negotiates a subprotocol from the offered list', () => {
    const r = negotiate(req({ 'sec-websocket-protocol': 'chat, superchat' }), {
      perMessageDeflate: null,
      handleProtocols: (p) => p[1] ?? false,
    });
    expect(r.protocol).toBe('superchat');
    expect(r.response.toString()).toContain('Sec-WebSocket-Protocol: superchat\r\n');
    const none = negotiate(req({ 'sec-websocket-protocol': 'chat' }), {
      perMessageDeflate: null,
      handleProtocols: () => false,
    });
    expect(none.response.toString()).not.toContain('Sec-WebSocket-Protocol');
  });

  it('negotiates permessage-deflate (RFC 7692 §7.1)', () => {
    const ext = (offer: string, opts = {}) =>
      negotiate(req({ 'sec-websocket-extensions': offer }), { perMessageDeflate: opts }).deflate;
    expect(formatDeflateParams(ext('permessage-deflate')!)).toBe('permessage-deflate');
    expect(
      formatDeflateParams(ext('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 })!),
    ).toBe('permessage-deflate; client_max_window_bits=10');
    expect(
      formatDeflateParams(ext('permessage-deflate; server_max_window_bits=10; client_no_context_takeover')!),
    ).toBe('permessage-deflate; client_no_context_takeover; server_max_window_bits=10');
    expect(formatDeflateParams(ext('permessage-deflate', { serverNoContextTakeover: true })!)).toBe(
      'permessage-deflate; server_no_context_takeover',
    );
    // invalid offers are declined, the next acceptable one wins
    expect(
      formatDeflateParams(
        ext('permessage-deflate; server_max_window_bits=16, permessage-deflate; client_no_context_takeover')!,
      ),
    ).toBe('permessage-deflate; client_no_context_takeover');
    expect(ext('permessage-deflate; unknown_param')).toBeNull();
    expect(ext('permessage-deflate; server_no_context_takeover; server_no_context_takeover')).toBeNull();
    expect(ext('x-webkit-deflate-frame')).toBeNull();
    expect(
      negotiate(req({ 'sec-websocket-extensions': 'permessage-deflate' }), { perMessageDeflate: null })
        .deflate,
    ).toBeNull();
  });

  it('parses extension headers (tokens, quoted strings, lists)', () => {
    expect(parseExtensions('permessage-deflate; client_max_window_bits="10", foo')).toEqual([
      ['permessage-deflate', [['client_max_window_bits', '10']]],
      ['foo', []],
    ]);
    expect(parseExtensions('a;;b')).toBeNull();
    expect(parseExtensions('a; b=')).toBeNull();
    expect(readDeflateParams([['client_max_window_bits', '08']])).toBeNull();
    expect(readDeflateParams([['client_max_window_bits', '7']])).toBeNull();
    expect(readDeflateParams([['server_max_window_bits', true]])).toBeNull();
  });

  it('writes the error responses itself over a real socket', async () => {
    const s = await startServer({ verifyOrigin: (o) => o !== 'https://evil.example' });
    try {
      const v = await rawClient(s.port, 'Sec-WebSocket-Version: 8\r\n');
      // a second Sec-WebSocket-Version (8) next to 13: refused with 426 and the supported version
      expect(v.head).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
      expect(v.head).toContain('Sec-WebSocket-Version: 13\r\n');
      await v.waitClose();
      const o = await rawClient(s.port, 'Origin: https://evil.example\r\n');
      expect(o.head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
      expect(o.head).toContain('X-WebSocket-Error: WS_ORIGIN\r\n');
      const ok = await rawClient(s.port);
      expect(ok.head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
      ok.socket.destroy();
    } finally {
      await s.close();
    }
  });
});
