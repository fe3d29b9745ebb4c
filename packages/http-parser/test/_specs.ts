// Reads and runs the Markdown specs of test/specs/ (see specs.test.ts and test/specs/README.md).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParserOptions, ParseStatus, type RequestHead, RequestParser } from '../src/index';

export const SPECS = join(dirname(fileURLToPath(import.meta.url)), 'specs');

export interface Spec {
  file: string;
  title: string;
  options: Partial<ParserOptions>;
  input: Uint8Array;
  log: string;
}

/**
 * The bytes of an ```http block: the Markdown line breaks are not bytes; `\r`, `\n`, `\t`, `\\` and
 * `\xHH` are. So `GET / HTTP/1.1\r\n` on a line of its own is those 16 bytes.
 */
export function decodeBytes(block: string): Uint8Array {
  const text = block.replaceAll('\n', '');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out.push(text.charCodeAt(i));
      continue;
    }
    const e = text[++i];
    if (e === 'r') out.push(13);
    else if (e === 'n') out.push(10);
    else if (e === 't') out.push(9);
    else if (e === '\\') out.push(92);
    else if (e === 'x') {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`unknown escape \\${e}`);
  }
  return new Uint8Array(out);
}

function block(text: string, tag: string, file: string): string {
  const m = new RegExp(`^\`\`\`${tag}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(text);
  if (m === null) throw new Error(`${file}: no \`\`\`${tag} block`);
  return m[1]!;
}

export function parseSpec(file: string, text: string): Spec {
  const title = /^# (.*)$/m.exec(text)?.[1] ?? file;
  const opts = /^<!-- options=(.*) -->$/m.exec(text);
  return {
    file,
    title,
    options: opts === null ? {} : (JSON.parse(opts[1]!) as Partial<ParserOptions>),
    input: decodeBytes(block(text, 'http', file)),
    log: block(text, 'log', file).trimEnd(),
  };
}

/** A string as the log shows it: JSON-quoted, so CR, LF and other control bytes are visible. */
const show = (s: string): string => JSON.stringify(s);

function headLines(h: RequestHead): string[] {
  const lines = [`head ${h.method} ${h.target} HTTP/1.${h.versionMinor}`];
  for (let i = 0; i < h.rawHeaders.length; i += 2)
    lines.push(`  field ${h.rawHeaders[i]}: ${h.rawHeaders[i + 1]}`);
  const body = h.chunked ? 'chunked' : h.contentLength >= 0 ? `content-length ${h.contentLength}` : 'none';
  const flags = [`body=${body}`, `keep-alive=${h.keepAlive ? 'yes' : 'no'}`];
  if (h.upgrade) flags.push('upgrade=yes');
  if (h.expectContinue) flags.push('expect-continue=yes');
  lines.push(`  ${flags.join(' ')}`);
  return lines;
}

/**
 * Runs `input` through one parser, cut at `cuts`, and prints the log. Offsets are stream offsets:
 * `head` and `complete` at the number of bytes consumed when the parser called back (each callback
 * pauses the parser to read `consumed`), `body` at its first byte, `error` at the offending byte.
 */
export function runSpec(input: Uint8Array, cuts: number[], options: Partial<ParserOptions>): string {
  const out: string[] = [];
  let pending: string[] = [];
  let bodyAt = -1;
  let bodyEnd = -1;
  let body = '';
  const flushBody = (): void => {
    if (bodyAt >= 0) out.push(`off=${bodyAt} body len=${body.length} ${show(body)}`);
    bodyAt = -1;
    body = '';
  };
  let pieceStart = 0; // stream offset of the current piece's byte 0 (its views' byteOffset 0)
  const parser = new RequestParser(
    {
      onHead(head) {
        flushBody();
        pending = headLines(head);
        return true;
      },
      onBody(view) {
        const at = pieceStart + view.byteOffset; // each piece is a copy: its buffer starts at 0
        const text = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('latin1');
        if (bodyAt >= 0 && at === bodyEnd) body += text;
        else {
          flushBody();
          bodyAt = at;
          body = text;
        }
        bodyEnd = at + view.byteLength;
      },
      onMessageComplete(trailers) {
        flushBody();
        pending = ['complete'];
        if (trailers !== null)
          for (let i = 0; i < trailers.length; i += 2)
            pending.push(`  trailer ${trailers[i]}: ${trailers[i + 1]}`);
        return true;
      },
    },
    options,
  );
  const points = [0, ...cuts, input.length];
  for (let k = 0; k + 1 < points.length; k++) {
    pieceStart = points[k]!;
    let rest = input.slice(points[k], points[k + 1]);
    let st = parser.execute(rest);
    while (st === ParseStatus.PAUSED) {
      rest = rest.subarray(parser.consumed);
      out.push(`off=${pieceStart + rest.byteOffset} ${pending[0]}`, ...pending.slice(1));
      st = parser.execute(rest);
    }
    if (st === ParseStatus.ERROR) {
      flushBody();
      const e = parser.error!;
      const at = e.offset < input.length ? ` at ${show(String.fromCharCode(input[e.offset]!))}` : '';
      out.push(`off=${e.offset} error ${e.code} ${e.status}${at}`);
      return out.join('\n');
    }
    if (st === ParseStatus.UPGRADE) {
      flushBody();
      out.push(`off=${pieceStart + rest.byteOffset + parser.consumed} upgrade`);
      return out.join('\n');
    }
  }
  flushBody();
  if (parser.closed) out.push('closed: the rest of the stream is ignored');
  return out.join('\n');
}
