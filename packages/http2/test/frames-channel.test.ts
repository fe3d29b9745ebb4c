/**
 * The `strata:http2:frame` diagnostics channel: every frame read and written, with its decoded
 * fields on the frame that ends a header block, the same messages for every chunking of the input,
 * and nothing built while nobody subscribes.
 */
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { FRAME_BYTES_KEPT, Http2Channel, type Http2FrameMessage } from '../src/_diagnostics';
import {
  Client,
  Driver,
  FrameType,
  headersFrame,
  preface,
  readFrames,
  settingsAck,
  windowUpdate,
} from './_frames';

let listener: ((m: unknown) => void) | null = null;

/** Subscribes; returns the messages of connection `id`. */
function record(id: number): Http2FrameMessage[] {
  const got: Http2FrameMessage[] = [];
  listener = (m) => {
    const msg = m as Http2FrameMessage;
    if (msg.connectionId === id) got.push(msg);
  };
  subscribe(Http2Channel.FRAME, listener);
  return got;
}

afterEach(() => {
  if (listener !== null) unsubscribe(Http2Channel.FRAME, listener);
  listener = null;
});

/** A message without its bytes, as a short line. */
const line = (m: Http2FrameMessage) =>
  `${m.direction} ${m.typeName} ${m.streamId} flags=${m.flags} len=${m.length}${m.fields ? ` ${JSON.stringify(m.fields)}` : ''}`;

const GET = [':method', 'GET', ':scheme', 'https', ':authority', 'a.example', ':path', '/x'];

