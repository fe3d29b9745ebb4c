/**
 * The inspector's wire tap on raw bytes: each input whole, byte by byte and split at every point
 * must give every request exactly its own bytes and the same parser events.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionTap, MAX_KEPT_BYTES, type WireMessage } from '../src/wire-tap';

const enc = (s: string) => Buffer.from(s, 'latin1');

/** Feeds `input` as the given pieces and returns the messages in order plus the refused ones. */
function run(pieces: Uint8Array[]): { taken: WireMessage[]; rejected: WireMessage[] } {
  const rejected: WireMessage[] = [];
  const tap = new ConnectionTap((m) => rejected.push(m));
  for (const p of pieces) tap.feed(p);
  const taken: WireMessage[] = [];
  for (let m = tap.take(); m !== null; m = tap.take()) taken.push(m);
  return { taken, rejected };
}

/** The input whole, byte by byte, and split in two at every point. */
function splits(input: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [[input], Array.from(input, (_, i) => input.subarray(i, i + 1))];
  for (let i = 1; i < input.length; i++) out.push([input.subarray(0, i), input.subarray(i)]);
  return out;
}

/** Events with consecutive body pieces merged (their sizes depend on how the bytes were split). */
function normalised(events: string[]): string[] {
  const out: string[] = [];
  let body = 0;
  for (const e of events) {
    const m = /^body (\d+) bytes$/.exec(e);
    if (m !== null) {
      body += Number(m[1]);
      continue;
    }
    if (body > 0) out.push(`body ${body} bytes`);
    body = 0;
    out.push(e);
  }
  return out;
}

describe('ConnectionTap', () => {
  it('splits pipelined requests into their exact bytes at every split point', () => {
    const first =
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n';
    const second = 'PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nwxyz';
    const third = 'GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const after = 'GARBAGE AFTER CLOSE\r\n\r\n';
    const input = enc(first + second + third + after);
    for (const pieces of splits(input)) {
      const { taken, rejected } = run(pieces);
      const where = `pieces ${pieces.map((p) => p.length).join('+')}`;
      expect(rejected, where).toEqual([]);
      expect(
        taken.map((m) => m.received),
        where,
      ).toEqual([first, second, third]);
      expect(
        taken.map((m) => m.size),
        where,
      ).toEqual([first.length, second.length, third.length]);
      expect(normalised(taken[0]!.events), where).toEqual([
        'head POST /echo HTTP/1.1 (2 fields, keep-alive yes)',
        'body 5 bytes',
        'trailers 1 (X-T: 1)',
        'message complete',
      ]);
      expect(taken[0]!.framing).toBe('chunked (Transfer-Encoding)');
      expect(normalised(taken[1]!.events)).toEqual([
        'head PUT /x HTTP/1.1 (2 fields, keep-alive yes)',
        'body 4 bytes',
        'message complete',
      ]);
      expect(taken[1]!.framing).toBe('Content-Length: 4');
      expect(taken[2]!.events).toEqual([
        'head GET /bye HTTP/1.1 (2 fields, keep-alive no)',
        'message complete',
      ]);
      expect(taken[2]!.framing).toMatch(/^no body/);
      expect(taken.every((m) => m.complete && m.error === null)).toBe(true);
    }
  });

  it('reports a refused request once, with every byte received and the error code', () => {
    const good = 'GET /ok HTTP/1.1\r\nHost: a\r\n\r\n';
    const bad = 'GET /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab';
    const input = enc(good + bad);
    for (const pieces of splits(input)) {
      const { taken, rejected } = run(pieces);
      const where = `pieces ${pieces.map((p) => p.length).join('+')}`;
      expect(
        taken.map((m) => m.received),
        where,
      ).toEqual([good]);
      expect(rejected, where).toHaveLength(1);
      const r = rejected[0]!;
      expect(r.error?.status).toBe(400);
      expect(r.error?.code).toMatch(/^HPE_/);
      expect(r.events.at(-1)).toMatch(/^error HPE_\w+ at byte \d+: .+ \(answered 400, then close\)$/);
      // Everything the peer sent for it was received (no byte after the error is parsed as a request).
      expect(bad.startsWith(r.received), where).toBe(true);
      expect(r.received.length).toBeGreaterThanOrEqual(
        'GET /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2'.length,
      );
    }
  });

  it('stops at an Upgrade: the bytes after the head belong to the new protocol', () => {
    const head = 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
    const frames = '\x81\x85\x00\x00\x00\x00hello';
    for (const pieces of splits(enc(head + frames))) {
      const { taken, rejected } = run(pieces);
      expect(rejected).toEqual([]);
      expect(taken).toHaveLength(1);
      expect(taken[0]!.received).toBe(head);
      expect(taken[0]!.framing).toMatch(/^upgrade/);
      expect(taken[0]!.events.at(-1)).toMatch(/^upgrade: the parser stops/);
    }
  });

  it('declines an Upgrade the server does not take (h2c) and goes on parsing, as the server does', () => {
    // curl --http2 on plain HTTP: the server takes only websocket, so it answers this as HTTP/1.1.
    const h2c =
      'GET /hello HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n';
    const withBody =
      'POST /echo HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\nContent-Length: 3\r\n\r\nabc';
    const plain = 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n';
    const ws = 'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
    const frames = '\x81\x85\x00\x00\x00\x00hello';
    for (const pieces of splits(enc(h2c + withBody + plain + ws + frames))) {
      const { taken, rejected } = run(pieces);
      const where = `pieces ${pieces.map((p) => p.length).join('+')}`;
      expect(rejected, where).toEqual([]);
      expect(
        taken.map((m) => m.received),
        where,
      ).toEqual([h2c, withBody, plain, ws]);
      for (const m of taken.slice(0, 2)) {
        expect(m.events[1], where).toMatch(/^upgrade declined/);
        expect(m.events.at(-1), where).toBe('message complete');
      }
      expect(taken[0]!.framing).toMatch(/^no body/);
      expect(taken[1]!.framing).toBe('Content-Length: 3');
      expect(normalised(taken[1]!.events)).toContain('body 3 bytes');
      expect(taken[3]!.framing).toMatch(/^upgrade/);
      expect(taken[3]!.events.at(-1)).toMatch(/^upgrade: the parser stops/);
    }
  });

  it('follows the server: an Upgrade it takes stops the tap, any other is declined', () => {
    const head = (proto: string) =>
      `GET /u HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: ${proto}\r\n\r\n`;
    const cases: [string, boolean][] = [
      ['websocket', true],
      ['WebSocket', true],
      ['h2c, websocket/13', true],
      ['h2c', false],
      ['foo/1.0', false],
    ];
    for (const [proto, taken] of cases) {
      const tap = new ConnectionTap(() => {}, ['websocket']);
      tap.feed(enc(head(proto) + head('h2c')));
      const first = tap.take()!;
      expect(first.events.at(-1), proto).toMatch(taken ? /^upgrade: the parser stops/ : /^message complete/);
      expect(tap.take() !== null, proto).toBe(!taken);
    }
  });

  it('keeps at most MAX_KEPT_BYTES of a large body but counts them all', () => {
    const size = MAX_KEPT_BYTES * 3;
    const head = `POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`;
    const body = Buffer.alloc(size, 0x61);
    const { taken } = run([enc(head), body.subarray(0, 1000), body.subarray(1000)]);
    expect(taken[0]!.size).toBe(head.length + size);
    expect(taken[0]!.received.length).toBe(MAX_KEPT_BYTES);
    expect(taken[0]!.received.startsWith(head)).toBe(true);
    expect(taken[0]!.complete).toBe(true);
  });
});
