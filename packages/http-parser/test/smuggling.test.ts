// Request-smuggling shapes, named after the classes found by differential fuzzing of HTTP
// implementations (see shared/ANCHORS.md). Each runs whole, byte by byte and at every split point.
// For every rejected shape we also check that nothing of the request leaked out as events and that
// the parser never resynchronises: more bytes after the error are not parsed.
import { describe, expect, it } from 'vitest';
import { ParseStatus, RequestParser } from '../src/index';
import { bytes, type Outcome, req, runAll } from './_helpers';

const H = 'Host: a.test';
const NEXT = req('GET /next HTTP/1.1', H, '', '');

function rejected(input: string, code: string, status = 400): Outcome {
  const o = runAll(input + NEXT);
  expect(o.error?.code, JSON.stringify(input)).toBe(code);
  expect(o.error?.status).toBe(status);
  expect(o.events.some((e) => e.type === 'head' && e.head.target === '/next')).toBe(false);
  return o;
}

/** Extra check for head-level rejections: no event at all for the bad request. */
function rejectedHead(input: string, code: string, status = 400): void {
  const o = rejected(input, code, status);
  expect(o.events).toEqual([]);
}

describe('prefix-parsed lengths', () => {
  for (const v of ['0x10', '+5', '1_0', '-48', '5abc', '0005 1', '٥', '5.0', '1e1', '0b1', '05\t5']) {
    it(`Content-Length: ${JSON.stringify(v)}`, () => {
      rejectedHead(
        req('POST / HTTP/1.1', H, `Content-Length: ${v}`, '', '12345678901234567890'),
        'HPE_INVALID_CONTENT_LENGTH',
      );
    });
  }
  for (const v of ['0x5', '+5', '-5', '5_0', '\t5', '5 ']) {
    it(`chunk size ${JSON.stringify(v)}`, () => {
      rejected(
        req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', v, 'hello', '0', '', ''),
        'HPE_INVALID_CHUNK_SIZE',
      );
    });
  }
});

describe('empty lengths', () => {
  it('Content-Length with no value', () => {
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length:', '', 'abc'), 'HPE_INVALID_CONTENT_LENGTH');
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length:  \t ', '', 'abc'), 'HPE_INVALID_CONTENT_LENGTH');
  });
  it('empty chunk size line', () => {
    rejected(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '', 'abc'),
      'HPE_INVALID_CHUNK_SIZE',
    );
  });
});

describe('duplicate lengths', () => {
  it('two equal Content-Length fields', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Content-Length: 3', 'Content-Length: 3', '', 'abc'),
      'HPE_INVALID_CONTENT_LENGTH',
    );
  });
  it('two different Content-Length fields', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Content-Length: 3', 'content-length: 30', '', 'abc'),
      'HPE_INVALID_CONTENT_LENGTH',
    );
  });
  it('a Content-Length list', () => {
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length: 3, 3', '', 'abc'), 'HPE_INVALID_CONTENT_LENGTH');
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length: 3,30', '', 'abc'), 'HPE_INVALID_CONTENT_LENGTH');
  });
  it('Content-Length with Transfer-Encoding, in either order', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Content-Length: 3', 'Transfer-Encoding: chunked', '', '0', '', ''),
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    );
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Content-Length: 3', '', '0', '', ''),
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    );
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Content-Length: 3', 'Transfer-Encoding: identity', '', 'abc'),
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    );
  });
});

describe('`,chunked` and doubled `chunked`', () => {
  it('`,chunked` means chunked (empty elements ignored), consistently', () => {
    const o = runAll(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: ,chunked', '', '3', 'abc', '0', '', '') + NEXT,
    );
    expect(o.error).toBeNull();
    expect(o.events.map((e) => e.type)).toEqual(['head', 'body', 'complete', 'head', 'complete']);
  });
  it('`,chunked` with Content-Length is rejected', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: ,chunked', 'Content-Length: 3', '', 'abc'),
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    );
  });
  it('chunked twice, in one field or two', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked, chunked', '', '0', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
    );
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked', '', '0', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
    );
  });
  it('chunked not last', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip', '', '0', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
    );
  });
  it('look-alikes of chunked are unknown codings (501), never chunked', () => {
    for (const v of ['chunked-false', 'xchunked', 'chunk', 'chunkedx']) {
      rejectedHead(
        req('POST / HTTP/1.1', H, `Transfer-Encoding: ${v}`, '', '0', '', ''),
        'HPE_UNKNOWN_TRANSFER_ENCODING',
        501,
      );
    }
  });
  it('quoted or parameterised chunked', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: "chunked"', '', '0', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
    );
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked;q=1', '', '0', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
    );
  });
});

