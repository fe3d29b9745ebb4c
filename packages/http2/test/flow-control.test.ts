/**
 * Flow control both ways (RFC 9113 sections 5.2, 6.9): our receive windows, given back with
 * `consume()`; the client's windows, honoured by `sendData` (DATA waits for WINDOW_UPDATE); window
 * changes by SETTINGS_INITIAL_WINDOW_SIZE (negative windows included); overflows; fair scheduling
 * between streams; header blocks split by the client's SETTINGS_MAX_FRAME_SIZE; trailers after the
 * queued body; backpressure (`sendData` false, `onStreamWritable`).
 */
import { describe, expect, it } from 'vitest';
import {
  bytes,
  Client,
  concat,
  data,
  feedAllWays,
  feedScript,
  opened,
  preface,
  rstStream,
  settings,
  windowUpdate,
} from './_frames';

const body = (n: number, c = 0x61) => new Uint8Array(n).fill(c);
const GET = [':method', 'GET', ':scheme', 'https', ':path', '/'];
const POST = [':method', 'POST', ':scheme', 'https', ':path', '/'];
const LIMITS_100 = { limits: { initialWindowSize: 100, connectionWindowSize: 65_535 } };

describe('our receive windows', () => {
  it('SETTINGS announce INITIAL_WINDOW_SIZE; consume() gives the bytes back once half the window is used', () => {
    const c = new Client();
    const t = feedScript(
      [
        preface(),
        c.headers(1, POST).data(1, body(60)).take(),
        (d) => d.conn.consume(1, 30), // 30 < 50: not yet
        (d) => d.conn.consume(1, 30),
        data(1, body(100)), // the window is 100 again
        data(1, 'x'),
      ],
      { limits: { initialWindowSize: 100, connectionWindowSize: 65_535 } },
    );
    expect(t).toEqual([
      '> SETTINGS 0',
      '> SETTINGS 0 ACK',
      'request 1 POST https  / cl=-1 end=false []',
      `data 1 "${'a'.repeat(60)}" end=false`,
      '> WINDOW_UPDATE 1 +60',
      `data 1 "${'a'.repeat(100)}" end=false`,
      'close 1 H2_FLOW_CONTROL 3',
      '> RST_STREAM 1 code=3',
    ]);
    expect(t).not.toContain('> WINDOW_UPDATE 1 +30');
  });

  it('DATA beyond the stream window: stream error FLOW_CONTROL_ERROR, the connection goes on', () => {
    const input = new Client()
      .preface()
      .headers(1, POST)
      .data(1, body(16))
      .data(1, body(1))
      .headers(3, GET, { end: true })
      .bytes();
    const r = feedAllWays(input, { limits: { initialWindowSize: 16 } });
    expect(r.log.slice(1)).toEqual([
      `data 1 "${'a'.repeat(16)}" end=false`,
      'close 1 H2_FLOW_CONTROL 3',
      expect.stringMatching(/^request 3/),
    ]);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=3']);
  });

  it('padding counts against the window and is given back with the next WINDOW_UPDATE', () => {
    const t = feedScript(
      [
        preface(),
        new Client().headers(1, POST).data(1, body(10), false, 40).bytes(),
        (d) => d.conn.consume(1, 10), // 10 data + 41 padding (with the pad length byte) = 51 >= 50
      ],
      LIMITS_100,
    );
    expect(t.slice(-2)).toEqual([`data 1 "${'a'.repeat(10)}" end=false`, '> WINDOW_UPDATE 1 +51']);
  });

  it('padding alone is given back without consume() (frames of nothing but padding cannot stall the stream)', () => {
    const t = feedScript(
      [preface(), new Client().headers(1, POST).data(1, '', false, 59).bytes(), data(1, body(100), true)],
      LIMITS_100,
    );
    expect(t.slice(-3)).toEqual([
      'data 1 "" end=false',
      '> WINDOW_UPDATE 1 +60',
      `data 1 "${'a'.repeat(100)}" end=true`,
    ]);
  });

  it('consume() on an unknown, closed or ended stream, or of 0 bytes, does nothing', () => {
    const t = feedScript(
      [
        preface(),
        new Client().headers(1, POST).data(1, body(80), true).bytes(),
        (d) => {
          d.conn.consume(1, 80); // the client ended: no more window needed
          d.conn.consume(3, 80);
          d.conn.consume(1, 0);
        },
      ],
      { limits: { initialWindowSize: 100 } },
    );
    expect(t.filter((l) => l.startsWith('> WINDOW_UPDATE 1'))).toEqual([]);
  });

  it('the connection window is given back as DATA arrives, half a window at a time', () => {
    const c = new Client().preface().headers(1, POST);
    for (let i = 0; i < 5; i++) c.data(1, body(10_000));
    const r = feedAllWays(c.bytes(), {
      limits: { connectionWindowSize: 65_535, initialWindowSize: 1_000_000 },
    });
    expect(r.out).toEqual(['SETTINGS 0', 'SETTINGS 0 ACK', 'WINDOW_UPDATE 0 +40000']);
  });

  it('DATA beyond the connection window: connection error FLOW_CONTROL_ERROR', () => {
    const c = new Client().preface().headers(1, POST).data(1, body(65_536));
    const r = feedAllWays(c.bytes(), {
      limits: { connectionWindowSize: 65_535, initialWindowSize: 100_000, maxFrameSize: 70_000 },
    });
    expect(r.log.slice(1)).toEqual(['close 1 H2_FLOW_CONTROL 3', 'error H2_FLOW_CONTROL 3']);
    expect(r.out.at(-1)).toBe('GOAWAY 0 last=1 code=3');
  });
});

