import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { check, round, type BenchContext, type BenchResult } from './support/stats';

interface TableFigures {
  files: number;
  bytes: number;
  files_on_disk: number;
  bytes_on_disk: number;
}

interface MaintenanceDoc {
  runs: number;
  records_per_run: number;
  maintain_every: number;
  gold_every: number;
  tables: Record<'unmaintained' | 'maintained_before_job' | 'maintained' | 'maintained_week_later', Record<string, TableFigures>>;
  query_s: { unmaintained: number; maintained: number };
  merge: Record<'unmaintained' | 'maintained', { first_decile_s: number; last_decile_s: number; ratio: number }>;
  maintenance_job_s: number[];
  wall_s: number;
}

function runPython(python: string, script: string, args: string[], log: (m: string) => void): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      for (const line of d.toString().split('\n')) if (line.startsWith('run ')) log(line.trim());
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`maintenance benchmark exited ${code}: ${err.split('\n').slice(-15).join('\n')}`));
    });
  });
}

const kib = (b: number): string => `${round(b / 1024, 1)} KiB`;

/**
 * 7. Table maintenance (issue 19): N event-driven runs (one landed file each: bronze -> silver MERGE -> gold) of one
 * dataset into an unmaintained lake and a maintained one (table layout + scheduled maintenance job), side by side in one
 * local Spark. Figures: data files and bytes per table, the gold query's median time, silver MERGE time early vs late.
 */
export async function maintenanceBench(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const python = join(ctx.repoRoot, '.venv', 'bin', 'python');
  if (!existsSync(python)) throw new Error(`${python} is missing: run scripts/setup-python.sh`);
  const runs = ctx.files ?? (ctx.quick ? 20 : 200);
  const maintainEvery = Math.max(1, Math.round(runs / 4)); // "daily" maintenance: four times over the run
  // Gold is an overwrite (one active file whatever N is); --quick recomputes it only at the end to save time.
  const goldEvery = ctx.quick ? runs : 1;
  const out = await runPython(
    python,
    join(ctx.repoRoot, 'bench', 'support', 'maintenance_bench.py'),
    ['--runs', String(runs), '--maintain-every', String(maintainEvery), '--gold-every', String(goldEvery)],
    ctx.log,
  );
  const doc = JSON.parse(out.trim().split('\n').pop()!) as MaintenanceDoc;
  const plain = doc.tables.unmaintained;
  const kept = doc.tables.maintained;
  const notes = Object.keys(plain).map((t) => {
    const p = plain[t]!;
    const m = kept[t]!;
    const w = doc.tables.maintained_week_later[t]!;
    return `${t}: files ${p.files} → ${m.files}, bytes ${kib(p.bytes)} → ${kib(m.bytes)} (on disk ${p.files_on_disk} files / ${kib(p.bytes_on_disk)} → ${w.files_on_disk} files / ${kib(w.bytes_on_disk)} after VACUUM past the 7-day retention)`;
  });
  notes.push(
    `gold query median: ${round(doc.query_s.unmaintained * 1000, 0)} ms unmaintained vs ${round(doc.query_s.maintained * 1000, 0)} ms maintained`,
    `silver MERGE per run, first vs last ${Math.max(1, Math.floor(runs / 10))} runs: unmaintained ${doc.merge.unmaintained.first_decile_s} s → ${doc.merge.unmaintained.last_decile_s} s (×${doc.merge.unmaintained.ratio}), maintained ${doc.merge.maintained.first_decile_s} s → ${doc.merge.maintained.last_decile_s} s (×${doc.merge.maintained.ratio})`,
    `${runs} runs × ${doc.records_per_run} records, gold every ${doc.gold_every} run(s), maintenance job every ${maintainEvery} runs + once at the end (${doc.maintenance_job_s.join(', ')} s); wall ${doc.wall_s} s`,
  );
  const maxFiles = Math.max(...Object.values(kept).map((f) => f.files));
  const plainMax = Math.max(...Object.values(plain).map((f) => f.files));
  return {
    name: 'maintenance',
    figures: { ...doc, maxFilesPerTableUnmaintained: plainMax },
    goals: [
      check('data files per table after maintenance (max)', maxFiles, '<=', 10, 'files'),
      check('gold query speed-up vs unmaintained', round(doc.query_s.unmaintained / doc.query_s.maintained, 2), '>=', 3, '×'),
      check('MERGE time growth, last vs first decile (maintained)', doc.merge.maintained.ratio, '<=', 1.5, '×'),
    ],
    notes,
    durationMs: Date.now() - started,
  };
}
