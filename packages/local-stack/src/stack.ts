import { join } from 'node:path';
import { allFunctions } from 'orbiter/functions/all';
import { composeApp, type AppDeps } from 'orbiter/functions/composition';
import type { BlobEventFunction } from 'orbiter/functions/definition';
import { configSchema, type OrbiterConfig } from 'orbiter/shared/config';
import { PatTokenProvider } from 'orbiter/shared/databricks/auth';
import { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import { Containers, Tables } from 'orbiter/shared/names';
import type { Logger } from 'orbiter/shared/logger';
import type { StorageClients } from 'orbiter/shared/storage/clients';
import { FunctionHost } from '@orbiter/functions-host/functionHost';
import { serviceBusHostOptions } from '@orbiter/functions-host/hostJson';
import { resolveFunctionKey } from '@orbiter/functions-host/functionKey';
import { dedupe, emptyCorpus, loadFixtures, loadSamples } from '@orbiter/nasa-replay/corpus';
import { corpusCoverage } from '@orbiter/nasa-replay/coverage';
import { startReplayServer, type ReplayServer } from '@orbiter/nasa-replay/server';
import { AzureBlobSource } from '@orbiter/databricks-emulator/blobSource';
import { startDatabricksEmulator, type DatabricksEmulator } from '@orbiter/databricks-emulator/emulator';
import { startServiceBusEmulator, type ServiceBusEmulator } from '@orbiter/servicebus-emulator/emulator';
import { startLocalMonitoring, type LocalMonitoring } from '@orbiter/ops/dashboard/monitoring';
import { liveReport } from '@orbiter/ops/optimize/live';
import { removeStackSettings, writeStackSettings } from '@orbiter/ops/cli/stackSettings';
import { startAzurite, type AzuriteHandle } from './azurite';
import { deployBundle } from './bundleDeploy';
import { replayIngestSettings } from './replayWindows';
import { BlobWatcher } from '@orbiter/functions-host/blobWatcher';
import { mergeSettings, readLocalSettings } from '@orbiter/functions-host/settings';

export interface StackOptions {
  repoRoot: string;
  /** Git-ignored folder for Azurite data, the broker's journal and the function key. */
  dataDir: string;
  hostPort: number;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  serviceBusPort: number;
  /** Replay NASA locally (default) or call the real APIs. */
  nasaMode?: 'replay' | 'live';
  /** Folder of real captures the replay server also serves (../shared/nasa-samples), when present. */
  samplesDir?: string;
  timers: boolean;
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Databricks emulator port (0 = any free one). */
  databricksPort?: number;
  /** The workspace the functions call instead of the stack's own emulator (the benchmarks' no-work one). */
  databricksHost?: string;
  /** Notebook tasks (Spark JVMs) running at once. */
  maxParallelTasks?: number;
  /**
   * Keep job clusters (Spark drivers) warm across runs for this many idle minutes, so the steady state pays no JVM
   * start per run. Unset (tests, CI): each run's clusters end with it, as on Databricks.
   */
  warmClusterMinutes?: number;
  /** false: a Spark JVM per notebook task, job clusters ignored (the benchmark's baseline). */
  jobClusters?: boolean;
  /** Dashboard port (0 = any free one); the dashboard is off when undefined. */
  dashboardPort?: number;
  /**
   * Deploy the insights job with its table-update trigger paused: `--once` runs it itself as soon as every run of the
   * cycle has published its completion event (the trigger cannot know the cycle is over and waits 60 s of quiet).
   */
  pauseInsightsTrigger?: boolean;
  /** Coalescing windows are capped to this many seconds locally (default 2) so a cycle finishes quickly. */
  coalescingCapSeconds?: number;
  watchIntervalMs?: number;
  /** Where fired/resolved alerts are printed as readable lines (default: the console). */
  announce?: (line: string) => void;
  /** Alerts wait for monitoring.startAlerts() (main.ts: after the first ingestion cycle). */
  deferAlerts?: boolean;
  /**
   * Return before `databricks bundle deploy` ends, so the caller's first ingestion overlaps it: `Stack.deployed` settles
   * when the jobs exist, and the Service Bus triggers (the dispatcher) start only then, the run requests sent meanwhile
   * waiting in their queue. Default: startStack returns once the bundle is deployed.
   */
  deployInBackground?: boolean;
}

export interface Stack {
  host: FunctionHost;
  watcher: BlobWatcher;
  /** The app's dependencies, built once from the stack's settings (the functions run on these). */
  app: AppDeps;
  config: OrbiterConfig;
  settings: Record<string, string>;
  functionKey: string;
  storage: StorageClients;
  replay?: ReplayServer;
  serviceBus: ServiceBusEmulator;
  databricks: DatabricksEmulator;
  azurite: AzuriteHandle;
  monitoring?: LocalMonitoring;
  /** `databricks bundle deploy -t local` at start: how long it took; rejects with the CLI's output when it failed. */
  deployed: Promise<{ ms: number }>;
  /** <dataDir>/local-stack.settings.json: the settings the CLI reads while the stack runs. */
  settingsFile: string;
  stop(): Promise<void>;
}

/** Starts the whole local stack: Azurite, the Service Bus emulator, the NASA replay server and the functions host. */
export async function startStack(o: StackOptions): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => o.logger.warn('stop failed', { error: String(err) }));
  };
  try {
    const azurite = await startAzurite({
      repoRoot: o.repoRoot,
      dataDir: join(o.dataDir, 'azurite'),
      blobPort: o.blobPort,
      queuePort: o.queuePort,
      tablePort: o.tablePort,
    });
    stops.push(() => azurite.stop());
    o.logger.info(azurite.reused ? 'Azurite already running: reusing it' : 'Azurite started', { blob: azurite.blobEndpoint });

    const serviceBus = await startServiceBusEmulator({
      port: o.serviceBusPort,
      config: join(o.repoRoot, 'packages', 'servicebus-emulator', 'config.json'),
      dataDir: join(o.dataDir, 'servicebus'),
      logger: o.logger,
    });
    stops.push(() => serviceBus.close());
    o.logger.info('Service Bus emulator started', { port: serviceBus.port });

    const localSettings = readLocalSettings(o.repoRoot);
    const { key, origin } = resolveFunctionKey(
      o.env['ORBITER_FUNCTION_KEY'] ?? localSettings['ORBITER_FUNCTION_KEY'],
      join(o.dataDir, 'function-key'),
    );
    const databricks = await startDatabricksEmulator({
      // Job notifications short-cut the dispatcher's polling, as a workspace notification destination would.
      notificationWebhookUrl: `http://127.0.0.1:${o.hostPort}/api/hooks/databricks-jobs?code=${encodeURIComponent(key)}`,
      port: o.databricksPort ?? 0,
      workDir: join(o.dataDir, 'databricks'),
      lakeRoot: join(o.dataDir, 'lake'),
      blobSource: new AzureBlobSource(azurite.connectionString),
      repoRoot: o.repoRoot,
      persist: true,
      // Tasks are Python processes attached to one driver JVM (packages/databricks-emulator/src/clusters): a few at once
      // overlap their Python start-up with Spark work without crowding 2 cores.
      maxParallelTasks: o.maxParallelTasks ?? 4,
      ...(o.warmClusterMinutes !== undefined ? { warmClusterMinutes: o.warmClusterMinutes } : {}),
      // With warm clusters the driver JVM starts now, while the bundle deploys and the first ingestion runs.
      ...(o.warmClusterMinutes ? { readyDriver: true } : {}),
      ...(o.jobClusters === false ? { jobClusters: false } : {}),
      logger: o.logger,
    });
    stops.push(() => databricks.close());
    o.logger.info('Databricks emulator started', { url: databricks.url });
    // The jobs exist because the official CLI deployed the bundle, as in Azure; the dispatcher resolves them by name.
    const deployed = deployBundle({
      repoRoot: o.repoRoot,
      host: databricks.url,
      token: databricks.token,
      target: 'local',
      ...(o.pauseInsightsTrigger ? { env: { BUNDLE_VAR_insights_trigger_pause_status: 'PAUSED' } } : {}),
    }).then((d) => {
      o.logger.info(`Bundle deployed into the local workspace with the Databricks CLI (bundle deploy -t local) in ${d.ms} ms`);
      return { ms: d.ms };
    });
    // In the background, a failed deploy is reported by whoever awaits `deployed` (never an unhandled rejection).
    deployed.catch(() => undefined);
    if (!o.deployInBackground) await deployed;

    const mode =
      o.nasaMode ??
      (o.env['NASA_MODE'] as 'replay' | 'live' | undefined) ??
      (localSettings['NASA_MODE'] as 'replay' | 'live' | undefined) ??
      'replay';
    let replay: ReplayServer | undefined;
    let replayWindows: Record<string, string> = {};
    if (mode === 'replay') {
      // The team's real captures when present (the demo then shows real NASA data only), the synthetic fixtures otherwise.
      const corpus = emptyCorpus();
      const captures = o.samplesDir ? loadSamples(corpus, o.samplesDir) : [];
      if (captures.length === 0) loadFixtures(corpus, join(o.repoRoot, 'test', 'fixtures', 'nasa'));
      replay = await startReplayServer(dedupe(corpus));
      stops.push(() => replay!.close());
      const cmrShortName =
        o.env['CMR_COLLECTION_SHORT_NAME'] ??
        localSettings['CMR_COLLECTION_SHORT_NAME'] ??
        configSchema.shape.CMR_COLLECTION_SHORT_NAME.parse(undefined);
      // One cycle walks each source from the corpus's first record to today, so the first start lands all of it.
      replayWindows = replayIngestSettings(corpusCoverage(corpus, { cmrShortName }), new Date().toISOString().slice(0, 10));
      o.logger.info(
        `NASA_MODE=replay: NASA APIs are served locally from ${captures.length ? `${captures.length} real captures` : 'the test fixtures'} at ${replay.url}; first windows ${replayWindows['INGEST_START_DATES']}`,
      );
    }

    const settings = mergeSettings(
      {
        FUNCTIONS_WORKER_RUNTIME: 'node',
        AzureWebJobsStorage: azurite.connectionString,
        OrbiterLake: azurite.connectionString,
        ServiceBusConnection: serviceBus.connectionString,
        NASA_MODE: mode,
        DATABRICKS_HOST: databricks.url,
        DATABRICKS_AUTH: 'pat',
        DATABRICKS_TOKEN: databricks.token,
        COALESCING_WINDOW_MAX_SECONDS: String(o.coalescingCapSeconds ?? 2),
        DISPATCH_POLL_INITIAL_MS: '1000',
        ORBITER_TELEMETRY_DIR: join(o.dataDir, 'telemetry'),
        DISPATCH_POLL_MAX_MS: '5000',
        ...replayWindows,
      },
      localSettings,
      o.env,
      {
        ...(replay ? { ...replay.settings, NASA_MODE: 'replay' } : {}),
        // The stack's own peers always win: it started them.
        OrbiterLake: azurite.connectionString,
        ServiceBusConnection: serviceBus.connectionString,
        DATABRICKS_HOST: o.databricksHost ?? databricks.url,
        DATABRICKS_TOKEN: databricks.token,
      },
    );
    // The functions' dependencies, built from the stack's settings through the app's own composition root.
    const app = composeApp(settings);
    stops.push(() => app.close());
    const config = app.config();
    const storage = app.storage();
    const definitions = allFunctions(app);
    const host = new FunctionHost({
      definitions,
      config,
      settings,
      storage,
      functionKey: key,
      logger: o.logger,
      port: o.hostPort,
      timers: o.timers,
      serviceBus: definitions.some((d) => d.kind === 'serviceBusQueue'),
      // The dispatcher resolves jobs by name: it starts once the bundle has created them.
      serviceBusAfter: deployed,
      ...serviceBusHostOptions(o.repoRoot),
    });
    await host.start();
    stops.push(() => host.stop());
    o.logger.info(
      `Functions host listening on ${host.url}/api (function key ${origin === 'env' ? 'from ORBITER_FUNCTION_KEY' : `in ${join(o.dataDir, 'function-key')}`})`,
    );

    for (const c of Object.values(Containers)) await storage.blobs.getContainerClient(c).createIfNotExists();
    const watcher = new BlobWatcher({
      targets: definitions
        .filter((d): d is BlobEventFunction => d.kind === 'blobEvent')
        .map((d) => ({ container: storage.blobs.getContainerClient(d.container), functionName: d.name })),
      receiptsTable: storage.table(Tables.blobReceipts),
      hostUrl: host.url,
      functionKey: key,
      accountUrl: azurite.blobEndpoint,
      logger: o.logger,
      ...(o.watchIntervalMs ? { intervalMs: o.watchIntervalMs } : {}),
    });
    stops.push(() => watcher.stop());

    let monitoring: LocalMonitoring | undefined;
    if (o.dashboardPort !== undefined) {
      monitoring = await startLocalMonitoring({
        dataDir: o.dataDir,
        storage,
        serviceBusConnectionString: serviceBus.connectionString,
        logger: o.logger,
        // Alerts are for the person at the console: readable lines, not JSON log records.
        announce: o.announce ?? ((line) => console.log(line)),
        ...(o.deferAlerts ? { deferAlerts: true } : {}),
        port: o.dashboardPort,
        sources: config.INGEST_SOURCES,
        // Run links go through the dashboard's fixed port to the emulator of this start (its port changes each start).
        databricksUrl: () => databricks.url,
        // The cost panel reads the emulator's run history through the same Jobs API client as production.
        optimizeReport: () =>
          liveReport({
            client: new DatabricksJobsClient({ host: databricks.url, tokenProvider: new PatTokenProvider(databricks.token) }),
            root: o.repoRoot,
            since: new Date(Date.now() - 7 * 86_400_000),
          }),
      });
      stops.push(() => monitoring!.stop());
      o.logger.info('Dashboard started', { url: monitoring.dashboard.url });
    }

    // Published last, when every peer answers: the CLI (orbiter dlq|events|ingest|runs) reads it instead of settings
    // written by hand; removed at stop.
    const settingsFile = writeStackSettings(o.dataDir, {
      ...settings,
      ORBITER_FUNCTION_KEY: key,
      ORBITER_API_URL: `${host.url}/api`,
      ...(monitoring ? { ORBITER_DASHBOARD_URL: monitoring.dashboard.url } : {}),
    });
    stops.push(() => Promise.resolve(removeStackSettings(o.dataDir)));
    o.logger.info('Local stack settings published for the CLI', { file: settingsFile });

    return {
      host,
      watcher,
      app,
      config,
      settings,
      functionKey: key,
      storage,
      ...(replay ? { replay } : {}),
      serviceBus,
      databricks,
      azurite,
      ...(monitoring ? { monitoring } : {}),
      deployed,
      settingsFile,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