describe("the client's windows", () => {
  it('sendData beyond the stream window waits for WINDOW_UPDATE', () => {
    const t = feedScript([
      preface([4, 10]),
      new Client().headers(1, GET, { end: true }).bytes(),
      (d) => {
        d.conn.respond(1, 200, [], false);
        expect(d.conn.sendData(1, body(25), true)).toBe(true);
      },
      (d) => {
        expect(d.conn.buffered(1)).toBe(15);
        expect(d.conn.hasOutput).toBe(false);
      },
      windowUpdate(1, 10),
      windowUpdate(1, 100),
    ]);
    expect(t.slice(4)).toEqual([
      '> HEADERS 1 END_HEADERS [":status","200"]',
      '> DATA 1 len=10',
      '> DATA 1 len=10',
      // A step's events come before the frames its flush wrote.
      'close 1 ok',
      '> DATA 1 len=5 END_STREAM',
    ]);
  });

  it('the connection window is shared: 65,535 bytes, then WINDOW_UPDATE on stream 0', () => {
    const t = feedScript([
      preface([4, 1 << 20]),
      new Client().headers(1, GET, { end: true }).bytes(),
      (d) => {
        d.conn.respond(1, 200, [], false);
        d.conn.sendData(1, body(70_000), true);
      },
      windowUpdate(0, 1_000),
      windowUpdate(0, 100_000),
    ]);
    expect(t.slice(4)).toEqual([
      'writable 1', // 70,000 queued: over streamHighWater; 4,465 left after the first flush
      '> HEADERS 1 END_HEADERS [":status","200"]',
      '> DATA 1 len=16384',
      '> DATA 1 len=16384',
      '> DATA 1 len=16384',
      '> DATA 1 len=16383',
      '> DATA 1 len=1000',
      'close 1 ok',
      '> DATA 1 len=3465 END_STREAM',
    ]);
  });

  it('DATA frames are at most the client SETTINGS_MAX_FRAME_SIZE', () => {
    const d = opened({}, [4, 1 << 20, 5, 20_000]);
    d.send(windowUpdate(0, 1 << 20), new Client().headers(1, GET, { end: true }).take());
    d.conn.respond(1, 200, [], false);
    d.conn.sendData(1, body(30_000), true);
    d.conn.flush();
    expect(d.lines().slice(1)).toEqual(['DATA 1 len=20000', 'DATA 1 len=10000 END_STREAM']);
  });

  it('SETTINGS_INITIAL_WINDOW_SIZE moves the windows of open streams, below zero too', () => {
    const c = new Client();
    const t = feedScript([
      preface([4, 10]),
      c.headers(1, GET, { end: true }).take(),
      (d) => {
        d.conn.respond(1, 200, [], false);
        d.conn.sendData(1, body(40), true); // 10 go: window 0
      },
      settings([4, 5]), // 0 + (5 - 10) = -5
      windowUpdate(1, 5), // 0: still nothing
      windowUpdate(1, 7), // 7
      settings([4, 20]), // 0 + 15 = 15
      c.headers(3, GET, { end: true }).take(), // a new stream starts with the new initial window
      (d) => {
        d.conn.respond(3, 200, [], false);
        d.conn.sendData(3, body(30), true);
      },
    ]);
    expect(t.slice(4)).toEqual([
      '> HEADERS 1 END_HEADERS [":status","200"]',
      '> DATA 1 len=10',
      '> SETTINGS 0 ACK',
      '> DATA 1 len=7',
      '> SETTINGS 0 ACK',
      '> DATA 1 len=15',
      expect.stringMatching(/^request 3 GET/),
      '> HEADERS 3 END_HEADERS [":status","200"]',
      '> DATA 3 len=20',
    ]);
  });

  it('a stream window past 2^31-1 by WINDOW_UPDATE: stream error FLOW_CONTROL_ERROR', () => {
    const c = new Client()
      .preface()
      .headers(1, GET, { end: true })
      .raw(windowUpdate(1, 0x7fffffff - 65_535), windowUpdate(1, 1));
    const r = feedAllWays(c.bytes());
    expect(r.log.slice(1)).toEqual(['close 1 H2_WINDOW_OVERFLOW 3']);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=3']);
  });

  it('a stream window past 2^31-1 by a SETTINGS change: connection error FLOW_CONTROL_ERROR', () => {
    const c = new Client()
      .preface()
      .headers(1, GET, { end: true })
      .raw(windowUpdate(1, 0x7fffffff - 65_535), settings([4, 65_536]));
    const r = feedAllWays(c.bytes());
    expect(r.log.slice(1)).toEqual(['close 1 H2_WINDOW_OVERFLOW 3', 'error H2_WINDOW_OVERFLOW 3']);
  });

  it('WINDOW_UPDATE of 0 on a stream: stream error PROTOCOL_ERROR', () => {
    const c = new Client().preface().headers(1, GET, { end: true }).raw(windowUpdate(1, 0));
    const r = feedAllWays(c.bytes());
    expect(r.log.slice(1)).toEqual(['close 1 H2_ZERO_WINDOW_INCREMENT 1']);
    expect(r.out.slice(3)).toEqual(['RST_STREAM 1 code=1']);
  });

  it('WINDOW_UPDATE on a closed stream is ignored', () => {
    const d = opened();
    d.send(new Client().headers(1, GET, { end: true }).take());
    d.conn.respond(1, 204, [], true);
    d.send(windowUpdate(1, 100));
    expect(d.conn.closed).toBe(false);
    expect(d.lines()).toEqual(['HEADERS 1 END_STREAM END_HEADERS [":status","204"]']);
  });
});

