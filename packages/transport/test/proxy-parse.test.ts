import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ProxyParseResult, ProxyParseStatus, parseProxyHeader, TransportErrorCode } from '../src/index';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** Test-side v2 encoder. */
function v2(cmd: number, fam: number, body: Uint8Array): Buffer {
  const head = Buffer.alloc(16);
  SIG.copy(head, 0);
  head[12] = 0x20 | cmd;
  head[13] = fam;
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}

function v4Body(
  src: number[],
  dst: number[],
  sport: number,
  dport: number,
  tlv: Uint8Array = new Uint8Array(),
) {
  const b = Buffer.alloc(12);
  b.set(src, 0);
  b.set(dst, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return Buffer.concat([b, tlv]);
}

/**
 * Feed `input` the way a socket might: as one chunk, and split at every point (accumulating like
 * the listener does). Every way must give the same final answer, and no prefix may be DONE early.
 */
function parseAllWays(input: Uint8Array): ProxyParseResult {
  const whole = parseProxyHeader(input);
  for (let cut = 0; cut < input.length; cut++) {
    const prefix = parseProxyHeader(input.subarray(0, cut));
    if (prefix.status === ProxyParseStatus.ERROR) {
      // An error on a prefix must be the final answer too.
      expect(whole.status).toBe(ProxyParseStatus.ERROR);
      return whole;
    }
    if (prefix.status === ProxyParseStatus.DONE) {
      expect(whole.status).toBe(ProxyParseStatus.DONE);
      if (whole.status === ProxyParseStatus.DONE) expect(prefix.consumed).toBe(whole.consumed);
      return whole;
    }
  }
  return whole;
}

function done(input: Uint8Array) {
  const r = parseAllWays(input);
  if (r.status !== ProxyParseStatus.DONE) throw new Error(`expected DONE, got ${JSON.stringify(r)}`);
  return r;
}

function error(input: Uint8Array) {
  const r = parseAllWays(input);
  expect(r.status).toBe(ProxyParseStatus.ERROR);
  if (r.status === ProxyParseStatus.ERROR) expect(r.error.code).toBe(TransportErrorCode.PROXY_HEADER);
}

describe('PROXY v1', () => {
  it('parses TCP4, TCP6 and UNKNOWN, whole and at every split point', () => {
    const a = done(Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /'));
    expect(a.consumed).toBe(45);
    expect(a.header).toMatchObject({
      version: 1,
      command: 'proxy',
      family: 'tcp4',
      sourceAddress: '192.0.2.1',
      sourcePort: 56324,
      destinationAddress: '198.51.100.2',
      destinationPort: 443,
    });
    const b = done(Buffer.from('PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 65535 0\r\n'));
    expect(b.header).toMatchObject({ family: 'tcp6', sourceAddress: '2001:db8::1', sourcePort: 65535 });
    const c = done(Buffer.from('PROXY UNKNOWN whatever follows\r\n'));
    expect(c.header.family).toBe('unknown');
    expect(done(Buffer.from('PROXY UNKNOWN\r\n')).consumed).toBe(15);
  });

  it('accepts the longest allowed line (107 bytes) and rejects one byte more', () => {
    const max =
      'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
    expect(max.length).toBe(104);
    expect(done(Buffer.from(max)).consumed).toBe(104);
    const unknownMax = `PROXY UNKNOWN ${'x'.repeat(107 - 16)}\r\n`;
    expect(unknownMax.length).toBe(107);
    done(Buffer.from(unknownMax));
    error(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(108 - 16)}\r\n`));
  });

  it.each([
    ['lowercase keyword', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['bad protocol', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['double space', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'],
    ['missing port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['extra field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'],
    ['v6 address under TCP4', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n'],
    ['v4 address under TCP6', 'PROXY TCP6 1.2.3.4 ::1 1 2\r\n'],
    ['octet > 255', 'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n'],
    ['leading zero octet', 'PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n'],
    ['port > 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['leading zero port', 'PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n'],
    ['signed port', 'PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n'],
    ['zone id', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'],
    ['bare LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'],
    ['CR not followed by LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX'],
    ['NUL inside', 'PROXY TCP4 1.2.3.4\x005.6.7.8 1 2\r\n'],
    ['no CRLF within 107 bytes', `PROXY TCP4 ${'1'.repeat(120)}`],
    ['not PROXY at all', 'GET / HTTP/1.1\r\n\r\n'],
    ['trailing space', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'],
    ['triple colon', 'PROXY TCP6 1:::2 ::1 1 2\r\n'],
    ['nine groups', 'PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n'],
  ])('rejects %s', (_name, text) => {
    error(Buffer.from(text, 'latin1'));
  });

  it('fails fast on a wrong first bytes (before the whole line arrives)', () => {
    expect(parseProxyHeader(Buffer.from('PROXX')).status).toBe(ProxyParseStatus.ERROR);
    expect(parseProxyHeader(Buffer.from('PROX')).status).toBe(ProxyParseStatus.INCOMPLETE);
    expect(parseProxyHeader(Buffer.from('G')).status).toBe(ProxyParseStatus.ERROR);
  });
});

describe('PROXY v2', () => {
  it('parses TCP over IPv4 with TLVs, and leaves the payload', () => {
    const tlv = Buffer.from([0x02, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_AUTHORITY "abc"
    const hdr = v2(1, 0x11, v4Body([192, 0, 2, 1], [10, 0, 0, 1], 40000, 443, tlv));
    const r = done(Buffer.concat([hdr, Buffer.from('payload')]));
    expect(r.consumed).toBe(hdr.length);
    expect(r.header).toMatchObject({
      version: 2,
      command: 'proxy',
      family: 'tcp4',
      sourceAddress: '192.0.2.1',
      sourcePort: 40000,
      destinationAddress: '10.0.0.1',
      destinationPort: 443,
    });
    expect(r.header.tlvs).toHaveLength(1);
    expect(r.header.tlvs[0]!.type).toBe(2);
    expect(Buffer.from(r.header.tlvs[0]!.value).toString()).toBe('abc');
  });

  it('parses TCP over IPv6 in RFC 5952 form', () => {
    const body = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(body, 0);
    Buffer.from('00000000000000000000ffff7f000001', 'hex').copy(body, 16);
    body.writeUInt16BE(1234, 32);
    body.writeUInt16BE(80, 34);
    const r = done(v2(1, 0x21, body));
    expect(r.header).toMatchObject({
      family: 'tcp6',
      sourceAddress: '2001:db8::1',
      destinationAddress: '::ffff:127.0.0.1',
      sourcePort: 1234,
    });
    const zeros = Buffer.alloc(36);
    expect(done(v2(1, 0x21, zeros)).header.sourceAddress).toBe('::');
    const mid = Buffer.alloc(36);
    Buffer.from('00010000000000020000000000000003', 'hex').copy(mid, 0);
    expect(done(v2(1, 0x21, mid)).header.sourceAddress).toBe('1:0:0:2::3');
  });

  it('parses UNIX, LOCAL and UNSPEC', () => {
    const body = Buffer.alloc(216);
    body.write('/run/client.sock', 0);
    body.write('/run/server.sock', 108);
    expect(done(v2(1, 0x31, body)).header).toMatchObject({
      family: 'unix',
      sourceAddress: '/run/client.sock',
    });
    const local = done(v2(0, 0x11, v4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)));
    expect(local.header).toMatchObject({ command: 'local', sourceAddress: '' });
    expect(done(v2(1, 0x00, new Uint8Array(0))).header.family).toBe('unknown');
  });

  it.each([
    [
      'version 1 in the v2 block',
      () => Buffer.concat([SIG, Buffer.from([0x11, 0x11, 0, 12]), Buffer.alloc(12)]),
    ],
    ['command 2', () => v2(2, 0x11, v4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2))],
    ['family 0x13', () => v2(1, 0x13, v4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2))],
    ['family 0x41', () => v2(1, 0x41, v4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2))],
    ['length shorter than IPv4 addresses', () => v2(1, 0x11, Buffer.alloc(11))],
    ['length shorter than IPv6 addresses', () => v2(1, 0x21, Buffer.alloc(35))],
    [
      'TLV overrunning the block',
      () => v2(1, 0x11, v4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, Buffer.from([1, 0, 9, 0]))),
    ],
    [
      'truncated TLV header',
      () => v2(1, 0x11, v4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, Buffer.from([1, 0]))),
    ],
    ['bad signature', () => Buffer.from('\r\n\r\n\0\r\nQUIT\r')],
  ])('rejects %s', (_name, make) => {
    error(make());
  });
});

describe('properties', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const port = fc.nat(65535);

  it('v1 TCP4: any valid header parses to its fields at every split', () => {
    fc.assert(
      fc.property(ipv4, ipv4, port, port, fc.uint8Array({ maxLength: 8 }), (s, d, sp, dp, tail) => {
        const line = `PROXY TCP4 ${s.join('.')} ${d.join('.')} ${sp} ${dp}\r\n`;
        const r = done(Buffer.concat([Buffer.from(line), tail]));
        expect(r.consumed).toBe(line.length);
        expect(r.header.sourceAddress).toBe(s.join('.'));
        expect(r.header.destinationAddress).toBe(d.join('.'));
        expect([r.header.sourcePort, r.header.destinationPort]).toEqual([sp, dp]);
      }),
      { numRuns: 200 },
    );
  });

  it('v2 IPv4: any valid header (with TLVs) parses to its fields at every split', () => {
    const tlvs = fc.array(fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 6 })), { maxLength: 3 });
    fc.assert(
      fc.property(ipv4, ipv4, port, port, tlvs, (s, d, sp, dp, list) => {
        const tlvBytes = Buffer.concat(
          list.map(([t, v]) => Buffer.concat([Buffer.from([t, v.length >> 8, v.length & 0xff]), v])),
        );
        const hdr = v2(1, 0x11, v4Body(s, d, sp, dp, tlvBytes));
        const r = done(hdr);
        expect(r.consumed).toBe(hdr.length);
        expect(r.header.sourceAddress).toBe(s.join('.'));
        expect([r.header.sourcePort, r.header.destinationPort]).toEqual([sp, dp]);
        expect(r.header.tlvs.map((t) => [t.type, Buffer.from(t.value).toString('hex')])).toEqual(
          list.map(([t, v]) => [t, Buffer.from(v).toString('hex')]),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('v2 IPv6: formatting agrees with Node for any address', async () => {
    const { SocketAddress } = await import('node:net');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (addr) => {
        const body = Buffer.alloc(36);
        body.set(addr, 0);
        const r = done(v2(1, 0x21, body));
        const text = r.header.sourceAddress;
        // Node canonicalises any valid IPv6 text; ours must round-trip to the same bytes.
        const canon = new SocketAddress({ address: text, family: 'ipv6' }).address;
        expect(canon).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, asV2) => {
        const input = asV2 ? Buffer.concat([SIG, bytes]) : Buffer.concat([Buffer.from('PROXY '), bytes]);
        const r = parseProxyHeader(input);
        expect([0, 1, 2]).toContain(r.status);
      }),
      { numRuns: 500 },
    );
  });
});
