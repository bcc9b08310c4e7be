import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { silentLogger } from '../../../shared/logger';
import { Containers, Tables } from '../../../shared/names';
import { loadConfig } from '../../../shared/config';
import { createStorageClients, type StorageClients } from '../../../shared/storage/clients';
import { startDatabricksEmulator, type DatabricksEmulator } from '@orbiter/databricks-emulator/emulator';
import { dedupe, emptyCorpus, loadFixtures } from '@orbiter/nasa-replay/corpus';
import { startReplayServer, type Fault, type ReplayServer } from '@orbiter/nasa-replay/server';
import { azuriteConnectionString, startAzurite, type AzuriteHandle } from '@orbiter/local-stack/azurite';
import { BlobWatcher } from '@orbiter/functions-host/blobWatcher';
import { freePort } from '@orbiter/local-stack/ports';
import { ensureFaultsBuild } from './build';
import { ChildService } from './child';
import { ScriptedRunner } from './runner';
import { startTapProxy, type TapProxy } from './tapProxy';

/**
 * The local stack taken apart so each piece can fail on its own:
 * - Azurite (its own process; restartable on the same ports and data folder),
 * - the Service Bus emulator (its own process with --data; SIGKILL-able and restartable on the same port),
 * - the functions host (local/host/main.ts in its own process; SIGKILL-able and restartable),
 * - in this process: the Databricks emulator with a no-work runner behind a tap proxy (429/500 storms, timeouts,
 *   kill points), optional tap proxies in front of Azurite's blob and table endpoints (for the host only), the NASA
 *   replay server, and the Event Grid stand-in (the local blob watcher, outside the host as Event Grid is).
 * Observers (storage, bus, the emulator's run list) talk to the peers directly, never through a tap.
 */
export interface FaultStackOptions {
  repoRoot: string;
  runner?: ScriptedRunner;
  /** LockDuration of every queue and subscription (default PT5S: a killed host's locks expire quickly). */
  lockDuration?: string;
  coalescingCapSeconds?: number;
  /** Databricks job notifications to the host's webhook (default true, as configured in the bundle). */
  webhooks?: boolean;
  /** Put tap proxies between the host and Azurite (blob and table endpoints). */
  tapStorage?: boolean;
  /** Host timers on their schedules (default off). */
  timers?: boolean;
  /** Extra or overriding app settings for the host. */
  settings?: Record<string, string>;
  /** Edits the job catalog the host uses (default: retry backoffs shortened to seconds). */
  catalog?: (c: Record<string, unknown>) => Record<string, unknown>;
  /** NASA faults armed on the replay server before the host (and its timers) start. */
  nasaFaults?: Fault[];
  /** Blob watcher poll interval (ms). */
  watchIntervalMs?: number;
}

export interface FaultStack {
  dataDir: string;
  repoRoot: string;
  storage: StorageClients;
  bus: ServiceBusClient;
  azurite: { connectionString: string; blobEndpoint: string; restart(): Promise<void>; stop(): Promise<void> };
  serviceBus: ChildService;
  serviceBusConnection: string;
  databricks: DatabricksEmulator;
  runner: ScriptedRunner;
  jobsTap: TapProxy;
  blobTap?: TapProxy;
  tableTap?: TapProxy;
  replay: ReplayServer;
  host: ChildService;
  hostUrl: string;
  functionKey: string;
  watcher: BlobWatcher;
  settings: Record<string, string>;
  stop(): Promise<void>;
}

export const FUNCTION_KEY = 'faults-function-key-0123456789';

/** The repo's broker config with every lock shortened (a killed consumer's locks otherwise hold for a minute). */
function brokerConfig(repoRoot: string, lockDuration: string): unknown {
  const cfg = JSON.parse(readFileSync(join(repoRoot, 'packages', 'servicebus-emulator', 'config.json'), 'utf8')) as {
    UserConfig: {
      Namespaces: { Queues?: { Properties: Record<string, unknown> }[]; Topics?: { Subscriptions?: { Properties: Record<string, unknown> }[] }[] }[];
    };
  };
  for (const ns of cfg.UserConfig.Namespaces) {
    for (const q of ns.Queues ?? []) if ('LockDuration' in q.Properties) q.Properties['LockDuration'] = lockDuration;
    for (const t of ns.Topics ?? [])
      for (const s of t.Subscriptions ?? []) if ('LockDuration' in s.Properties) s.Properties['LockDuration'] = lockDuration;
  }
  return cfg;
}

