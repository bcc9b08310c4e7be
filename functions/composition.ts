import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ServiceBusClient, ServiceBusReceiver, ServiceBusSender } from '@azure/service-bus';
import type { ApiAuthMode } from '../shared/api/auth';
import type { HealthProbe } from '../shared/api/health';
import type { RunApiDeps } from '../shared/api/runs';
import type { JobCatalog, JobIdResolver } from '../shared/catalog';
import { apiAuthModeOf, assertApiAuthConfigured, loadConfig, type OrbiterConfig } from '../shared/config';
import { createEntraVerifier, type ApiAuth } from '../shared/api/auth';
import type { DatabricksJobsClient } from '../shared/databricks';
import type { DispatchDeps, DispatchEvent, FailureParking } from '../shared/dispatch/ports';
import { OrbiterError } from '../shared/errors';
import type { CycleSummary } from '../shared/ingest/ingestCycle';
import type { Logger } from '../shared/logger';
import type { RunRequest } from '../shared/messages/runRequest';
import { Containers, Queues, Tables, Topics } from '../shared/names';
import type { TableRunStore } from '../shared/runs/runStore';
import { restStatus } from '../shared/storage/restStatus';
import { readBlobVersion, type BlobVersion } from '../shared/lake/blobVersion';
import type { StorageClients } from '../shared/storage/clients';
import type { Telemetry } from '../shared/telemetry';

/*
 * The composition root: the app's settings are read once (loadConfig) and every client, store and adapter the
 * triggers need is built here, once per process, for the Azure entry (functions/index.ts) and the local host alike.
 *
 * Cold start: the Azure SDKs (storage, tables, identity, Service Bus), axios and the OpenTelemetry distro cost most of
 * the app's import time and a given function needs only some of them, so each factory below requires its module on
 * first use rather than at import. Each require is a literal path, so bundlers still include them.
 */

/** App settings: the environment in Azure, local.settings.json (merged with the environment) locally. */
export type AppSettings = Readonly<Record<string, string | undefined>>;

/** What the triggers are built from. Every client is created on first use and kept for the life of the process. */
export interface AppDeps {
  /** Validated settings (loadConfig, on first use: a bad setting fails the invocations that need it, naming it). */
  config(): OrbiterConfig;
  /** The Run API's auth mode, needed when the functions are registered (auth levels). */
  readonly apiAuthMode: ApiAuthMode;
  /** The Run API's authentication: function keys, or the Entra token verifier built from the settings. */
  apiAuth(): ApiAuth;
  storage(): StorageClients;
  runs(): TableRunStore;
  /** Application Insights in Azure, JSON lines locally (ORBITER_TELEMETRY_DIR), otherwise nothing. */
  telemetry(): Telemetry;
  bus(): ServiceBusClient;
  /** Senders are long-lived: opening an AMQP link per invocation would dominate latency. */
  sender(queueOrTopic?: string): ServiceBusSender;
  /** Validates a run request and sends it to queue run-requests with this MessageId. */
  sendRunRequest(messageId: string, request: RunRequest): Promise<void>;
  /** A raw-zone blob's properties (one HEAD request); undefined once deleted. */
  rawBlobVersion(name: string): Promise<BlobVersion | undefined>;
  catalog(): Promise<JobCatalog>;
  jobs(): Promise<DatabricksJobsClient>;
  /** The dispatcher's ports for one invocation (its logger); the clients behind them are shared. */
  dispatch(logger: Logger): Promise<DispatchDeps>;
  runApi(): Promise<RunApiDeps>;
  /** One NASA ingestion cycle over the configured streams. */
  ingest(logger: Logger, onThrottled: (url: string) => void): Promise<CycleSummary>;
  /** Reachability probes of /api/health; undefined where the peer is not configured. */
  healthProbes(): Record<'storage' | 'serviceBus' | 'databricks', HealthProbe | undefined>;
  now(): Date;
  close(): Promise<void>;
}

/** The app's root folder (the nearest one with host.json), where config/ ships with the package. */
function findAppRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'host.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** A value made on first use and kept. */
function lazily<T>(make: () => T): { (): T; peek(): T | undefined; reset(): void } {
  let made: { v: T } | undefined;
  const get = (): T => (made ??= { v: make() }).v;
  get.peek = (): T | undefined => made?.v;
  get.reset = (): void => {
    made = undefined;
  };
  return get;
}