describe('scheduling and the send queue', () => {
  it('two streams share the connection fairly: their DATA frames interleave', () => {
    const c = new Client();
    const t = feedScript([
      preface([4, 1 << 20]),
      concat(
        windowUpdate(0, 1 << 20),
        c.headers(1, GET, { end: true }).headers(3, GET, { end: true }).take(),
      ),
      (d) => {
        d.conn.respond(1, 200, [], false);
        d.conn.respond(3, 200, [], false);
        d.conn.sendData(1, body(16_384 * 3), true);
        d.conn.sendData(3, body(16_384 * 2, 0x62), true);
      },
    ]);
    // Events of a step come first in its transcript, then the frames its flush wrote.
    expect(t.slice(-9)).toEqual([
      'close 3 ok',
      'close 1 ok',
      '> HEADERS 1 END_HEADERS [":status","200"]',
      '> HEADERS 3 END_HEADERS [":status","200"]',
      '> DATA 1 len=16384',
      '> DATA 3 len=16384',
      '> DATA 1 len=16384',
      '> DATA 3 len=16384 END_STREAM',
      '> DATA 1 len=16384 END_STREAM',
    ]);
  });

  it('body chunks keep their bytes and order across frames', () => {
    const d = opened({}, [4, 1 << 20]);
    d.send(windowUpdate(0, 1 << 20), new Client().headers(1, GET, { end: true }).take());
    d.conn.respond(1, 200, [], false);
    const parts = [bytes('hello '), body(5_000, 0x41), bytes(' world'), body(20_000, 0x42)];
    for (const p of parts) d.conn.sendData(1, p, false);
    d.conn.sendData(1, new Uint8Array(0), true);
    d.conn.flush();
    const frames = d.frames().filter((f) => f.type === 0);
    expect(concat(...frames.map((f) => f.payload))).toEqual(concat(...parts));
    expect(frames.every((f) => f.payload.length <= 16_384)).toBe(true);
    expect(frames.at(-1)!.flags & 1).toBe(1);
  });

  it('sendData returns false at streamHighWater; onStreamWritable once it drains', () => {
    const d = opened({ limits: { streamHighWater: 100 } }, [4, 50]);
    d.send(new Client().headers(1, GET, { end: true }).take());
    d.conn.respond(1, 200, [], false);
    expect(d.conn.sendData(1, body(60), false)).toBe(true);
    expect(d.conn.sendData(1, body(60), false)).toBe(false);
    d.conn.flush(); // 50 go: 70 left, under the mark
    expect(d.log.at(-1)).toBe('writable 1');
    expect(d.conn.buffered(1)).toBe(70);
    expect(d.lines().slice(1)).toEqual(['DATA 1 len=50']);
  });

  it('a header block larger than the client SETTINGS_MAX_FRAME_SIZE is split into CONTINUATION frames', () => {
    const d = opened();
    d.send(new Client().headers(1, GET, { end: true }).take());
    const big = ['x-big', 'q'.repeat(40_000), 'x-two', 'z'.repeat(10_000)];
    d.conn.respond(1, 200, big, true);
    d.conn.flush();
    const frames = d.frames();
    expect(frames.map((f) => [f.type, f.flags, f.payload.length <= 16_384])).toEqual([
      [1, 1, true],
      [9, 0, true],
      [9, 4, true],
    ]);
    expect(frames.at(-1)!.fields).toEqual([':status', '200', ...big]);
    expect(d.log.at(-1)).toBe('close 1 ok');
  });

  it('with a larger client SETTINGS_MAX_FRAME_SIZE the block goes in fewer frames', () => {
    const d = opened({}, [5, 65_536]);
    d.send(new Client().headers(1, GET, { end: true }).take());
    d.conn.respond(1, 200, ['x-big', 'q'.repeat(40_000)], true);
    d.conn.flush();
    expect(d.lines()).toHaveLength(1);
  });

  it('trailers go after the queued body, waiting for the window like it', () => {
    const t = feedScript([
      preface([4, 4]),
      new Client().headers(1, GET, { end: true }).bytes(),
      (d) => {
        d.conn.respond(1, 200, [], false);
        d.conn.sendData(1, bytes('abcdef'), false);
        d.conn.sendTrailers(1, ['x-checksum', '42']);
      },
      (d) => expect(d.conn.activeStreams).toBe(1),
      windowUpdate(1, 10),
    ]);
    expect(t.slice(4)).toEqual([
      '> HEADERS 1 END_HEADERS [":status","200"]',
      '> DATA 1 len=4',
      'close 1 ok',
      '> DATA 1 len=2',
      '> HEADERS 1 END_STREAM END_HEADERS ["x-checksum","42"]',
    ]);
  });

  it('trailers with no body', () => {
    const d = opened();
    d.send(new Client().headers(1, GET, { end: true }).take());
    d.conn.respond(1, 200, [], false);
    d.conn.sendTrailers(1, ['grpc-status', '0']);
    d.conn.flush();
    expect(d.lines()).toEqual([
      'HEADERS 1 END_HEADERS [":status","200"]',
      'HEADERS 1 END_STREAM END_HEADERS ["grpc-status","0"]',
    ]);
  });

  it('the response ends before the request body: RST_STREAM NO_ERROR, the body is not read', () => {
    const d = opened();
    d.send(new Client().headers(1, POST).data(1, 'part').take());
    d.conn.respond(1, 413, [], true);
    d.send(data(1, 'more', true));
    expect(d.log).toEqual([
      expect.stringMatching(/^request 1 POST/),
      'data 1 "part" end=false',
      'close 1 ok',
    ]);
    expect(d.lines()).toEqual(['HEADERS 1 END_STREAM END_HEADERS [":status","413"]', 'RST_STREAM 1 code=0']);
  });

  it('a reset stream drops its queued bytes', () => {
    const d = opened({}, [4, 0]);
    d.send(new Client().headers(1, GET, { end: true }).take());
    d.conn.respond(1, 200, [], false);
    d.conn.sendData(1, body(100), true);
    d.send(rstStream(1, 8));
    expect(d.conn.buffered(1)).toBe(0);
    d.send(windowUpdate(0, 100));
    expect(d.lines()).toEqual(['HEADERS 1 END_HEADERS [":status","200"]']);
  });

  it('flush hands out a bounded amount of DATA per call: false until everything went', () => {
    const d = opened({ limits: { streamHighWater: 1 << 22 } }, [4, 0x7fffffff]);
    d.send(windowUpdate(0, 0x7fffffff - 65_535), new Client().headers(1, GET, { end: true }).take());
    d.conn.respond(1, 200, [], false);
    d.conn.sendData(1, body(1 << 20), true);
    let calls = 0;
    let sent = 0;
    for (let done = false; !done && calls < 100; calls++) {
      done = d.conn.flush();
      for (const f of d.frames()) if (f.type === 0) sent += f.payload.length;
      if (!done) expect(d.conn.hasOutput).toBe(true);
    }
    expect(calls).toBeGreaterThan(1);
    expect(sent).toBe(1 << 20);
    expect(d.conn.hasOutput).toBe(false);
    expect(d.log.at(-1)).toBe('close 1 ok');
  });
});

