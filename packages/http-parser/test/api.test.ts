import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  ERROR_STATUS,
  ErrorCode,
  HttpParseError,
  ParseStatus,
  type RequestHead,
  RequestParser,
} from '../src/index';
import { bytes, req } from './_helpers';

const H = 'Host: a.test';

function recorder() {
  const log: string[] = [];
  const heads: RequestHead[] = [];
  const views: Uint8Array[] = [];
  let pauseOn = '';
  const cb = {
    onHead(h: RequestHead) {
      heads.push(h);
      log.push(`head ${h.method} ${h.target}`);
      return pauseOn === 'head';
    },
    onBody(c: Uint8Array) {
      views.push(c);
      log.push(`body ${Buffer.from(c).toString('latin1')}`);
      return pauseOn === 'body';
    },
    onMessageComplete(t: string[] | null) {
      log.push(`done ${JSON.stringify(t)}`);
      return pauseOn === 'done';
    },
  };
  return {
    log,
    heads,
    views,
    cb,
    pause(on: string) {
      pauseOn = on;
    },
  };
}

describe('RequestParser API', () => {
  it('pauses after each event and resumes where it stopped', () => {
    const input = bytes(
      req('POST /a HTTP/1.1', H, 'Content-Length: 3', '', 'abc') + req('GET /b HTTP/1.1', H, '', ''),
    );
    for (const on of ['head', 'body', 'done']) {
      const r = recorder();
      r.pause(on);
      const p = new RequestParser(r.cb);
      let rest = input;
      let pauses = 0;
      for (let guard = 0; guard < 20; guard++) {
        const st = p.execute(rest);
        if (st === ParseStatus.OK) break;
        expect(st).toBe(ParseStatus.PAUSED);
        pauses++;
        const before = r.log.length;
        rest = rest.subarray(p.consumed);
        expect(r.log.length).toBe(before);
      }
      expect(pauses).toBe(on === 'body' ? 1 : 2);
      expect(r.log).toEqual(['head POST /a', 'body abc', 'done null', 'head GET /b', 'done null']);
    }
  });

  it('a pause in onHead comes before onMessageComplete of a body-less request', () => {
    const r = recorder();
    r.pause('head');
    const p = new RequestParser(r.cb);
    const input = bytes(req('GET / HTTP/1.1', H, '', ''));
    expect(p.execute(input)).toBe(ParseStatus.PAUSED);
    expect(p.consumed).toBe(input.length);
    expect(r.log).toEqual(['head GET /']);
    // resuming with no bytes delivers the completion
    expect(p.execute(input.subarray(p.consumed))).toBe(ParseStatus.OK);
    expect(r.log).toEqual(['head GET /', 'done null']);
  });

  it('UPGRADE hands back the unconsumed bytes', () => {
    const r = recorder();
    const p = new RequestParser(r.cb);
    const head = req('GET /ws HTTP/1.1', H, 'Connection: Upgrade', 'Upgrade: websocket', '', '');
    const input = bytes(`${head}\x81\x05hello`);
    expect(p.execute(input)).toBe(ParseStatus.UPGRADE);
    expect(p.consumed).toBe(head.length);
    expect(p.upgraded).toBe(true);
    expect(r.heads[0]?.upgrade).toBe(true);
    expect(p.execute(bytes('more'))).toBe(ParseStatus.UPGRADE);
    expect(p.consumed).toBe(0);
    expect(p.finish()).toBe(ParseStatus.OK);
  });

  it('body chunks are zero-copy views into the input', () => {
    const r = recorder();
    const p = new RequestParser(r.cb);
    const input = bytes(req('POST / HTTP/1.1', H, 'Content-Length: 5', '', 'hello'));
    expect(p.execute(input)).toBe(ParseStatus.OK);
    expect(r.views).toHaveLength(1);
    expect(r.views[0]!.buffer).toBe(input.buffer);
    expect(r.views[0]!.byteOffset).toBe(input.length - 5);
  });

  it('keeps no reference to a chunk: a head split across chunks survives the caller reusing its buffer', () => {
    const r = recorder();
    const p = new RequestParser(r.cb);
    const text = req('GET /split HTTP/1.1', H, 'X-Long: abcdefghijklmnopqrstuvwxyz', '', '');
    const scratch = new Uint8Array(64);
    for (let i = 0; i < text.length; i += 7) {
      const piece = bytes(text.slice(i, i + 7));
      scratch.fill(0x21);
      scratch.set(piece);
      expect(p.execute(scratch.subarray(0, piece.length))).toBe(ParseStatus.OK);
    }
    expect(r.heads[0]?.rawHeaders).toEqual(['Host', 'a.test', 'X-Long', 'abcdefghijklmnopqrstuvwxyz']);
  });

  it('error offsets count from the first byte of the stream', () => {
    const p = new RequestParser(recorder().cb);
    expect(p.execute(bytes('GET / HTTP/1.1\r\n'))).toBe(ParseStatus.OK);
    expect(p.execute(bytes('Host: a\r\nX: a\x00'))).toBe(ParseStatus.ERROR);
    expect(p.error).toBeInstanceOf(HttpParseError);
    expect(p.error).toMatchObject({ code: 'HPE_INVALID_HEADER_VALUE', status: 400, offset: 16 + 13 });
    expect(p.consumed).toBe(13);
  });

  it('reset starts a fresh stream after an error', () => {
    const r = recorder();
    const p = new RequestParser(r.cb);
    expect(p.execute(bytes('BAD\x00'))).toBe(ParseStatus.ERROR);
    p.reset();
    expect(p.error).toBeNull();
    expect(p.execute(bytes(req('GET / HTTP/1.1', H, '', '')))).toBe(ParseStatus.OK);
    expect(r.log).toEqual(['head GET /', 'done null']);
  });

  it('closed: bytes after a Connection: close request are consumed and ignored', () => {
    const r = recorder();
    const p = new RequestParser(r.cb);
    const input = bytes(`${req('GET / HTTP/1.1', H, 'Connection: close', '', '')}GET /2 HTTP/1.1\r\n\r\n`);
    expect(p.execute(input)).toBe(ParseStatus.OK);
    expect(p.consumed).toBe(input.length);
    expect(p.closed).toBe(true);
    expect(r.heads).toHaveLength(1);
    expect(p.finish()).toBe(ParseStatus.OK);
  });

  it('exposes the error table and defaults', () => {
    expect(ERROR_STATUS[ErrorCode.HPE_URI_TOO_LONG]).toBe(414);
    expect(ERROR_STATUS[ErrorCode.HPE_HEADER_OVERFLOW]).toBe(431);
    expect(ERROR_STATUS[ErrorCode.HPE_BODY_TOO_LARGE]).toBe(413);
    expect(ERROR_STATUS[ErrorCode.HPE_UNKNOWN_TRANSFER_ENCODING]).toBe(501);
    expect(ERROR_STATUS[ErrorCode.HPE_HTTP_VERSION_NOT_SUPPORTED]).toBe(505);
    for (const code of Object.values(ErrorCode))
      expect([400, 413, 414, 431, 501, 505]).toContain(ERROR_STATUS[code]);
    expect(DEFAULT_LIMITS).toMatchObject({ maxHeadBytes: 16384, maxHeaders: 100, requireHost: true });
  });

  it('handles many pipelined requests in one chunk and reports them in order', () => {
    const r = recorder();
    const p = new RequestParser(r.cb);
    let text = '';
    for (let k = 0; k < 50; k++) text += req(`GET /${k} HTTP/1.1`, H, '', '');
    expect(p.execute(bytes(text))).toBe(ParseStatus.OK);
    expect(r.heads.map((h) => h.target)).toEqual(Array.from({ length: 50 }, (_, k) => `/${k}`));
  });

  it('works on Buffers, plain Uint8Arrays and unaligned views alike', () => {
    const text = req('GET / HTTP/1.1', H, `X-V: ${'v'.repeat(100)}`, '', '');
    for (const shift of [0, 1, 2, 3, 5]) {
      const r = recorder();
      const p = new RequestParser(r.cb);
      const big = new Uint8Array(text.length + shift + 3);
      big.set(bytes(text), shift);
      expect(p.execute(big.subarray(shift, shift + text.length))).toBe(ParseStatus.OK);
      expect(r.heads[0]?.rawHeaders[3]).toBe('v'.repeat(100));
    }
    const r = recorder();
    expect(new RequestParser(r.cb).execute(Buffer.from(text, 'latin1'))).toBe(ParseStatus.OK);
    expect(r.heads).toHaveLength(1);
  });
});

