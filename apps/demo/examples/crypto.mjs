// The cryptography chapter: a SHA-256 digest, an HMAC-signed cookie, a digital signature, and the
// WebSocket accept key, each computed in front of you with node:crypto.
//
//   node apps/demo/examples/crypto.mjs [FILE]
import {
  createHash,
  createHmac,
  generateKeyPairSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

// 1. A hash: any bytes -> 32 bytes. Same input, same digest; one byte changed, a different one.
const input = process.argv[2] ? readFileSync(process.argv[2]) : Buffer.from('hello');
const sha = (b) => createHash('sha256').update(b).digest('hex');
console.log(`sha256(${process.argv[2] ?? '"hello"'}) = ${sha(input)}`);
console.log(`sha256("hellp")  = ${sha('hellp')}  (one byte changed)`);

// 2. An HMAC: a hash keyed with a secret. Only who knows the key can make (or check) the tag, so a
// server can give a client a cookie and later know the client did not change it.
const key = randomBytes(32);
const value = 'user=ada';
const tag = createHmac('sha256', key).update(value).digest('base64url');
const cookie = `${value}.${tag}`;
const check = (c) => {
  const [v, t] = [c.slice(0, c.lastIndexOf('.')), c.slice(c.lastIndexOf('.') + 1)];
  const expected = createHmac('sha256', key).update(v).digest();
  const got = Buffer.from(t, 'base64url');
  return got.length === expected.length && timingSafeEqual(got, expected);
};
console.log(`signed cookie: ${cookie}`);
console.log(
  `  as issued: ${check(cookie) ? 'valid' : 'INVALID'}; edited to user=eve: ${check(cookie.replace('ada', 'eve')) ? 'valid' : 'INVALID'}`,
);

// 3. A signature: a private key signs, anyone with the public key verifies. A certificate is a
// public key plus a name, signed by a certificate authority.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const message = Buffer.from('GET /hello HTTP/1.1');
const signature = sign('sha256', message, privateKey);
console.log(
  `ECDSA P-256 signature (${signature.length} bytes): verify -> ${verify('sha256', message, publicKey, signature)}, on a changed message -> ${verify('sha256', Buffer.from('GET /admin HTTP/1.1'), publicKey, signature)}`,
);

// 4. The WebSocket handshake (RFC 6455 section 4.2.2): the server proves it read the client's key
// by hashing it with a fixed GUID. The key and answer below are the RFC's own example.
const wsKey = 'dGhlIHNhbXBsZSBub25jZQ==';
const accept = createHash('sha1').update(`${wsKey}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
console.log(`Sec-WebSocket-Key: ${wsKey} -> Sec-WebSocket-Accept: ${accept}`);
