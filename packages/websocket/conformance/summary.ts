import type { CaseResult } from './harness';

/** Markdown table: per section, how many cases were OK / NON-STRICT / INFORMATIONAL / FAILED. */
export function summarize(results: Record<string, CaseResult>, scaleName: string, ms: number): string {
  const rows = new Map<string, { ok: number; ns: number; info: number; failed: number }>();
  const tot = { ok: 0, ns: 0, info: 0, failed: 0 };
  for (const [id, r] of Object.entries(results)) {
    const sec = id.split('.')[0]!;
    let row = rows.get(sec);
    if (row === undefined) rows.set(sec, (row = { ok: 0, ns: 0, info: 0, failed: 0 }));
    const k =
      r.behavior === 'FAILED' || r.behaviorClose === 'FAILED'
        ? 'failed'
        : r.behavior === 'NON-STRICT'
          ? 'ns'
          : r.behavior === 'INFORMATIONAL'
            ? 'info'
            : 'ok';
    row[k]++;
    tot[k]++;
  }
  let s = `| section | cases | OK | NON-STRICT | INFORMATIONAL | FAILED |\n|---|---:|---:|---:|---:|---:|\n`;
  for (const [sec, r] of [...rows].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    s += `| ${sec} | ${r.ok + r.ns + r.info + r.failed} | ${r.ok} | ${r.ns} | ${r.info} | ${r.failed} |\n`;
  }
  s += `| **all** | **${tot.ok + tot.ns + tot.info + tot.failed}** | **${tot.ok}** | **${tot.ns}** | **${tot.info}** | **${tot.failed}** |\n`;
  return `${s}\n(${scaleName} sizes, ${(ms / 1000).toFixed(1)} s)`;
}
