/**
 * `createInspector`: the recorder behind a switch (record only while someone watches), and a
 * handler for the inspector's page, JSON and live feed under one base path.
 */
import type { ResponseWriter } from '@strata/response';
import type { ServerRequest } from '@strata/server';
import { entriesHtml, inspectorPage } from './_pages';
import { Recorder } from './_recorder';
import type { InspectedConnection, InspectorEntry, RecordingMode, RecordingState } from './_types';
import { DEFAULT_MASKED_HEADERS } from './_wire';

export interface InspectorOptions {
  /** Entries kept, newest first; the oldest goes when a new one comes. Default 50. */
  capacity?: number;
  /** Request bytes kept per entry; the rest is counted (`bytesTotal`). Default 16 KiB. */
  maxEntryBytes?: number;
  /**
   * Header names whose values are masked, in the parsed headers and in the raw bytes (byte for
   * byte, with `*`). Replaces the default list: `Authorization`, `Proxy-Authorization`, `Cookie`,
   * `Set-Cookie`. `[]` shows everything.
   */
  maskHeaders?: readonly string[];
  /** Where `handle()` answers: the page, `/entries.json`, `/entries.html`, `/events`. Default `/inspect`. */
  basePath?: string;
  /**
   * When to record: `watch` (default) while a page's live feed or a `watch()` handle is open, and
   * for `graceMs` after the page or the JSON was served; `on` always; `off` never.
   */
  mode?: RecordingMode;
  /** How long serving the page or the JSON keeps recording on with nobody watching. Default 30 s. */
  graceMs?: number;
}

/** The inspector: see {@link createInspector}. */
export interface Inspector {
  readonly basePath: string;
  readonly capacity: number;
  /**
   * Answers a request under `basePath` and returns true; returns false for any other request,
   * untouched. The live feed (`BASE/events`) keeps streaming after it returns.
   */
  handle(req: ServerRequest, res: ResponseWriter): boolean;
  /** The entries, newest first, as plain data. */
  entries(): InspectorEntry[];
  /** The HTTP/2 connections seen while recording, oldest first, with their stream-0 frames. */
  connections(): InspectedConnection[];
  /** Whether it records now, and why. */
  state(): RecordingState;
  /** Someone looked (a page or JSON was served): in `watch` mode, record for `graceMs`. */
  viewed(): void;
  /** Someone watches until the returned function is called (in `watch` mode, recording stays on). */
  watch(): () => void;
  /** Calls `listener` when entries or the state change, at most every 250 ms. Returns an unsubscribe. */
  onChange(listener: (state: RecordingState) => void): () => void;
  /** Whether the bytes of this request's connection are recorded. */
  observes(req: ServerRequest): boolean;
  /** Forgets every entry. */
  clear(): void;
  /** Stops recording for good, ends the live feeds, lets timers go. */
  close(): void;
}

/** Least time between two change notices (a busy server would otherwise redraw pages constantly). */
export const NOTIFY_MS = 250;
/** A comment line on an idle live feed this often, so proxies and browsers keep it open. */
const HEARTBEAT_MS = 15_000;
const DEFAULTS = { capacity: 50, maxEntryBytes: 16 * 1024, basePath: '/inspect', graceMs: 30_000 } as const;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

/**
 * Creates an inspector. Nothing is subscribed until it records: in `watch` mode (the default) that
 * is when someone watches; with `mode: 'on'`, from now on.
 *
 * @example
 * ```ts
 * const inspector = createInspector();
 * const server = createServer({
 *   handler(req, res) {
 *     if (inspector.handle(req, res)) return;
 *     res.send('hello');
 *   },
 * });
 * ```
 */
