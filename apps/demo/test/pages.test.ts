import { describe, expect, it } from 'vitest';
import {
  chatPage,
  DEMO_USERS,
  errorPage,
  escapeHtml,
  formatBytes,
  type InspectEntry,
  inspectPage,
  type RecordingState,
  recordingText,
  uploadPage,
  userPage,
  usersPage,
} from '../src/pages';

const entry = (received: string): InspectEntry => ({
  id: 1,
  time: '2026-01-01T00:00:00.000Z',
  remote: '127.0.0.1:5000',
  received,
  receivedBytes: received.length,
  unobserved: null,
  parserEvents: ['head GET /<x> HTTP/1.1 (1 fields, keep-alive yes)', 'message complete'],
  framing: 'no body',
  route: { pattern: null, status: 404, params: {} },
  response: { status: 404, headers: [['Content-Type', 'text/plain; charset=utf-8']], bodyBytes: 9, ms: 0.1 },
  responseHead:
    'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\n\r\n',
  http2: null,
});

const ON: RecordingState = { mode: 'on', on: true, watchers: 0, tls: false, workers: 0 };

describe('pages', () => {
  it('/upload states its limit in the largest whole binary unit, or that there is none', () => {
    expect(formatBytes(1024 ** 3)).toBe('1 GiB');
    expect(formatBytes(512 * 1024 ** 2)).toBe('512 MiB');
    expect(formatBytes(1536)).toBe('1536 bytes'); // 1.5 KiB: not a whole unit, shown exactly
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(1000)).toBe('1000 bytes');
    expect(uploadPage(1024 ** 3)).toContain('data-bytes="1073741824">1 GiB</b>');
    expect(uploadPage(0)).toContain('no limit (<code>--max-upload 0</code>)');
  });

  it("/upload's inline script is valid JavaScript", () => {
    const page = uploadPage(1000);
    const script = page.slice(page.indexOf('<script>') + '<script>'.length, page.indexOf('</script>'));
    expect(script).toContain("fetch('/upload'");
    expect(() => new Function(script)).not.toThrow(); // parsed, not run
  });

  it('escapes HTML in text and attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('the inspector shows wire bytes escaped, with line ends and control bytes made visible', () => {
    const html = inspectPage(
      [entry('GET /<script>alert(1)</script> HTTP/1.1\r\nX: a\x00b\nc\r\r\n\r\n')],
      20,
      1,
      ON,
    );
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain(
      'GET /&lt;script&gt;alert(1)&lt;/script&gt; HTTP/1.1<span class="crlf">\\r\\n</span>\n',
    );
    expect(html).toContain(
      'X: a<span class="crlf">\\x00</span>b<span class="crlf">\\n</span>\nc<span class="crlf">\\r</span>',
    );
    expect(html).not.toContain('\x00');
    expect(html).toContain('head GET /&lt;x&gt;');
  });

  it('says when a request was refused before routing, and when bytes are not observable', () => {
    const refused = { ...entry('BAD\r\n'), route: null };
    const tls = {
      ...entry(''),
      received: null,
      receivedBytes: null,
      unobserved: 'not observable: TLS connections carry ciphertext at this level',
    };
    const html = inspectPage([refused, tls], 20, 1, ON);
    expect(html).toContain('the parser refused the request');
    expect(html).toContain('TLS connections carry ciphertext');
  });

  it('shows the response head as written, line ends visible; says why when there is none', () => {
    const html = inspectPage([entry('GET / HTTP/1.1\r\n\r\n')], 20, 1, ON);
    expect(html).toContain(
      '<pre class="wire-out">HTTP/1.1 404 Not Found<span class="crlf">\\r\\n</span>\nContent-Type: text/plain; charset=utf-8',
    );
    expect(html).toContain(
      'Content-Length: 9<span class="crlf">\\r\\n</span>\n<span class="crlf">\\r\\n</span>',
    );
    const pending = { ...entry('GET / HTTP/1.1\r\n\r\n'), response: null, responseHead: null };
    expect(inspectPage([pending], 20, 1, ON)).toContain('no response yet');
    const refused = { ...entry('BAD\r\n'), route: null, responseHead: null };
    expect(inspectPage([refused], 20, 1, ON)).toContain('canned error response');
  });

  it('an HTTP/2 entry shows its stream: each frame both ways, flags, lengths, decoded fields escaped, bytes in hex', () => {
    const h2: InspectEntry = {
      ...entry(''),
      received: null,
      receivedBytes: null,
      parserEvents: ['head GET /<x> HTTP/2 (1 fields, stream 1)', 'message complete'],
      http2: {
        streamId: 1,
        framesTotal: 3,
        frames: [
          {
            direction: 'in',
            type: 'HEADERS',
            flags: 'END_STREAM|END_HEADERS',
            length: 4,
            fields: [
              [':path', '/<x>'],
              ['user-agent', 'a&b'],
            ],
            bytes: '\x00\x00\x04\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41',
            hidden: null,
          },
          {
            direction: 'out',
            type: 'HEADERS',
            flags: 'END_HEADERS',
            length: 1,
            fields: [[':status', '404']],
            bytes: null,
            hidden: 'masked',
          },
        ],
      },
    };
    const html = inspectPage([h2], 20, 1, ON);
    expect(html).toContain('<code>GET /&lt;x&gt; HTTP/2</code>');
    expect(html).toContain('1. transport and http2: the frames of this stream');
    expect(html).toContain('HTTP/2, stream 1');
    expect(html).toContain(
      '<td>client &rarr;</td><td><b>HEADERS</b></td><td><code>END_STREAM|END_HEADERS</code></td><td class="num">4</td>',
    );
    expect(html).toContain(':path: /&lt;x&gt;\nuser-agent: a&amp;b');
    expect(html).toContain('<pre class="h2-bytes">00 00 04 01 05 00 00 00 01 82 86 84 41</pre>');
    expect(html).toContain('bytes masked');
    expect(html).toContain('2 of 3 frames kept');
    expect(html).not.toContain('<h3>1. transport: bytes received</h3>');
  });

  it('says when and why the inspector records, and what recording costs', () => {
    const watch: RecordingState = { mode: 'watch', on: false, watchers: 0, tls: false, workers: 0 };
    expect(recordingText(watch, 7)).toContain('while an inspector page is open');
    expect(recordingText(watch, 7)).toContain('serves at full speed');
    expect(recordingText(watch, 7)).toContain('--inspector on');
    expect(inspectPage([], 20, 7, watch)).toContain('<b id="recording-state">not recording</b>');
    expect(inspectPage([], 20, 7, { ...watch, on: true })).toContain('<b id="recording-state">recording</b>');
    expect(recordingText({ ...watch, mode: 'off' }, 7)).toContain('nothing is recorded');
    expect(recordingText({ ...watch, tls: true }, 7)).toContain('decrypted');
    expect(recordingText({ ...watch, workers: 4 }, 7)).toContain('this is pid 7');
  });
});

describe('the chat, user and error pages', () => {
  it('an error page (500 included) escapes what it shows and links home', () => {
    const page = errorPage(500, 'Internal Server Error', 'it <broke>', '/x?<y>');
    expect(page).toContain('<p class="error-code">500</p>');
    expect(page).toContain('<h1>Internal Server Error</h1>');
    expect(page).toContain('it &lt;broke&gt;');
    expect(page).toContain('<code>/x?&lt;y&gt;</code>');
    expect(page).toContain('<a href="/" id="back">');
    expect(page).toContain('<title>500 Internal Server Error · Strata demo</title>');
  });

  it('profiles escape the name; the list links every user; the chat page builds messages as text', () => {
    expect(userPage('<i>', null)).not.toContain('<i>');
    expect(userPage('ada', DEMO_USERS[0]!)).toContain('Ada Lovelace');
    const list = usersPage(DEMO_USERS);
    for (const u of DEMO_USERS) expect(list).toContain(`href="/user/${u.name}"`);
    const chat = chatPage();
    expect(chat).toContain('textContent');
    expect(chat).not.toContain('innerHTML');
  });
});
