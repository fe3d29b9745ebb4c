/**
 * The IANA HTTP Status Code Registry (https://www.iana.org/assignments/http-status-codes), with the
 * reason phrases it lists. Codes the registry marks "(Unused)" (306, 418) carry the phrase `Unused`.
 * Indexed by code for an O(1) lookup on the hot path.
 */
const REGISTRY: ReadonlyArray<readonly [number, string]> = [
  [100, 'Continue'],
  [101, 'Switching Protocols'],
  [102, 'Processing'],
  [103, 'Early Hints'],
  [200, 'OK'],
  [201, 'Created'],
  [202, 'Accepted'],
  [203, 'Non-Authoritative Information'],
  [204, 'No Content'],
  [205, 'Reset Content'],
  [206, 'Partial Content'],
  [207, 'Multi-Status'],
  [208, 'Already Reported'],
  [226, 'IM Used'],
  [300, 'Multiple Choices'],
  [301, 'Moved Permanently'],
  [302, 'Found'],
  [303, 'See Other'],
  [304, 'Not Modified'],
  [305, 'Use Proxy'],
  [306, 'Unused'],
  [307, 'Temporary Redirect'],
  [308, 'Permanent Redirect'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [402, 'Payment Required'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'],
  [408, 'Request Timeout'],
  [409, 'Conflict'],
  [410, 'Gone'],
  [411, 'Length Required'],
  [412, 'Precondition Failed'],
  [413, 'Content Too Large'],
  [414, 'URI Too Long'],
  [415, 'Unsupported Media Type'],
  [416, 'Range Not Satisfiable'],
  [417, 'Expectation Failed'],
  [418, 'Unused'],
  [421, 'Misdirected Request'],
  [422, 'Unprocessable Content'],
  [423, 'Locked'],
  [424, 'Failed Dependency'],
  [425, 'Too Early'],
  [426, 'Upgrade Required'],
  [428, 'Precondition Required'],
  [429, 'Too Many Requests'],
  [431, 'Request Header Fields Too Large'],
  [451, 'Unavailable For Legal Reasons'],
  [500, 'Internal Server Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Gateway Timeout'],
  [505, 'HTTP Version Not Supported'],
  [506, 'Variant Also Negotiates'],
  [507, 'Insufficient Storage'],
  [508, 'Loop Detected'],
  [510, 'Not Extended'],
  [511, 'Network Authentication Required'],
];

const TEXT: string[] = new Array<string>(600).fill('');
/** Pre-built `HTTP/1.1 NNN Reason\r\n` lines for every code 100..599. */
export const STATUS_LINES: string[] = new Array<string>(600).fill('');
for (const [code, text] of REGISTRY) TEXT[code] = text;
for (let code = 100; code < 600; code++) STATUS_LINES[code] = `HTTP/1.1 ${code} ${TEXT[code]}\r\n`;

/** Every registered status code, ascending. */
export const REGISTERED_CODES: readonly number[] = REGISTRY.map((e) => e[0]);

/**
 * The IANA reason phrase for a status code, or `''` for a code the registry does not assign.
 *
 * @example
 * statusText(404); // 'Not Found'
 * statusText(299); // ''
 */
export function statusText(code: number): string {
  return code >= 100 && code < 600 ? (TEXT[code] ?? '') : '';
}
