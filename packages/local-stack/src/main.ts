#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ensureError } from 'orbiter/shared/errors';
import { createPinoLogger } from 'orbiter/shared/logger';
import { sourceIds, type SourceId } from 'orbiter/shared/config';
import { parseSources, resetState } from './options';
import { mirrorCompletionEvents } from './eventsMirror';
import { finishMainJob, jobsClient, runFirstCycle, type MainJobOutput } from './mainJob';
import { followRunMetrics, type RunMetricsFollower } from './metricsFollower';
import { startStack } from './stack';

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
};

const program = new Command('orbiter-local')
  .description('Run Orbiter on this machine: Azurite, the Service Bus emulator, NASA replay and the functions host')
  .option('--once', 'run one ingestion cycle, deliver its blob events, and exit (non-zero on failure)')
  .option('--live', 'call the real NASA APIs instead of the replay server (NASA_MODE=live)')
  .option('--port <port>', 'functions host port', port, 7071)
  .option('--blob-port <port>', 'Azurite blob port', port, 10000)
  .option('--queue-port <port>', 'Azurite queue port', port, 10001)
  .option('--table-port <port>', 'Azurite table port', port, 10002)
  .option('--servicebus-port <port>', 'Service Bus emulator port', port, 5672)
  .option('--dashboard-port <port>', 'runs dashboard port', port, 7072)
  .option('--data-dir <dir>', 'local state folder (git-ignored)', '.orbiter')
  .option('--timeout <seconds>', 'with --once: how long to wait for the Databricks runs', (v) => Number(v), 1800)
  .option('--no-runs', 'with --once: stop after the run requests, without waiting for Databricks runs')
  .option('--reset', 'start from nothing: clear the state under the data folder (Azurite, Service Bus journal, Databricks, lake, watermarks)')
  .option('--source <ids>', `ingest only these sources (comma list of ${sourceIds.join(', ')}); sets INGEST_SOURCES`, parseSources)
  .option('--no-job-clusters', 'a Spark JVM per notebook task instead of one driver per job cluster (the benchmark baseline)')
  .option(
    '--warm-clusters <minutes>',
    'keep local job clusters (Spark drivers) warm across runs for this many idle minutes; 0 = a cluster per run, as on Databricks (default 0 when CI is set, else 30; env ORBITER_WARM_CLUSTERS)',
    (v) => Number(v),
  )
  .parse();

async function main(): Promise<number> {
  const o = program.opts<{
    once?: boolean;
    live?: boolean;
    timeout: number;
    runs: boolean;
    port: number;
    blobPort: number;
    queuePort: number;
    tablePort: number;
    servicebusPort: number;
    dashboardPort: number;
    dataDir: string;
    reset?: boolean;
    source?: SourceId[];
    warmClusters?: number;
    jobClusters: boolean;
  }>();
  const warm = warmClusterMinutes(o.warmClusters, process.env);
  const repoRoot = resolve(__dirname, '..', '..', '..');
  if (o.reset) {
    const removed = resetState(resolve(repoRoot, o.dataDir), repoRoot);
    console.log(`--reset: cleared ${removed.length ? removed.join(', ') : 'nothing (no state yet)'}`);
  }
  const logger = createPinoLogger(process.env['LOG_LEVEL'] ?? 'warn', 'orbiter-local');
  const samplesDir = resolve(process.env['ORBITER_NASA_SAMPLES'] ?? join(repoRoot, '..', 'shared', 'nasa-samples'));
  const dataDir = resolve(repoRoot, o.dataDir);
  const stack = await startStack({
    repoRoot,
    dataDir,
    hostPort: o.port,
    blobPort: o.blobPort,
    queuePort: o.queuePort,
    tablePort: o.tablePort,
    serviceBusPort: o.servicebusPort,
    dashboardPort: o.dashboardPort,
    ...(o.live ? { nasaMode: 'live' as const } : {}),
    ...(existsSync(samplesDir) ? { samplesDir } : {}),
    timers: !o.once,
    pauseInsightsTrigger: o.once === true,
    ...(warm > 0 ? { warmClusterMinutes: warm } : {}),
    ...(o.jobClusters ? {} : { jobClusters: false }),
    env: o.source ? { ...process.env, INGEST_SOURCES: o.source.join(',') } : process.env,
    logger,
    // The first cycle may walk years of replayed history: stale-source alerts wait until it has reported.
    deferAlerts: true,
    // The deploy (the official CLI, ~5 s) overlaps the first ingestion; the dispatcher waits for it.
    deployInBackground: true,
  });
  let stopping = false;
  const live: { metrics?: RunMetricsFollower } = {};
  const stop = async (code: number): Promise<number> => {
    if (stopping) return code;
    stopping = true;
    live.metrics?.stop();
    await stack.stop();
    return code;
  };

  console.log(
    `\nOrbiter local stack is up. Function key: ${stack.functionKey}\n  API: ${stack.host.url}/api   (x-functions-key header or ?code=)${stack.monitoring ? `\n  Dashboard: ${stack.monitoring.dashboard.url}` : ''}\n`,
  );
  console.log('Deploying the bundle into the local Databricks workspace (databricks bundle deploy -t local) while the first ingestion runs...');
  const out: MainJobOutput = { line: (t) => console.log(t), error: (t) => console.error(t), progress: process.stdout };
  const first = await runFirstCycle(stack, out);
  try {
    const { ms } = await stack.deployed;
    console.log(`Bundle deployed (databricks bundle deploy -t local) in ${(ms / 1000).toFixed(1)} s`);
  } catch (err) {
    console.error(`The bundle deploy failed, so no run can start:\n${ensureError(err).message}`);
    return stop(1);
  }

  if (o.once) {
    const finished = o.runs ? await finishMainJob(stack, dataDir, o.timeout * 1000, out, first.requests) : { ok: true };
    return stop(first.ok && finished.ok ? 0 : 1);
  }

  stack.watcher.start();
  // The run-metrics stream (paused outside prod) folds the live stack's completion events in, pass by pass.
  live.metrics = followRunMetrics({
    client: jobsClient(stack),
    mirror: () => mirrorCompletionEvents(stack.storage.blobs, stack.databricks.lakeRoot),
    logger,
  });
  console.log('Following the schedule. Ctrl-C to stop.');
  return new Promise<number>((resolveExit) => {
    const onSignal = (): void => {
      console.log('\nStopping...');
      void stop(0).then(resolveExit);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

/** Warm clusters by default on a workstation; off in CI, where isolation between runs matters more than speed. */
function warmClusterMinutes(flag: number | undefined, env: Record<string, string | undefined>): number {
  const given = flag ?? (env['ORBITER_WARM_CLUSTERS'] !== undefined ? Number(env['ORBITER_WARM_CLUSTERS']) : undefined);
  if (given !== undefined && (!Number.isFinite(given) || given < 0))
    throw new InvalidArgumentError(`--warm-clusters / ORBITER_WARM_CLUSTERS must be minutes >= 0 (got ${String(given)})`);
  return given ?? (env['CI'] ? 0 : 30);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`orbiter-local: ${ensureError(err).message}`);
    process.exit(1);
  },
);
