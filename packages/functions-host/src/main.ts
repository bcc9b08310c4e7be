#!/usr/bin/env node
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { allFunctions } from 'orbiter/functions/all';
import { composeApp } from 'orbiter/functions/composition';
import type { BlobEventFunction } from 'orbiter/functions/definition';
import { ensureError } from 'orbiter/shared/errors';
import { createPinoLogger, type Logger } from 'orbiter/shared/logger';
import { Containers, Tables } from 'orbiter/shared/names';
import { findAppRoot } from './appRoot';
import { BlobWatcher } from './blobWatcher';
import { mergeSettings, readLocalSettings, readSettingsFile } from './settings';
import { FunctionHost } from './functionHost';
import { serviceBusHostOptions } from './hostJson';
import { resolveFunctionKey } from './functionKey';

/**
 * The functions host alone, against peers that are already running (Azurite, a Service Bus namespace, a Databricks
 * workspace): settings come from local.settings.json (or --settings) overridden by the environment, as `func start`
 * reads them. Unlike `npm start` it starts no emulators, so it can be stopped, killed and restarted on its own —
 * against the same storage and broker — which is what the fault-injection suite does to it.
 */
export interface LocalHostOptions {
  repoRoot: string;
  port: number;
  /** A local.settings.json-shaped file; default <repoRoot>/local.settings.json when present. */
  settingsFile?: string;
  env: Record<string, string | undefined>;
  timers: boolean;
  /** Also run the local Event Grid stand-in (blob watcher) against the raw container. */
  watchBlobs: boolean;
  /** Where a generated function key is kept (when ORBITER_FUNCTION_KEY is not set). */
  dataDir: string;
  logger: Logger;
}

export interface LocalHost {
  host: FunctionHost;
  functionKey: string;
  watcher?: BlobWatcher;
  stop(): Promise<void>;
}

export async function startLocalHost(o: LocalHostOptions): Promise<LocalHost> {
  const fileSettings = o.settingsFile ? readSettingsFile(o.settingsFile) : readLocalSettings(o.repoRoot);
  const settings = mergeSettings({ FUNCTIONS_WORKER_RUNTIME: 'node' }, fileSettings, o.env, undefined);
  // The app's dependencies from these settings, through the app's own composition root (as in Azure from the environment).
  const app = composeApp(settings);
  const config = app.config();
  const { key } = resolveFunctionKey(settings['ORBITER_FUNCTION_KEY'], join(o.dataDir, 'function-key'));
  const storage = app.storage();
  for (const c of Object.values(Containers)) await storage.blobs.getContainerClient(c).createIfNotExists();
  const definitions = allFunctions(app);
  const host = new FunctionHost({
    definitions,
    config,
    settings,
    storage,
    functionKey: key,
    logger: o.logger,
    port: o.port,
    timers: o.timers,
    serviceBus: Boolean(config.ServiceBusConnection || config.ServiceBusConnection__fullyQualifiedNamespace),
    ...serviceBusHostOptions(o.repoRoot),
  });
  await host.start();
  let watcher: BlobWatcher | undefined;
  if (o.watchBlobs) {
    watcher = new BlobWatcher({
      targets: definitions
        .filter((d): d is BlobEventFunction => d.kind === 'blobEvent')
        .map((d) => ({ container: storage.blobs.getContainerClient(d.container), functionName: d.name })),
      receiptsTable: storage.table(Tables.blobReceipts),
      hostUrl: host.url,
      functionKey: key,
      accountUrl: storage.blobs.url.replace(/\/$/, ''),
      logger: o.logger,
    });
    watcher.start();
  }
  return {
    host,
    functionKey: key,
    ...(watcher ? { watcher } : {}),
    stop: async () => {
      await watcher?.stop();
      await host.stop();
      await app.close();
    },
  };
}

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
};

async function main(): Promise<void> {
  const program = new Command('orbiter-host')
    .description('Run the Orbiter functions host alone against running peers (settings from local.settings.json and the environment)')
    .option('--port <port>', 'HTTP port (0 = any free one)', port, 7071)
    .option('--settings <file>', 'local.settings.json-shaped file (default: <repo>/local.settings.json when present)')
    .option('--no-timers', 'do not start timer triggers on their schedules')
    .option('--watch-blobs', 'also deliver BlobCreated events for new raw blobs (the local Event Grid stand-in)')
    .option('--data-dir <dir>', 'where a generated function key is kept', '.orbiter')
    .parse();
  const o = program.opts<{ port: number; settings?: string; timers: boolean; watchBlobs?: boolean; dataDir: string }>();
  const repoRoot = findAppRoot(__dirname);
  const logger = createPinoLogger(process.env['LOG_LEVEL'] ?? 'warn', 'orbiter-host');
  const h = await startLocalHost({
    repoRoot,
    port: o.port,
    ...(o.settings ? { settingsFile: resolve(o.settings) } : {}),
    env: process.env,
    timers: o.timers,
    watchBlobs: Boolean(o.watchBlobs),
    dataDir: resolve(repoRoot, o.dataDir),
    logger,
  });
  // One machine-readable line for scripts that start us and wait for readiness.
  process.stdout.write(`FUNCTIONS_HOST=${h.host.url}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    h.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('host did not stop cleanly', { error: ensureError(err).message });
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`orbiter-host: ${ensureError(err).message}\n`);
    process.exit(1);
  });
}
