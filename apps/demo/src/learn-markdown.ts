/**
 * LEARN.md, the Learn path as one Markdown file in the repository: the same chapters the demo
 * serves at `/learn`, with the demo's default address (`http://127.0.0.1:8080`) in the commands.
 * `npx tsx apps/demo/scripts/learn-md.ts` writes it; a test keeps it in step with the chapters.
 */
import { CHAPTERS, type LearnContext } from './learn-chapters';
import { learnRequest } from './learn-http2';

/** The address `pnpm demo` listens on by default. */
const DEFAULT: LearnContext = {
  origin: 'http://127.0.0.1:8080',
  hostname: '127.0.0.1',
  port: 8080,
  tls: false,
  client: '127.0.0.1:54321',
  // A browser's request for the HTTP/2 chapter, with a fixed date and page size (LEARN.md must not
  // change from one run to the next).
  request: {
    ...learnRequest({
      method: 'GET',
      url: '/learn/http2',
      authority: '127.0.0.1:8080',
      tls: false,
      version: '1.1',
      rawHeaders: [
        'Host',
        '127.0.0.1:8080',
        'User-Agent',
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
        'Accept',
        'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
        'Accept-Encoding',
        'gzip, deflate, br',
        'Accept-Language',
        'en-US,en;q=0.9',
      ],
      date: 'Mon, 07 Dec 2026 12:00:00 GMT',
    }),
    pageBytes: 40_000,
    sample: true,
  },
};

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', rarr: '->', hellip: '...' };

/** The chapters' small HTML (p, b, i, code, a, ul/li, table, pre, h3) as Markdown. */
export function htmlToMarkdown(html: string): string {
  // `<pre>` blocks become fenced code, kept aside (placeholders) so the inline rules leave their
  // spacing alone.
  const blocks: string[] = [];
  const text = html
    .replace(/<pre[^>]*>([\s\S]*?)<\/pre>/g, (_m, body: string) => {
      blocks.push(`\`\`\`text\n${decode(body.replace(/<[^>]+>/g, ''))}\n\`\`\``);
      return `\n\nPRE-BLOCK-${blocks.length - 1}\n\n`;
    })
    .replace(/<h3>([\s\S]*?)<\/h3>/g, '\n\n### $1\n\n')
    .replace(/<table[^>]*>([\s\S]*?)<\/table>/g, (_m, rows: string) => `\n\n${table(rows)}\n\n`);
  return inline(text).replace(/PRE-BLOCK-(\d+)/g, (_m, i: string) => blocks[Number(i)]!);
}

/** HTML entities to characters. */
function decode(text: string): string {
  return text
    .replace(/&(\w+);/g, (m, name: string) => ENTITIES[name] ?? m)
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));
}

/** A `<table>`'s rows as a Markdown table (its first row the header). */
function table(rows: string): string {
  const lines: string[] = [];
  for (const row of rows.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)) {
    const cells = [...row[1]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) =>
      inline(c[1]!).replace(/\n/g, ' ').replace(/\|/g, '\\|'),
    );
    lines.push(`| ${cells.join(' | ')} |`);
    if (lines.length === 1) lines.push(`|${cells.map(() => ' --- |').join('')}`);
  }
  return lines.join('\n');
}

function inline(html: string): string {
  return html
    .replace(
      /<a href="(\/[^"]*)">([\s\S]*?)<\/a>/g,
      (_m, href: string, text: string) => `${text} (on the demo: \`${href}\`)`,
    )
    .replace(/<a href="([^"]*)">([\s\S]*?)<\/a>/g, '[$2]($1)')
    .replace(/<\/?(b|strong)>/g, '**')
    .replace(/<\/?(i|em)>/g, '*')
    .replace(/<\/?code>/g, '`')
    .replace(/<li>/g, '\n- ')
    .replace(/<\/p>\s*/g, '\n\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(\w+);/g, (m, name: string) => ENTITIES[name] ?? m)
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/[ \t]*\n[ \t]*/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The whole of LEARN.md. */
export function learnMarkdown(): string {
  const esc = (s: string) => s;
  const out: string[] = [
    '# Learn: networks, sockets, HTTP and WebSockets, with a server built from scratch',
    '',
    'The Learn path of the Strata demo, one chapter per topic of the tutorial, in order. Start the',
    'demo (`npx -y pnpm@10.34.8 install && npx -y pnpm@10.34.8 demo`) and open',
    '<http://127.0.0.1:8080/learn> to read the same chapters with your own address and live values;',
    'the commands below assume the default address. Each chapter names the files in `packages/` that',
    'implement what it shows. (Generated from `apps/demo/src/learn-chapters.ts` by',
    '`npx tsx apps/demo/scripts/learn-md.ts`.)',
    '',
  ];
  for (let i = 0; i < CHAPTERS.length; i++) {
    const c = CHAPTERS[i]!;
    out.push(`${i + 1}. [${c.title}](#${i + 1}-${anchor(c.title)}): ${c.summary}`);
  }
  CHAPTERS.forEach((c, i) => {
    out.push(
      '',
      `## ${i + 1}. ${c.title}`,
      '',
      htmlToMarkdown(c.body(DEFAULT, esc)),
      '',
      '**Run it:**',
      '',
      '```sh',
    );
    for (const cmd of c.run(DEFAULT)) out.push(cmd);
    out.push('```');
    if (c.links.length > 0)
      out.push('', `**On the demo:** ${c.links.map((l) => `\`${l.href}\``).join(', ')}`);
    if (c.sources.length > 0)
      out.push('', `**The code:** ${c.sources.map((s) => `[${s}](${s})`).join(', ')}`);
  });
  return `${out.join('\n')}\n`;
}

/** GitHub's heading anchor for a title (lowercased, punctuation dropped, spaces to hyphens). */
function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}
