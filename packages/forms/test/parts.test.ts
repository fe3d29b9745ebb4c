/**
 * `parts()` and `formData()`: the pull API over a body source. Bodies come from undici's FormData
 * encoder (`new Response(form)`) and from raw bytes; every test that checks content also runs the
 * body at several chunkings. Backpressure is checked by counting what the source was asked for.
 */
import { describe, expect, it } from 'vitest';
import { FormError, type FormPart, formData, parts } from '../src/index';

const enc = new TextEncoder();

async function encode(form: FormData): Promise<{ body: Uint8Array; type: string }> {
  const res = new Response(form);
  return { body: new Uint8Array(await res.arrayBuffer()), type: res.headers.get('content-type')! };
}

/** The body cut into `size`-byte chunks, each its own copy (a source never reuses its chunks). */
function* chunked(body: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < body.length; i += size) yield body.slice(i, i + size);
}

/** A counting async source: how many chunks were pulled so far. */
function counting(
  body: Uint8Array,
  size: number,
): { source: AsyncIterable<Uint8Array>; pulled: () => number; returned: () => boolean } {
  let pulled = 0;
  let returned = false;
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      let at = 0;
      return {
        async next() {
          if (at >= body.length) return { done: true, value: undefined };
          pulled++;
          const c = body.slice(at, at + size);
          at += size;
          return { done: false, value: c };
        },
        async return() {
          returned = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { source, pulled: () => pulled, returned: () => returned };
}

type Seen = { name: string; filename: string | undefined; type: string; isFile: boolean; data: string };

async function collect(it: AsyncIterable<FormPart>): Promise<Seen[]> {
  const out: Seen[] = [];
  for await (const p of it) {
    const data = p.isFile ? Buffer.from(await p.bytes()).toString('hex') : await p.text();
    out.push({ name: p.name, filename: p.filename, type: p.mediaType, isFile: p.isFile, data });
  }
  return out;
}

function sampleForm(): FormData {
  const f = new FormData();
  f.append('title', 'Grüße aus Köln');
  f.append('empty', '');
  f.append(
    'doc',
    new Blob([enc.encode('line one\r\n--not a boundary\r\nline two')], { type: 'text/plain' }),
    'notes.txt',
  );
  const bin = new Uint8Array(70_000);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919) & 0xff;
  f.append('photo', new Blob([bin], { type: 'image/png' }), 'ph\u00f6to.png');
  f.append('nothing', new Blob([]), 'empty.bin');
  f.append('title', 'second');
  return f;
}

describe('parts()', () => {
  it('yields every field and file of a real FormData encoding, the same for every chunking', async () => {
    const { body, type } = await encode(sampleForm());
    const whole = await collect(parts([body], type));
    expect(whole.map((p) => [p.name, p.filename, p.type, p.isFile])).toEqual([
      ['title', undefined, 'text/plain', false],
      ['empty', undefined, 'text/plain', false],
      ['doc', 'notes.txt', 'text/plain', true],
      ['photo', 'ph\u00f6to.png', 'image/png', true],
      ['nothing', 'empty.bin', 'application/octet-stream', true],
      ['title', undefined, 'text/plain', false],
    ]);
    expect(whole[0]!.data).toBe('Grüße aus Köln');
    expect(Buffer.from(whole[2]!.data, 'hex').toString()).toBe('line one\r\n--not a boundary\r\nline two');
    expect(whole[3]!.data.length).toBe(140_000);
    expect(whole[4]!.data).toBe('');
    for (const size of [1, 2, 3, 7, 64, 1000, 4096, 65536]) {
      expect(await collect(parts(chunked(body, size), type))).toEqual(whole);
    }
  });

  it('agrees with undici: formData() gives what Response.formData() gives', async () => {
    const { body, type } = await encode(sampleForm());
    const ours = await formData(chunked(body, 333), type);
    const theirs = await new Response(body, { headers: { 'content-type': type } }).formData();
    const flat = async (f: FormData) => {
      const out: unknown[] = [];
      for (const [k, v] of f) {
        if (typeof v === 'string') out.push([k, v]);
        else out.push([k, v.name, v.type, Buffer.from(await v.arrayBuffer()).toString('base64')]);
      }
      return out;
    };
    expect(await flat(ours)).toEqual(await flat(theirs));
  });

  it('pulls the body only as fast as parts are read (backpressure)', async () => {
    const f = new FormData();
    f.append('big', new Blob([new Uint8Array(1024 * 1024)]), 'big.bin');
    f.append('after', 'x');
    const { body, type } = await encode(f);
    const src = counting(body, 1024);
    const it = parts(src.source, type)[Symbol.asyncIterator]();
    const first = (await it.next()).value as FormPart;
    expect(first.filename).toBe('big.bin');
    const content = first[Symbol.asyncIterator]();
    await content.next();
    await content.next();
    // Two chunks of content read: the source was asked for a handful of 1 KiB chunks, not 1 MiB.
    expect(src.pulled()).toBeLessThanOrEqual(4);
    let n = 2;
    while (!(await content.next()).done) n++;
    expect(n).toBeGreaterThan(1000);
    const second = (await it.next()).value as FormPart;
    expect(await second.text()).toBe('x');
    expect((await it.next()).done).toBe(true);
  });

  it('skips a part the consumer did not read, and reading it afterwards throws ERR_FORM_PART_SKIPPED', async () => {
    const { body, type } = await encode(sampleForm());
    const kept: FormPart[] = [];
    const names: string[] = [];
    for await (const p of parts(chunked(body, 100), type)) {
      kept.push(p);
      names.push(p.name);
      if (p.name === 'title') await p.text();
    }
    expect(names).toEqual(['title', 'empty', 'doc', 'photo', 'nothing', 'title']);
    await expect(kept[3]!.bytes()).rejects.toMatchObject({ code: 'ERR_FORM_PART_SKIPPED' });
    await expect(kept[0]!.text()).rejects.toThrow(/already read|skipped/);
  });

  it('decodes text fields by the part charset, else by a preceding _charset_ field (RFC 7578 4.6)', async () => {
    const b = 'XyZ';
    const latin1 = (s: string) => Buffer.from(s, 'latin1');
    const body = Buffer.concat([
      latin1(`--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\n`),
      Buffer.from('caf\u00e9', 'utf8'),
      latin1(`\r\n--${b}\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\niso-8859-1`),
      latin1(`\r\n--${b}\r\nContent-Disposition: form-data; name="b"\r\n\r\ncaf\u00e9`),
      latin1(
        `\r\n--${b}\r\nContent-Disposition: form-data; name="c"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`,
      ),
      Buffer.from('caf\u00e9', 'utf8'),
      latin1(`\r\n--${b}--\r\n`),
    ]);
    for (const size of [1, 5, body.length]) {
      const got = await collect(parts(chunked(body, size), `multipart/form-data; boundary=${b}`));
      expect(got.map((p) => [p.name, p.data])).toEqual([
        ['a', 'caf\u00e9'],
        ['_charset_', 'iso-8859-1'],
        ['b', 'caf\u00e9'],
        ['c', 'caf\u00e9'],
      ]);
    }
  });

  it('reads application/x-www-form-urlencoded too, field by field', async () => {
    const body = enc.encode('name=J%C3%B6rg&tags=a+b&tags=c&empty=');
    for (const size of [1, 4, body.length]) {
      const got = await collect(
        parts(chunked(body, size), 'application/x-www-form-urlencoded; charset=UTF-8'),
      );
      expect(got.map((p) => [p.name, p.data, p.isFile])).toEqual([
        ['name', 'Jörg', false],
        ['tags', 'a b', false],
        ['tags', 'c', false],
        ['empty', '', false],
      ]);
    }
    const form = await formData([body], 'Application/X-WWW-Form-Urlencoded');
    expect(form.getAll('tags')).toEqual(['a b', 'c']);
    for await (const p of parts([body], 'application/x-www-form-urlencoded')) {
      expect(Buffer.from(await p.bytes()).toString()).toBe(
        p.name === 'name' ? 'Jörg' : p.name === 'tags' ? 'a b' : '',
      );
      break;
    }
  });

  it('another media type, or none, is FORM_UNSUPPORTED_MEDIA_TYPE (415) before the body is read', async () => {
    for (const ct of ['application/json', 'text/plain', undefined, 'multipart/mixed; boundary=x']) {
      const src = counting(enc.encode('a=1'), 1);
      const err = await collect(parts(src.source, ct)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormError);
      expect(err).toMatchObject({ code: 'FORM_UNSUPPORTED_MEDIA_TYPE', status: 415 });
      expect(src.pulled()).toBe(0);
    }
    await expect(formData([], 'multipart/form-data')).rejects.toMatchObject({
      code: 'FORM_BAD_BOUNDARY',
      status: 400,
    });
  });

  it('a limit stops the body where it is broken: FormError with status and offset, and the source is released', async () => {
    const f = new FormData();
    f.append('a', 'ok');
    f.append('file', new Blob([new Uint8Array(10_000)]), 'f.bin');
    const { body, type } = await encode(f);
    const src = counting(body, 512);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const p of parts(src.source, type, { maxFileBytes: 4096 })) {
        seen.push(p.name);
        await p.bytes();
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a', 'file']);
    expect(err).toMatchObject({ code: 'FORM_FILE_TOO_LARGE', status: 413 });
    expect((err as FormError).offset).toBeGreaterThan(4096);
    expect(src.returned()).toBe(true);
    // Far less than the whole body was pulled: 4 KiB of file plus what preceded it.
    expect(src.pulled() * 512).toBeLessThan(6000);
  });

  it('a truncated body is FORM_UNEXPECTED_END; a consumer that stops early releases the source', async () => {
    const { body, type } = await encode(sampleForm());
    await expect(collect(parts([body.subarray(0, body.length - 10)], type))).rejects.toMatchObject({
      code: 'FORM_UNEXPECTED_END',
      status: 400,
    });
    const src = counting(body, 256);
    for await (const p of parts(src.source, type)) {
      expect(p.name).toBe('title');
      break;
    }
    expect(src.returned()).toBe(true);
  });
});
