import type { CycleSummary } from 'orbiter/shared/ingest/ingestCycle';
import type { RunRecord } from 'orbiter/shared/runs/runStore';

const human = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/** The per-source table the stack prints after each ingestion cycle. */
export function formatCycleSummary(s: CycleSummary): string {
  const rows = [['source/stream', 'window', 'records', 'bytes', 'written', 'skipped', 'empty', 'errors']];
  for (const st of s.streams) {
    const w = st.windows.length === 0 ? '-' : `${st.windows[0]!.start}..${st.windows[st.windows.length - 1]!.end}`;
    rows.push([
      `${st.source}/${st.stream}`,
      w,
      String(st.records),
      human(st.bytes),
      String(st.blobsWritten),
      String(st.blobsSkipped),
      String(st.emptyPages),
      st.errors.length ? st.errors.join('; ').slice(0, 80) : '0',
    ]);
  }
  const tot = s.streams.reduce((a, st) => ({ r: a.r + st.records, b: a.b + st.bytes, w: a.w + st.blobsWritten, k: a.k + st.blobsSkipped }), {
    r: 0,
    b: 0,
    w: 0,
    k: 0,
  });
  rows.push(['total', '', String(tot.r), human(tot.b), String(tot.w), String(tot.k), '', String(s.streams.filter((x) => x.errors.length).length)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const secs = ((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1);
  return [`Ingestion cycle ${s.ok ? 'succeeded' : 'had errors'} in ${secs} s`, line(rows[0]!), ...rows.slice(1).map(line)].join('\n');
}

/** Runs after a cycle: one line each. */
export function formatRuns(runs: RunRecord[]): string {
  const rows = [['run', 'dataset', 'state', 'inputs', 'databricks run', 'duration']];
  for (const r of [...runs].sort((a, b) => a.runId.localeCompare(b.runId))) {
    const dur = r.startedAt && r.endedAt ? `${((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s` : '-';
    rows.push([
      r.runId,
      r.dataset,
      r.state + (r.error ? ` (${r.error.slice(0, 60)})` : ''),
      String(r.inputs.length),
      String(r.databricksRunId ?? '-'),
      dur,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const ok = runs.filter((r) => r.state === 'succeeded').length;
  return [`Runs: ${ok} of ${runs.length} succeeded`, ...rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  '))].join('\n');
}
