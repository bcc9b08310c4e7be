import type { Logger } from '../logger';
import { LocalTelemetry, NoopTelemetry } from './local';
import type { Telemetry } from './telemetry';

export * from './names';
export * from './telemetry';
export * from './traceparent';
export { LocalTelemetry, NoopTelemetry } from './local';
export { readTelemetry, telemetryRecordSchema, type TelemetryRecord } from './records';

export interface TelemetryOptions {
  /** APPLICATIONINSIGHTS_CONNECTION_STRING selects Azure Monitor. */
  connectionString?: string | undefined;
  /** Local JSON-lines folder (the local stack: <dataDir>/telemetry, i.e. .orbiter/telemetry). */
  localDir?: string | undefined;
  logger?: Logger;
  serviceName?: string;
}

let azureStarted: Telemetry | undefined;

/**
 * Azure Monitor when a connection string is configured, else local JSON lines when a folder is given, else no-op.
 * useAzureMonitor() sets process-wide OpenTelemetry providers, so the Azure instance is created once per process.
 */
export function createTelemetry(o: TelemetryOptions): Telemetry {
  if (o.connectionString) {
    if (!azureStarted) {
      // Loaded lazily: the Azure SDK distro is heavy and unused locally.

      const monitor = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');

      const { AzureTelemetry } = require('./azure') as typeof import('./azure');
      monitor.useAzureMonitor({ azureMonitorExporterOptions: { connectionString: o.connectionString } });
      azureStarted = new AzureTelemetry(() => monitor.shutdownAzureMonitor(), o.serviceName ?? 'orbiter');
      o.logger?.info('telemetry: Azure Monitor');
    }
    return azureStarted;
  }
  if (o.localDir) {
    o.logger?.debug('telemetry: local JSON lines', { dir: o.localDir });
    return new LocalTelemetry(o.localDir, undefined, o.serviceName);
  }
  return new NoopTelemetry();
}
export { reportRunCompleted, reportRunDispatched, reportRunRequested } from './runs';
