/**
 * Runs the HTTP/2 conformance catalogue (`_cases.ts`) against a server: one fresh connection per
 * case, a small pool of cases at a time, each wait bounded by `timeoutMs`.
 */
import { CASES, type Case } from './_cases.ts';
import { H2Client, type Target } from './_client.ts';

/** The outcome of one case. */
export interface CaseResult {
  id: string;
  section: string;
  title: string;
  /** h2spec runs these only in strict mode. */
  strict: boolean;
  status: 'pass' | 'fail' | 'skip';
  expected: string;
  observed: string;
  /** Where the case departs from h2spec (see `_cases.ts`). */
  note?: string;
  /** Set on a pass that carried a GOAWAY or RST_STREAM with an unexpected error code. */
  warning?: string;
  durationMs: number;
}

/** Options of `runCatalogue`. */
export interface CatalogueOptions {
  /** How long one wait for a server event lasts (default 1000 ms; h2spec's default is 2 s). */
  timeoutMs?: number;
  /** Run only these ids, or ids under these prefixes (`http2/6.5` runs 6.5 and 6.5.x). */
  only?: string[];
  /** Cases run at the same time (default 8). */
  concurrency?: number;
}

/** Whether `id` is selected by `only` (exact id, or a prefix ending at a `/` or `.` boundary). */
function selected(id: string, only: string[] | undefined): boolean {
  if (!only || only.length === 0) return true;
  for (const o of only) {
    if (id === o || id.startsWith(`${o}/`) || id.startsWith(`${o}.`)) return true;
  }
  return false;
}

async function runOne(target: Target, c: Case, timeoutMs: number): Promise<CaseResult> {
  const start = Date.now();
  const base = { id: c.id, section: c.section, title: c.title, strict: c.strict === true };
  const withNote = c.note ? { note: c.note } : {};
  let client: H2Client | undefined;
  try {
    client = await H2Client.connect(target, timeoutMs);
    const v = await c.run(client);
    const status = v.skipped ? 'skip' : v.pass ? 'pass' : 'fail';
    const warning = v.warning ? { warning: v.warning } : {};
    return {
      ...base,
      ...withNote,
      ...warning,
      status,
      expected: v.expected,
      observed: v.observed,
      durationMs: Date.now() - start,
    };
  } catch (err) {
    return {
      ...base,
      ...withNote,
      status: 'fail',
      expected: 'the case to run',
      observed: `error: ${err instanceof Error ? err.message : String(err)}`,
      durationMs: Date.now() - start,
    };
  } finally {
    client?.close();
  }
}

/**
 * Runs the catalogue (or the `only` subset) against `target` and returns one result per case, in
 * catalogue order.
 */
export async function runCatalogue(
  target: { host: string; port: number; tls?: boolean; path?: string },
  options: CatalogueOptions = {},
): Promise<CaseResult[]> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const todo = CASES.filter((c) => selected(c.id, options.only));
  const results: CaseResult[] = new Array(todo.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < todo.length) {
      const i = nextIndex++;
      results[i] = await runOne(target, todo[i]!, timeoutMs);
    }
  };
  const pool = Math.max(1, Math.min(options.concurrency ?? 8, todo.length));
  await Promise.all(Array.from({ length: pool }, worker));
  return results;
}

/** Every case id, in catalogue order. */
export const CASE_IDS: readonly string[] = CASES.map((c) => c.id);
