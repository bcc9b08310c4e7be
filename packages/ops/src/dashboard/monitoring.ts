import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import type { Logger } from 'orbiter/shared/logger';
import type { StorageClients } from 'orbiter/shared/storage/clients';
import { createTelemetry, type Telemetry } from 'orbiter/shared/telemetry/index';
import { localMonitoringData } from '../alerts/data';
import type { OptimizeReport } from '../optimize/report';
import { createAlertEvaluator, type AlertEvaluator } from '../alerts/evaluator';
import { startDashboard, type Dashboard } from './server';

export interface LocalMonitoringOptions {
  /** The stack's data folder (.orbiter): telemetry in <dataDir>/telemetry, charts in <dataDir>/charts. */
  dataDir: string;
  storage: StorageClients;
  /** The Service Bus emulator's connection string (queues and dead letters); omit to show no queues. */
  serviceBusConnectionString?: string;
  logger: Logger;
  /** Dashboard port (0 = any free one). */
  port: number;
  /** Sources the stale-source rule expects (default: all). */
  sources?: readonly string[];
  /** Alert evaluation interval when no browser is open (default 30 s). */
  alertIntervalMs?: number;
  /** The cost and sizing panel's data (see startDashboard). */
  optimizeReport?: () => Promise<OptimizeReport>;
  /** The Databricks workspace running now: the dashboard's stable run links redirect there. */
  databricksUrl?: () => string | undefined;
  /** Default: infra/alerts/alert-rules.json. */
  rulesPath?: string;
  /** Prints fired/resolved alerts as readable lines (default: through `logger`). */
  announce?: (line: string) => void;
  /**
   * Evaluate alerts only once startAlerts() is called: the local stack calls it after its first ingestion cycle, so a
   * first cycle still walking years of history is not reported as stale sources.
   */
  deferAlerts?: boolean;
}

export interface LocalMonitoring {
  dashboard: Dashboard;
  evaluator: AlertEvaluator;
  /** Local JSON-lines telemetry into <dataDir>/telemetry (what the dashboard and alerts read). */
  telemetry: Telemetry;
  telemetryDir: string;
  /** Starts periodic alert evaluation (already started unless deferAlerts); idempotent. */
  startAlerts(): void;
  stop(): Promise<void>;
}

/** Dashboard + alert evaluator (printing through `logger`) + local telemetry, for the local stack in one call. */
export async function startLocalMonitoring(o: LocalMonitoringOptions): Promise<LocalMonitoring> {
  const telemetryDir = join(o.dataDir, 'telemetry');
  const chartsDir = join(o.dataDir, 'charts');
  const bus = o.serviceBusConnectionString ? new ServiceBusClient(o.serviceBusConnectionString) : undefined;
  const data = localMonitoringData({ storage: o.storage, telemetryDir, ...(bus ? { bus } : {}) });
  const evaluator = createAlertEvaluator({
    data,
    logger: o.logger,
    ...(o.announce ? { announce: o.announce } : {}),
    ...(o.sources ? { sources: o.sources } : {}),
    ...(o.rulesPath ? { rulesPath: o.rulesPath } : {}),
  });
  const telemetry = createTelemetry({ localDir: telemetryDir, logger: o.logger });
  let dashboard: Dashboard;
  try {
    dashboard = await startDashboard({
      port: o.port,
      storage: o.storage,
      ...(bus ? { bus } : {}),
      alertEvaluator: evaluator,
      logger: o.logger,
      telemetryDir,
      chartsDir,
      data,
      ...(o.optimizeReport ? { optimizeReport: o.optimizeReport } : {}),
      ...(o.databricksUrl ? { databricksUrl: o.databricksUrl } : {}),
      ...(o.sources ? { sources: o.sources } : {}),
    });
  } catch (err) {
    await bus?.close();
    throw err;
  }
  let stopAlerts: (() => void) | undefined;
  const startAlerts = (): void => {
    stopAlerts ??= evaluator.start(o.alertIntervalMs ?? 30_000);
  };
  if (!o.deferAlerts) startAlerts();
  return {
    dashboard,
    evaluator,
    telemetry,
    telemetryDir,
    startAlerts,
    async stop() {
      stopAlerts?.();
      await dashboard.close();
      await telemetry.shutdown();
      await bus?.close();
    },
  };
}
