/**
 * Http2ServerConnection from raw bytes: the preface, every frame type's size and stream-id rules,
 * padding, PRIORITY, CONTINUATION, stream states, trailers, content-length, the named limits,
 * graceful shutdown and the timers. Every client byte sequence runs whole, byte by byte and at every
 * split point (`feedAllWays`), with the same events and the same bytes out each time.
 */
import { connect } from 'node:http2';
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import { expect, describe as group, it } from 'vitest';
import { Http2ServerConnection } from '../src/_connection';
import { ErrorCode, Http2Error, Http2ErrorCode } from '../src/errors';
import {
  bytes,
  CLIENT_PREFACE,
  Client,
  concat,
  continuation,
  Driver,
  data,
  Flag,
  FrameType,
  feedAllWays,
  feedScript,
  frame,
  get,
  goaway,
  headersFrame,
  opened,
  ping,
  post,
  preface,
  priority,
  type RunResult,
  readFrames,
  rstStream,
  START_LINES,
  type Step,
  settings,
  settingsAck,
  u32,
  windowUpdate,
} from './_frames';

/** A connection error: `onError` with the code and GOAWAY with its wire code and the code as debug data. */
function connError(
  input: Uint8Array,
  code: string,
  wire: number,
  o: Parameters<typeof feedAllWays>[1] = {},
): RunResult {
  const r = feedAllWays(input, o);
  expect(r.log.at(-1)).toBe(`error ${code} ${wire}`);
  expect(r.out.at(-1)).toMatch(new RegExp(`^GOAWAY 0 last=\\d+ code=${wire}$`));
  const frames = readFrames(r.driver.output());
  const g = frames.at(-1)!;
  expect(new TextDecoder().decode(g.payload.subarray(8))).toBe(code);
  expect(r.driver.conn.closed).toBe(true);
  expect(r.driver.conn.error?.code).toBe(code);
  return r;
}

const OPEN = [...START_LINES, 'SETTINGS 0 ACK'];
const start = () => new Client().preface();

