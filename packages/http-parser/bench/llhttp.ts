// One process: Node's own llhttp (the HTTPParser binding node:http uses), driven from JavaScript the
// way node:http drives it: url, method and the flat header list are built as strings for each request.
import { INPUTS } from './_inputs';
import { measure } from './_measure';

interface HTTPParserCtor {
  new (): {
    initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
    execute(b: Buffer): number | Error;
    [k: number]: unknown;
  };
  REQUEST: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
}

const binding = (process as unknown as { binding(n: string): { HTTPParser: HTTPParserCtor } }).binding(
  'http_parser',
);
const { HTTPParser } = binding;

const input = INPUTS[Number(process.argv[2])]!;
const ms = Number(process.argv[3] ?? 1000);
let heads = 0;
let bodyBytes = 0;
let done = 0;
const parser = new HTTPParser();
parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
let pending: string[] = [];
parser[HTTPParser.kOnHeaders] = (headers: string[], _url: string) => {
  // called when a head has more than 32 fields: node:http concatenates these lists
  pending = pending.concat(headers);
};
parser[HTTPParser.kOnHeadersComplete] = (
  _major: number,
  _minor: number,
  headers: string[] | undefined,
  _method: number,
  _url: string,
) => {
  const all = headers === undefined ? pending : pending.length > 0 ? pending.concat(headers) : headers;
  pending = [];
  heads += all.length;
  return 0;
};
parser[HTTPParser.kOnBody] = (b: Buffer) => {
  bodyBytes += b.length;
};
parser[HTTPParser.kOnMessageComplete] = () => {
  done++;
};
parser[HTTPParser.kOnExecute] = () => {};
const buf = Buffer.from(input.bytes);
const fn = (): void => {
  const r = parser.execute(buf);
  if (typeof r !== 'number') throw r;
};
fn();
if (done !== input.requests) throw new Error(`expected ${input.requests} messages, got ${done}`);
const rate = measure(fn, ms);
process.stdout.write(`${JSON.stringify({ rate, check: heads + bodyBytes + done })}\n`);