describe('declining an upgrade', () => {
  it('continues with the body and the next requests as HTTP/1.1', () => {
    const r = recorder();
    const p = new RequestParser(r.cb);
    const input = bytes(
      req(
        'POST /up HTTP/1.1',
        H,
        'Connection: Upgrade, HTTP2-Settings',
        'Upgrade: h2c',
        'HTTP2-Settings: AAMAAABkAAQAAP__',
        'Content-Length: 5',
        '',
        'hello',
      ) + req('GET /next HTTP/1.1', H, '', ''),
    );
    expect(p.execute(input)).toBe(ParseStatus.UPGRADE);
    expect(r.heads[0]?.upgrade).toBe(true);
    expect(p.declineUpgrade()).toBe(true);
    expect(p.declineUpgrade()).toBe(false);
    expect(p.execute(input.subarray(p.consumed))).toBe(ParseStatus.OK);
    expect(r.log).toEqual(['head POST /up', 'body hello', 'done null', 'head GET /next', 'done null']);
  });
  it('continues after a body-less upgrade request, chunked too', () => {
    for (const framing of [[], ['Transfer-Encoding: chunked']]) {
      const r = recorder();
      const p = new RequestParser(r.cb);
      const body = framing.length > 0 ? '3\r\nabc\r\n0\r\n\r\n' : '';
      const input = bytes(
        req('GET /ws HTTP/1.1', H, 'Connection: upgrade', 'Upgrade: websocket', ...framing, '', body) +
          req('GET /n HTTP/1.1', H, '', ''),
      );
      expect(p.execute(input)).toBe(ParseStatus.UPGRADE);
      p.declineUpgrade();
      expect(p.execute(input.subarray(p.consumed))).toBe(ParseStatus.OK);
      expect(r.log.at(-2)).toBe('head GET /n');
      expect(r.log).toContain(framing.length > 0 ? 'body abc' : 'done null');
    }
  });
});