describe('non-ASCII whitespace (\\xa0) around values is never stripped', () => {
  it('around a Content-Length', () => {
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length: \xa03', '', 'abc'), 'HPE_INVALID_CONTENT_LENGTH');
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length: 3\xa0', '', 'abc'), 'HPE_INVALID_CONTENT_LENGTH');
  });
  it('around chunked', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: \xa0chunked', '', '0', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
    );
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked\xa0', '', '0', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
    );
  });
  it('around a Host', () => {
    rejectedHead(req('GET / HTTP/1.1', 'Host: \xa0a.test', '', ''), 'HPE_INVALID_HOST');
  });
  it('other CTL whitespace (VT, FF) around values', () => {
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length: \x0b3', '', 'abc'), 'HPE_INVALID_HEADER_VALUE');
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length: 3\x0c', '', 'abc'), 'HPE_INVALID_HEADER_VALUE');
  });
});

describe('whitespace or CTLs in names', () => {
  it('space or tab before the colon', () => {
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length : 3', '', 'abc'), 'HPE_INVALID_HEADER_TOKEN');
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding\t: chunked', '', '0', '', ''),
      'HPE_INVALID_HEADER_TOKEN',
    );
  });
  it('space inside or before a name', () => {
    rejectedHead(req('POST / HTTP/1.1', H, 'Content Length: 3', '', 'abc'), 'HPE_INVALID_HEADER_TOKEN');
    rejectedHead(req('POST / HTTP/1.1', H, ' Content-Length: 3', '', 'abc'), 'HPE_OBS_FOLD');
  });
  it('NUL or CTL in a name', () => {
    rejectedHead(req('POST / HTTP/1.1', H, 'Content-Length\x00: 3', '', 'abc'), 'HPE_INVALID_HEADER_TOKEN');
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-\x01Encoding: chunked', '', '0', '', ''),
      'HPE_INVALID_HEADER_TOKEN',
    );
  });
  it('obs-folded framing value', () => {
    rejectedHead(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding:', ' chunked', '', '0', '', ''),
      'HPE_OBS_FOLD',
    );
  });
});

describe('bare CR as line end', () => {
  it('in the request line', () => {
    rejectedHead(`GET / HTTP/1.1\r${H}\r\n\r\n`, 'HPE_LF_EXPECTED');
  });
  it('between fields', () => {
    rejectedHead(`POST / HTTP/1.1\r\n${H}\r\nX: 1\rContent-Length: 3\r\n\r\nabc`, 'HPE_LF_EXPECTED');
  });
  it('at the end of the head', () => {
    rejectedHead(`GET / HTTP/1.1\r\n${H}\r\n\rGET`, 'HPE_LF_EXPECTED');
  });
  it('after a chunk size and after chunk data', () => {
    rejected(
      `POST / HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\n3\rabc\r\n0\r\n\r\n`,
      'HPE_LF_EXPECTED',
    );
    rejected(
      `POST / HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r0\r\n\r\n`,
      'HPE_LF_EXPECTED',
    );
  });
  it('bare LF line ends', () => {
    rejectedHead(`POST / HTTP/1.1\r\n${H}\nContent-Length: 3\r\n\r\nabc`, 'HPE_CR_EXPECTED');
  });
});

describe('NUL in values', () => {
  it('in a field value', () => {
    rejectedHead(req('GET / HTTP/1.1', H, 'X: a\x00b', '', ''), 'HPE_INVALID_HEADER_VALUE');
  });
  it('in a Host', () => {
    rejectedHead(req('GET / HTTP/1.1', 'Host: a\x00.test', '', ''), 'HPE_INVALID_HEADER_VALUE');
  });
  it('in a trailer', () => {
    rejected(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '0', 'T: \x00', '', ''),
      'HPE_INVALID_HEADER_VALUE',
    );
  });
  it('in a chunk extension', () => {
    rejected(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '3;a=\x00', 'abc', '0', '', ''),
      'HPE_INVALID_CHUNK_EXTENSION',
    );
  });
});

