import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { coldStart } from './coldStart';
import { completionLatency } from './completion';
import { ingestion } from './ingestion';
import { mainJob } from './mainjob';
import { maintenanceBench } from './maintenance';
import { servicebusSdks } from './servicebusSdks';
import { throughput } from './throughput';
import { cost, triggerLatency } from './trigger';
import type { BenchContext, BenchResult } from './support/stats';

/** `npm run bench` entry: runs the benchmarks, prints one table of figures against goals, writes bench/results/*.json. */
const benches: Record<string, (ctx: BenchContext) => Promise<BenchResult>> = {
  trigger: triggerLatency,
  cost,
  throughput,
  ingestion,
  completion: completionLatency,
  coldstart: coldStart,
  maintenance: maintenanceBench,
  mainjob: mainJob,
  'servicebus-sdks': servicebusSdks,
};

function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function table(results: BenchResult[], failed: { name: string; error: string }[]): string {
  const rows: string[][] = [['bench', 'figure', 'value', 'goal', 'ratio', 'met']];
  for (const r of results)
    for (const g of r.goals)
      rows.push([
        r.name,
        g.metric,
        `${g.value} ${g.unit}`,
        `${g.op} ${g.goal} ${g.unit}`,
        Number.isFinite(g.ratio) ? g.ratio.toFixed(2) : String(g.ratio),
        g.met ? 'yes' : 'NO',
      ]);
  for (const f of failed) rows.push([f.name, `FAILED: ${f.error.slice(0, 80)}`, '', '', '', 'NO']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .description('Orbiter benchmarks: each figure against its goal (issue 9)')
    .option('--only <names>', `comma list of: ${Object.keys(benches).join(', ')}`)
    .option('--quick', 'smaller sizes for a smoke run', false)
    .option('--files <n>', 'files / requests per benchmark (overrides each default)', (v) => {
      const n = Number.parseInt(v, 10);
      if (!(n > 0)) throw new Error(`--files must be a positive integer, got ${v}`);
      return n;
    })
    .parse();
  const opts = program.opts<{ only?: string; quick: boolean; files?: number }>();
  const names = opts.only
    ? opts.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : Object.keys(benches);
  const unknown = names.filter((n) => !benches[n]);
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(benches).join(', ')})`);

  const repoRoot = resolve(__dirname, '..', '..');
  const ctx: BenchContext = { repoRoot, quick: opts.quick, ...(opts.files ? { files: opts.files } : {}), log: (m) => console.log(`  · ${m}`) };
  const results: BenchResult[] = [];
  const failed: { name: string; error: string }[] = [];
  const before = machine();
  for (const name of names) {
    console.log(`▶ ${name}${opts.quick ? ' (quick)' : ''}`);
    try {
      const r = await benches[name]!(ctx);
      results.push(r);
      for (const g of r.goals) console.log(`  ${g.met ? '✓' : '✗'} ${g.metric}: ${g.value} ${g.unit} (goal ${g.op} ${g.goal})`);
      for (const n of r.notes) console.log(`    note: ${n}`);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      console.error(`  ✗ ${name} failed: ${error}`);
      failed.push({ name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const at = new Date().toISOString();
  const out = join(repoRoot, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `bench-${at.replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}.json`);
  const doc = { at, quick: opts.quick, machineAtStart: before, machineAtEnd: machine(), results, failed };
  writeFileSync(file, JSON.stringify(doc, null, 2));
  writeFileSync(join(out, 'latest.json'), JSON.stringify(doc, null, 2));
  console.log(
    `\nOrbiter benchmarks ${at}${opts.quick ? ' (quick)' : ''} — ${String(before['cpus'])} cores, ${String(before['memGiB'])} GiB, load avg at start ${(before['loadavg'] as number[]).join(' / ')}\n`,
  );
  console.log(table(results, failed));
  console.log(`\nresults: ${file}`);
  // Clients (Service Bus links, keep-alive agents) may linger after the stacks stop; the figures are written.
  process.exit(failed.length ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
