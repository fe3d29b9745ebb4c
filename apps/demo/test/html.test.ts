/**
 * The pages a browser meets, through real sockets: the chat page, the users and a profile, error
 * pages as HTML for browsers (plain text or JSON for curl), the favicon, and the example commands
 * written with the address the client used.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { curl, type Demo, splitResponse, startDemo } from './_harness';

let demo: Demo;
beforeAll(async () => {
  demo = await startDemo(['--port', '0']);
});
afterAll(async () => {
  await demo?.stop();
});

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('pages for browsers', () => {
  it('/chat is a page that joins the /ws room, linked from every page header', async () => {
    const res = await fetch(`${demo.url}/chat`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await res.text();
    expect(page).toContain('id="join"');
    expect(page).toContain("'/ws'");
    expect(page).toContain('id="online"');
    const home = await (await fetch(`${demo.url}/`)).text();
    expect(home).toContain('<a href="/chat">chat</a>');
    expect(home).toContain('<a href="/user">users</a>');
    // What the page's script does, with the `ws` client: welcome, then a message to both members.
    const a = new WebSocket(`${demo.url.replace('http', 'ws')}/ws`);
    const inbox: { type: string; [k: string]: unknown }[] = [];
    a.on('message', (d) => inbox.push(JSON.parse(String(d))));
    await new Promise((r) => a.once('open', r));
    await expect.poll(() => inbox[0]?.type).toBe('welcome');
    a.send('hello from the test');
    await expect.poll(() => inbox.find((m) => m.type === 'message')?.text).toBe('hello from the test');
    a.close();
  });

  it('/user lists the users; /user/:name is a styled profile, escaped, with the way back', async () => {
    const list = await fetch(`${demo.url}/user`);
    expect(list.status).toBe(200);
    const html = await list.text();
    for (const name of ['ada', 'alan', 'grace', 'vint', 'tim'])
      expect(html).toContain(`href="/user/${name}"`);
    expect(html).toContain('<form');
    const ada = await (await fetch(`${demo.url}/user/ada`)).text();
    expect(ada).toContain('<style>'); // the demo's layout, not a bare <h1>
    expect(ada).toContain('Hello, ada!');
    expect(ada).toContain('Ada Lovelace');
    expect(ada).toContain('href="/user"');
    const guest = await (await fetch(`${demo.url}/user/%3Cb%3Ezoe`)).text();
    expect(guest).toContain('Hello, &lt;b&gt;zoe!');
    expect(guest).toContain('guest profile');
    expect(guest).not.toContain('<b>zoe');
  });

  it('a 404 is an HTML page with the way back for a browser, plain text for curl', async () => {
    const page = await fetch(`${demo.url}/no/such/page`, { headers: BROWSER });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<p class="error-code">404</p>');
    expect(html).toContain('<a href="/" id="back">');
    expect(html).toContain('/no/such/page');
    const r = await curl(['-i', `${demo.url}/no/such/page`]);
    const plain = splitResponse(r.stdout);
    expect(plain.status).toBe(404);
    expect(plain.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(plain.body.toString()).toBe('Not Found: /no/such/page\n');
    const file = await fetch(`${demo.url}/static/missing.txt`, { headers: BROWSER });
    expect(file.status).toBe(404);
    expect(await file.text()).toContain('id="back"');
  });

  it('405 (with Allow) and 400 are pages for a browser; text and JSON for curl as before', async () => {
    const post = await fetch(`${demo.url}/hello`, { method: 'POST', headers: BROWSER });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toMatch(/GET/);
    const html = await post.text();
    expect(html).toContain('Method Not Allowed');
    expect(html).toContain('id="back"');
    const bad = await fetch(`${demo.url}/download/lots`, { headers: BROWSER });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await bad.text()).toContain('size must be a whole number');
    const json = await fetch(`${demo.url}/download/lots`);
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ code: 'ERR_DOWNLOAD_SIZE' });
    const text = await fetch(`${demo.url}/hello`, { method: 'POST' });
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('POST is not allowed on /hello; allowed: GET, HEAD, OPTIONS\n');
  });

  it('/favicon.ico is a small SVG with a long cache (no more 404s in the browser log)', async () => {
    const r = await curl(['-i', `${demo.url}/favicon.ico`]);
    const { status, headers, body } = splitResponse(r.stdout);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('image/svg+xml');
    expect(headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(body.toString()).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(body.length).toBeLessThan(1024);
    const svg = await fetch(`${demo.url}/favicon.svg`);
    expect(svg.status).toBe(200);
    await svg.arrayBuffer();
    expect(await (await fetch(`${demo.url}/`)).text()).toContain('<link rel="icon" href="/favicon.svg"');
  });

  it('example commands show the address the client used (its Host), not HOST:PORT', async () => {
    const home = await (await fetch(`${demo.url}/`)).text();
    expect(home).toContain(`<code>curl -i ${demo.url}/hello</code>`);
    expect(home).not.toContain('HOST:PORT');
    const upload = await (await fetch(`${demo.url}/upload`)).text();
    expect(upload).toContain(`<code>curl --data-binary @FILE ${demo.url}/upload</code>`);
    expect(upload).not.toContain('HOST:PORT');
    // Another name for this server (a proxy's, a hosts entry): the page uses it.
    const named = await curl(['-H', 'Host: demo.example:8443', `${demo.url}/`]);
    expect(named.stdout.toString()).toContain('<code>curl -i http://demo.example:8443/hello</code>');
    // A Host that is not a plain host[:port] is never echoed into the page.
    const odd = await curl(['-H', 'Host: a_b~c', `${demo.url}/`]);
    expect(odd.stdout.toString()).toContain('<code>curl -i http://HOST:PORT/hello</code>');
    expect(odd.stdout.toString()).not.toContain('a_b~c');
  });
});
