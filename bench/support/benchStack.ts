import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPinoLogger, silentLogger } from '../../shared/logger';
import type { DatabricksEmulator } from '@orbiter/databricks-emulator/emulator';
import { startEmulatorWithBundle } from '@orbiter/databricks-emulator/localDeploy';
import type { NotebookRunner } from '@orbiter/databricks-emulator/notebookRunner';
import { startStack, type Stack } from '@orbiter/local-stack/stack';
import { freeStackPorts } from '@orbiter/local-stack/ports';
import { startJobsProxy, type JobsProxy } from './jobsProxy';

export interface BenchStack {
  stack: Stack;
  /** The no-work Databricks emulator the dispatcher really talks to (through the proxy). */
  databricks: DatabricksEmulator;
  proxy: JobsProxy;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * The local stack (Azurite, Service Bus emulator, functions host, blob watcher) with the dispatcher pointed at a
 * second Databricks emulator whose notebook runner does no work, behind a counting proxy. startStack's own emulator
 * (real PySpark runner) stays idle: the functions are composed with the proxy as their DATABRICKS_HOST.
 */
export async function startBenchStack(o: {
  repoRoot: string;
  runner: NotebookRunner;
  coalescingCapSeconds: number;
  pollInitialMs?: number;
  pollMaxMs?: number;
  watchIntervalMs?: number;
  throttleRunNow?: (n: number) => boolean;
  env?: Record<string, string>;
}): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'orbiter-bench-'));
  const { emulator: databricks } = await startEmulatorWithBundle(
    { workDir: join(dataDir, 'fake-databricks'), lakeRoot: join(dataDir, 'fake-lake'), runner: o.runner, repoRoot: o.repoRoot, logger: silentLogger },
    { bundlePath: join(o.repoRoot, 'notebooks', 'databricks.yml'), target: 'local' },
  );
  const proxy = await startJobsProxy(databricks.url, o.throttleRunNow ? { throttleRunNow: o.throttleRunNow } : {});
  let stack: Stack;
  try {
    stack = await startStack({
      repoRoot: o.repoRoot,
      dataDir,
      ...(await freeStackPorts()),
      nasaMode: 'replay',
      timers: false,
      databricksHost: proxy.url,
      env: {
        ORBITER_FUNCTION_KEY: 'bench-function-key-0123456789',
        DISPATCH_POLL_INITIAL_MS: String(o.pollInitialMs ?? 1000),
        DISPATCH_POLL_MAX_MS: String(o.pollMaxMs ?? 5000),
        ...o.env,
      },
      // ORBITER_BENCH_LOG=warn (or info) shows the stack's own log while a benchmark runs.
      logger: process.env['ORBITER_BENCH_LOG'] ? createPinoLogger(process.env['ORBITER_BENCH_LOG'], 'bench-stack') : silentLogger,
      coalescingCapSeconds: o.coalescingCapSeconds,
      ...(o.watchIntervalMs ? { watchIntervalMs: o.watchIntervalMs } : {}),
    });
  } catch (err) {
    await proxy.close();
    await databricks.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    stack,
    databricks,
    proxy,
    dataDir,
    stop: async () => {
      await stack.stop();
      await proxy.close();
      await databricks.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Host invocations of one function so far: ok and failed counts. */
export function invocationCounts(stack: Stack, name: string): { ok: number; failed: number; errors: string[] } {
  const mine = stack.host.invocations.filter((i) => i.name === name);
  const failed = mine.filter((i) => !i.outcome.ok);
  return { ok: mine.length - failed.length, failed: failed.length, errors: failed.slice(0, 5).map((i) => i.outcome.error?.message ?? 'unknown') };
}
