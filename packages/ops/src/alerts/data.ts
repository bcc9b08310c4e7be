import Long from 'long';
import { restStatus } from 'orbiter/shared/storage/restStatus';
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { Queues, Subscriptions, Tables, Topics } from 'orbiter/shared/names';
import { TableRunStore, type RunRecord, type RunStore } from 'orbiter/shared/runs/runStore';
import type { StorageClients } from 'orbiter/shared/storage/clients';
import { readTelemetry, type TelemetryRecord } from 'orbiter/shared/telemetry/index';

export interface WatermarkRow {
  source: string;
  stream: string;
  nextStart: string;
  /** When the watermark last advanced (= a window was ingested successfully). */
  updatedAt?: string;
}

export interface DeadLetterSummary {
  messageId?: string;
  reason?: string;
  description?: string;
  enqueuedAt?: string;
  deliveryCount?: number;
}

export interface QueueDepth {
  /** Queue name or `<topic>/subscriptions/<subscription>`. */
  entity: string;
  /** Active messages seen by a peek (capped at `peekLimit`); undefined when not measured. */
  active?: number;
  deadLetters: number;
  samples: DeadLetterSummary[];
  /** True when the peek hit its cap and there may be more. */
  capped: boolean;
}

/** What the local alert rules and the dashboard read; tests use in-memory fakes of it. */
export interface MonitoringData {
  /** Runs requested at or after `since` (newest first is not required). */
  runs(since: Date): Promise<RunRecord[]>;
  watermarks(): Promise<WatermarkRow[]>;
  /** Dead-letter (and active) depth per Service Bus entity; [] without a bus. */
  queues(): Promise<QueueDepth[]>;
  telemetry(since: Date): Promise<TelemetryRecord[]>;
}

/** Every entity whose dead letters Orbiter watches. */
export const watchedEntities: readonly { entity: string; queue?: string; topic?: string; subscription?: string }[] = [
  { entity: Queues.runRequests, queue: Queues.runRequests },
  { entity: Queues.runStatus, queue: Queues.runStatus },
  { entity: Queues.runFailures, queue: Queues.runFailures },
  ...[Subscriptions.runEventsStream, Subscriptions.runEventsMonitor].map((s) => ({
    entity: `${Topics.runEvents}/subscriptions/${s}`,
    topic: Topics.runEvents,
    subscription: s,
  })),
];

export function deadLetterSummary(m: ServiceBusReceivedMessage): DeadLetterSummary {
  return {
    ...(m.messageId !== undefined ? { messageId: String(m.messageId) } : {}),
    ...(m.deadLetterReason ? { reason: m.deadLetterReason } : {}),
    ...(m.deadLetterErrorDescription ? { description: m.deadLetterErrorDescription } : {}),
    ...(m.enqueuedTimeUtc ? { enqueuedAt: m.enqueuedTimeUtc.toISOString() } : {}),
    ...(m.deliveryCount !== undefined ? { deliveryCount: m.deliveryCount } : {}),
  };
}

/**
 * Peeks (never receives) up to `limit` messages, always from the start of the entity: without an explicit
 * fromSequenceNumber the SDK continues after the last message peeked on that entity by any receiver of the client.
 */
export async function peekAll(r: ServiceBusReceiver, limit: number): Promise<ServiceBusReceivedMessage[]> {
  const out: ServiceBusReceivedMessage[] = [];
  let from = Long.ZERO;
  while (out.length < limit) {
    const batch = await r.peekMessages(Math.min(100, limit - out.length), { fromSequenceNumber: from });
    if (batch.length === 0) break;
    out.push(...batch);
    const last = batch[batch.length - 1]!.sequenceNumber;
    if (!last) break;
    from = last.add(1);
  }
  return out;
}

export function receiverFor(bus: ServiceBusClient, e: (typeof watchedEntities)[number], deadLetter: boolean): ServiceBusReceiver {
  const opts = deadLetter ? { subQueueType: 'deadLetter' as const } : {};
  return e.queue ? bus.createReceiver(e.queue, opts) : bus.createReceiver(e.topic!, e.subscription!, opts);
}

export async function queueDepths(bus: ServiceBusClient, peekLimit = 250): Promise<QueueDepth[]> {
  const out: QueueDepth[] = [];
  for (const e of watchedEntities) {
    const dlq = receiverFor(bus, e, true);
    const main = receiverFor(bus, e, false);
    try {
      // One after the other: concurrent management requests on one connection confused the local emulator's replies.
      const dead = await peekAll(dlq, peekLimit);
      const active = await peekAll(main, peekLimit);
      out.push({
        entity: e.entity,
        active: active.length,
        deadLetters: dead.length,
        samples: dead.slice(0, 10).map(deadLetterSummary),
        capped: dead.length >= peekLimit,
      });
    } finally {
      await Promise.all([dlq.close(), main.close()]);
    }
  }
  return out;
}

/** Monitoring data from the local stack: run records and watermarks in Table storage, Service Bus, telemetry files. */
export function localMonitoringData(o: {
  storage: StorageClients;
  bus?: ServiceBusClient;
  telemetryDir?: string;
  runStore?: RunStore;
  maxRuns?: number;
}): MonitoringData {
  const runs = o.runStore ?? new TableRunStore(o.storage.table(Tables.runs));
  const maxRuns = o.maxRuns ?? 2000;
  // The dashboard and the alert loop ask at the same moment: concurrent callers share one in-flight peek.
  let inflight: Promise<QueueDepth[]> | undefined;
  return {
    async runs(since) {
      const out: RunRecord[] = [];
      let token: string | undefined;
      do {
        const page = await runs.list({ since: since.toISOString(), limit: 1000, ...(token ? { continuationToken: token } : {}) });
        out.push(...page.runs);
        token = page.continuationToken;
      } while (token && out.length < maxRuns);
      return out;
    },
    async watermarks() {
      const out: WatermarkRow[] = [];
      try {
        for await (const e of o.storage.table(Tables.watermarks).listEntities<{ nextStart?: string; updatedAt?: string }>()) {
          out.push({
            source: e.partitionKey!,
            stream: e.rowKey!,
            nextStart: String(e.nextStart ?? ''),
            ...(e.updatedAt ? { updatedAt: String(e.updatedAt) } : e.timestamp ? { updatedAt: new Date(e.timestamp).toISOString() } : {}),
          });
        }
      } catch (err) {
        if (restStatus(err) === 404) return []; // no ingestion yet
        throw err;
      }
      return out;
    },
    async queues() {
      if (!o.bus) return [];
      inflight ??= queueDepths(o.bus).finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    telemetry(since) {
      return Promise.resolve(o.telemetryDir ? readTelemetry(o.telemetryDir, since) : []);
    },
  };
}