describe('versions and methods parsed by prefix', () => {
  for (const v of [
    'HTTP/1.1x',
    'HTTP/1.10',
    'HTTP/1.1\x00',
    'HTTP/11',
    'HTTP/1.',
    'HTTP/1.1/',
    'HTTP/01.1',
  ]) {
    it(`version ${JSON.stringify(v)}`, () => {
      const o = rejected(req(`GET / ${v}`, H, '', ''), 'HPE_INVALID_VERSION');
      expect(o.events).toEqual([]);
    });
  }
  it('method with a NUL or CTL suffix', () => {
    rejectedHead(req('GET\x00 / HTTP/1.1', H, '', ''), 'HPE_INVALID_METHOD');
    rejectedHead(req('GET\x7f / HTTP/1.1', H, '', ''), 'HPE_INVALID_METHOD');
  });
  it('a longer token is its own method, never GET', () => {
    const o = runAll(req('GETX / HTTP/1.1', H, '', ''));
    expect(o.events[0]?.type === 'head' && o.events[0].head.method).toBe('GETX');
  });
});

describe('no resynchronising after a bad chunk', () => {
  it('data longer than the chunk size', () => {
    const o = rejected(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '3', 'abcGET /x HTTP/1.1', '', ''),
      'HPE_CR_EXPECTED',
    );
    expect(o.events.filter((e) => e.type === 'complete')).toEqual([]);
  });
  it('more execute calls after an error keep failing and emit nothing', () => {
    let events = 0;
    const p = new RequestParser({
      onHead: () => void events++,
      onBody: () => void events++,
      onMessageComplete: () => void events++,
    });
    expect(p.execute(bytes('GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n'))).toBe(ParseStatus.ERROR);
    const first = p.error;
    expect(p.execute(bytes(NEXT))).toBe(ParseStatus.ERROR);
    expect(p.consumed).toBe(0);
    expect(p.error).toBe(first);
    expect(p.finish()).toBe(ParseStatus.ERROR);
    expect(events).toBe(0);
  });
});

describe('pipelined bytes', () => {
  it('after a body-less request are the next request, never a body', () => {
    const o = runAll(req('POST /a HTTP/1.1', H, '', '') + NEXT);
    expect(o.events.map((e) => (e.type === 'head' ? e.head.target : e.type))).toEqual([
      '/a',
      'complete',
      '/next',
      'complete',
    ]);
  });
  it('after Connection: close are never parsed, and the first request still completes', () => {
    const o = runAll(`${req('GET /a HTTP/1.1', H, 'Connection: close', '', '')}${NEXT}`);
    expect(o.error).toBeNull();
    expect(o.events.map((e) => (e.type === 'head' ? e.head.target : e.type))).toEqual(['/a', 'complete']);
  });
  it('after Connection: close, a malformed follower does not turn the first request into an error', () => {
    const o = runAll(
      `${req('GET /a HTTP/1.1', H, 'Connection: close', '', '')}GET / HTTP/1.1\r\nX: \x00\r\n\r\n`,
    );
    expect(o.error).toBeNull();
    expect(o.events.map((e) => e.type)).toEqual(['head', 'complete']);
  });
  it('after an HTTP/1.0 request without keep-alive are never parsed', () => {
    const o = runAll(`${req('GET /a HTTP/1.0', '', '')}${NEXT}`);
    expect(o.events.map((e) => (e.type === 'head' ? e.head.target : e.type))).toEqual(['/a', 'complete']);
  });
  it('after a Content-Length body are the next request', () => {
    const o = runAll(req('POST /a HTTP/1.1', H, 'Content-Length: 3', '', 'abc') + NEXT);
    expect(o.events.map((e) => (e.type === 'head' ? e.head.target : e.type))).toEqual([
      '/a',
      'body',
      'complete',
      '/next',
      'complete',
    ]);
  });
});

describe('Host confusion', () => {
  it('two Host fields', () => {
    rejectedHead(req('GET / HTTP/1.1', 'Host: a.test', 'Host: b.test', '', ''), 'HPE_INVALID_HOST');
  });
  it('Host with a path or userinfo', () => {
    rejectedHead(req('GET / HTTP/1.1', 'Host: a.test/evil', '', ''), 'HPE_INVALID_HOST');
    rejectedHead(req('GET / HTTP/1.1', 'Host: evil@a.test', '', ''), 'HPE_INVALID_HOST');
  });
  it('Host in trailers', () => {
    rejected(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '0', 'Host: evil', '', ''),
      'HPE_INVALID_TRAILER',
    );
  });
});
