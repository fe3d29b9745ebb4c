import { describe, expect, it } from 'vitest';
import { type HeadSource, InspectorLog } from '../src/inspector';
import type { InspectEntry } from '../src/pages';

const init = (): Omit<InspectEntry, 'id'> => ({
  time: '2026-01-01T00:00:00.000Z',
  remote: '127.0.0.1:5000',
  received: null,
  receivedBytes: null,
  unobserved: null,
  parserEvents: [],
  framing: 'no body',
  route: { pattern: '/stream', status: 200, params: {} },
  response: null,
  responseHead: null,
});

describe('InspectorLog: response heads', () => {
  it('shows a streaming response head as soon as the writer has sent it, before the route ends', () => {
    const log = new InspectorLog(3);
    const res: { head: string | null } = { head: null };
    const entry = log.open(init(), null, res);
    expect(log.entries()[0]!.responseHead).toBeNull(); // not sent yet
    res.head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    expect(log.entries()[0]!.responseHead).toBe(res.head); // mid-stream: the route has not returned
    log.done(entry);
    expect(entry.responseHead).toBe('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
  });

  it('takes the head when the route is done, and keeps at most `capacity` entries', () => {
    const log = new InspectorLog(2);
    const heads: HeadSource[] = [];
    for (let i = 0; i < 3; i++) {
      const res = { head: `HTTP/1.1 20${i} X\r\n\r\n` };
      heads.push(res);
      log.done(log.open(init(), null, res));
    }
    const shown = log.entries();
    expect(shown.map((e) => e.id)).toEqual([3, 2]);
    expect(shown.map((e) => e.responseHead)).toEqual(['HTTP/1.1 202 X\r\n\r\n', 'HTTP/1.1 201 X\r\n\r\n']);
    // An entry without a writer (refused by the parser) stays without a head.
    const refused = log.open({ ...init(), route: null }, null);
    log.done(refused);
    expect(log.entries()[0]!.responseHead).toBeNull();
  });
});