group('the connection preface', () => {
  it('sends our SETTINGS and the connection WINDOW_UPDATE at once, before any byte arrives', () => {
    const d = new Driver();
    expect(d.conn.hasOutput).toBe(true);
    d.conn.flush();
    const f = d.frames();
    expect(f.map((x) => x.type)).toEqual([FrameType.SETTINGS, FrameType.WINDOW_UPDATE]);
    // MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 65535, MAX_HEADER_LIST_SIZE 16384.
    expect([...f[0]!.payload]).toEqual([
      ...[0, 3, ...u32(100)],
      ...[0, 4, ...u32(65_535)],
      ...[0, 6, ...u32(16_384)],
    ]);
    expect(f[1]!.stream).toBe(0);
  });

  it('announces a larger frame size and table size, and no WINDOW_UPDATE for the default window', () => {
    const d = new Driver({
      limits: { maxFrameSize: 32_768, headerTableSize: 8_192, connectionWindowSize: 65_535 },
    });
    d.conn.flush();
    const f = d.frames();
    expect(f).toHaveLength(1);
    expect([...f[0]!.payload.subarray(18)]).toEqual([...[0, 5, ...u32(32_768)], ...[0, 1, ...u32(8_192)]]);
  });

  it('answers the client SETTINGS with an ACK', () => {
    const r = feedAllWays(preface([4, 1000, 5, 20_000]));
    expect(r.out).toEqual(OPEN);
    expect(r.log).toEqual([]);
  });

  it('a bad preface: GOAWAY PROTOCOL_ERROR', () => {
    const r = connError(bytes('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'H2_BAD_PREFACE', 1);
    expect(r.out).toEqual([...START_LINES, 'GOAWAY 0 last=0 code=1']);
  });

  it('a preface wrong in its last byte', () => {
    const p = CLIENT_PREFACE.slice();
    p[23] = 0x0b;
    connError(concat(p, settings()), 'H2_BAD_PREFACE', 1);
  });

  it('the first frame must be SETTINGS (not PING, not a SETTINGS ACK)', () => {
    connError(concat(CLIENT_PREFACE, ping()), 'H2_SETTINGS_EXPECTED', 1);
    connError(concat(CLIENT_PREFACE, settingsAck()), 'H2_SETTINGS_EXPECTED', 1);
    connError(concat(CLIENT_PREFACE, headersFrame(1, Uint8Array.of(0x82))), 'H2_SETTINGS_EXPECTED', 1);
  });

  it('nothing is read after a connection error', () => {
    const r = connError(concat(preface(), ping(1, false, new Uint8Array(7)), ping()), 'H2_FRAME_SIZE', 6);
    expect(r.out).toEqual([...OPEN, 'GOAWAY 0 last=0 code=6']);
    r.driver.conn.receive(ping());
    r.driver.conn.flush();
    expect(r.driver.frames()).toEqual([]);
  });
});

group('frame size and stream id rules (RFC 9113 section 6)', () => {
  const head = (n: number, type: number, flags = 0, stream = 0) =>
    Uint8Array.of(n >>> 16, (n >>> 8) & 0xff, n & 0xff, type, flags, 0, 0, 0, stream);
  const cases: [string, Uint8Array, string, number][] = [
    [
      'a frame over SETTINGS_MAX_FRAME_SIZE (header alone)',
      head(16_385, FrameType.DATA, 0, 1),
      'H2_FRAME_SIZE',
      6,
    ],
    ['SETTINGS on a stream', frame(FrameType.SETTINGS, 0, 1), 'H2_BAD_STREAM_ID', 1],
    ['SETTINGS of 5 bytes', frame(FrameType.SETTINGS, 0, 0, new Uint8Array(5)), 'H2_FRAME_SIZE', 6],
    [
      'SETTINGS ACK with a payload',
      frame(FrameType.SETTINGS, Flag.ACK, 0, new Uint8Array(6)),
      'H2_SETTINGS_ACK_PAYLOAD',
      6,
    ],
    ['ENABLE_PUSH 2', settings([2, 2]), 'H2_BAD_SETTING', 1],
    ['INITIAL_WINDOW_SIZE 2^31', settings([4, 0x80000000]), 'H2_WINDOW_OVERFLOW', 3],
    ['MAX_FRAME_SIZE 16383', settings([5, 16_383]), 'H2_BAD_SETTING', 1],
    ['MAX_FRAME_SIZE 2^24', settings([5, 16_777_216]), 'H2_BAD_SETTING', 1],
    ['PING on a stream', frame(FrameType.PING, 0, 1, new Uint8Array(8)), 'H2_BAD_STREAM_ID', 1],
    ['PING of 7 bytes', frame(FrameType.PING, 0, 0, new Uint8Array(7)), 'H2_FRAME_SIZE', 6],
    ['PING ACK of 9 bytes', frame(FrameType.PING, Flag.ACK, 0, new Uint8Array(9)), 'H2_FRAME_SIZE', 6],
    ['GOAWAY on a stream', frame(FrameType.GOAWAY, 0, 1, new Uint8Array(8)), 'H2_BAD_STREAM_ID', 1],
    ['GOAWAY of 7 bytes', frame(FrameType.GOAWAY, 0, 0, new Uint8Array(7)), 'H2_FRAME_SIZE', 6],
    ['WINDOW_UPDATE of 3 bytes', frame(FrameType.WINDOW_UPDATE, 0, 0, new Uint8Array(3)), 'H2_FRAME_SIZE', 6],
    [
      'WINDOW_UPDATE of 5 bytes on a stream',
      frame(FrameType.WINDOW_UPDATE, 0, 1, new Uint8Array(5)),
      'H2_FRAME_SIZE',
      6,
    ],
    ['WINDOW_UPDATE of 0 on the connection', windowUpdate(0, 0), 'H2_ZERO_WINDOW_INCREMENT', 1],
    ['WINDOW_UPDATE past 2^31-1 on the connection', windowUpdate(0, 0x7fffffff), 'H2_WINDOW_OVERFLOW', 3],
    ['WINDOW_UPDATE on an idle stream', windowUpdate(5, 1), 'H2_STREAM_STATE', 1],
    ['RST_STREAM on stream 0', rstStream(0, 8), 'H2_BAD_STREAM_ID', 1],
    ['RST_STREAM of 3 bytes', frame(FrameType.RST_STREAM, 0, 1, new Uint8Array(3)), 'H2_FRAME_SIZE', 6],
    ['RST_STREAM on an idle stream', rstStream(1, 8), 'H2_STREAM_STATE', 1],
    ['DATA on stream 0', data(0, 'x'), 'H2_BAD_STREAM_ID', 1],
    ['DATA on an idle stream', data(1, 'x'), 'H2_STREAM_STATE', 1],
    ['HEADERS on stream 0', headersFrame(0, Uint8Array.of(0x82)), 'H2_BAD_STREAM_ID', 1],
    ['PRIORITY on stream 0', priority(0, 1), 'H2_BAD_STREAM_ID', 1],
    [
      'PUSH_PROMISE',
      frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, new Uint8Array(4)),
      'H2_PUSH_FROM_CLIENT',
      1,
    ],
    [
      'CONTINUATION without a header block',
      continuation(1, Uint8Array.of(0x82), true),
      'H2_UNEXPECTED_CONTINUATION',
      1,
    ],
    [
      'DATA padded, pad length = payload',
      frame(FrameType.DATA, Flag.PADDED, 1, Uint8Array.of(3, 0, 0)),
      'H2_BAD_PADDING',
      1,
    ],
    ['DATA padded, no pad length', frame(FrameType.DATA, Flag.PADDED, 1), 'H2_FRAME_SIZE', 6],
    [
      'HEADERS padded past its payload',
      frame(FrameType.HEADERS, Flag.PADDED | Flag.END_HEADERS, 1, Uint8Array.of(9, 0x82)),
      'H2_BAD_PADDING',
      1,
    ],
    [
      'HEADERS padded with PRIORITY, the padding eating into the priority fields',
      frame(
        FrameType.HEADERS,
        Flag.PADDED | Flag.PRIORITY | Flag.END_HEADERS,
        1,
        Uint8Array.of(3, 0, 0, 0, 0, 0, 0x82),
      ),
      'H2_BAD_PADDING',
      1,
    ],
    [
      'HEADERS with PRIORITY shorter than 5 bytes',
      frame(FrameType.HEADERS, Flag.PRIORITY | Flag.END_HEADERS, 1, new Uint8Array(4)),
      'H2_FRAME_SIZE',
      6,
    ],
    [
      'HEADERS on an even stream',
      headersFrame(2, new Client().block(get()), { end: true }),
      'H2_BAD_STREAM_ORDER',
      1,
    ],
    [
      'an undecodable header block',
      headersFrame(1, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)),
      'H2_COMPRESSION',
      9,
    ],
    [
      'a header block with an index past the tables',
      headersFrame(1, Uint8Array.of(0xbf)),
      'H2_COMPRESSION',
      9,
    ],
  ];
  for (const [name, frameBytes, code, wire] of cases)
    it(`${name}: ${code}, GOAWAY ${wire}`, () => {
      const r = connError(concat(preface(), frameBytes), code, wire);
      expect(r.out.slice(0, 3)).toEqual(OPEN);
    });

  it('the GOAWAY names the last stream processed', () => {
    const input = start()
      .headers(1, get(), { end: true })
      .headers(3, get(), { end: true })
      .raw(ping(0, false, new Uint8Array(1)))
      .bytes();
    const r = connError(input, 'H2_FRAME_SIZE', 6);
    expect(r.out.at(-1)).toBe('GOAWAY 0 last=3 code=6');
    // Both streams were open: they close with the connection's error.
    expect(r.log).toEqual([
      expect.stringMatching(/^request 1 /),
      expect.stringMatching(/^request 3 /),
      'close 1 H2_FRAME_SIZE 6',
      'close 3 H2_FRAME_SIZE 6',
      'error H2_FRAME_SIZE 6',
    ]);
  });

  it('a frame up to a larger SETTINGS_MAX_FRAME_SIZE of ours is read', () => {
    const body = new Uint8Array(20_000).fill(0x61);
    const input = start().headers(1, post(), {}).data(1, body, true).bytes();
    const r = feedAllWays(input, { limits: { maxFrameSize: 20_000, initialWindowSize: 30_000 } });
    expect(r.log[1]).toBe(`data 1 ${JSON.stringify('a'.repeat(20_000))} end=true`);
  });

  it('reserved bit of the stream id is ignored', () => {
    const c = start();
    const input = c
      .raw(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, c.block(get()), true))
      .bytes();
    const r = feedAllWays(input);
    expect(r.log[0]).toMatch(/^request 1 GET/);
  });

  it('unknown frame types are ignored (RFC 9113 section 4.1), with any flags and stream', () => {
    const input = start()
      .raw(frame(0x42, 0xff, 7, bytes('whatever')), frame(0x0a, 0, 0))
      .headers(1, get(), { end: true })
      .bytes();
    const r = feedAllWays(input);
    expect(r.log[0]).toMatch(/^request 1 GET/);
    expect(r.out.slice(3)).toEqual([]);
  });

  it('an unknown frame type inside a header block: CONTINUATION expected', () => {
    const c = start();
    const b = c.block(get());
    connError(
      c.raw(headersFrame(1, b.subarray(0, 2), { endHeaders: false }), frame(0x42, 0, 1)).bytes(),
      'H2_CONTINUATION_EXPECTED',
      1,
    );
  });

  it('PING is answered with the same 8 bytes; a PING ACK is not answered', () => {
    const r = feedAllWays(concat(preface(), ping(0, false, bytes('abcdefgh')), ping(7, true)));
    expect(r.out).toEqual([...OPEN, 'PING 0 abcdefgh ACK']);
  });

  it('a client GOAWAY is reported', () => {
    const r = feedAllWays(concat(preface(), goaway(0, 0)));
    expect(r.log).toEqual(['goaway 0 0']);
    expect(r.driver.conn.closed).toBe(false);
  });

  it('SETTINGS with unknown ids and the advisory ones are acknowledged', () => {
    const r = feedAllWays(concat(preface(), settings([0x99, 5, 3, 1, 6, 100, 1, 0, 2, 0])));
    expect(r.out).toEqual([...OPEN, 'SETTINGS 0 ACK']);
  });
});

