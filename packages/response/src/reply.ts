import { statusText } from './_status';
import { valueClass } from './_validate';
import { ResponseError, ResponseErrorCode } from './errors';
import type { ResponseWriter } from './writer';

/** Redirect statuses (RFC 9110 section 15.4). */
export type RedirectStatus = 301 | 302 | 303 | 307 | 308;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Sends a redirect with `Location` and a short text body. The location is refused
 * (`ERR_INVALID_LOCATION`) when it holds CR, LF, NUL or other controls; non-ASCII characters are
 * percent-encoded (`encodeURI`), existing escapes are kept.
 *
 * @example
 * redirect(res, '/login', 303);
 */
export function redirect(res: ResponseWriter, location: string, status: RedirectStatus = 302): void {
  if (status !== 301 && status !== 302 && status !== 303 && status !== 307 && status !== 308)
    throw new ResponseError(ResponseErrorCode.INVALID_STATUS, `Not a redirect status: ${status}`);
  if (typeof location !== 'string' || location === '' || valueClass(location) < 0)
    throw new ResponseError(
      ResponseErrorCode.INVALID_LOCATION,
      `Invalid Location: ${JSON.stringify(location)}`,
    );
  let loc = location;
  for (let i = 0; i < loc.length; i++)
    if (loc.charCodeAt(i) > 0x7e || loc.charCodeAt(i) === 0x20) {
      loc = encodeURI(location).replace(/%25([0-9A-Fa-f]{2})/g, '%$1');
      break;
    }
  res.status(status).header('Location', loc);
  res.send(`${statusText(status)}. Redirecting to ${loc}`);
}

/** An RFC 9457 problem details object. */
export interface Problem {
  /** URI reference identifying the problem type (default `about:blank`). */
  type?: string;
  /** Short summary (default: the status reason phrase). */
  title?: string;
  /** HTTP status (default 500). */
  status?: number;
  /** Explanation of this occurrence. */
  detail?: string;
  /** URI reference of this occurrence. */
  instance?: string;
  /** Extension members. */
  [extension: string]: unknown;
}

/**
 * Sends `application/problem+json` (RFC 9457) with the status from the problem.
 *
 * @example
 * sendProblem(res, { status: 403, detail: 'Your account has no credit left' });
 */
export function sendProblem(res: ResponseWriter, problem: Problem): void {
  const status = problem.status ?? 500;
  const body: Record<string, unknown> = {
    type: problem.type ?? 'about:blank',
    title: problem.title ?? statusText(status),
    status,
  };
  if (problem.detail !== undefined) body.detail = problem.detail;
  if (problem.instance !== undefined) body.instance = problem.instance;
  for (const k of Object.keys(problem))
    if (k !== 'type' && k !== 'title' && k !== 'status' && k !== 'detail' && k !== 'instance')
      body[k] = problem[k];
  res.status(status).header('Content-Type', 'application/problem+json');
  res.send(JSON.stringify(body));
}

/** Error body formats. */
export type ErrorFormat = 'text' | 'html' | 'problem';

/** Picks an error format from an `Accept` header: problem+json or JSON -> problem, HTML -> html, else text. */
export function errorFormatFor(accept: string | undefined): ErrorFormat {
  if (!accept) return 'text';
  const a = accept.toLowerCase();
  if (a.includes('application/problem+json') || a.includes('application/json')) return 'problem';
  if (a.includes('text/html')) return 'html';
  return 'text';
}

/**
 * Sends an error response as plain text, a minimal HTML page (detail escaped), or problem+json.
 *
 * @example
 * sendError(res, 404, { format: errorFormatFor(req.header('accept')), detail: 'No such user' });
 */
export function sendError(
  res: ResponseWriter,
  status: number,
  options: { format?: ErrorFormat; detail?: string } = {},
): void {
  const title = statusText(status) || 'Error';
  const format = options.format ?? 'text';
  if (format === 'problem') {
    sendProblem(res, options.detail === undefined ? { status } : { status, detail: options.detail });
    return;
  }
  res.status(status);
  if (format === 'html') {
    const detail = options.detail === undefined ? '' : `<p>${escapeHtml(options.detail)}</p>`;
    res.header('Content-Type', 'text/html; charset=utf-8');
    res.send(
      `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${status} ${escapeHtml(title)}</title></head>` +
        `<body><h1>${status} ${escapeHtml(title)}</h1>${detail}</body></html>`,
    );
    return;
  }
  res.header('Content-Type', 'text/plain; charset=utf-8');
  res.send(options.detail === undefined ? title : `${title}: ${options.detail}`);
}
