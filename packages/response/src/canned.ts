import { dateValue } from './_date';
import { statusText } from './_status';
import { ResponseError, ResponseErrorCode } from './errors';

interface Canned {
  date: string;
  bytes: Uint8Array;
}

const cache = new Map<number, Canned>();

/**
 * A complete pre-serialised response for an error status, for the server's error path (parse errors,
 * timeouts, overload), written without building a {@link ResponseWriter}:
 *
 * ```
 * HTTP/1.1 400 Bad Request\r\n
 * Content-Type: text/plain; charset=utf-8\r\n
 * Content-Length: 11\r\n
 * Date: <now>\r\n
 * Connection: close\r\n
 * \r\n
 * Bad Request
 * ```
 *
 * The bytes are cached per status and rebuilt at most once a second (the `Date` changes). Treat the
 * returned array as read-only. Throws `ERR_INVALID_STATUS` for codes outside 400..599.
 *
 * @example
 * conn.end(cannedResponse(431));
 */
export function cannedResponse(status: number): Uint8Array {
  if (!Number.isInteger(status) || status < 400 || status > 599)
    throw new ResponseError(
      ResponseErrorCode.INVALID_STATUS,
      `Canned responses are for 4xx/5xx, not ${status}`,
    );
  const date = dateValue();
  const hit = cache.get(status);
  if (hit !== undefined && hit.date === date) return hit.bytes;
  const text = statusText(status);
  const body = text === '' ? String(status) : text;
  const head =
    `HTTP/1.1 ${status} ${text}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${body.length}\r\n` +
    `Date: ${date}\r\n` +
    'Connection: close\r\n\r\n';
  const bytes = new Uint8Array(Buffer.from(head + body, 'latin1'));
  cache.set(status, { date, bytes });
  return bytes;
}
