import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ServiceBusClient, ServiceBusReceiver, ServiceBusSender } from '@azure/service-bus';
import type { JobCatalog, JobIdResolver } from '../shared/catalog';
import { loadConfig, type OrbiterConfig } from '../shared/config';
import type { DatabricksJobsClient } from '../shared/databricks';
import type { DispatchDeps, FailureParking } from '../shared/dispatch/ports';
import { OrbiterError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { Containers, Queues, Tables, Topics } from '../shared/names';
import type { TableRunStore } from '../shared/runs/runStore';
import type { Telemetry } from '../shared/telemetry';
import type { StorageClients } from '../shared/storage/clients';

/*
 * The Azure SDKs (storage, tables, identity, Service Bus), axios and the OpenTelemetry distro cost most of the app's
 * import time, and a given function needs only some of them: the modules that use them are required on first use,
 * not when the host loads the app (cold start). Each require is a literal path, so bundlers still include them.
 */

const lazy = {
  storage: () => require('../shared/storage/clients') as typeof import('../shared/storage/clients'),
  bus: () => require('../shared/bus/clients') as typeof import('../shared/bus/clients'),
  catalog: () => require('../shared/catalog') as typeof import('../shared/catalog'),
  databricks: () => require('../shared/databricks') as typeof import('../shared/databricks'),
  adapters: () => require('../shared/dispatch/adapters') as typeof import('../shared/dispatch/adapters'),
  batches: () => require('../shared/dispatch/batches') as typeof import('../shared/dispatch/batches'),
  manifests: () => require('../shared/dispatch/manifests') as typeof import('../shared/dispatch/manifests'),
  runStore: () => require('../shared/runs/runStore') as typeof import('../shared/runs/runStore'),
  telemetry: () => require('../shared/telemetry') as typeof import('../shared/telemetry'),
};

/** The app's root folder (the nearest one with host.json), where config/ ships with the package. */
function findAppRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'host.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}
const appRoot = findAppRoot(__dirname);

/**
 * The composition root: configuration from the environment (validated once) and the clients built from it,
 * created on first use. Handlers take what they need from here and pass it down; shared/ never reads the environment.
 */
export class Runtime {
  private busClient: ServiceBusClient | undefined;
  private readonly senders = new Map<string, ServiceBusSender>();
  private failuresReceiver: ServiceBusReceiver | undefined;
  private parking: FailureParking | undefined;
  private jobsClient: Promise<DatabricksJobsClient> | undefined;
  private catalogP: Promise<JobCatalog> | undefined;
  private resolver: Promise<JobIdResolver> | undefined;
  readonly storage: StorageClients;
  private runStore: TableRunStore | undefined;
  private telemetryInstance: Telemetry | undefined;

  constructor(readonly config: OrbiterConfig) {
    this.storage = lazy.storage().createStorageClients(config);
  }

  get runs(): TableRunStore {
    this.runStore ??= new (lazy.runStore().TableRunStore)(this.storage.table(Tables.runs));
    return this.runStore;
  }

  /** Application Insights in Azure, JSON lines locally (ORBITER_TELEMETRY_DIR), otherwise nothing. */
  get telemetry(): Telemetry {
    this.telemetryInstance ??= lazy.telemetry().createTelemetry({
      connectionString: this.config.APPLICATIONINSIGHTS_CONNECTION_STRING,
      localDir: this.config.ORBITER_TELEMETRY_DIR,
      serviceName: 'orbiter-functions',
    });
    return this.telemetryInstance;
  }

  get bus(): ServiceBusClient {
    this.busClient ??= lazy.bus().createServiceBusClient(this.config);
    return this.busClient;
  }

  /** Senders are long-lived: opening an AMQP link per invocation would dominate latency. */
  sender(queueOrTopic: string = Queues.runRequests): ServiceBusSender {
    let s = this.senders.get(queueOrTopic);
    if (!s) {
      s = this.bus.createSender(queueOrTopic);
      this.senders.set(queueOrTopic, s);
    }
    return s;
  }

  /** The receiver that moves parked failed runs to run-failures' dead-letter queue (nothing else consumes it). */
  private parkingReceiver(): ServiceBusReceiver {
    this.failuresReceiver ??= this.bus.createReceiver(Queues.runFailures, { receiveMode: 'peekLock' });
    return this.failuresReceiver;
  }

  catalog(): Promise<JobCatalog> {
    const p = this.config.JOB_CATALOG_PATH;
    this.catalogP ??= lazy.catalog().loadJobCatalog(isAbsolute(p) ? p : resolve(appRoot, p));
    return this.catalogP;
  }

  jobs(): Promise<DatabricksJobsClient> {
    this.jobsClient ??= (async () => {
      const host = this.config.DATABRICKS_HOST;
      if (!host) throw new OrbiterError('ConfigInvalid', 'DATABRICKS_HOST is not set: the dispatcher has no workspace to call');
      const { createTokenProvider, DatabricksJobsClient } = lazy.databricks();
      const tokenProvider = await createTokenProvider(
        this.config.DATABRICKS_AUTH === 'pat'
          ? { auth: 'pat', token: this.config.DATABRICKS_TOKEN ?? '' }
          : { auth: 'entra', credential: lazy.storage().azureCredential(this.config) },
      );
      return new DatabricksJobsClient({ host, tokenProvider });
    })();
    return this.jobsClient;
  }

  lakeRoot(): string {
    if (this.config.JOBS_LAKE_ROOT) return this.config.JOBS_LAKE_ROOT;
    const uri = this.config.OrbiterLake__blobServiceUri;
    const account = uri
      ? new URL(uri).hostname.split('.')[0]!
      : (/AccountName=([^;]+)/i.exec(this.config.OrbiterLake ?? '')?.[1] ?? 'devstoreaccount1');
    return lazy.adapters().lakeRootFor(account);
  }

  async dispatchDeps(logger: Logger): Promise<DispatchDeps> {
    const [jobs, catalog] = await Promise.all([this.jobs(), this.catalog()]);
    this.resolver ??= Promise.resolve(new (lazy.catalog().JobIdResolver)(jobs, catalog));
    const resolver = await this.resolver;
    const { BusControlScheduler, DeadLetterFailureParking, LakeTopicCompletionSink } = lazy.adapters();
    return {
      runs: this.runs,
      batches: new (lazy.batches().TableBatchStore)(this.storage.table(Tables.batches)),
      jobs,
      resolveJobId: (dataset) => resolver.resolve(dataset),
      catalog,
      scheduler: new BusControlScheduler(this.sender(Queues.runStatus)),
      completions: new LakeTopicCompletionSink(this.storage.blobs.getContainerClient(Containers.events), this.sender(Topics.runEvents)),
      // One per process: it serialises its use of the one receiver (concurrent receives on a receiver are refused).
      failures: (this.parking ??= new DeadLetterFailureParking(this.sender(Queues.runFailures), this.parkingReceiver())),
      manifests: new (lazy.manifests().BlobManifestStore)(this.storage.blobs.getContainerClient(Containers.events)),
      lakeRoot: this.lakeRoot(),
      now: () => new Date(),
      logger,
      pollInitialMs: this.config.DISPATCH_POLL_INITIAL_MS,
      pollMaxMs: this.config.DISPATCH_POLL_MAX_MS,
      onEvent: (e) => {
        const t = this.telemetry;
        if (e.name === 'run.requested') t.runRequested({ dataset: e.dataset, runId: e.runId });
        else if (e.name === 'run.dispatched')
          t.runDispatched({ dataset: e.dataset, runId: e.runId, ...(e.latencyMs !== undefined ? { latencyMs: e.latencyMs } : {}) });
        else if (e.name === 'run.parked') t.deadLettered({ entity: e.entity, reason: e.reason, messageId: e.runId });
        else
          t.runCompleted({
            dataset: e.dataset,
            runId: e.runId,
            jobName: e.jobName,
            resultState: e.resultState,
            ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
          });
      },
      ...(this.config.COALESCING_WINDOW_MAX_SECONDS !== undefined ? { maxCoalescingSeconds: this.config.COALESCING_WINDOW_MAX_SECONDS } : {}),
    };
  }

  async close(): Promise<void> {
    await this.telemetryInstance?.flush().catch(() => undefined);
    await this.failuresReceiver?.close();
    this.failuresReceiver = undefined;
    this.parking = undefined;
    for (const s of this.senders.values()) await s.close();
    this.senders.clear();
    await this.busClient?.close();
    this.busClient = undefined;
  }
}

let current: Runtime | undefined;

export function runtime(): Runtime {
  current ??= new Runtime(loadConfig(process.env));
  return current;
}

/** For the local host and tests that change the environment between runs. */
export async function resetRuntime(): Promise<void> {
  const r = current;
  current = undefined;
  await r?.close();
}