group('padding', () => {
  it('padded HEADERS and DATA: the pad is dropped', () => {
    const c = start();
    const input = c
      .raw(headersFrame(1, c.block(post('/p')), { pad: 5 }))
      .data(1, 'hello', false, 10)
      .data(1, '', true, 0)
      .bytes();
    const r = feedAllWays(input);
    expect(r.log).toEqual([
      'request 1 POST https example.com /p cl=-1 end=false []',
      'data 1 "hello" end=false',
      'data 1 "" end=true',
    ]);
  });

  it('padding fills the whole frame (pad length = length - 1)', () => {
    const input = start()
      .headers(1, post())
      .raw(frame(FrameType.DATA, Flag.PADDED | Flag.END_STREAM, 1, Uint8Array.of(4, 0, 0, 0, 0)))
      .bytes();
    expect(feedAllWays(input).log[1]).toBe('data 1 "" end=true');
  });

  it('HEADERS padded with PRIORITY', () => {
    const c = start();
    const input = c.raw(headersFrame(1, c.block(get()), { pad: 3, dependsOn: 0, end: true })).bytes();
    expect(feedAllWays(input).log[0]).toMatch(/^request 1 GET/);
  });
});

group('PRIORITY (ignored, RFC 9113 section 5.3.2)', () => {
  it('on idle, open and closed streams: nothing happens, and it opens no stream', () => {
    const input = start()
      .raw(priority(3, 0), priority(9, 3))
      .headers(1, get(), { end: true })
      .raw(priority(1, 0))
      .headers(3, get(), { end: true })
      .raw(priority(3, 1))
      .bytes();
    const r = feedAllWays(input);
    expect(r.log.map((l) => l.slice(0, 9))).toEqual(['request 1', 'request 3']);
    expect(r.out).toEqual(OPEN);
  });

  it('HEADERS with a priority on another stream is accepted', () => {
    const c = start();
    expect(
      feedAllWays(c.raw(headersFrame(1, c.block(get()), { dependsOn: 0, end: true })).bytes()).log[0],
    ).toMatch(/^request 1/);
  });

  it('self-dependency: on an idle stream RST_STREAM PROTOCOL_ERROR; on an open stream a stream error', () => {
    const input = start().raw(priority(1, 1)).headers(3, post()).raw(priority(3, 3)).bytes();
    const r = feedAllWays(input);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=1', 'RST_STREAM 3 code=1']);
    expect(r.log).toEqual([expect.stringMatching(/^request 3 POST/), 'close 3 H2_SELF_DEPENDENCY 1']);
  });

  it('HEADERS depending on its own stream: refused with RST_STREAM PROTOCOL_ERROR', () => {
    const c = start();
    const r = feedAllWays(
      c
        .raw(headersFrame(1, c.block(get()), { dependsOn: 1, end: true }))
        .headers(3, get(), { end: true })
        .bytes(),
    );
    expect(r.log).toEqual(['refused 1 H2_SELF_DEPENDENCY 1', expect.stringMatching(/^request 3/)]);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=1']);
  });

  it('HEADERS (with CONTINUATION) depending on its own stream', () => {
    const c = start();
    const b = c.block(get());
    const r = feedAllWays(
      c
        .raw(
          headersFrame(1, b.subarray(0, 2), { dependsOn: 1, end: true, endHeaders: false }),
          continuation(1, b.subarray(2), true),
        )
        .bytes(),
    );
    expect(r.log).toEqual(['refused 1 H2_SELF_DEPENDENCY 1']);
  });

  it('PRIORITY of 4 bytes: a stream error FRAME_SIZE_ERROR', () => {
    const input = start()
      .raw(frame(FrameType.PRIORITY, 0, 1, new Uint8Array(4)))
      .headers(3, post())
      .raw(frame(FrameType.PRIORITY, 0, 3, new Uint8Array(6)))
      .bytes();
    const r = feedAllWays(input);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=6', 'RST_STREAM 3 code=6']);
    expect(r.log.at(-1)).toBe('close 3 H2_FRAME_SIZE 6');
  });
});

group('CONTINUATION', () => {
  it('a header block in HEADERS and two CONTINUATIONs is one request', () => {
    const input = start()
      .split(1, get('/long', ['x-a', 'a'.repeat(40), 'x-b', 'b'.repeat(40)]), 20, true)
      .bytes();
    const r = feedAllWays(input);
    const types = readFrames(input.subarray(24)).map((f) => f.type);
    expect(types.slice(0, 2)).toEqual([FrameType.SETTINGS, FrameType.HEADERS]);
    expect(types.slice(2).every((t) => t === FrameType.CONTINUATION) && types.length > 4).toBe(true);
    expect(r.log).toEqual([
      `request 1 GET https example.com /long cl=-1 end=true ${JSON.stringify(['x-a', 'a'.repeat(40), 'x-b', 'b'.repeat(40)])}`,
    ]);
  });

  it('empty CONTINUATIONs before the end are allowed (under the empty-frame limit)', () => {
    const c = start();
    const b = c.block(get());
    const input = c
      .raw(
        headersFrame(1, b, { endHeaders: false, end: true }),
        continuation(1, new Uint8Array(0), false),
        continuation(1, new Uint8Array(0), true),
      )
      .bytes();
    expect(feedAllWays(input).log[0]).toMatch(/^request 1 GET/);
  });

  it('another frame inside a header block: CONTINUATION expected', () => {
    const c = start();
    const b = c.block(get());
    connError(
      c.raw(headersFrame(1, b.subarray(0, 2), { endHeaders: false }), ping()).bytes(),
      'H2_CONTINUATION_EXPECTED',
      1,
    );
  });

  it('a CONTINUATION on another stream', () => {
    const c = start();
    const b = c.block(get());
    connError(
      c
        .raw(headersFrame(1, b.subarray(0, 2), { endHeaders: false }), continuation(3, b.subarray(2), true))
        .bytes(),
      'H2_CONTINUATION_EXPECTED',
      1,
    );
  });

  it('a CONTINUATION after the block ended', () => {
    const c = start();
    connError(
      c
        .headers(1, get(), { end: true })
        .raw(continuation(1, Uint8Array.of(0x82), true))
        .bytes(),
      'H2_UNEXPECTED_CONTINUATION',
      1,
    );
  });

  it('a header block over maxHeaderBlockBytes: ENHANCE_YOUR_CALM', () => {
    const fields = get('/', ['x-big', 'y'.repeat(300)]);
    connError(start().split(1, fields, 100).bytes(), 'H2_CONTINUATION_FLOOD', 11, {
      limits: { maxHeaderBlockBytes: 200 },
    });
    const c = start();
    connError(
      c.raw(headersFrame(1, new Uint8Array(201), { endHeaders: false })).bytes(),
      'H2_CONTINUATION_FLOOD',
      11,
      { limits: { maxHeaderBlockBytes: 200 } },
    );
  });

  it('a header block of exactly maxHeaderBlockBytes is read', () => {
    const c = start();
    const b = c.block(get('/', ['x-big', 'y'.repeat(300)]));
    const r = feedAllWays(
      c
        .raw(
          headersFrame(1, b.subarray(0, 50), { endHeaders: false, end: true }),
          continuation(1, b.subarray(50), true),
        )
        .bytes(),
      {
        limits: { maxHeaderBlockBytes: b.length },
      },
    );
    expect(r.log[0]).toMatch(/^request 1 GET/);
  });
});

