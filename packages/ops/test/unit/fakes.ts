import type { RunRecord } from 'orbiter/shared/runs/runStore';
import type { TelemetryRecord } from 'orbiter/shared/telemetry/index';
import type { MonitoringData, QueueDepth, WatermarkRow } from '../../src/alerts/data';

/** In-memory monitoring data: tests push into the arrays. */
export class FakeMonitoringData implements MonitoringData {
  runList: RunRecord[] = [];
  marks: WatermarkRow[] = [];
  depths: QueueDepth[] = [];
  records: TelemetryRecord[] = [];
  async runs(since: Date): Promise<RunRecord[]> {
    return this.runList.filter((r) => r.requestedAt >= since.toISOString());
  }
  async watermarks(): Promise<WatermarkRow[]> {
    return this.marks;
  }
  async queues(): Promise<QueueDepth[]> {
    return this.depths;
  }
  async telemetry(since: Date): Promise<TelemetryRecord[]> {
    return this.records.filter((r) => r.ts >= since.toISOString());
  }
}

export function run(over: Partial<RunRecord> & { runId: string }): RunRecord {
  const t = over.requestedAt ?? '2026-11-24T09:50:00.000Z';
  return {
    dataset: 'neows',
    jobName: 'orbiter-neows-pipeline',
    state: 'succeeded',
    origin: 'blob',
    inputs: [{ container: 'raw', path: 'neows/feed/2024/05/25/2024-05-25_2024-05-31.0123456789abcdef.json', etag: '0x1' }],
    parameters: {},
    idempotencyToken: over.runId,
    correlationId: over.runId,
    attempt: 1,
    requestedAt: t,
    updatedAt: t,
    ...over,
  };
}

export const minutesBefore = (iso: string, min: number): string => new Date(Date.parse(iso) - min * 60_000).toISOString();
