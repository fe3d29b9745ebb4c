// One process: Strata's parser on one input (index in argv[2]); prints parses/s as JSON.
import { ParseStatus, RequestParser } from '../src/index';
import { INPUTS } from './_inputs';
import { measure } from './_measure';

const input = INPUTS[Number(process.argv[2])]!;
const ms = Number(process.argv[3] ?? 1000);
let heads = 0;
let bodyBytes = 0;
let done = 0;
const parser = new RequestParser({
  onHead(head) {
    heads += head.rawHeaders.length;
  },
  onBody(chunk) {
    bodyBytes += chunk.length;
  },
  onMessageComplete() {
    done++;
  },
});
// a Buffer, as a socket delivers it (and as the llhttp side gets it)
const bytes = Buffer.from(input.bytes);
const fn = (): void => {
  if (parser.execute(bytes) !== ParseStatus.OK) throw new Error('bench input failed to parse');
};
fn();
if (done !== input.requests) throw new Error(`expected ${input.requests} messages, got ${done}`);
const rate = measure(fn, ms);
process.stdout.write(`${JSON.stringify({ rate, check: heads + bodyBytes + done })}\n`);