group('stream states (RFC 9113 section 5.1)', () => {
  it('idle -> open -> half-closed (remote) -> closed, the response ending it', () => {
    const input = start()
      .headers(1, post('/u', ['content-type', 'text/plain']))
      .data(1, 'ab')
      .data(1, 'c', true)
      .bytes();
    const r = feedAllWays(input, {
      after: (d) => {
        d.conn.respond(1, 200, [], false);
        d.conn.sendData(1, bytes('ok'), true);
      },
    });
    expect(r.log).toEqual([
      'request 1 POST https example.com /u cl=-1 end=false ["content-type","text/plain"]',
      'data 1 "ab" end=false',
      'data 1 "c" end=true',
      'close 1 ok',
    ]);
    expect(r.out.slice(3)).toEqual(['HEADERS 1 END_HEADERS [":status","200"]', 'DATA 1 len=2 END_STREAM']);
    expect(r.driver.conn.activeStreams).toBe(0);
  });

  it('DATA after END_STREAM on a half-closed stream: stream error STREAM_CLOSED', () => {
    const r = feedAllWays(
      start().headers(1, get(), { end: true }).data(1, 'x').headers(3, get(), { end: true }).bytes(),
    );
    expect(r.log).toEqual([
      expect.stringMatching(/^request 1/),
      'close 1 H2_STREAM_CLOSED 5',
      expect.stringMatching(/^request 3/),
    ]);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=5']);
  });

  it('HEADERS after END_STREAM on a half-closed stream: stream error STREAM_CLOSED', () => {
    const r = feedAllWays(
      start().headers(1, get(), { end: true }).headers(1, ['x-t', '1'], { end: true }).bytes(),
    );
    expect(r.log.slice(1)).toEqual(['close 1 H2_STREAM_CLOSED 5']);
  });

  it('HEADERS on a stream closed normally: connection error STREAM_CLOSED', () => {
    const input = start().headers(1, get(), { end: true }).bytes();
    const r = feedAllWays(input, {
      after: (d) => {
        d.conn.respond(1, 204, [], true);
        d.conn.receive(headersFrame(1, Uint8Array.of(0x82, 0x87, 0x84), { end: true }));
      },
    });
    expect(r.log.slice(1)).toEqual(['close 1 ok', 'error H2_STREAM_CLOSED 5']);
    expect(r.out.at(-1)).toBe('GOAWAY 0 last=1 code=5');
  });

  it('DATA on a stream closed normally: connection error STREAM_CLOSED', () => {
    const r = feedAllWays(start().headers(1, get(), { end: true }).bytes(), {
      after: (d) => {
        d.conn.respond(1, 204, [], true);
        d.conn.receive(data(1, 'late'));
      },
    });
    expect(r.log.slice(1)).toEqual(['close 1 ok', 'error H2_STREAM_CLOSED 5']);
  });

  it('a stream id below the highest seen and never opened: PROTOCOL_ERROR', () => {
    connError(
      start().headers(5, get(), { end: true }).headers(3, get(), { end: true }).bytes(),
      'H2_BAD_STREAM_ORDER',
      1,
    );
  });

  it('stream ids may skip (1, 7, 9); skipped ids are closed', () => {
    const r = feedAllWays(
      start()
        .headers(1, get(), { end: true })
        .headers(7, get(), { end: true })
        .headers(9, get(), { end: true })
        .bytes(),
    );
    expect(r.log.map((l) => l.slice(0, 9))).toEqual(['request 1', 'request 7', 'request 9']);
    expect(r.driver.conn.streamsOpened).toBe(3);
  });

  it('the client resets a stream: onStreamClose with its code; later frames on it are ignored', () => {
    const input = start()
      .headers(1, post())
      .raw(rstStream(1, ErrorCode.CANCEL), windowUpdate(1, 5), rstStream(1, 0), priority(1, 0))
      .bytes();
    const r = feedAllWays(input, {
      after: (d) => expect(() => d.conn.respond(1, 200, [], true)).toThrow(/not open/),
    });
    expect(r.log).toEqual([expect.stringMatching(/^request 1/), 'close 1 H2_STREAM_CLOSED 8']);
    expect(r.out).toEqual(OPEN);
  });

  it('DATA and HEADERS after the client reset the stream: stream errors STREAM_CLOSED (RFC 9113 section 5.1)', () => {
    const input = start()
      .headers(1, post())
      .raw(rstStream(1, ErrorCode.CANCEL))
      .data(1, 'late')
      .headers(1, ['x-trailer', 'v'], { end: true })
      .headers(3, get('/3'), { end: true })
      .bytes();
    const r = feedAllWays(input);
    expect(r.log.slice(1)).toEqual(['close 1 H2_STREAM_CLOSED 8', expect.stringMatching(/^request 3 GET/)]);
    expect(r.out.filter((l) => l.startsWith('RST_STREAM'))).toEqual([
      'RST_STREAM 1 code=5',
      'RST_STREAM 1 code=5',
    ]);
    expect(r.out.some((l) => l.startsWith('GOAWAY'))).toBe(false);
    expect(r.driver.conn.closed).toBe(false);
  });

  it('DATA after the client ended the stream and it closed: connection error STREAM_CLOSED', () => {
    const first = start().headers(1, get(), { end: true });
    const head = first.take();
    const late = first.data(1, 'late').take();
    const r = feedAllWays(head, {
      onRequest: (d, id) => d.conn.respond(id, 204, [], true),
      after: (d) => d.conn.receive(late),
    });
    expect(r.log.at(-1)).toBe('error H2_STREAM_CLOSED 5');
  });

  it('DATA and trailers the client sent before our RST_STREAM reached it are ignored', () => {
    // The response ends before the request body: RST_STREAM NO_ERROR (RFC 9113 section 8.1).
    const first = start().headers(1, post());
    const head = first.take();
    // The trailers add an entry to the dynamic table: request 3 proves it was decoded.
    const late = first
      .data(1, 'more')
      .headers(1, ['x-trailer', 'v'], { end: true })
      .headers(3, get('/3', ['x-trailer', 'v']), { end: true })
      .take();
    const r = feedAllWays(head, {
      onRequest: (d, id) => d.conn.respond(id, 200, ['content-length', '0'], id === 1),
      after: (d) => d.conn.receive(late),
    });
    expect(r.log).toEqual([
      expect.stringMatching(/^request 1 POST/),
      'close 1 ok',
      'request 3 GET https example.com /3 cl=-1 end=true ["x-trailer","v"]',
    ]);
    expect(r.out.slice(3)).toEqual([
      'HEADERS 1 END_STREAM END_HEADERS [":status","200","content-length","0"]',
      'RST_STREAM 1 code=0',
      'HEADERS 3 END_HEADERS [":status","200","content-length","0"]',
    ]);
  });

  it('after resetStream, late DATA is ignored and counted against the connection window', () => {
    const r = feedAllWays(start().headers(1, post()).bytes(), {
      after: (d) => {
        d.conn.resetStream(1);
        d.conn.receive(data(1, 'x'.repeat(100)));
      },
    });
    expect(r.log).toEqual([expect.stringMatching(/^request 1/)]);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=8']);
  });

  it('response calls on a stream that cannot take them throw H2_INVALID_STATE', () => {
    const d = opened();
    d.send(new Client().headers(1, get(), { end: true }).bytes());
    const c = d.conn;
    expect(() => c.sendData(1, bytes('x'), true)).toThrow(
      expect.objectContaining({ code: 'H2_INVALID_STATE' }),
    );
    expect(() => c.sendTrailers(1, [])).toThrow(expect.objectContaining({ code: 'H2_INVALID_STATE' }));
    expect(() => c.respond(3, 200, [], true)).toThrow(expect.objectContaining({ code: 'H2_INVALID_STATE' }));
    c.respond(1, 103, ['link', '</a>; rel=preload'], false);
    c.respond(1, 200, [], false);
    expect(() => c.respond(1, 200, [], false)).toThrow(/already has a response head/);
    c.sendData(1, bytes('x'), true);
    expect(() => c.sendData(1, bytes('y'), true)).toThrow(
      expect.objectContaining({ code: 'H2_INVALID_STATE' }),
    );
    c.flush();
    expect(d.lines()).toEqual([
      'HEADERS 1 END_HEADERS [":status","103","link","</a>; rel=preload"]',
      'HEADERS 1 END_HEADERS [":status","200"]',
      'DATA 1 len=1 END_STREAM',
    ]);
    c.resetStream(1); // closed: no-op
    c.flush();
    expect(d.lines()).toEqual([]);
  });
});

