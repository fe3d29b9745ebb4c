// The WebSockets chapter: the upgrade typed by hand into a TCP socket, then frames, byte by byte.
//
//   node apps/demo/examples/websocket.mjs ws://127.0.0.1:8080/ws
//
// Sends the HTTP upgrade request, checks Sec-WebSocket-Accept, reads the chat room's `welcome`
// frame, sends one masked text frame, reads it back (the room sends every message to everyone,
// the sender too), then closes with a close frame.
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const url = new URL(process.argv[2] ?? 'ws://127.0.0.1:8080/ws');
if (url.protocol !== 'ws:') {
  console.error('usage: node websocket.mjs ws://HOST:PORT/PATH (plain ws)');
  process.exit(2);
}
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const key = randomBytes(16).toString('base64');
const expected = createHash('sha1')
  .update(key + GUID)
  .digest('base64');
const hex = (b) => Buffer.from(b).toString('hex').replace(/(..)/g, '$1 ').trim();
const OPCODES = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

const socket = connect(Number(url.port || 80), url.hostname.replace(/^\[|\]$/g, ''));
socket.once('error', (err) => {
  console.error(`cannot connect to ${url.host}: ${err.code ?? err.message}`);
  process.exit(1);
});
const request = `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`;
socket.write(request);
console.log(`--- upgrade request ---\n${request.replaceAll('\r\n', '\\r\\n\n')}`);

let buf = Buffer.alloc(0);
let upgraded = false;
let step = 0;

/** A client frame: FIN + opcode, mask bit + length, 4-byte mask key, masked payload (RFC 6455 5.2). */
function frame(opcode, payload) {
  const mask = randomBytes(4);
  const data = Buffer.from(payload);
  if (data.length > 125) throw new Error('short frames only in this example');
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | data.length]), mask, masked]);
}

function send(opcode, payload) {
  const f = frame(opcode, payload);
  console.log(
    `client -> ${OPCODES[opcode]} frame: ${hex(f)}  (FIN, opcode ${opcode}, masked, ${Buffer.byteLength(payload)} bytes)`,
  );
  socket.write(f);
}

function onFrame(fin, opcode, payload, raw) {
  console.log(
    `server -> ${OPCODES[opcode] ?? opcode} frame: ${hex(raw.subarray(0, Math.min(raw.length, 24)))}${raw.length > 24 ? ' ...' : ''}`,
  );
  console.log(
    `   FIN ${fin ? 1 : 0}, opcode ${opcode}, unmasked, ${payload.length} bytes: ${opcode === 1 || opcode === 8 ? JSON.stringify(opcode === 8 ? payload.subarray(2).toString() : payload.toString()) : hex(payload)}`,
  );
  if (opcode === 1 && step === 0) {
    step = 1;
    send(1, 'hello, frames');
  } else if (opcode === 1 && step === 1 && payload.toString().includes('hello, frames')) {
    step = 2;
    send(8, Buffer.from([0x03, 0xe8])); // close, code 1000 (normal)
  } else if (opcode === 8) {
    console.log('closed: both sides sent a close frame');
    socket.end();
  }
}

socket.on('data', (data) => {
  buf = Buffer.concat([buf, data]);
  if (!upgraded) {
    const end = buf.indexOf('\r\n\r\n');
    if (end === -1) return;
    const head = buf.subarray(0, end).toString('latin1');
    buf = buf.subarray(end + 4);
    console.log(`--- response head ---\n${head.replaceAll('\r\n', '\\r\\n\n')}\\r\\n\\r\\n`);
    const accept = /^sec-websocket-accept:\s*(\S+)/im.exec(head)?.[1];
    if (!head.startsWith('HTTP/1.1 101') || accept !== expected) {
      console.error(`not upgraded (expected 101 and Sec-WebSocket-Accept ${expected})`);
      process.exit(1);
    }
    console.log(`Sec-WebSocket-Accept = base64(sha1(key + GUID)) = ${expected}: matches`);
    upgraded = true;
  }
  for (;;) {
    if (buf.length < 2) return;
    let len = buf[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buf.length < 4) return;
      len = buf.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (buf.length < 10) return;
      len = Number(buf.readBigUInt64BE(2));
      at = 10;
    }
    if (buf.length < at + len) return;
    const raw = buf.subarray(0, at + len);
    buf = buf.subarray(at + len);
    onFrame((raw[0] & 0x80) !== 0, raw[0] & 0x0f, raw.subarray(at), raw);
  }
});
socket.once('close', () => process.exit(step === 2 ? 0 : 1));