export function createInspector(options: InspectorOptions = {}): Inspector {
  const capacity = positiveInteger('capacity', options.capacity ?? DEFAULTS.capacity);
  const maxEntryBytes = positiveInteger('maxEntryBytes', options.maxEntryBytes ?? DEFAULTS.maxEntryBytes);
  const basePath = options.basePath ?? DEFAULTS.basePath;
  if (!basePath.startsWith('/') || (basePath.length > 1 && basePath.endsWith('/')))
    throw new RangeError("basePath must start with '/' and not end with '/'");
  const mode = options.mode ?? 'watch';
  if (mode !== 'watch' && mode !== 'on' && mode !== 'off')
    throw new RangeError('mode must be watch, on or off');
  const graceMs = options.graceMs ?? DEFAULTS.graceMs;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError('graceMs must be a non-negative number');
  const mask = new Set((options.maskHeaders ?? DEFAULT_MASKED_HEADERS).map((n) => n.toLowerCase()));

  const root = basePath === '/' ? '' : basePath;
  const own = (path: string) =>
    path === basePath || path.startsWith(`${root}/`) || (root !== '' && path.startsWith(`${root}.`));

  const listeners = new Set<(state: RecordingState) => void>();
  const waiters = new Set<() => void>();
  let notifyTimer: NodeJS.Timeout | null = null;
  let watchers = 0;
  let grace: NodeJS.Timeout | null = null;
  let closed = false;

  const state = (): RecordingState => ({ mode, on: recorder.active, watchers });
  const notify = (): void => {
    if (notifyTimer !== null || (listeners.size === 0 && waiters.size === 0)) return;
    notifyTimer = setTimeout(() => {
      notifyTimer = null;
      const s = state();
      for (const w of [...waiters]) w();
      for (const l of [...listeners]) l(s);
    }, NOTIFY_MS);
    notifyTimer.unref();
  };
  const recorder = new Recorder({ capacity, maxEntryBytes, mask, exclude: own, changed: notify });
  const update = (): void => {
    const on = !closed && (mode === 'on' || (mode === 'watch' && (watchers > 0 || grace !== null)));
    if (on === recorder.active) return;
    if (on) recorder.run();
    else recorder.halt();
    notify();
  };

  const viewed = (): void => {
    if (mode !== 'watch' || closed) return;
    if (grace !== null) clearTimeout(grace);
    grace = setTimeout(() => {
      grace = null;
      update();
    }, graceMs);
    grace.unref();
    update();
  };
  const watch = (): (() => void) => {
    if (closed) return () => {};
    watchers++;
    update();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      watchers--;
      update();
    };
  };

  /** Waits for the next change notice, the heartbeat, the client leaving or close. */
  function next(signal: AbortSignal): Promise<'changed' | 'ping' | 'end'> {
    return new Promise((resolve) => {
      const done = (what: 'changed' | 'ping' | 'end') => {
        waiters.delete(onChange);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(what);
      };
      const onChange = () => done(closed ? 'end' : 'changed');
      const onAbort = () => done('end');
      const timer = setTimeout(() => done('ping'), HEARTBEAT_MS);
      if (signal.aborted || closed) return done('end');
      waiters.add(onChange);
      signal.addEventListener('abort', onAbort);
    });
  }

  async function* feed(signal: AbortSignal): AsyncGenerator<string> {
    yield `retry: 1000\ndata: ${JSON.stringify({ type: 'recording', ...state() })}\n\n`;
    for (;;) {
      const what = await next(signal);
      if (what === 'end') return;
      yield what === 'ping' ? ': ping\n\n' : `data: ${JSON.stringify({ type: 'changed', ...state() })}\n\n`;
    }
  }

  function handle(req: ServerRequest, res: ResponseWriter): boolean {
    const path = req.path;
    if (!own(path)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).header('Allow', 'GET, HEAD').header('Content-Type', 'text/plain; charset=utf-8');
      res.send(`${req.method} is not allowed here\n`);
      return true;
    }
    res.header('Cache-Control', 'no-store');
    const sub = path.slice(root.length);
    if (sub === '' || sub === '/') {
      // A connection that is not followed never will be: close it, so that the browser's next
      // request comes on a new connection, followed from its first byte.
      const follow = recorder.observes(req);
      viewed();
      // (HTTP/2 has no Connection field, and a new stream is followed on any connection.)
      if (!follow && recorder.active && req.httpVersion !== '2.0') res.header('Connection', 'close');
      res.header('Content-Type', 'text/html; charset=utf-8');
      res.send(inspectorPage(recorder.entries(), state(), basePath, capacity, recorder.connections()));
    } else if (sub === '/entries.json') {
      viewed();
      res.json({
        capacity,
        recording: state(),
        entries: recorder.entries(),
        connections: recorder.connections(),
      });
    } else if (sub === '/entries.html') {
      viewed();
      res
        .header('Content-Type', 'text/html; charset=utf-8')
        .send(entriesHtml(recorder.entries(), recorder.connections()));
    } else if (sub === '/events') {
      res.header('Content-Type', 'text/event-stream; charset=utf-8');
      if (req.method === 'HEAD') {
        res.end();
        return true;
      }
      const release = watch();
      res.stream(feed(req.signal), { signal: req.signal }).then(release, release);
    } else {
      res.status(404).header('Content-Type', 'text/plain; charset=utf-8').send(`Not Found: ${path}\n`);
    }
    return true;
  }

  update();
  return {
    basePath,
    capacity,
    handle,
    entries: () => recorder.entries(),
    connections: () => recorder.connections(),
    state,
    viewed,
    watch,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    observes: (req) => recorder.observes(req),
    clear: () => recorder.clear(),
    close() {
      if (closed) return;
      closed = true;
      if (grace !== null) clearTimeout(grace);
      grace = null;
      if (notifyTimer !== null) clearTimeout(notifyTimer);
      notifyTimer = null;
      recorder.halt();
      for (const w of [...waiters]) w();
      listeners.clear();
    },
  };
}