group('trailers and content-length', () => {
  it('request trailers end the stream', () => {
    const input = start()
      .headers(1, post('/', ['te', 'trailers']))
      .data(1, 'body')
      .headers(1, ['x-checksum', 'abc'], { end: true })
      .bytes();
    const r = feedAllWays(input);
    expect(r.log).toEqual([
      'request 1 POST https example.com / cl=-1 end=false ["te","trailers"]',
      'data 1 "body" end=false',
      'trailers 1 ["x-checksum","abc"]',
    ]);
  });

  it('trailers in HEADERS + CONTINUATION', () => {
    const input = start()
      .headers(1, post())
      .split(1, ['x-a', 'a'.repeat(30), 'x-b', 'b'], 10, true)
      .bytes();
    expect(feedAllWays(input).log[1]).toBe(
      `trailers 1 ${JSON.stringify(['x-a', 'a'.repeat(30), 'x-b', 'b'])}`,
    );
  });

  const bad: [string, string[], boolean][] = [
    ['without END_STREAM', ['x-a', '1'], false],
    ['with a pseudo-header', [':path', '/'], true],
    ['with an uppercase name', ['X-A', '1'], true],
    ['with a connection-specific field', ['connection', 'close'], true],
    ['with a bad value', ['x-a', 'a\r\nb'], true],
  ];
  for (const [name, fields, end] of bad)
    it(`trailers ${name}: stream error PROTOCOL_ERROR`, () => {
      const r = feedAllWays(
        start().headers(1, post()).headers(1, fields, { end }).headers(3, get(), { end: true }).bytes(),
      );
      expect(r.log.slice(1)).toEqual(['close 1 H2_MALFORMED_REQUEST 1', expect.stringMatching(/^request 3/)]);
      expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=1']);
    });

  it('content-length matching the DATA', () => {
    const r = feedAllWays(
      start()
        .headers(1, post('/', ['content-length', '5']))
        .data(1, 'ab')
        .data(1, 'cde', true)
        .bytes(),
    );
    expect(r.log).toEqual([
      expect.stringContaining('cl=5 end=false'),
      'data 1 "ab" end=false',
      'data 1 "cde" end=true',
    ]);
  });

  it('content-length 0 with END_STREAM on HEADERS', () => {
    expect(
      feedAllWays(
        start()
          .headers(1, post('/', ['content-length', '0']), { end: true })
          .bytes(),
      ).log[0],
    ).toContain('cl=0 end=true');
  });

  const mismatch: [string, Client][] = [
    [
      'more DATA than content-length',
      start()
        .headers(1, post('/', ['content-length', '2']))
        .data(1, 'abc'),
    ],
    [
      'less DATA than content-length at END_STREAM',
      start()
        .headers(1, post('/', ['content-length', '4']))
        .data(1, 'abc', true),
    ],
    [
      'trailers before content-length is reached',
      start()
        .headers(1, post('/', ['content-length', '4']))
        .data(1, 'abc')
        .headers(1, ['x', 'y'], { end: true }),
    ],
  ];
  for (const [name, c] of mismatch)
    it(`${name}: stream error PROTOCOL_ERROR`, () => {
      const r = feedAllWays(c.bytes());
      expect(r.log.at(-1)).toBe('close 1 H2_CONTENT_LENGTH_MISMATCH 1');
      expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=1']);
    });

  it('content-length > 0 with END_STREAM on HEADERS: refused before the handler sees it', () => {
    const r = feedAllWays(
      start()
        .headers(1, post('/', ['content-length', '3']), { end: true })
        .bytes(),
    );
    expect(r.log).toEqual(['refused 1 H2_CONTENT_LENGTH_MISMATCH 1']);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=1']);
  });
});

