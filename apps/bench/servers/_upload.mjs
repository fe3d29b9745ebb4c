// The upload routes' work, shared so every server does exactly the same per chunk. `body` is the
// request itself (node:http's IncomingMessage, Strata's ServerRequest) or fastify's raw payload
// stream, read with `for await`: never held whole. Every chunk is counted and fed to a SHA-256 hash;
// with `file` (POST /upload-file) each chunk is also written to /dev/null through a FileHandle and
// the write awaited before the next chunk is taken, as a route that saves the upload to disk does.
// That await is where request-body backpressure shows: while the write is out, the socket keeps
// receiving, and a server that does not stop reading the connection buffers the body in memory.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Reads an upload body; resolves with the JSON answer `{"bytes":N,"sha256":"..."}`. */
export async function consumeUpload(body, file) {
  const hash = createHash('sha256');
  let bytes = 0;
  const fh = file ? await open('/dev/null', 'w') : null;
  try {
    for await (const chunk of body) {
      bytes += chunk.length;
      hash.update(chunk);
      if (fh !== null) await fh.write(chunk);
    }
  } finally {
    await fh?.close();
  }
  return JSON.stringify({ bytes, sha256: hash.digest('hex') });
}
