import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { check, round, summarize, type BenchContext, type BenchResult } from './support/stats';

/** What the composition root and the handlers require on first use rather than at import (functions/composition.ts: each factory requires its module on first use). */
const deferred = [
  'shared/storage/clients',
  'shared/runs/runStore',
  'shared/bus/clients',
  'shared/databricks',
  'shared/catalog',
  'shared/dispatch/adapters',
  'shared/dispatch/batches',
  'shared/dispatch/manifests',
  'shared/telemetry',
  'shared/ingest/ingestCycle',
];

/**
 * 6. Cold start: import time of the built function app (dist/functions/index.js, the Azure entry: it calls
 * @azure/functions' app.* at import) in a fresh Node process per repetition. Measures require() inside the process
 * (what the Functions worker pays to load the app), its CPU time, and the whole process wall time (Node start + import +
 * exit); then, in another process, the modules deferred to the first invocation, so the moved cost stays visible.
 */
export async function coldStart(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const entry = join(ctx.repoRoot, 'dist', 'functions', 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
  const reps = ctx.quick ? 5 : 15;
  const later = deferred.map((m) => join(ctx.repoRoot, 'dist', m));
  const importOnly = [
    `const c=process.cpuUsage();const t=process.hrtime.bigint();require(${JSON.stringify(entry)});`,
    'const ms=Number(process.hrtime.bigint()-t)/1e6;const u=process.cpuUsage(c);',
    'process.stdout.write(JSON.stringify({ms,cpuMs:(u.user+u.system)/1000,modules:Object.keys(require.cache).length,rss:process.memoryUsage().rss}));process.exit(0);',
  ].join('');
  // A separate process, so the deferred loads do not inflate the whole-process wall time above.
  const thenDeferred = `require(${JSON.stringify(entry)});const t=process.hrtime.bigint();for(const m of ${JSON.stringify(later)})require(m);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));process.exit(0);`;
  const imports: number[] = [];
  const cpu: number[] = [];
  const laterMs: number[] = [];
  let modulesAtImport = 0;
  const walls: number[] = [];
  const rss: number[] = [];
  const warnings = new Set<string>();
  // One warm-up so the OS page cache holds node_modules (a cold disk is not what the Functions worker sees twice).
  for (let i = 0; i <= reps; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', importOnly], { cwd: ctx.repoRoot, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`import failed (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
    for (const l of r.stderr.split('\n').filter(Boolean)) warnings.add(l.slice(0, 200));
    const d = spawnSync(process.execPath, ['-e', thenDeferred], { cwd: ctx.repoRoot, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    if (d.status !== 0) throw new Error(`deferred loads failed (exit ${d.status}): ${d.stderr.slice(0, 500)}`);
    const m = JSON.parse(r.stdout) as { ms: number; cpuMs: number; modules: number; rss: number };
    if (i === 0) continue;
    imports.push(m.ms);
    cpu.push(m.cpuMs);
    laterMs.push(Number(d.stdout));
    modulesAtImport = m.modules;
    walls.push(wall);
    rss.push(m.rss / 2 ** 20);
  }
  // Where the time goes: each top-level dependency required alone in a fresh process (they share transitive
  // modules, so the parts overlap and do not add up).
  const modules = [
    '@azure/functions',
    '@azure/identity',
    '@azure/service-bus',
    '@azure/storage-blob',
    '@azure/data-tables',
    'axios',
    'zod',
    'pino',
    'yaml',
  ];
  const perModule: Record<string, number> = {};
  for (const m of modules) {
    const times: number[] = [];
    for (let i = 0; i < (ctx.quick ? 2 : 3); i++) {
      const r = spawnSync(
        process.execPath,
        ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(m)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`],
        { cwd: ctx.repoRoot, encoding: 'utf8' },
      );
      if (r.status === 0) times.push(Number(r.stdout));
    }
    perModule[m] = round(summarize(times).p50, 0);
  }
  const t0 = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  const bareNodeMs = round(Number(process.hrtime.bigint() - t0) / 1e6, 0);
  const top = Object.entries(perModule)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([m, ms]) => `${m} ${ms} ms`)
    .join(', ');
  const imp = summarize(imports);
  const wall = summarize(walls);
  return {
    name: 'coldstart',
    figures: {
      repetitions: reps,
      bareNodeMs,
      perModuleImportP50Ms: perModule,
      importMs: imp,
      importCpuMs: summarize(cpu),
      modulesAtImport,
      deferredToFirstInvocationMs: summarize(laterMs),
      processWallMs: wall,
      rssMiB: summarize(rss),
      stderr: [...warnings].slice(0, 10),
    },
    goals: [
      check('cold start: import of dist/functions/index.js (p50)', round(imp.p50, 0), '<=', 300, 'ms'),
      check('cold start: whole process incl. Node start (p50)', round(wall.p50, 0), '<=', 300, 'ms'),
    ],
    notes: [
      'Outside the Functions host, @azure/functions app.* only records the registrations (no worker channel): the import cost is module loading plus registration.',
      `Heaviest dependencies alone (p50 of fresh processes): ${top}; a bare \`node -e 0\` takes ${bareNodeMs} ms. The Azure SDKs, axios and the NASA sources are required on first use (functions/composition.ts), so the import loads ${modulesAtImport} modules (zod and the function definitions); loading the deferred ones afterwards took ${round(summarize(laterMs).p50, 0)} ms (p50), paid by the first invocation that needs them.`,
      `import CPU time p50 ${round(summarize(cpu).p50, 0)} ms (less sensitive to other processes than wall time).`,
      `import p95 ${round(imp.p95, 0)} ms, process p95 ${round(wall.p95, 0)} ms over ${reps} fresh processes (after one warm-up for the page cache); CPU contention inflates both.`,
    ],
    durationMs: Date.now() - started,
  };
}
