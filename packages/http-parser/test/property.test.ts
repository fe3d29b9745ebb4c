// Property-based tests (fast-check): the parser never throws, always terminates, gives the same
// events however the input is split, and parses what a correct serialiser writes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytes, run } from './_helpers';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc
  .array(fc.constantFrom(...TCHARS.split('')), { minLength: 1, maxLength: 12 })
  .map((a) => a.join(''));
const pathChar = fc.constantFrom(..."abcxyz019-._~!$&'()*+,;=:@/%?".split(''));
const target = fc.array(pathChar, { maxLength: 20 }).map((a) => `/${a.join('')}`);
/** field-value: no leading/trailing OWS, VCHAR / obs-text inside, SP/HTAB between. */
const valueChar = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(' ', '\t'),
);
const value = fc.array(valueChar, { maxLength: 24 }).map((a) => a.join('').replace(/^[ \t]+|[ \t]+$/g, ''));
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect']);
const field = fc.tuple(token, value).filter(([n]) => !RESERVED.has(n.toLowerCase()));
const body = fc
  .array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 })
  .map((a) => String.fromCharCode(...a));

interface Req {
  method: string;
  target: string;
  fields: [string, string][];
  body: string;
  framing: 'none' | 'length' | 'chunked';
  chunkSizes: number[];
  trailers: [string, string][];
  ows: string;
}

const request: fc.Arbitrary<Req> = fc.record({
  method: token.filter((m) => m !== 'CONNECT' && m !== 'OPTIONS'),
  target,
  fields: fc.array(field, { maxLength: 8 }),
  body,
  framing: fc.constantFrom('none' as const, 'length' as const, 'chunked' as const),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
  trailers: fc.array(field, { maxLength: 3 }),
  ows: fc.constantFrom('', ' ', '\t', ' \t '),
});

/** A correct serialiser (the oracle side of the round trip). */
function serialise(r: Req): string {
  let s = `${r.method} ${r.target} HTTP/1.1\r\nHost: example.test\r\n`;
  for (const [n, v] of r.fields) s += `${n}:${r.ows}${v}${r.ows}\r\n`;
  const b = r.framing === 'none' ? '' : r.body;
  if (r.framing === 'length') s += `Content-Length: ${b.length}\r\n`;
  if (r.framing === 'chunked') s += 'Transfer-Encoding: chunked\r\n';
  s += '\r\n';
  if (r.framing === 'length') s += b;
  if (r.framing === 'chunked') {
    let p = 0;
    let k = 0;
    while (p < b.length) {
      const n = Math.min(r.chunkSizes[k++ % r.chunkSizes.length]!, b.length - p);
      s += `${n.toString(16)}\r\n${b.slice(p, p + n)}\r\n`;
      p += n;
    }
    s += '0\r\n';
    for (const [n, v] of r.trailers) s += `${n}: ${v}\r\n`;
    s += '\r\n';
  }
  return s;
}

const cutsFor = (n: number) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: 8 })
    .map((a) => a.filter((x) => x < n).sort((x, y) => x - y));

describe('properties', () => {
  it('serialise -> parse round-trips (and any split gives the same events)', () => {
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 3 }),
        fc.infiniteStream(fc.nat()),
        (reqs, seeds) => {
          const text = reqs.map(serialise).join('');
          const input = bytes(text);
          const o = run(input);
          expect(o.error).toBeNull();
          const heads = o.events.filter((e) => e.type === 'head');
          expect(heads).toHaveLength(reqs.length);
          let h = 0;
          let bodyText = '';
          const bodies: string[] = [];
          const trailers: (string[] | null)[] = [];
          for (const e of o.events) {
            if (e.type === 'body') bodyText += e.data;
            if (e.type === 'complete') {
              bodies.push(bodyText);
              trailers.push(e.trailers);
              bodyText = '';
            }
          }
          for (const r of reqs) {
            const e = heads[h]!;
            if (e.type !== 'head') throw new Error('unreachable');
            expect(e.head.method).toBe(r.method);
            expect(e.head.target).toBe(r.target);
            const expectedFields = ['Host', 'example.test', ...r.fields.flat()];
            if (r.framing === 'length') expectedFields.push('Content-Length', String(r.body.length));
            if (r.framing === 'chunked') expectedFields.push('Transfer-Encoding', 'chunked');
            expect(e.head.rawHeaders).toEqual(expectedFields);
            expect(bodies[h]).toBe(r.framing === 'none' ? '' : r.body);
            if (r.framing === 'chunked')
              expect(trailers[h]).toEqual(r.trailers.length > 0 ? r.trailers.flat() : null);
            h++;
          }
          // a few random splits agree with the whole run
          const n = input.length;
          const it = seeds[Symbol.iterator]();
          for (let k = 0; k < 3; k++) {
            const cuts = [
              ...new Set(Array.from({ length: 4 }, () => 1 + (it.next().value! % Math.max(1, n - 1)))),
            ].sort((a, b) => a - b);
            expect(
              JSON.stringify(
                run(
                  input,
                  cuts.filter((c) => c < n),
                ),
              ),
            ).toBe(JSON.stringify(o));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw and give the same outcome however split', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }).chain((u) => fc.tuple(fc.constant(u), cutsFor(u.length))),
        ([u, cuts]) => {
          const whole = run(u, [], {}, true);
          expect(JSON.stringify(run(u, cuts, {}, true))).toBe(JSON.stringify(whole));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('mutated valid requests never throw and are split-invariant', () => {
    const mutation = fc.tuple(
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom('replace', 'insert', 'delete'),
    );
    fc.assert(
      fc.property(
        request,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.infiniteStream(fc.nat()),
        (r, muts, seeds) => {
          const a = Array.from(bytes(serialise(r) + serialise(r)));
          for (const [pos, b, kind] of muts) {
            const p = a.length === 0 ? 0 : pos % a.length;
            if (kind === 'replace' && a.length > 0) a[p] = b;
            else if (kind === 'insert') a.splice(p, 0, b);
            else if (a.length > 0) a.splice(p, 1);
          }
          const u = Uint8Array.from(a);
          const whole = run(u, [], {}, true);
          const it = seeds[Symbol.iterator]();
          const cuts = [
            ...new Set(Array.from({ length: 5 }, () => 1 + (it.next().value! % Math.max(1, u.length - 1)))),
          ]
            .filter((c) => c < u.length)
            .sort((x, y) => x - y);
          expect(JSON.stringify(run(u, cuts, {}, true))).toBe(JSON.stringify(whole));
          // byte by byte as well
          const every = Array.from({ length: Math.max(0, u.length - 1) }, (_, i) => i + 1);
          expect(JSON.stringify(run(u, every, {}, true))).toBe(JSON.stringify(whole));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('small limits never break split invariance', () => {
    fc.assert(
      fc.property(
        request,
        fc.record({
          maxHeadBytes: fc.integer({ min: 16, max: 200 }),
          maxHeaders: fc.integer({ min: 0, max: 6 }),
          maxRequestLineBytes: fc.integer({ min: 8, max: 64 }),
          maxBodyBytes: fc.integer({ min: 0, max: 200 }),
          maxChunkExtensionBytes: fc.integer({ min: 0, max: 8 }),
        }),
        cutsFor(400),
        (r, limits, cuts) => {
          const u = bytes(serialise(r));
          const whole = run(u, [], limits, true);
          expect(
            JSON.stringify(
              run(
                u,
                cuts.filter((c) => c < u.length),
                limits,
                true,
              ),
            ),
          ).toBe(JSON.stringify(whole));
        },
      ),
      { numRuns: 300 },
    );
  });
});
