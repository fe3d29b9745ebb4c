// The llhttp request corpus (../shared/conformance/llhttp/request/*.md), read at test time.
// Each strict request case is run through our parser (whole, byte by byte and at every two-way split
// unless the case says noScan) and compared at the level of outcomes: the heads completed (method,
// target, fields), the bodies and trailers of completed messages, and how the stream ends (clean,
// upgrade, error). Lenient-only cases and cases driving llhttp-only API (skipBody) are counted as
// not applicable. Known, documented differences (README "Deviations from llhttp") are listed here
// by name with their RFC reason; any other disagreement fails the test.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bytes, type Outcome, run, runAll } from './_helpers';

const here = dirname(fileURLToPath(import.meta.url));
const corpusDir = resolve(
  process.env.STRATA_SHARED ?? resolve(here, '../../../../shared'),
  'conformance/llhttp/request',
);
const present = existsSync(corpusDir);

interface Case {
  file: string;
  name: string;
  meta: Record<string, unknown>;
  input: string;
  log: string[];
}

function parseMd(file: string, text: string): Case[] {
  const lines = text.split('\n');
  const cases: Case[] = [];
  let heading = '';
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    const h = /^#+ (.*)$/.exec(line);
    if (h) heading = h[1]!;
    const m = /^<!-- meta=(.*) -->\s*$/.exec(line);
    if (!m) continue;
    const meta = JSON.parse(m[1]!) as Record<string, unknown>;
    const block = (tag: string): string => {
      while (k < lines.length && lines[k]!.trim() !== `\`\`\`${tag}`) k++;
      const out: string[] = [];
      for (k++; k < lines.length && lines[k] !== '```'; k++) out.push(lines[k]!);
      return `${out.join('\n')}\n`;
    };
    const input = block('http');
    const log = block('log');
    cases.push({ file, name: heading, meta, input, log: log.split('\n').slice(0, -1) });
  }
  return cases;
}