group('named limits', () => {
  it('431 for a header list over maxHeaderListSize, with the HPACK tables still in step', () => {
    const c = start();
    // The first request inserts x-small (and x-big) into the dynamic table; the second refers to x-small by index.
    c.headers(1, get('/', ['x-small', 'indexed-value', 'x-big', 'z'.repeat(2_000)]), { end: true });
    c.headers(3, get('/next', ['x-small', 'indexed-value']), { end: true });
    const second = c.block(['x-small', 'indexed-value']);
    expect(second.length).toBe(1); // one indexed octet: the server must have inserted it
    const r = feedAllWays(c.bytes(), { limits: { maxHeaderListSize: 1_000 } });
    expect(r.log).toEqual([
      'refused 1 H2_HEADER_LIST_TOO_LARGE 1',
      'close 1 ok',
      'request 3 GET https example.com /next cl=-1 end=true ["x-small","indexed-value"]',
    ]);
    expect(r.out.slice(3)).toEqual([
      'HEADERS 1 END_STREAM END_HEADERS [":status","431","content-length","0"]',
    ]);
  });

  it('431 on a request with a body: the stream is reset NO_ERROR after the response', () => {
    const r = feedAllWays(
      start()
        .headers(1, post('/', ['x-big', 'z'.repeat(200)]))
        .bytes(),
      { limits: { maxHeaderListSize: 100 } },
    );
    expect(r.out.slice(3)).toEqual([
      'HEADERS 1 END_STREAM END_HEADERS [":status","431","content-length","0"]',
      'RST_STREAM 1 code=0',
    ]);
  });

  it('MAX_CONCURRENT_STREAMS: the stream past it is refused with REFUSED_STREAM', () => {
    const c = start().headers(1, post()).headers(3, post()).headers(5, get(), { end: true });
    const r = feedAllWays(c.bytes(), { limits: { maxConcurrentStreams: 2 } });
    expect(r.log).toEqual([
      expect.stringMatching(/^request 1/),
      expect.stringMatching(/^request 3/),
      'refused 5 H2_TOO_MANY_STREAMS 7',
    ]);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 5 code=7']);
    // Once one ends, a new stream is accepted.
    const d = r.driver;
    d.conn.respond(1, 200, [], true);
    d.send(rstStream(3, 8));
    d.send(headersFrame(7, c.block(get()), { end: true }));
    expect(d.log.at(-1)).toMatch(/^request 7 GET/);
  });

  it('Rapid Reset: streams opened and reset past resetBurst close the connection', () => {
    const c = start();
    for (let id = 1; id <= 7; id += 2) c.headers(id, get(), {}).raw(rstStream(id, 8));
    const r = connError(c.bytes(), 'H2_RAPID_RESET', 11, { limits: { resetBurst: 3, resetsPerSecond: 1 } });
    expect(r.log.filter((l) => l.startsWith('close'))).toHaveLength(4);
    expect(r.out.at(-1)).toBe('GOAWAY 0 last=7 code=11');
  });

  it('Rapid Reset: the bucket refills with time (injected clock)', () => {
    const c = new Client();
    const steps: Step[] = [concat(preface(), settingsAck())];
    for (let id = 1; id <= 11; id += 2) {
      steps.push((d) => {
        d.now += 1_000;
      });
      steps.push(c.headers(id, get(), {}).raw(rstStream(id, 8)).take());
    }
    steps.push((d) => expect(d.conn.closed).toBe(false));
    // Three in the same millisecond empty it.
    for (let id = 13; id <= 17; id += 2) steps.push(c.headers(id, get(), {}).raw(rstStream(id, 8)).take());
    const t = feedScript(steps, { limits: { resetBurst: 2, resetsPerSecond: 1 } });
    // One token left after the six: stream 13 takes it, stream 15 finds the bucket empty.
    expect(t.filter((l) => l.startsWith('close'))).toHaveLength(8);
    expect(t.slice(-3)).toEqual([
      'close 15 H2_STREAM_CLOSED 8',
      'error H2_RAPID_RESET 11',
      '> GOAWAY 0 last=15 code=11',
    ]);
  });

  it('Rapid Reset: refused streams count too', () => {
    const c = start();
    for (let id = 1; id <= 9; id += 2) c.headers(id, post('/', ['connection', 'x']), { end: true });
    const r = connError(c.bytes(), 'H2_RAPID_RESET', 11, { limits: { resetBurst: 4, resetsPerSecond: 1 } });
    expect(r.log.filter((l) => l.startsWith('refused'))).toHaveLength(5);
  });

  it('control frames past controlFrameBurst: ENHANCE_YOUR_CALM', () => {
    // The client SETTINGS takes the first token.
    const input = concat(preface(), ping(1), priority(3, 0), settings(), ping(2));
    const r = connError(input, 'H2_CONTROL_FLOOD', 11, {
      limits: { controlFrameBurst: 4, controlFramesPerSecond: 1 },
    });
    expect(r.out).toEqual([
      ...OPEN,
      'PING 0 \u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001 ACK',
      'SETTINGS 0 ACK',
      'GOAWAY 0 last=0 code=11',
    ]);
  });

  it('control frames: the bucket refills with time; ACKs and WINDOW_UPDATE cost nothing', () => {
    const steps: Step[] = [concat(preface(), settingsAck())];
    for (let i = 0; i < 20; i++) {
      steps.push((d) => {
        d.now += 100;
      });
      steps.push(concat(ping(i), ping(i, true), settingsAck(), windowUpdate(0, 1)));
    }
    steps.push((d) => expect(d.conn.closed).toBe(false));
    steps.push(concat(ping(1), ping(2)));
    const t = feedScript(steps, { limits: { controlFrameBurst: 2, controlFramesPerSecond: 10 } });
    expect(t.filter((l) => l.startsWith('> PING'))).toHaveLength(21);
    expect(t.slice(-3)).toEqual([
      'error H2_CONTROL_FLOOD 11',
      '> PING 0 \u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001 ACK',
      '> GOAWAY 0 last=0 code=11',
    ]);
  });

  it('empty frames past maxEmptyFrames: ENHANCE_YOUR_CALM; a frame with data resets the count', () => {
    const ok = start()
      .headers(1, post())
      .data(1, '')
      .data(1, '')
      .data(1, 'x')
      .data(1, '')
      .data(1, '')
      .data(1, '', true)
      .bytes();
    expect(feedAllWays(ok, { limits: { maxEmptyFrames: 2 } }).log.at(-1)).toBe('data 1 "" end=true');
    const bad = start().headers(1, post()).data(1, '').data(1, '').data(1, '').bytes();
    connError(bad, 'H2_EMPTY_FRAME_FLOOD', 11, { limits: { maxEmptyFrames: 2 } });
    const c = start();
    const b = c.block(get());
    const cont = c
      .raw(
        headersFrame(1, new Uint8Array(0), { endHeaders: false }),
        continuation(1, new Uint8Array(0), false),
        continuation(1, b, true),
      )
      .bytes();
    connError(cont, 'H2_EMPTY_FRAME_FLOOD', 11, { limits: { maxEmptyFrames: 1 } });
  });

  it('the SETTINGS acknowledgement timeout', () => {
    const d = new Driver();
    d.send(preface());
    d.conn.checkTimers(10_000, 0);
    expect(d.conn.closed).toBe(false);
    d.conn.checkTimers(10_001, 0);
    d.conn.flush();
    expect(d.log).toEqual(['error H2_SETTINGS_TIMEOUT 4']);
    expect(d.lines().at(-1)).toBe('GOAWAY 0 last=0 code=4');
    const acked = opened();
    acked.conn.checkTimers(1e9, 0);
    expect(acked.conn.closed).toBe(false);
  });

  it('the send timeout resets a stream whose window stays shut', () => {
    const t = feedScript([
      concat(preface([4, 0]), settingsAck()), // the client's INITIAL_WINDOW_SIZE is 0
      new Client().headers(1, get(), { end: true }).headers(3, get(), { end: true }).bytes(),
      (d) => {
        d.conn.respond(1, 200, [], false);
        d.conn.sendData(1, bytes('stuck'), true);
        d.conn.respond(3, 204, [], true);
      },
      (d) => {
        d.conn.checkTimers(5_000, 5_000);
        d.conn.checkTimers(5_001, 0); // 0: off
      },
      (d) => d.conn.checkTimers(5_001, 5_000),
    ]);
    expect(t.slice(5)).toEqual([
      'close 3 ok',
      '> HEADERS 1 END_HEADERS [":status","200"]',
      '> HEADERS 3 END_STREAM END_HEADERS [":status","204"]',
      'close 1 H2_SEND_TIMEOUT 8',
      '> RST_STREAM 1 code=8',
    ]);
  });

  it('the send timeout counts from the last progress', () => {
    const d = opened({}, [4, 2]);
    d.send(new Client().headers(1, get(), { end: true }).bytes());
    d.conn.respond(1, 200, [], false);
    d.conn.sendData(1, bytes('abcdef'), true);
    d.conn.flush();
    d.now = 4_000;
    d.send(windowUpdate(1, 2));
    d.conn.checkTimers(8_000, 5_000);
    expect(d.conn.activeStreams).toBe(1);
    d.conn.checkTimers(9_001, 5_000);
    expect(d.conn.activeStreams).toBe(0);
  });
});

