// Connection options (RFC 9110 section 7.6.1): `Connection = #connection-option`, each option a
// token, compared case-insensitively and whole. A list element that is not one token (`close/x`,
// `upgrade x`, `keep-alive;q=1`) matches nothing and is ignored; the request is not rejected and the
// other elements still count. Every case runs whole, byte by byte and at every split point (runAll).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Outcome, runAll } from './_helpers';

const NEXT = 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n';

function heads(o: Outcome) {
  return o.events.flatMap((e) => (e.type === 'head' ? [e.head] : []));
}

/** One HTTP/1.1 request with the given Connection value (raw bytes), optionally Upgrade: websocket. */
function withConnection(value: string, upgrade = false, minor = 1): string {
  return `GET /ws HTTP/1.${minor}\r\nHost: a\r\nConnection: ${value}\r\n${upgrade ? 'Upgrade: websocket\r\n' : ''}\r\n`;
}

/** keepAlive and upgrade of the first head, asserting the request itself was accepted. */
function flags(
  value: string,
  upgrade = false,
  minor = 1,
): { keepAlive: boolean; upgrade: boolean; o: Outcome } {
  const o = runAll(withConnection(value, upgrade, minor));
  expect(o.error).toBeNull();
  const h = heads(o)[0]!;
  return { keepAlive: h.keepAlive, upgrade: h.upgrade, o };
}

describe('Connection tokens are matched whole', () => {
  it('`Upgrade/` is not an upgrade: a normal request, the next one on the connection is parsed', () => {
    const o = runAll(withConnection('Upgrade/', true) + NEXT);
    expect(o.error).toBeNull();
    expect(o.end).toBe('ok');
    expect(o.upgradeAt).toBe(-1);
    const hs = heads(o);
    expect(hs.map((h) => [h.target, h.upgrade, h.keepAlive])).toEqual([
      ['/ws', false, true],
      ['/next', false, true],
    ]);
    expect(o.events.map((e) => e.type)).toEqual(['head', 'complete', 'head', 'complete']);
  });

  it('`close/x` is not close: keep-alive stays true', () => {
    expect(flags('close/x').keepAlive).toBe(true);
  });

  it('`CLOSE` is close (case-insensitive)', () => {
    expect(flags('CLOSE').keepAlive).toBe(false);
  });

  it('` close , Upgrade ` with an Upgrade field: both (OWS around elements)', () => {
    const f = flags(' close , Upgrade ', true);
    expect(f.keepAlive).toBe(false);
    expect(f.upgrade).toBe(true);
    expect(f.o.end).toBe('upgrade');
  });

  it('`keep-alive, close` is close', () => {
    expect(flags('keep-alive, close').keepAlive).toBe(false);
    expect(flags('keep-alive, close', false, 0).keepAlive).toBe(false);
  });

  it('`foo,close` is close', () => {
    expect(flags('foo,close').keepAlive).toBe(false);
  });

  it('`closex` and `close x` are not close', () => {
    expect(flags('closex').keepAlive).toBe(true);
    expect(flags('close x').keepAlive).toBe(true);
  });

  it('a non-token element is ignored, the other elements still count', () => {
    expect(flags('close/x, close').keepAlive).toBe(false);
    expect(flags('upgrade x, close', true).upgrade).toBe(false);
    expect(flags('keep-alive;q=1', false, 0).keepAlive).toBe(false);
    expect(flags('keep-alive;q=1, keep-alive', false, 0).keepAlive).toBe(true);
    expect(flags('"close"').keepAlive).toBe(true);
    expect(flags('close\t,\tupgrade', true).upgrade).toBe(true);
  });

  it('empty list elements are allowed (RFC 9110 section 5.6.1)', () => {
    expect(flags(', ,close').keepAlive).toBe(false);
    expect(flags('close,, ,').keepAlive).toBe(false);
    expect(flags(',').keepAlive).toBe(true);
  });
});

// Property: any list of tokens, near-tokens, OWS and commas gives the keepAlive/upgrade of a plain
// reference (split on ',', trim OWS, lower-case, compare whole).
const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const randomCase = (w: string) =>
  fc
    .array(fc.boolean(), { minLength: w.length, maxLength: w.length })
    .map((up) => [...w].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
const token = fc.oneof(
  { arbitrary: fc.constantFrom('close', 'keep-alive', 'upgrade').chain(randomCase), weight: 4 },
  { arbitrary: fc.constantFrom('closex', 'clos', 'keep-alivee', 'upgrad', 'xupgrade', 'keep'), weight: 1 },
  {
    arbitrary: fc
      .array(fc.constantFrom(...TCHARS.split('')), { minLength: 1, maxLength: 8 })
      .map((a) => a.join('')),
    weight: 2,
  },
);
const ows = fc.constantFrom('', '', ' ', '\t', ' \t ');
/** Field-value bytes that are neither tchar, OWS nor ',': they make an element not a single token. */
const junk = fc.constantFrom('/x', '/', ' x', '\tx', ';q=1', '=1', '"q"', '@', '\x80', '(c)', ' close');
const element = fc.oneof(
  { arbitrary: token, weight: 6 },
  { arbitrary: fc.tuple(token, junk).map(([t, j]) => t + j), weight: 2 },
  { arbitrary: fc.tuple(junk, token).map(([j, t]) => j.trimStart() + t), weight: 1 },
  { arbitrary: fc.constant(''), weight: 1 },
);
const list = fc
  .array(fc.tuple(ows, element, ows), { minLength: 1, maxLength: 6 })
  .map((els) => els.map(([a, e, b]) => a + e + b).join(','));

function reference(value: string, minor: number): { keepAlive: boolean; upgrade: boolean } {
  const opts = new Set(value.split(',').map((e) => e.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase()));
  const close = opts.has('close');
  return {
    keepAlive: minor === 1 ? !close : opts.has('keep-alive') && !close,
    upgrade: minor === 1 && opts.has('upgrade'),
  };
}

describe('property: Connection list against a reference', () => {
  it('same keepAlive / upgrade as split-trim-lowercase-compare, however the bytes are split', () => {
    fc.assert(
      fc.property(list, fc.constantFrom(0, 1), (value, minor) => {
        const f = flags(value, true, minor);
        const want = reference(value, minor);
        expect({ keepAlive: f.keepAlive, upgrade: f.upgrade }).toEqual(want);
        expect(f.o.end).toBe(want.upgrade ? 'upgrade' : 'ok');
      }),
      { numRuns: 300 },
    );
  });
});
