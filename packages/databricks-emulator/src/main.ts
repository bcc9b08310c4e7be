import { resolve } from 'node:path';
import { Command } from 'commander';
import { createPinoLogger } from 'orbiter/shared/logger';
import { AzureBlobSource } from './blobSource';
import { PythonNotebookRunner } from './notebookRunner';
import { findRepoRoot } from './repoRoot';
import { defaultLakeRoot, defaultWorkDir, startDatabricksEmulator } from './emulator';

/** CLI: `npm run emulator:databricks -- --port 8090 [--token T]`; deploy into it with `databricks bundle deploy -t local`. */
async function main(argv: string[]): Promise<void> {
  const repoRoot = findRepoRoot();
  const program = new Command()
    .name('databricks-emulator')
    .description('Local Azure Databricks workspace: Jobs API 2.2, Workspace, Permissions and SCIM Me for the Databricks CLI and SDKs')
    .option('--port <port>', 'port to listen on (0 = ephemeral)', '8090')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--token <token>', 'bearer token clients must send (default: $DATABRICKS_TOKEN, else a random one)')
    .option('--runner-python <path>', 'interpreter of the notebook runner (default <repo>/.venv/bin/python)')
    .option('--runner-script <path>', 'notebook runner script (default runner/run_notebook.py; same CLI and result-file contract)')
    .option('--work-dir <dir>', 'scratch and state directory', defaultWorkDir(repoRoot))
    .option('--lake-root <dir>', 'local lake directory', defaultLakeRoot(repoRoot))
    .option('--blob-connection-string <cs>', 'fetch input blobs from this storage account (default: $OrbiterLake)')
    .option('--no-persist', 'do not keep runs across restarts')
    .option('--notify-url <url>', "POST jobs' webhook_notifications events here (e.g. the local completion webhook)")
    .option('--max-parallel-tasks <n>', 'notebook tasks running at once (each starts a Spark JVM)', '1')
    .option('--warm-cluster-minutes <n>', 'keep job clusters running across runs until idle this long (default: a cluster per run)')
    .option('--ready-driver', 'start the Spark driver now, not with the first cluster task (as an instance pool idle instance)')
    .parse(argv);
  const o = program.opts<{
    port: string;
    host: string;
    token?: string;
    runnerPython?: string;
    runnerScript?: string;
    workDir: string;
    lakeRoot: string;
    blobConnectionString?: string;
    persist: boolean;
    maxParallelTasks: string;
    notifyUrl?: string;
    warmClusterMinutes?: string;
    readyDriver?: boolean;
  }>();
  const warm = o.warmClusterMinutes === undefined ? undefined : Number(o.warmClusterMinutes);
  if (warm !== undefined && (!Number.isFinite(warm) || warm <= 0))
    throw new RangeError(`--warm-cluster-minutes must be a number of minutes > 0 (got ${o.warmClusterMinutes})`);
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--port must be 0..65535 (got ${o.port})`);
  const token = o.token ?? process.env['DATABRICKS_TOKEN'];
  const conn = o.blobConnectionString ?? process.env['OrbiterLake'];
  const logger = createPinoLogger(process.env['LOG_LEVEL'] ?? 'info', 'databricks-emulator');
  const emulator = await startDatabricksEmulator({
    port,
    host: o.host,
    ...(token ? { token } : {}),
    ...(o.runnerPython || o.runnerScript
      ? {
          runner: new PythonNotebookRunner({
            repoRoot,
            ...(o.runnerPython ? { python: resolve(o.runnerPython) } : {}),
            ...(o.runnerScript ? { script: resolve(o.runnerScript) } : {}),
          }),
        }
      : {}),
    workDir: resolve(o.workDir),
    lakeRoot: resolve(o.lakeRoot),
    ...(conn ? { blobSource: new AzureBlobSource(conn) } : {}),
    persist: o.persist,
    maxParallelTasks: Math.max(1, Number(o.maxParallelTasks) || 1),
    ...(o.notifyUrl ? { notificationWebhookUrl: o.notifyUrl } : {}),
    ...(warm !== undefined ? { warmClusterMinutes: warm } : {}),
    ...(o.readyDriver ? { readyDriver: true } : {}),
    repoRoot,
    logger,
  });
  // Machine-readable lines for scripts that start us and wait for readiness (what a Databricks client needs).
  process.stdout.write(`DATABRICKS_HOST=${emulator.url}\nDATABRICKS_TOKEN=${emulator.token}\n`);
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`databricks emulator failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