group('graceful shutdown (RFC 9113 section 6.8)', () => {
  it('GOAWAY 2^31-1 and PING, then GOAWAY with the last stream once the PING comes back', () => {
    const c = new Client();
    const t = feedScript([
      concat(preface(), settingsAck()),
      c.headers(1, get(), { end: true }).take(),
      (d) => {
        d.conn.shutdown();
        expect(d.conn.goingAway).toBe(true);
        d.conn.shutdown(); // once only
      },
      c.headers(3, get('/3'), { end: true }).take(), // opened before the client saw the GOAWAY: served
      ping(0x53, true, bytes('SSSSSSSS')),
      c.headers(5, get('/5'), { end: true }).take(), // past the last id: decoded (HPACK in step) and ignored
      (d) => {
        expect(d.conn.closed).toBe(false);
        d.conn.respond(1, 204, [], true);
        expect(d.conn.closed).toBe(false);
        d.conn.respond(3, 204, [], true);
        expect(d.conn.closed).toBe(true);
        expect(d.conn.error).toBe(null);
      },
    ]);
    expect(t.slice(3)).toEqual([
      'request 1 GET https example.com / cl=-1 end=true []',
      '> GOAWAY 0 last=2147483647 code=0',
      '> PING 0 SSSSSSSS',
      'request 3 GET https example.com /3 cl=-1 end=true []',
      '> GOAWAY 0 last=3 code=0',
      'close 1 ok',
      'close 3 ok',
      '> HEADERS 1 END_STREAM END_HEADERS [":status","204"]',
      '> HEADERS 3 END_STREAM END_HEADERS [":status","204"]',
    ]);
  });

  it('without a PING ACK, the last GOAWAY goes after a second (checkTimers)', () => {
    const d = opened();
    d.now = 500;
    d.conn.shutdown();
    d.conn.checkTimers(1_500, 0);
    d.conn.flush();
    expect(d.lines()).toEqual(['GOAWAY 0 last=2147483647 code=0', 'PING 0 SSSSSSSS']);
    d.conn.checkTimers(1_501, 0);
    d.conn.flush();
    expect(d.lines()).toEqual(['GOAWAY 0 last=0 code=0']);
    expect(d.conn.closed).toBe(true);
  });

  it('closed once the last stream is reset by the client', () => {
    const t = feedScript([
      concat(preface(), settingsAck()),
      new Client().headers(1, post()).bytes(),
      (d) => d.conn.shutdown(),
      ping(0x53, true),
      (d) => expect(d.conn.closed).toBe(false),
      rstStream(1, ErrorCode.CANCEL),
      (d) => expect(d.conn.closed).toBe(true),
    ]);
    expect(t.slice(-2)).toEqual(['> GOAWAY 0 last=1 code=0', 'close 1 H2_STREAM_CLOSED 8']);
  });

  it('closed once the last stream is reset by us', () => {
    const d = opened();
    d.send(new Client().headers(1, post()).bytes());
    d.conn.shutdown();
    d.send(ping(0x53, true));
    d.conn.resetStream(1);
    expect(d.conn.closed).toBe(true);
  });

  it('abort: GOAWAY with the error, open streams close with it', () => {
    const d = opened();
    d.send(new Client().headers(1, post()).bytes());
    d.conn.abort(new Http2Error(Http2ErrorCode.H2_SEND_TIMEOUT, 'idle'));
    d.conn.flush();
    expect(d.log.slice(1)).toEqual(['close 1 H2_SEND_TIMEOUT 8', 'error H2_SEND_TIMEOUT 8']);
    expect(d.lines()).toEqual(['GOAWAY 0 last=1 code=8']);
  });
});

