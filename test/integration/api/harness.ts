import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import Long from 'long';
import { allFunctions } from '../../../functions/all';
import { composeApp } from '../../../functions/composition';
import { FunctionHost } from '@orbiter/functions-host/functionHost';
import { startServiceBusEmulator, type ServiceBusEmulator } from '@orbiter/servicebus-emulator/emulator';
import { loadConfig } from '../../../shared/config';
import { silentLogger } from '../../../shared/logger';
import { Containers, Queues, Tables } from '../../../shared/names';
import { TableRunStore } from '../../../shared/runs/runStore';
import { createStorageClients, type StorageClients } from '../../../shared/storage/clients';
import { startTestAzurite } from '../../support/azurite';

const repoRoot = resolve(__dirname, '..', '..', '..');
export const FUNCTION_KEY = 'run-api-test-key-0123456789';

/** A stand-in Databricks workspace: jobs/list answers, runs/cancel is recorded. */
async function startFakeDatabricks(): Promise<{ url: string; cancels: number[]; close(): Promise<void> }> {
  const cancels: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/api/2.2/jobs/list')) return res.end(JSON.stringify({ jobs: [], has_more: false }));
      if (req.url === '/api/2.2/jobs/runs/cancel') {
        cancels.push((JSON.parse(body) as { run_id: number }).run_id);
        return res.end('{}');
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: 'no' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cancels,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface ApiHarness {
  host: FunctionHost;
  url: string;
  storage: StorageClients;
  runs: TableRunStore;
  bus: ServiceBusClient;
  databricks: { url: string; cancels: number[] };
  /** Every message now on run-requests (peeked, not consumed: no dispatcher runs in these tests). */
  messages(): Promise<ServiceBusReceivedMessage[]>;
  recordCount(): Promise<number>;
  call(method: string, path: string, opts?: { headers?: Record<string, string>; body?: string | Buffer; key?: string | null }): Promise<HttpResult>;
  stop(): Promise<void>;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): unknown;
}

/**
 * The real local FunctionHost with every function definition, over a private Azurite and a Service Bus emulator on
 * ephemeral ports. Service Bus triggers stay off, so run requests stay on the queue to be counted.
 */
export async function startApiHarness(extraSettings: Record<string, string> = {}): Promise<ApiHarness> {
  const azurite = await startTestAzurite();
  const serviceBus: ServiceBusEmulator = await startServiceBusEmulator({
    port: 0,
    config: join(repoRoot, 'packages', 'servicebus-emulator', 'config.json'),
    sweepIntervalMs: 50,
  });
  const databricks = await startFakeDatabricks();
  const settings: Record<string, string> = {
    OrbiterLake: azurite.connectionString,
    ServiceBusConnection: serviceBus.connectionString,
    DATABRICKS_HOST: databricks.url,
    DATABRICKS_AUTH: 'pat',
    DATABRICKS_TOKEN: 'fake-token',
    JOB_CATALOG_PATH: join(repoRoot, 'config', 'job-catalog.json'),
    ORBITER_FUNCTION_KEY: FUNCTION_KEY,
    ...extraSettings,
  };
  const app = composeApp(settings);
  const config = loadConfig(settings);
  const storage = createStorageClients(config);
  await storage.blobs.getContainerClient(Containers.raw).createIfNotExists();
  const host = new FunctionHost({
    definitions: allFunctions(app),
    config,
    settings,
    storage,
    functionKey: FUNCTION_KEY,
    logger: silentLogger,
    port: 0,
    timers: false,
    serviceBus: false,
  });
  await host.start();
  const bus = new ServiceBusClient(serviceBus.connectionString, { retryOptions: { maxRetries: 1, timeoutInMs: 5000 } });
  const runs = new TableRunStore(storage.table(Tables.runs));
  const url = host.url;
  return {
    host,
    url,
    storage,
    runs,
    bus,
    databricks,
    async messages() {
      // Peek from the first sequence number every time: the SDK otherwise continues after the last peek of the entity.
      const receiver = bus.createReceiver(Queues.runRequests, { receiveMode: 'peekLock' });
      try {
        const out: ServiceBusReceivedMessage[] = [];
        let from = Long.fromNumber(0);
        for (;;) {
          const batch = await receiver.peekMessages(250, { fromSequenceNumber: from });
          out.push(...batch);
          if (batch.length < 250) return out;
          from = (batch[batch.length - 1]!.sequenceNumber as Long).add(1);
        }
      } finally {
        await receiver.close();
      }
    },
    async recordCount() {
      let n = 0;
      const table = storage.table(Tables.runs);
      try {
        for await (const _ of table.listEntities({ queryOptions: { select: ['PartitionKey'] } })) n++;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return 0;
        throw err;
      }
      return n;
    },
    call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const key = opts.key === undefined ? FUNCTION_KEY : opts.key;
      if (key !== null) headers['x-functions-key'] = key;
      const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
      if (body) headers['content-length'] = String(body.length);
      return new Promise<HttpResult>((resolvePromise, reject) => {
        const u = new URL(url);
        const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    async stop() {
      await bus.close().catch(() => undefined);
      await host.stop();
      await app.close();
      await databricks.close();
      await serviceBus.close();
      await azurite.stop();
    },
  };
}
