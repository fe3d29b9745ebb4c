// The ceiling: node:net writing canned responses. Minimal framing only (find the end of each head,
// read Content-Length for POST bodies), one write per read: what Node's socket layer allows.
import net from 'node:net';
import { HOST, PORT, ready } from './_common.mjs';

const HELLO = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!',
  'latin1',
);
const CLOSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!',
  'latin1',
);

function contentLength(head) {
  const i = head.search(/\r\ncontent-length:/i);
  if (i === -1) return 0;
  return Number.parseInt(head.slice(i + 17, head.indexOf('\r\n', i + 2)).trim(), 10) || 0;
}

const server = net.createServer({ noDelay: true }, (socket) => {
  let buf = null;
  socket.on('data', (chunk) => {
    buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
    const out = [];
    let at = 0;
    let close = false;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n', at, 'latin1');
      if (end === -1) break;
      const head = buf.latin1Slice(at, end);
      const len = head.charCodeAt(0) === 80 /* 'P' */ ? contentLength(head) : 0;
      if (end + 4 + len > buf.length) break;
      if (len > 0) {
        out.push(
          Buffer.from(
            `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n`,
            'latin1',
          ),
          buf.subarray(end + 4, end + 4 + len),
        );
      } else if (/\r\nconnection: *close/i.test(head)) {
        out.push(CLOSE);
        close = true;
        at = buf.length;
        break;
      } else out.push(HELLO);
      at = end + 4 + len;
    }
    buf = at >= buf.length ? null : buf.subarray(at);
    if (out.length === 0) return;
    const data = out.length === 1 ? out[0] : Buffer.concat(out);
    if (close) socket.end(data);
    else socket.write(data);
  });
  socket.on('error', () => {});
});
server.listen(PORT, HOST, () => ready(server.address().port));
