import { table } from '../cli/format';
import type { OptimizeReport } from './report';

const money = (x: number): string => (x < 0.01 ? x.toFixed(4) : x.toFixed(2));
const range = (r: { low: number; high: number }, f: (x: number) => string = money): string =>
  r.low === r.high ? f(r.low) : `${f(r.low)}–${f(r.high)}`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const bytes = (b: number | undefined): string =>
  b === undefined ? '—' : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`;

/** The report for terminals; --json prints the OptimizeReport itself. */
export function formatReport(r: OptimizeReport): string[] {
  const out = [
    `Orbiter cost and sizing report ${r.since} .. ${r.until} (${r.runs} runs)`,
    `ESTIMATE from the rate table (${r.basis}), not measured spend. Currency ${r.currency}.`,
    '',
  ];
  const rows = r.jobs.map((j) => [
    j.jobName,
    `${j.succeeded}/${j.runs}`,
    String(j.runsPerDay),
    secs(j.durationP50Ms),
    secs(j.queueP50Ms),
    j.rows === undefined ? '—' : String(j.rows),
    bytes(j.bytes),
    j.rowsPerSecond === undefined ? '—' : String(j.rowsPerSecond),
    j.cluster
      ? `${j.cluster.basis === 'local' ? 'local≈' : ''}${j.cluster.nodeType} ${j.cluster.minWorkers}-${j.cluster.maxWorkers}w${j.cluster.spot ? ' spot' : ''}`
      : '—',
    range(j.dbuPerRun, (x) => x.toFixed(3)),
    range(j.costPerRun),
    range(j.costPerDay),
  ]);
  out.push(...table(['JOB', 'OK/RUNS', 'RUNS/DAY', 'P50', 'QUEUE P50', 'ROWS', 'BYTES', 'ROWS/S', 'CLUSTER', 'DBU/RUN', 'EST/RUN', 'EST/DAY'], rows));
  for (const j of r.jobs) {
    out.push('', `${j.jobName} tasks:`);
    out.push(
      ...table(
        ['  TASK', 'P50', 'MAX', 'SHARE', 'ROWS', 'BYTES', 'ROWS/S'],
        j.tasks.map((t) => [
          `  ${t.taskKey}`,
          secs(t.p50Ms),
          secs(t.maxMs),
          `${Math.round(t.share * 100)}%`,
          t.rows === undefined ? '—' : String(t.rows),
          bytes(t.bytes),
          t.rowsPerSecond === undefined ? '—' : String(t.rowsPerSecond),
        ]),
      ),
    );
  }
  out.push('', r.recommendations.length ? 'Recommendations:' : 'Recommendations: none (not enough evidence for any rule)');
  for (const rec of r.recommendations) {
    out.push(`- [${rec.kind}] ${rec.jobName}: ${rec.message}`);
    for (const e of rec.evidence) out.push(`    evidence: ${e}`);
  }
  out.push('', ...r.notes.map((n) => `note: ${n}`));
  return out;
}