describe('HPACK table sizes', () => {
  it('the client SETTINGS_HEADER_TABLE_SIZE 0: our blocks use no dynamic table', () => {
    const d = opened({}, [1, 0]);
    const c = new Client();
    d.send(c.headers(1, GET, { end: true }).headers(3, GET, { end: true }).take());
    d.conn.respond(1, 200, ['x-custom', 'value-1'], true);
    d.conn.respond(3, 200, ['x-custom', 'value-1'], true);
    d.conn.flush();
    const heads = d.frames().filter((f) => f.type === 1);
    expect(heads.map((f) => f.fields)).toEqual([
      [':status', '200', 'x-custom', 'value-1'],
      [':status', '200', 'x-custom', 'value-1'],
    ]);
    // Not one indexed octet the second time: nothing was inserted.
    expect(heads[1]!.payload.length).toBe(heads[0]!.payload.length - 1);
  });

  it('our smaller HEADER_TABLE_SIZE applies once acknowledged: the client must open with a size update', () => {
    const d = opened({ limits: { headerTableSize: 256 } });
    const c = new Client();
    c.encoder.setMaxTableSize(256); // what a client does on reading our SETTINGS
    d.send(c.headers(1, GET, { end: true }).take());
    expect(d.log.at(-1)).toMatch(/^request 1 GET/);
    const stale = new Client(); // a client that ignores our setting
    stale.block(['x-fill', 'f'.repeat(300)]);
    const e = opened({ limits: { headerTableSize: 256 } });
    e.send(stale.headers(1, GET, { end: true }).take());
    expect(e.log).toEqual(['error H2_COMPRESSION 9']);
  });
});