/** Builds the app's dependencies from its settings. Call once per process (a second call builds a second set). */
export function composeApp(settings: AppSettings, appRoot: string = findAppRoot(__dirname)): AppDeps {
  const config = lazily(() => loadConfig(settings));
  const storage = lazily(() => (require('../shared/storage/clients') as typeof import('../shared/storage/clients')).createStorageClients(config()));
  const runs = lazily(() => {
    const { TableRunStore } = require('../shared/runs/runStore') as typeof import('../shared/runs/runStore');
    return new TableRunStore(storage().table(Tables.runs));
  });
  const telemetry = lazily(() =>
    (require('../shared/telemetry') as typeof import('../shared/telemetry')).createTelemetry({
      connectionString: config().APPLICATIONINSIGHTS_CONNECTION_STRING,
      localDir: config().ORBITER_TELEMETRY_DIR,
      serviceName: 'orbiter-functions',
    }),
  );
  const bus = lazily(() => (require('../shared/bus/clients') as typeof import('../shared/bus/clients')).createServiceBusClient(config()));
  const senders = new Map<string, ServiceBusSender>();
  const sender = (queueOrTopic: string = Queues.runRequests): ServiceBusSender => {
    let s = senders.get(queueOrTopic);
    if (!s) senders.set(queueOrTopic, (s = bus().createSender(queueOrTopic)));
    return s;
  };
  // The receiver that moves parked failed runs to run-failures' dead-letter queue (nothing else consumes it).
  const parkingReceiver = lazily((): ServiceBusReceiver => bus().createReceiver(Queues.runFailures, { receiveMode: 'peekLock' }));
  // One per process: it serialises its use of the one receiver (concurrent receives on a receiver are refused).
  const parking = lazily((): FailureParking => {
    const { DeadLetterFailureParking } = require('../shared/dispatch/adapters') as typeof import('../shared/dispatch/adapters');
    return new DeadLetterFailureParking(sender(Queues.runFailures), parkingReceiver());
  });
  const catalog = lazily(() => {
    const p = config().JOB_CATALOG_PATH;
    return (require('../shared/catalog') as typeof import('../shared/catalog')).loadJobCatalog(isAbsolute(p) ? p : resolve(appRoot, p));
  });
  const jobs = lazily(async () => {
    const c = config();
    if (!c.DATABRICKS_HOST) throw new OrbiterError('ConfigInvalid', 'DATABRICKS_HOST is not set: the dispatcher has no workspace to call');
    const { createTokenProvider, DatabricksJobsClient } = require('../shared/databricks') as typeof import('../shared/databricks');
    const tokenProvider = await createTokenProvider(
      c.DATABRICKS_AUTH === 'pat'
        ? { auth: 'pat', token: c.DATABRICKS_TOKEN ?? '' }
        : { auth: 'entra', credential: (require('../shared/storage/clients') as typeof import('../shared/storage/clients')).azureCredential(c) },
    );
    return new DatabricksJobsClient({ host: c.DATABRICKS_HOST, tokenProvider });
  });
  const resolver = lazily(async (): Promise<JobIdResolver> => {
    const { JobIdResolver } = require('../shared/catalog') as typeof import('../shared/catalog');
    return new JobIdResolver(await jobs(), await catalog());
  });
  const quota = lazily(() => {
    const { BucketRunQuota, TableBucketStore } = require('../shared/api/quota') as typeof import('../shared/api/quota');
    const { IDEMPOTENCY_TABLE } = require('../shared/api/idempotency') as typeof import('../shared/api/idempotency');
    return new BucketRunQuota(new TableBucketStore(storage().table(IDEMPOTENCY_TABLE)), config().RUN_API_QUOTA_PER_MINUTE, () => new Date());
  });

  const idempotency = lazily(() => {
    const { TableIdempotencyStore, IDEMPOTENCY_TABLE } = require('../shared/api/idempotency') as typeof import('../shared/api/idempotency');
    return new TableIdempotencyStore(storage().table(IDEMPOTENCY_TABLE));
  });

  const lakeRoot = (): string => {
    const c = config();
    if (c.JOBS_LAKE_ROOT) return c.JOBS_LAKE_ROOT;
    const uri = c.OrbiterLake__blobServiceUri;
    const account = uri ? new URL(uri).hostname.split('.')[0]! : (/AccountName=([^;]+)/i.exec(c.OrbiterLake ?? '')?.[1] ?? 'devstoreaccount1');
    return (require('../shared/dispatch/adapters') as typeof import('../shared/dispatch/adapters')).lakeRootFor(account);
  };

  const onDispatchEvent = (e: DispatchEvent): void => {
    const t = telemetry();
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
        ...(e.terminationCode ? { terminationCode: e.terminationCode } : {}),
        ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
      });
  };

  const dispatch = async (logger: Logger): Promise<DispatchDeps> => {
    const [j, cat, res] = await Promise.all([jobs(), catalog(), resolver()]);
    const { BusControlScheduler, LakeTopicCompletionSink } = require('../shared/dispatch/adapters') as typeof import('../shared/dispatch/adapters');
    const { TableBatchStore } = require('../shared/dispatch/batches') as typeof import('../shared/dispatch/batches');
    const { TableSlotRows } = require('../shared/dispatch/slots') as typeof import('../shared/dispatch/slots');
    const { BlobManifestStore } = require('../shared/dispatch/manifests') as typeof import('../shared/dispatch/manifests');
    const c = config();
    const events = storage().blobs.getContainerClient(Containers.events);
    return {
      runs: runs(),
      batches: new TableBatchStore(storage().table(Tables.batches)),
      slots: new TableSlotRows(storage().table(Tables.runs)),
      jobs: j,
      resolveJobId: (dataset) => res.resolve(dataset),
      catalog: cat,
      scheduler: new BusControlScheduler(sender(Queues.runStatus)),
      completions: new LakeTopicCompletionSink(events, sender(Topics.runEvents)),
      failures: parking(),
      manifests: new BlobManifestStore(events),
      lakeRoot: lakeRoot(),
      now: () => new Date(),
      logger,
      pollInitialMs: c.DISPATCH_POLL_INITIAL_MS,
      pollMaxMs: c.DISPATCH_POLL_MAX_MS,
      onEvent: onDispatchEvent,
      ...(c.COALESCING_WINDOW_MAX_SECONDS !== undefined ? { maxCoalescingSeconds: c.COALESCING_WINDOW_MAX_SECONDS } : {}),
    };
  };

  const sendRunRequest = (messageId: string, request: RunRequest): Promise<void> =>
    (require('../shared/runs/sendRunRequest') as typeof import('../shared/runs/sendRunRequest')).sendRunRequest(sender(), messageId, request);

  const runApi = async (): Promise<RunApiDeps> => {
    const raw = storage().blobs.getContainerClient(Containers.raw);
    return {
      runs: runs(),
      catalog: await catalog(),
      idempotency: idempotency(),
      idempotencyTtlMs: config().RUN_API_IDEMPOTENCY_TTL_HOURS * 3_600_000,
      quota: quota(),
      raw: {
        async etagOf(path) {
          try {
            return (await raw.getBlobClient(path).getProperties()).etag;
          } catch (err) {
            if (restStatus(err) === 404) return undefined;
            throw err;
          }
        },
        async *list(prefix) {
          for await (const b of raw.listBlobsFlat({ prefix })) yield { name: b.name, etag: b.properties.etag ?? '' };
        },
      },
      send: sendRunRequest,
      jobs: async () => {
        const j = await jobs();
        return { cancelRun: (id: number) => j.cancelRun(id, { timeoutMs: 10_000 }) };
      },
      databricks: async () => {
        const j = await jobs();
        return {
          getRun: (id: number) => j.getRun(id, {}, { timeoutMs: 10_000 }),
          getRunOutput: (id: number) => j.getRunOutput(id, { timeoutMs: 10_000 }),
        };
      },
      now: () => new Date(),
    };
  };

  const ingest = (logger: Logger, onThrottled: (url: string) => void): Promise<CycleSummary> => {
    // The cycle pulls in axios and the NASA sources, which only the ingestion timer needs (cold start).
    const { runIngestionCycle } = require('../shared/ingest/ingestCycle') as typeof import('../shared/ingest/ingestCycle');
    return runIngestionCycle({ config: config(), storage: storage(), logger, onThrottled });
  };

  const healthProbes = (): ReturnType<AppDeps['healthProbes']> => {
    const c = config();
    return {
      storage: async () => {
        await runs().list({ limit: 1 });
      },
      serviceBus:
        c.ServiceBusConnection || c.ServiceBusConnection__fullyQualifiedNamespace
          ? async (signal) => {
              const receiver = bus().createReceiver(Queues.runRequests, { receiveMode: 'peekLock' });
              try {
                await receiver.peekMessages(1, { abortSignal: signal });
              } finally {
                await receiver.close().catch(() => undefined);
              }
            }
          : undefined,
      databricks: c.DATABRICKS_HOST
        ? async (signal) => {
            await (await jobs()).listJobs({ limit: 1 }, { abortSignal: signal, timeoutMs: 5000 });
          }
        : undefined,
    };
  };

  const apiAuth = lazily((): ApiAuth => {
    const c = config();
    if (c.API_AUTH_MODE !== 'entra') return { mode: 'function-key' };
    return {
      mode: 'entra',
      // loadConfig guarantees both are set in entra mode.
      verifier: createEntraVerifier({
        tenantId: c.ENTRA_TENANT_ID!,
        audience: c.ENTRA_API_AUDIENCE!,
        ...(c.ENTRA_JWKS_URI ? { jwksUri: c.ENTRA_JWKS_URI } : {}),
        ...(c.ENTRA_ISSUER ? { issuer: c.ENTRA_ISSUER } : {}),
      }),
    };
  });

  // Entra mode without a verifier configuration: the app does not load rather than serve an open API.
  assertApiAuthConfigured(settings);
  return {
    config,
    apiAuthMode: apiAuthModeOf(settings),
    apiAuth,
    storage,
    runs,
    telemetry,
    bus,
    sender,
    sendRunRequest,
    rawBlobVersion: (name) => readBlobVersion(storage().blobs.getContainerClient(Containers.raw), name),
    catalog,
    jobs,
    dispatch,
    runApi,
    ingest,
    healthProbes,
    now: () => new Date(),
    async close() {
      await telemetry
        .peek()
        ?.flush()
        .catch(() => undefined);
      await parkingReceiver.peek()?.close();
      parkingReceiver.reset();
      parking.reset();
      for (const s of senders.values()) await s.close();
      senders.clear();
      await bus.peek()?.close();
      bus.reset();
    },
  };
}
