/**
 * The Learn path: `/learn`, one page per chapter (`/learn/:chapter`, content in `learn-chapters.ts`),
 * the repository files the chapters point at (`/learn/source/*path`, only those), and
 * `/learn/status/:code`, which answers the status code it names (so 500 is reachable on purpose).
 * Commands are printed with the address the learner's browser used (its `Host` field).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ResponseWriter } from '@strata/response';
import { statusText } from '@strata/response';
import type { ServerRequest } from '@strata/server';
import type { RouteHandler } from './app';
import {
  CHAPTERS,
  type Chapter,
  type LearnContext,
  PARSER_SPECS,
  SPECS_DIR,
  STATUS_PLAYGROUND,
} from './learn-chapters';
import { learnRequest } from './learn-http2';
import { escapeHtml, layout } from './pages';

const HTML = 'text/html; charset=utf-8';

/** The repository root: this file is `apps/demo/src/learn.ts`, or bundled into `apps/demo/dist/cli.js`. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The only files `/learn/source/` serves: the ones the chapters link to. */
export const SOURCE_FILES: ReadonlySet<string> = new Set([
  ...CHAPTERS.flatMap((c) => c.sources),
  ...PARSER_SPECS.map((s) => `${SPECS_DIR}/${s.file}`),
  `${SPECS_DIR}/README.md`,
]);

/** `127.0.0.1:8080`, `localhost`, `[::1]:8080`: the shapes of Host the commands repeat. */
const HOST_SHAPE = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Where the learner is: from the request's Host or `:authority` (the address the browser used) and its socket. */
export function learnContext(req: ServerRequest): LearnContext {
  const tls = req.protocol === 'https';
  const fallback = '127.0.0.1:8080';
  // HTTP/2 has no Host field: the engine gives `:authority` as `req.host`.
  let host = req.header('host') ?? req.host ?? fallback;
  if (!HOST_SHAPE.test(host)) host = fallback;
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  const hasPort = colon > close;
  const hostname = (hasPort ? host.slice(0, colon) : host).replace(/^\[|\]$/g, '');
  const port = hasPort ? Number(host.slice(colon + 1)) : tls ? 443 : 80;
  const remote = req.remoteAddress.includes(':') ? `[${req.remoteAddress}]` : req.remoteAddress;
  return {
    origin: `${tls ? 'https' : 'http'}://${host}`,
    hostname,
    port,
    tls,
    client: `${remote}:${req.remotePort}`,
    request: learnRequest({
      method: req.method,
      url: req.url,
      authority: req.host ?? host,
      tls,
      version: req.httpVersion,
      rawHeaders: req.rawHeaders,
      date: new Date().toUTCString(),
    }),
  };
}

function sendHtml(res: ResponseWriter, body: string, status = 200): void {
  res.status(status).header('Content-Type', HTML).header('Cache-Control', 'no-store').send(body);
}

const LEARN_STYLE = `<style>
  .learn-nav { display: flex; justify-content: space-between; gap: 12px; flex-wrap: wrap; margin: 20px 0; }
  ol.chapters li { margin: 6px 0; } pre.run { position: relative; }
  .learn-you { font-size: 14px; }
</style>`;

/** `/learn`: the chapters in order. */
export function learnIndexPage(ctx: LearnContext): string {
  const items = CHAPTERS.map(
    (c) =>
      `<li><a href="/learn/${c.slug}">${escapeHtml(c.title)}</a><br><span class="muted">${escapeHtml(c.summary)}</span></li>`,
  ).join('\n');
  return layout(
    'Learn',
    `${LEARN_STYLE}<h1>Learn: networks, HTTP and WebSockets, an HTTP server from scratch</h1>
<p>Thirteen short chapters, from threads and addresses to TLS, WebSocket frames and HTTP/2. Each one explains
an idea in plain words, gives you a command to run against this very server, and points at the file
in <code>packages/</code> that does what it shows. No networking knowledge needed: only a terminal.</p>
<p class="learn-you card">You are reading this over a real TCP connection:
<code id="conn">client ${escapeHtml(ctx.client)} → server ${escapeHtml(ctx.hostname)}:${ctx.port}</code>.
Every command on these pages uses this address (<code id="origin">${escapeHtml(ctx.origin)}</code>).
Run them from the root of the repository, once it is built (<code>npx -y pnpm@10.34.8 build</code>).</p>
<ol class="chapters">
${items}
</ol>
<p>Beyond the chapters: the <a href="/inspect">wire inspector</a> shows each layer's work on every request, and
the parser's own test cases are readable: <a href="/learn/source/${SPECS_DIR}/README.md">${SPECS_DIR}</a>.</p>`,
  );
}

/**
 * `/learn/:chapter`. The HTTP/2 chapter shows the page's own DATA frames, whose lengths depend on
 * the page's size: it is drawn until the size it states is the size it has (a few rounds at most).
 */