describe('bounds, exactly', () => {
  it('windows may reach 2^31-1 exactly; SETTINGS_MAX_FRAME_SIZE 2^24-1 and INITIAL_WINDOW_SIZE 2^31-1 are accepted', () => {
    const input = new Client()
      .preface([5, 16_777_215, 4, 0x7fffffff])
      .headers(1, GET, { end: true })
      .raw(windowUpdate(0, 0x7fffffff - 65_535), settings([4, 65_535]), windowUpdate(1, 0x7fffffff - 65_535))
      .bytes();
    const r = feedAllWays(input);
    expect(r.log).toEqual([expect.stringMatching(/^request 1 GET/)]);
    expect(r.out.slice(3)).toEqual(['SETTINGS 0 ACK']);
  });

  it('a header list of exactly maxHeaderListSize is accepted; one byte more is answered 431', () => {
    // GET's fields cost 7+3+32 + 7+5+32 + 5+1+32 = 124; x-pad: 5 + n + 32.
    const at = (n: number) =>
      new Client()
        .preface()
        .headers(1, [...GET, 'x-pad', 'p'.repeat(n)], { end: true })
        .bytes();
    const limits = { maxHeaderListSize: 124 + 37 + 100 };
    expect(feedAllWays(at(100), { limits }).log[0]).toMatch(/^request 1 GET/);
    expect(feedAllWays(at(101), { limits }).log[0]).toBe('refused 1 H2_HEADER_LIST_TOO_LARGE 1');
  });

  it('exactly maxConcurrentStreams streams are served', () => {
    const c = new Client().preface();
    for (let id = 1; id <= 5; id += 2) c.headers(id, POST);
    const r = feedAllWays(c.bytes(), { limits: { maxConcurrentStreams: 3 } });
    expect(r.log.map((l) => l.slice(0, 9))).toEqual(['request 1', 'request 3', 'request 5']);
    expect(r.driver.conn.activeStreams).toBe(3);
  });
});