/** The shipped catalog with retry backoffs in seconds instead of minutes. */
function fastCatalog(c: Record<string, unknown>): Record<string, unknown> {
  const d = c['defaults'] as { retryPolicy?: { backoff?: { initialSeconds: number; maxSeconds: number } } };
  if (d.retryPolicy?.backoff) d.retryPolicy.backoff = { initialSeconds: 1, maxSeconds: 2 };
  return c;
}

export async function startFaultStack(o: FaultStackOptions): Promise<FaultStack> {
  const build = ensureFaultsBuild(o.repoRoot);
  const dataDir = mkdtempSync(join(tmpdir(), 'orbiter-faults-'));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    // Azurite
    const [blobPort, queuePort, tablePort] = [await freePort(), await freePort(), await freePort()];
    const azuriteOpts = { repoRoot: o.repoRoot, dataDir: join(dataDir, 'azurite'), blobPort, queuePort, tablePort };
    let azuriteHandle: AzuriteHandle = await startAzurite(azuriteOpts);
    const azurite = {
      connectionString: azuriteHandle.connectionString,
      blobEndpoint: azuriteHandle.blobEndpoint,
      restart: async () => {
        await azuriteHandle.stop();
        azuriteHandle = await startAzurite(azuriteOpts);
      },
      stop: () => azuriteHandle.stop(),
    };
    stops.push(() => azurite.stop());
    const storage = createStorageClients(loadConfig({ OrbiterLake: azurite.connectionString }));
    for (const c of Object.values(Containers)) await storage.blobs.getContainerClient(c).createIfNotExists();

    // Service Bus emulator
    const sbPort = await freePort();
    const sbConfig = join(dataDir, 'servicebus-config.json');
    writeFileSync(sbConfig, JSON.stringify(brokerConfig(o.repoRoot, o.lockDuration ?? 'PT5S')));
    const childEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), LOG_LEVEL: process.env['FAULTS_LOG_LEVEL'] ?? 'info' };
    const serviceBus = new ChildService('servicebus', {
      script: join(build, 'packages', 'servicebus-emulator', 'dist', 'main.js'),
      args: ['--port', String(sbPort), '--config', sbConfig, '--data', join(dataDir, 'servicebus')],
      env: childEnv,
      ready: /^(Endpoint=sb:\S+)$/m,
      logFile: join(dataDir, 'servicebus.log'),
    });
    const serviceBusConnection = await serviceBus.start();
    stops.push(() => serviceBus.close());
    const bus = new ServiceBusClient(serviceBusConnection);
    stops.push(() => bus.close());

    // Databricks emulator (no Spark) behind a tap
    const hostPort = await freePort();
    const hostUrl = `http://127.0.0.1:${hostPort}`;
    const runner = o.runner ?? new ScriptedRunner();
    const databricks = await startDatabricksEmulator({
      token: 'faults-emulator-token',
      bundlePath: join(o.repoRoot, 'infra', 'bundle', 'databricks.yml'),
      workDir: join(dataDir, 'databricks'),
      lakeRoot: join(dataDir, 'lake'),
      runner,
      repoRoot: o.repoRoot,
      logger: silentLogger,
      ...(o.webhooks === false ? {} : { notificationWebhookUrl: `${hostUrl}/api/hooks/databricks-jobs?code=${FUNCTION_KEY}` }),
    });
    stops.push(() => databricks.close());
    const jobsTap = await startTapProxy(databricks.url);
    stops.push(() => jobsTap.close());

    let blobTap: TapProxy | undefined;
    let tableTap: TapProxy | undefined;
    let hostLake = azurite.connectionString;
    if (o.tapStorage) {
      blobTap = await startTapProxy(`http://127.0.0.1:${blobPort}`);
      tableTap = await startTapProxy(`http://127.0.0.1:${tablePort}`);
      stops.push(
        () => blobTap!.close(),
        () => tableTap!.close(),
      );
      hostLake = azuriteConnectionString(blobTap.port, queuePort, tableTap.port);
    }

    const corpus = emptyCorpus();
    loadFixtures(corpus, join(o.repoRoot, 'test', 'fixtures', 'nasa'));
    const replay = await startReplayServer(dedupe(corpus));
    stops.push(() => replay.close());
    for (const f of o.nasaFaults ?? []) replay.addFault(f);

    const catalogPath = join(dataDir, 'job-catalog.json');
    const catalog = JSON.parse(readFileSync(join(o.repoRoot, 'config', 'job-catalog.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(catalogPath, JSON.stringify((o.catalog ?? fastCatalog)(catalog), null, 2));

    const settings: Record<string, string> = {
      FUNCTIONS_WORKER_RUNTIME: 'node',
      AzureWebJobsStorage: hostLake,
      OrbiterLake: hostLake,
      ServiceBusConnection: serviceBusConnection,
      NASA_MODE: 'replay',
      NASA_API_KEY: 'faults-nasa-key-123',
      ...replay.settings,
      INGEST_START_DATE: '2024-05-25',
      INGEST_SOURCES: 'apod',
      HTTP_TIMEOUT_MS: '2000',
      HTTP_MAX_RETRIES: '4',
      DATABRICKS_HOST: jobsTap.url,
      DATABRICKS_AUTH: 'pat',
      DATABRICKS_TOKEN: 'faults-emulator-token',
      JOB_CATALOG_PATH: catalogPath,
      COALESCING_WINDOW_MAX_SECONDS: String(o.coalescingCapSeconds ?? 1),
      DISPATCH_POLL_INITIAL_MS: '500',
      DISPATCH_POLL_MAX_MS: '1000',
      ORBITER_FUNCTION_KEY: FUNCTION_KEY,
      ...o.settings,
    };
    const settingsFile = join(dataDir, 'host.settings.json');
    writeFileSync(settingsFile, JSON.stringify({ IsEncrypted: false, Values: settings }, null, 2));
    mkdirSync(join(dataDir, 'host'), { recursive: true });
    const host = new ChildService('functions host', {
      script: join(build, 'packages', 'functions-host', 'dist', 'main.js'),
      args: ['--port', String(hostPort), '--settings', settingsFile, '--data-dir', join(dataDir, 'host'), ...(o.timers ? [] : ['--no-timers'])],
      env: childEnv,
      ready: /^FUNCTIONS_HOST=(\S+)$/m,
      logFile: join(dataDir, 'host.log'),
    });
    await host.start();
    stops.push(() => host.close());

    // Event Grid: outside the host, retrying deliveries the host did not accept.
    const watcher = new BlobWatcher({
      targets: [{ container: storage.blobs.getContainerClient(Containers.raw), functionName: 'landedBlob' }],
      receiptsTable: storage.table(Tables.blobReceipts),
      hostUrl,
      functionKey: FUNCTION_KEY,
      accountUrl: azurite.blobEndpoint,
      logger: silentLogger,
      intervalMs: o.watchIntervalMs ?? 250,
    });
    stops.push(() => watcher.stop());

    return {
      dataDir,
      repoRoot: o.repoRoot,
      storage,
      bus,
      azurite,
      serviceBus,
      serviceBusConnection,
      databricks,
      runner,
      jobsTap,
      ...(blobTap ? { blobTap } : {}),
      ...(tableTap ? { tableTap } : {}),
      replay,
      host,
      hostUrl,
      functionKey: FUNCTION_KEY,
      watcher,
      settings,
      stop: async () => {
        await stopAll();
        // Logs stay for a failed run's post-mortem when FAULTS_KEEP=1.
        if (process.env['FAULTS_KEEP'] !== '1') rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
