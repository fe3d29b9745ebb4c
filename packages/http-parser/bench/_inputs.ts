/** The four benchmark inputs of issue 3. Each input holds `requests` complete requests. */
export interface BenchInput {
  name: string;
  bytes: Uint8Array;
  requests: number;
}

const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/** (a) The 703-byte browser GET used by picohttpparser, httparse and llhttp (shared/ANCHORS.md). */
export const BROWSER_GET = [
  'GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1',
  'Host: www.kittyhell.com',
  'User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9',
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'Accept-Language: ja,en-us;q=0.7,en;q=0.3',
  'Accept-Encoding: gzip,deflate',
  'Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7',
  'Keep-Alive: 115',
  'Connection: keep-alive',
  'Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral',
  '',
  '',
].join('\r\n');

const MIN_GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

function chunkedPost(): string {
  const piece = 'x'.repeat(1024);
  let s =
    'POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  for (let i = 0; i < 4; i++) s += `400\r\n${piece}\r\n`;
  return `${s}0\r\n\r\n`;
}

const SMALL_GET = 'GET /api/items?id=42 HTTP/1.1\r\nHost: localhost:3000\r\nAccept: */*\r\n\r\n';

export const INPUTS: BenchInput[] = [
  { name: 'a: 703-byte browser GET', bytes: enc(BROWSER_GET), requests: 1 },
  { name: 'b: minimal GET', bytes: enc(MIN_GET), requests: 1 },
  { name: 'c: 4 KiB chunked POST', bytes: enc(chunkedPost()), requests: 1 },
  { name: 'd: 16 pipelined GETs', bytes: enc(SMALL_GET.repeat(16)), requests: 16 },
];