group('property: any chunking gives the events of the whole input', () => {
  const token = fc
    .stringMatching(/^[a-z][a-z0-9-]{0,11}$/)
    .filter(
      (n) =>
        ![
          'connection',
          'keep-alive',
          'proxy-connection',
          'transfer-encoding',
          'upgrade',
          'te',
          'host',
          'content-length',
        ].includes(n),
    );
  const value = fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/);
  const request = fc.record({
    path: fc.stringMatching(/^\/[a-z0-9/._-]{0,20}$/),
    fields: fc.array(fc.tuple(token, value), { maxLength: 6 }),
    body: fc.uint8Array({ maxLength: 300 }),
    cuts: fc.array(fc.nat(300), { maxLength: 4 }),
    pad: fc.option(fc.nat(20), { nil: undefined }),
    trailers: fc.boolean(),
    blockSize: fc.integer({ min: 1, max: 64 }),
  });
  /** One step of the client: a whole header block or one DATA frame, or a PING or PRIORITY. */
  interface Unit {
    build: (c: Client) => void;
    line: string | null;
  }
  it('random requests, interleaved, bodies in random (padded) DATA frames, random chunks', () => {
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(4_000), { maxLength: 12 }),
        (reqs, picks, chunkCuts) => {
          const latin1 = new TextDecoder('latin1');
          // Each stream's units, in its own order.
          const queues: Unit[][] = reqs.map((q, i) => {
            const id = 2 * i + 1;
            const extra = q.fields.flat();
            const bodyless = q.body.length === 0 && !q.trailers;
            const units: Unit[] = [
              {
                build: (c) => c.split(id, post(q.path, extra), q.blockSize, bodyless),
                line: `request ${id} POST https example.com ${q.path} cl=-1 end=${bodyless} ${JSON.stringify(extra)}`,
              },
            ];
            if (bodyless) return units;
            const cuts = [...new Set(q.cuts.filter((x) => x < q.body.length))].sort((x, y) => x - y);
            let from = 0;
            const pieces: Uint8Array[] = [];
            for (const x of [...cuts, q.body.length]) {
              pieces.push(q.body.subarray(from, x));
              from = x;
            }
            pieces.forEach((piece, k) => {
              const last = k === pieces.length - 1 && !q.trailers;
              units.push({
                build: (c) => c.data(id, piece, last, q.pad),
                line: `data ${id} ${JSON.stringify(latin1.decode(piece))} end=${last}`,
              });
            });
            if (q.trailers) {
              const t = ['x-sum', String(q.body.length), 'x-path', q.path];
              units.push({
                build: (c) => c.split(id, t, q.blockSize, true),
                line: `trailers ${id} ${JSON.stringify(t)}`,
              });
            }
            return units;
          });
          // Interleave: any stream may go next, but streams open in id order.
          const c = start();
          const expected: string[] = [];
          let opened = 0;
          let turn = 0;
          for (;;) {
            const ready: number[] = [];
            for (let i = 0; i < queues.length; i++) if (queues[i]!.length > 0 && i <= opened) ready.push(i);
            if (ready.length === 0) break;
            const pick = picks[turn++] ?? 0;
            const i = ready[pick % ready.length]!;
            if (i === opened) opened++;
            const u = queues[i]!.shift()!;
            u.build(c);
            if (u.line !== null) expected.push(u.line);
            // Now and then a frame that belongs to no request.
            if (pick % 7 === 3) c.raw(ping(pick & 0xff));
            if (pick % 11 === 5) c.raw(priority(2 * queues.length + 1, 0));
          }
          const input = c.bytes();
          const whole = new Driver({ limits: { maxEmptyFrames: 1_000 } });
          whole.send(input);
          expect(whole.log).toEqual(expected);
          const chunked = new Driver({ limits: { maxEmptyFrames: 1_000 } });
          const cuts = [...new Set(chunkCuts.map((x) => x % (input.length + 1)))].sort((x, y) => x - y);
          let from = 0;
          for (const x of [...cuts, input.length]) {
            chunked.conn.receive(input.subarray(from, x));
            from = x;
          }
          chunked.conn.flush();
          expect(chunked.log).toEqual(whole.log);
          expect(chunked.output()).toEqual(whole.output());
        },
      ),
      { numRuns: 150 },
    );
  });

  it('random frames (any type, flags, stream and payload) never throw, and any chunking gives the same result', () => {
    const anyFrame = fc.record({
      type: fc.integer({ min: 0, max: 10 }),
      flags: fc.integer({ min: 0, max: 255 }),
      stream: fc.constantFrom(0, 1, 2, 3, 5, 0x7fffffff),
      payload: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(
        fc.array(anyFrame, { maxLength: 12 }),
        fc.array(fc.nat(600), { maxLength: 6 }),
        (frames, chunkCuts) => {
          const c = start();
          for (const f of frames) c.raw(frame(f.type, f.flags, f.stream, f.payload));
          const input = c.bytes();
          const whole = new Driver();
          whole.send(input);
          whole.conn.checkTimers(20_000, 1_000);
          whole.conn.flush();
          const chunked = new Driver();
          const cuts = [...new Set(chunkCuts.map((x) => x % (input.length + 1)))].sort((x, y) => x - y);
          let from = 0;
          for (const x of [...cuts, input.length]) {
            chunked.conn.receive(input.subarray(from, x));
            from = x;
          }
          chunked.conn.checkTimers(20_000, 1_000);
          chunked.conn.flush();
          expect(chunked.log).toEqual(whole.log);
          expect(chunked.output()).toEqual(whole.output());
          // Whatever happened, the output is whole frames, and a failed connection ends with GOAWAY.
          const out = readFrames(whole.output());
          if (whole.conn.error !== null) expect(out.at(-1)!.type).toBe(FrameType.GOAWAY);
        },
      ),
      { numRuns: 300 },
    );
  });
});

group("Node's http2 client, in memory (no socket)", () => {
  it('downloads, an upload with trailers both ways, concurrently: the windows move both ways', async () => {
    // The client's side of an in-memory pipe: what it writes goes to `receive`; what the connection
    // writes is pushed to it on a later turn (Node's stream wrapper must not be re-entered).
    let socket: Duplex | null = null;
    const bodies = new Map<number, number>();
    const events: string[] = [];
    const conn: Http2ServerConnection = new Http2ServerConnection({
      write: (b) => {
        const copy = Buffer.from(b);
        setImmediate(() => socket!.push(copy));
      },
      onRequest(id, head, end) {
        bodies.set(id, 0);
        events.push(`${head.method} ${head.path}`);
        if (!end) return;
        conn.respond(id, 200, ['x-path', head.path], false);
        conn.sendData(id, Buffer.alloc(100_000, 0x61), true);
      },
      onRequestData(id, data) {
        bodies.set(id, bodies.get(id)! + data.length);
        conn.consume(id, data.length);
      },
      onTrailers(id, fields) {
        conn.respond(id, 200, [], false);
        conn.sendData(id, Buffer.from(`got ${bodies.get(id)} ${fields.join('=')}`), false);
        conn.sendTrailers(id, ['x-done', 'yes']);
      },
      onStreamClose(id, error) {
        events.push(`close ${id} ${error?.code ?? 'ok'}`);
      },
      onStreamWritable() {},
      onError(e) {
        events.push(`error ${e.code}`);
      },
    });
    socket = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        conn.receive(chunk);
        conn.flush();
        done();
      },
    });
    conn.flush();
    const session = connect('http://example.com', { createConnection: () => socket as never });
    const download = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': path });
        let n = 0;
        let status = '';
        req.on('response', (h) => {
          status = `${h[':status']} ${h['x-path']}`;
        });
        req.on('data', (c: Buffer) => {
          n += c.length;
        });
        req.on('end', () => resolve(`${status} ${n}`));
        req.on('error', reject);
        req.end();
      });
    const upload = new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/up', ':method': 'POST' }, { waitForTrailers: true });
      let text = '';
      let done = '';
      req.on('wantTrailers', () => req.sendTrailers({ 'x-sum': '42' }));
      req.on('trailers', (t) => {
        done = String(t['x-done']);
      });
      req.on('data', (c: Buffer) => {
        text += c.toString();
      });
      req.on('end', () => resolve(`${text} ${done}`));
      req.on('error', reject);
      req.end(Buffer.alloc(300_000, 0x62)); // over 4 stream windows of 65,535
    });
    const got = await Promise.all([download('/a'), upload, download('/b')]);
    expect(got).toEqual(['200 /a 100000', 'got 300000 x-sum=42 yes', '200 /b 100000']);
    session.destroy();
    socket.destroy();
    expect(events.filter((e) => e.startsWith('close')).sort()).toEqual([
      'close 1 ok',
      'close 3 ok',
      'close 5 ok',
    ]);
    expect(events.some((e) => e.startsWith('error'))).toBe(false);
    expect(conn.activeStreams).toBe(0);
  });
});
