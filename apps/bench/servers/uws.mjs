import { createRequire } from 'node:module';
import { HELLO, HOST, PORT, ready } from './_common.mjs';

const uWS = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial');
const app = uWS.App();
app.get('/hello', (res) => {
  res.cork(() => {
    res.writeHeader('Content-Type', 'text/plain').end(HELLO);
  });
});
app.post('/echo', (res) => {
  const chunks = [];
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((ab, isLast) => {
    chunks.push(Buffer.from(ab.slice(0)));
    if (!isLast || aborted) return;
    const body = Buffer.concat(chunks);
    res.cork(() => {
      res.writeHeader('Content-Type', 'application/json').end(body);
    });
  });
});
app.listen(HOST, PORT, (token) => {
  if (!token) {
    process.stderr.write('uWS: listen failed\n');
    process.exit(1);
  }
  ready(uWS.us_socket_local_port(token));
});
