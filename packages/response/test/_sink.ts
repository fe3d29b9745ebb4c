import type { ByteSink } from '../src/index';

/** An in-memory ByteSink recording every byte (strings encoded as UTF-8, as a socket would). */
export class MemorySink implements ByteSink {
  chunks: Buffer[] = [];
  writes = 0;
  corked = 0;
  ended = 0;
  full = false;
  private drains: Array<() => void> = [];
  write(chunk: Uint8Array | string): boolean {
    this.writes++;
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
    return !this.full;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    this.corked--;
  }
  onDrain(listener: () => void): void {
    this.drains.push(listener);
  }
  end(): void {
    this.ended++;
  }
  drain(): void {
    this.full = false;
    const d = this.drains;
    this.drains = [];
    for (const f of d) f();
  }
  get pendingDrains(): number {
    return this.drains.length;
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('latin1');
  }
}

/** Decodes a chunked body (strict), returning body and trailer lines. */
export function decodeChunked(buf: Buffer): { body: Buffer; trailers: string[]; rest: number } {
  let i = 0;
  const parts: Buffer[] = [];
  for (let guard = 0; guard < 1e7; guard++) {
    const eol = buf.indexOf('\r\n', i, 'latin1');
    if (eol < 0) throw new Error('no chunk size line');
    const size = Number.parseInt(buf.toString('latin1', i, eol), 16);
    if (!/^[0-9a-f]+$/.test(buf.toString('latin1', i, eol))) throw new Error('bad size');
    i = eol + 2;
    if (size === 0) break;
    parts.push(buf.subarray(i, i + size));
    i += size;
    if (buf.toString('latin1', i, i + 2) !== '\r\n') throw new Error('missing CRLF after chunk');
    i += 2;
  }
  const trailers: string[] = [];
  for (let guard = 0; guard < 1000; guard++) {
    const eol = buf.indexOf('\r\n', i, 'latin1');
    if (eol < 0) throw new Error('unterminated trailers');
    if (eol === i) {
      i += 2;
      break;
    }
    trailers.push(buf.toString('latin1', i, eol));
    i = eol + 2;
  }
  return { body: Buffer.concat(parts), trailers, rest: buf.length - i };
}

/** Splits a serialised response into head text and body bytes. */
export function split(buf: Buffer): { head: string; body: Buffer } {
  const at = buf.indexOf('\r\n\r\n', 0, 'latin1');
  if (at < 0) throw new Error('no head terminator');
  return { head: buf.toString('latin1', 0, at + 4), body: buf.subarray(at + 4) };
}