/** The input rules of llhttp's test/md-test.ts. */
function decodeInput(raw: string): string {
  let input = raw.replace(/\n$/, '');
  input = input.replace(/\\(\r\n|\r|\n)/g, '');
  input = input.replace(/\r\n|\r|\n/g, '\r\n');
  input = input.replace(/\\r/g, '\r');
  input = input.replace(/\\n/g, '\n');
  input = input.replace(/\\t/g, '\t');
  input = input.replace(/\\f/g, '\f');
  input = input.replace(/\\x([0-9a-fA-F]+)/g, (_all, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  input = input.replace(/\\([0-7]{1,3})/g, (_all, d: string) => String.fromCharCode(Number.parseInt(d, 8)));
  input = input.replace(/\$\{(.+?)\}/g, (_all, code: string) => `${runInNewContext(code)}`);
  return input;
}

interface Msg {
  method: string;
  url: string;
  headers: string[];
  body: string;
  trailers: string[];
  headComplete: boolean;
  complete: boolean;
}

interface Expected {
  msgs: Msg[];
  error: number | null;
  finish: number | null;
}

function unescapeLog(v: string): string {
  return v.replace(/\\t/g, '\t').replace(/\\f/g, '\f');
}

function expectedFromLog(log: string[]): Expected {
  const msgs: Msg[] = [];
  let cur: Msg | null = null;
  let last = '';
  let error: number | null = null;
  let finish: number | null = null;
  for (const line of log) {
    const m = /^off=\S+ (.*)$/.exec(line);
    if (!m) continue;
    const rest = m[1]!;
    if (rest === 'message begin') {
      cur = {
        method: '',
        url: '',
        headers: [],
        body: '',
        trailers: [],
        headComplete: false,
        complete: false,
      };
      msgs.push(cur);
      last = '';
      continue;
    }
    const span = /^len=\d+ span\[(\w+)\]="(.*)"$/.exec(rest);
    if (span && cur) {
      const type = span[1]!;
      const v = unescapeLog(span[2]!);
      const list = cur.headComplete ? cur.trailers : cur.headers;
      if (type === 'method') cur.method += v;
      else if (type === 'url') cur.url += v;
      else if (type === 'header_field') {
        if (last === 'header_field') list[list.length - 2] += v;
        else list.push(v, '');
      } else if (type === 'header_value') list[list.length - 1] += v;
      else if (type === 'body') cur.body += v;
      last = type;
      continue;
    }
    last = '';
    if (rest.startsWith('headers complete') && cur) cur.headComplete = true;
    else if (rest === 'message complete' && cur) cur.complete = true;
    const e = /^error code=(\d+)/.exec(rest);
    if (e) error = Number(e[1]);
    const f = /^finish=(\d+)/.exec(rest);
    if (f) finish = Number(f[1]);
  }
  return { msgs, error, finish };
}

const trim = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '');

function ours(o: Outcome): Msg[] {
  const msgs: Msg[] = [];
  for (const e of o.events) {
    if (e.type === 'head') {
      msgs.push({
        method: e.head.method,
        url: e.head.target,
        headers: e.head.rawHeaders,
        body: '',
        trailers: [],
        headComplete: true,
        complete: false,
      });
    } else if (e.type === 'body') msgs[msgs.length - 1]!.body += e.data;
    else {
      msgs[msgs.length - 1]!.complete = true;
      msgs[msgs.length - 1]!.trailers = e.trailers ?? [];
    }
  }
  return msgs;
}

/** Compare; returns null when we agree, else a short description of the difference. */
function compare(exp: Expected, o: Outcome): string | null {
  const got = ours(o);
  const want = exp.msgs.filter((m) => m.headComplete);
  const upgrade = exp.error === 22 || exp.error === 23;
  if (got.length !== want.length) return `heads: llhttp ${want.length}, ours ${got.length} (end ${o.end})`;
  for (let k = 0; k < want.length; k++) {
    const a = want[k]!;
    const b = got[k]!;
    if (a.method !== b.method || a.url !== b.url) return `request line differs: ${b.method} ${b.url}`;
    if (JSON.stringify(a.headers.map(trim)) !== JSON.stringify(b.headers))
      return `fields differ: ${JSON.stringify(b.headers)}`;
    const isLast = k === want.length - 1;
    // upgrade: llhttp reports message complete then pauses; we stop right after the head
    const completeExpected = a.complete && !(upgrade && isLast);
    if (completeExpected !== b.complete)
      return `message ${k} complete: llhttp ${a.complete}, ours ${b.complete}`;
    if (a.complete && b.complete) {
      if (a.body !== b.body) return `body differs: ${JSON.stringify(b.body)}`;
      if (JSON.stringify(a.trailers.map(trim)) !== JSON.stringify(b.trailers)) return 'trailers differ';
    }
  }
  if (exp.finish !== null) {
    const wantOk = exp.finish === 0;
    if (wantOk !== (o.end === 'ok')) return `finish: llhttp ${exp.finish}, ours ${o.end}`;
    return null;
  }
  if (exp.error === null) return o.end === 'ok' ? null : `llhttp accepts, ours ${o.end}`;
  if (upgrade) return o.end === 'upgrade' ? null : `llhttp upgrades, ours ${o.end}`;
  if (exp.error === 5) {
    // "Data after Connection: close": we stop parsing too, silently ignoring the rest (documented).
    const lastHead = got.at(-1);
    return o.end === 'ok' &&
      lastHead?.complete === true &&
      o.events.some((e) => e.type === 'head' && !e.head.keepAlive)
      ? null
      : `llhttp refuses data after close, ours ${o.end}`;
  }
  return o.end.startsWith('HPE_') ? null : `llhttp error ${exp.error}, ours ${o.end}`;
}

/**
 * Cases where we knowingly differ from llhttp, each with the reason (also in the README).
 * Key: "file: heading".
 */
const METHOD = 'RFC 9110 section 9.1: a method is any token (methods are extensible); llhttp checks a table';
const FRAGMENT =
  "RFC 9112 section 3.2: a request-target has no fragment ('#' is in neither origin-form nor query); 400";
export const KNOWN: Record<string, string> = {
  'invalid.md: HTTP protocol and ANNOUNCE method': METHOD,
  'invalid.md: Invalid method': METHOD,
  'method.md: M-SEARCH request': 'RFC 9112 section 3.2.4: asterisk-form is for OPTIONS only; 400',
  'method.md: PRI request HTTP2':
    'RFC 9112 section 3.2.4: asterisk-form is for OPTIONS only; HTTP/2 prior knowledge is not HTTP/1.1; 400',
  'sample.md: No HTTP version': 'RFC 9112 section 3: HTTP-version is required (no HTTP/0.9); 400',
  'transfer-encoding.md: Ignoring `pigeons`':
    'RFC 9112 section 6.1: a transfer coding we do not implement is 501',
  'transfer-encoding.md: POST with `chunked` as last transfer-encoding': FRAGMENT,
  'transfer-encoding.md: POST with `chunked` as last transfer-encoding (multiple headers)': FRAGMENT,
  'transfer-encoding.md: POST with `chunkedchunked` as transfer-encoding': FRAGMENT,
  'uri.md: Fragment in URI': FRAGMENT,
  'uri.md: `host:port` and basic auth':
    'RFC 9110 section 4.2.4: userinfo in an http(s) URI is deprecated; a recipient treats it as an error; 400',
};

if (present)
  describe('llhttp request corpus', () => {
    it('agrees on at least 98% of the applicable strict cases', () => {
      const files = readdirSync(corpusDir)
        .filter((f) => f.endsWith('.md'))
        .sort();
      let total = 0;
      let lenient = 0;
      let na = 0;
      let other = 0;
      let agree = 0;
      const diffs: string[] = [];
      const unexpected: string[] = [];
      for (const file of files) {
        for (const c of parseMd(file, readFileSync(join(corpusDir, file), 'utf8'))) {
          total++;
          const type = String(c.meta.type);
          if (type.includes('lenient')) {
            lenient++;
            continue;
          }
          if (c.meta.skipBody === true || c.meta.mode === 'loose') {
            na++;
            continue;
          }
          if (c.log.some((l) => /span\[protocol\]="(RTSP|ICE)"/.test(l))) {
            // llhttp also parses RTSP and ICE; those are other protocols, not HTTP/1.1 requests
            other++;
            continue;
          }
          const input = bytes(decodeInput(c.input));
          const finish = type === 'request-finish';
          const opts = { requireHost: false };
          const o = c.meta.noScan === true ? run(input, [], opts, finish) : runAll(input, opts, finish);
          const d = compare(expectedFromLog(c.log), o);
          const key = `${file}: ${c.name}`;
          if (d === null) agree++;
          else {
            diffs.push(`${key} -> ${d}${KNOWN[key] ? ` [known: ${KNOWN[key]}]` : ''}`);
            if (!KNOWN[key]) unexpected.push(`${key} -> ${d}`);
          }
        }
      }
      const applicable = total - lenient - na - other;
      const strictDiffs = diffs.length - unexpected.length;
      console.log(
        `llhttp request corpus: ${total} cases; not applicable: ${lenient} lenient-only, ${na} llhttp-API-only ` +
          `(skipBody), ${other} RTSP/ICE; ${applicable} applicable: ${agree} agree ` +
          `(${((100 * agree) / applicable).toFixed(1)}%), ${strictDiffs} differ on purpose (stricter, RFC reason ` +
          `listed), ${unexpected.length} unexplained. Agreement excluding the deliberate differences: ` +
          `${agree}/${applicable - strictDiffs}`,
      );
      for (const d of diffs) console.log(`  differs: ${d}`);
      // every difference must be a documented, deliberate one
      expect(unexpected).toEqual([]);
      // and each documented difference must still happen (remove it from KNOWN when it is fixed)
      expect(Object.keys(KNOWN).filter((k) => !diffs.some((d) => d.startsWith(`${k} ->`)))).toEqual([]);
      expect(agree + strictDiffs).toBe(applicable);
    });
  });

if (!present) {
  describe('llhttp request corpus (absent)', () => {
    it('says loudly that the corpus is absent', () => {
      console.warn(`SKIPPED: llhttp corpus not found at ${corpusDir}; set STRATA_SHARED to run it`);
      expect(existsSync(corpusDir)).toBe(false);
    });
  });
}