describe('strata:http2:frame', () => {
  it('is the channel named in Http2Channel', () => {
    expect(Http2Channel.FRAME).toBe('strata:http2:frame');
    expect(channel('strata:http2:frame').hasSubscribers).toBe(false);
  });

  it('publishes frames in and out, header lists decoded', () => {
    const got = record(7);
    const d = new Driver({ id: 7 });
    d.send(
      preface([4, 1 << 20]),
      settingsAck(),
      new Client()
        .headers(1, [...GET.slice(0, 7), '/up', 'content-length', '3'])
        .data(1, 'abc', true)
        .bytes(),
    );
    d.conn.respond(1, 200, ['content-type', 'text/plain'], false);
    d.conn.sendData(1, new TextEncoder().encode('hello'), false);
    d.conn.sendTrailers(1, ['x-done', '1']);
    d.conn.flush();
    // Frames in are published as they are read; frames out when `flush` hands them over.
    const lengths = got.map((m) => m.length);
    expect(got.map(line)).toEqual([
      'in SETTINGS 0 flags=0 len=6',
      'in SETTINGS 0 flags=1 len=0',
      `in HEADERS 1 flags=4 len=${lengths[2]} ${JSON.stringify([':method', 'GET', ':scheme', 'https', ':authority', 'a.example', ':path', '/up', 'content-length', '3'])}`,
      'in DATA 1 flags=1 len=3',
      'out SETTINGS 0 flags=0 len=18',
      'out WINDOW_UPDATE 0 flags=0 len=4',
      'out SETTINGS 0 flags=1 len=0',
      `out HEADERS 1 flags=4 len=${lengths[7]} [":status","200","content-type","text/plain"]`,
      'out DATA 1 flags=0 len=5',
      `out HEADERS 1 flags=5 len=${lengths[9]} ["x-done","1"]`,
    ]);
    const dataOut = got[8]!;
    expect(dataOut.type).toBe(FrameType.DATA);
    expect([...dataOut.bytes]).toEqual([0, 0, 5, 0, 0, 0, 0, 0, 1, ...new TextEncoder().encode('hello')]);
    const dataIn = got[3]!;
    expect(new TextDecoder().decode(dataIn.bytes.subarray(9))).toBe('abc');
    expect(got.every((m) => m.connectionId === 7)).toBe(true);
  });

  it('a header block in CONTINUATION frames: the fields on the frame that ends it', () => {
    const got = record(8);
    const d = new Driver({ id: 8 });
    d.send(
      preface(),
      settingsAck(),
      new Client().split(1, [...GET, 'x-long', 'l'.repeat(50)], 20, true).bytes(),
    );
    const blocks = got.filter(
      (m) => m.direction === 'in' && (m.type === FrameType.HEADERS || m.type === FrameType.CONTINUATION),
    );
    expect(blocks.length).toBeGreaterThan(2);
    expect(blocks.slice(0, -1).every((m) => m.fields === null)).toBe(true);
    expect(blocks.at(-1)!.typeName).toBe('CONTINUATION');
    expect(blocks.at(-1)!.fields).toEqual([...GET, 'x-long', 'l'.repeat(50)]);
  });

  it('a response head split into CONTINUATION frames', () => {
    const got = record(9);
    const d = new Driver({ id: 9 });
    d.send(preface(), settingsAck(), new Client().headers(1, GET, { end: true }).bytes());
    d.conn.respond(1, 200, ['x-big', 'b'.repeat(30_000)], true);
    d.conn.flush();
    const out = got.filter((m) => m.direction === 'out' && m.streamId === 1);
    expect(out.map((m) => [m.typeName, m.fields === null])).toEqual([
      ['HEADERS', true],
      ['CONTINUATION', false],
    ]);
    expect(out[1]!.fields).toEqual([':status', '200', 'x-big', 'b'.repeat(30_000)]);
    expect(out[0]!.length).toBe(16_384);
    expect(out[0]!.bytes.length).toBe(FRAME_BYTES_KEPT);
  });

  it('keeps at most FRAME_BYTES_KEPT bytes of a large frame, with its full length', () => {
    const got = record(10);
    const d = new Driver({ id: 10 });
    const body = new Uint8Array(10_000).map((_, i) => i & 0xff);
    d.send(
      preface(),
      settingsAck(),
      windowUpdate(0, 1 << 20),
      new Client().headers(1, GET, { end: true }).bytes(),
    );
    d.conn.respond(1, 200, [], false);
    d.conn.sendData(1, body, true);
    d.conn.flush();
    const m = got.find((x) => x.direction === 'out' && x.typeName === 'DATA')!;
    expect(m.length).toBe(10_000);
    expect(m.flags).toBe(1);
    expect(m.bytes.length).toBe(FRAME_BYTES_KEPT);
    expect([...m.bytes.subarray(9)]).toEqual([...body.subarray(0, FRAME_BYTES_KEPT - 9)]);
  });

  it('an undecodable header block is published without fields, then the GOAWAY', () => {
    const got = record(11);
    const d = new Driver({ id: 11 });
    d.send(preface(), headersFrame(1, Uint8Array.of(0xbf)));
    expect(got.map(line)).toEqual([
      'in SETTINGS 0 flags=0 len=0',
      'in HEADERS 1 flags=4 len=1',
      'out SETTINGS 0 flags=0 len=18',
      'out WINDOW_UPDATE 0 flags=0 len=4',
      'out SETTINGS 0 flags=1 len=0',
      `out GOAWAY 0 flags=0 len=${8 + 'H2_COMPRESSION'.length}`,
    ]);
  });

  it('unknown frame types are named UNKNOWN(0x..)', () => {
    const got = record(12);
    const d = new Driver({ id: 12 });
    const unknown = Uint8Array.of(0, 0, 1, 0x42, 0, 0, 0, 0, 0, 9);
    d.send(preface(), unknown);
    const m = got.find((x) => x.type === 0x42)!;
    expect(m.typeName).toBe('UNKNOWN(0x42)');
    expect(m.direction).toBe('in');
    expect([...m.bytes]).toEqual([...unknown]);
  });

  it('the same messages whatever the chunking of the input', () => {
    const input = new Client()
      .preface()
      .split(1, [...GET, 'x-a', 'a'.repeat(30)], 16, false)
      .data(1, 'body', true)
      .bytes();
    const run = (cuts: number[]) => {
      const got = record(13);
      const d = new Driver({ id: 13 });
      let from = 0;
      for (const c of [...cuts, input.length]) {
        d.conn.receive(input.subarray(from, c));
        from = c;
      }
      d.conn.flush();
      unsubscribe(Http2Channel.FRAME, listener!);
      listener = null;
      return got.map((m) => ({ ...m, bytes: [...m.bytes] }));
    };
    const whole = run([]);
    expect(whole.length).toBeGreaterThan(5);
    const bytewise: number[] = [];
    for (let i = 1; i < input.length; i++) bytewise.push(i);
    expect(run(bytewise)).toEqual(whole);
    for (let i = 1; i < input.length; i++) expect(run([i]), `split at ${i}`).toEqual(whole);
  });

  it('without a subscriber nothing is published, and the bytes and events are the same as with one', () => {
    const input = new Client().split(1, GET, 5, true).bytes();
    const run = () => {
      const d = new Driver({ id: 14 });
      d.send(preface(), input);
      d.conn.respond(1, 200, ['x-big', 'b'.repeat(20_000)], false);
      d.conn.sendData(1, new Uint8Array(3_000), false);
      d.conn.sendTrailers(1, ['x-t', '1']);
      d.conn.flush();
      return { log: d.log, out: d.lines() };
    };
    expect(channel(Http2Channel.FRAME).hasSubscribers).toBe(false);
    const quiet = run();
    const got = record(14);
    const traced = run();
    expect(traced).toEqual(quiet);
    expect(got.filter((m) => m.direction === 'out').length).toBe(traced.out.length);
    expect(got.filter((m) => m.direction === 'in').length).toBe(1 + readFrames(input).length);
  });
});