export function chapterPage(chapter: Chapter, ctx: LearnContext): string {
  let page = drawChapter(chapter, ctx);
  if (chapter.showsPageSize !== true) return page;
  for (let round = 0; round < 4; round++) {
    const bytes = Buffer.byteLength(page);
    if (bytes === ctx.request.pageBytes) break;
    ctx = { ...ctx, request: { ...ctx.request, pageBytes: bytes } };
    page = drawChapter(chapter, ctx);
  }
  return page;
}

function drawChapter(chapter: Chapter, ctx: LearnContext): string {
  const i = CHAPTERS.indexOf(chapter);
  const prev = CHAPTERS[i - 1];
  const next = CHAPTERS[i + 1];
  const run = chapter
    .run(ctx)
    .map((cmd) => `<pre class="run">${escapeHtml(cmd)}</pre>`)
    .join('\n');
  const links = chapter.links
    .map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a></li>`)
    .join('');
  const sources = chapter.sources
    .map(
      (p) =>
        `<li><a class="source" href="/learn/source/${escapeHtml(p)}"><code>${escapeHtml(p)}</code></a></li>`,
    )
    .join('');
  return layout(
    chapter.title,
    `${LEARN_STYLE}<p class="muted"><a href="/learn">Learn</a> · chapter ${i + 1} of ${CHAPTERS.length}</p>
<h1>${escapeHtml(chapter.title)}</h1>
<section id="prose">${chapter.body(ctx, escapeHtml)}</section>
<h2>Run it</h2>
<p class="muted">From the repository root, with this demo running at <code>${escapeHtml(ctx.origin)}</code>:</p>
<div id="run">${run}</div>
<h2>Try it here</h2>
<ul id="links">${links}</ul>
<h2>The code</h2>
<ul id="sources">${sources}</ul>
<nav class="learn-nav">${prev === undefined ? '<span></span>' : `<a rel="prev" href="/learn/${prev.slug}">← ${escapeHtml(prev.title)}</a>`}
${next === undefined ? '<a href="/learn">all chapters</a>' : `<a rel="next" href="/learn/${next.slug}">${escapeHtml(next.title)} →</a>`}</nav>`,
  );
}

/** `/learn/source/PATH`: one of the files the chapters link to, as text. */
function sourcePage(path: string, text: string): string {
  const lines = text.split('\n').length;
  return layout(
    path,
    `<p class="muted"><a href="/learn">Learn</a> · a file of the repository (${lines} lines)</p>
<h1><code>${escapeHtml(path)}</code></h1>
<pre id="source">${escapeHtml(text)}</pre>`,
  );
}

/** `/learn/status/:code`: a page answered with that status, saying what it means. */
function statusPage(code: number): string {
  const text = statusText(code);
  const klass =
    code < 300
      ? 'success'
      : code < 400
        ? 'redirection'
        : code < 500
          ? "the client's error"
          : "the server's failure";
  return layout(
    `${code} ${text}`,
    `<p class="muted"><a href="/learn/status">Status codes</a></p>
<h1 id="status">${code} ${escapeHtml(text)}</h1>
<p>This page came with the status line <code>HTTP/1.1 ${code} ${escapeHtml(text)}</code>, on purpose: class
${String(code)[0]}xx, ${klass}. Open your browser's developer tools (Network) or run
<code>curl -i</code> on this address to see it.</p>`,
  );
}

/** Registers the Learn routes (called once from `app.ts`). */
export function addLearnRoutes(add: (method: string, pattern: string, handler: RouteHandler) => void): void {
  add('GET', '/learn', (req, res) => sendHtml(res, learnIndexPage(learnContext(req))));
  add('GET', '/learn/:chapter', (req, res, params) => {
    const chapter = CHAPTERS.find((c) => c.slug === params.chapter);
    if (chapter === undefined) {
      sendHtml(
        res,
        layout('No such chapter', '<h1>No such chapter</h1><p><a href="/learn">All chapters</a></p>'),
        404,
      );
      return;
    }
    sendHtml(res, chapterPage(chapter, learnContext(req)));
  });
  add('GET', '/learn/status/:code', (_req, res, params) => {
    const code = Number(params.code);
    if (!STATUS_PLAYGROUND.includes(code)) {
      res.status(400).json({
        error: `code must be one of ${STATUS_PLAYGROUND.join(', ')}`,
        code: 'ERR_LEARN_STATUS',
      });
      return;
    }
    sendHtml(res, statusPage(code), code);
  });
  add('GET', '/learn/source/*path', async (_req, res, params) => {
    const path = params.path ?? '';
    let text: string | null = null;
    if (SOURCE_FILES.has(path)) text = await readFile(REPO_ROOT + path, 'utf8').catch(() => null);
    if (text === null) {
      sendHtml(
        res,
        layout('Not a Learn file', `<h1>Not a Learn file</h1><p><a href="/learn">Learn</a></p>`),
        404,
      );
      return;
    }
    sendHtml(res, sourcePage(path, text));
  });
}
