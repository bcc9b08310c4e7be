import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
import type { ServiceBusQueueBatchFunction, ServiceBusQueueFunction } from 'orbiter/functions/definition';
import { ensureError } from 'orbiter/shared/errors';
import type { Logger } from 'orbiter/shared/logger';
import type { Invoker } from './invoker';

export interface ServiceBusTriggerOptions {
  connectionString: string;
  invoker: Invoker;
  logger: Logger;
  /** From host.json extensions.serviceBus: single-message functions invoked at once (default 16). */
  maxConcurrentCalls?: number | undefined;
  /** From host.json extensions.serviceBus: most messages per invocation of a `cardinality: 'many'` function (default 1000). */
  maxMessageBatchSize?: number | undefined;
  /** Batches of one batch function in flight at once (default 2: the next batch is received while one runs). */
  maxConcurrentBatches?: number | undefined;
}

/**
 * Service Bus queue triggers in peekLock, as the real host runs them: a single-message function completes its message
 * on success and abandons it on error (so MaxDeliveryCount and the dead-letter queue apply); batch functions below.
 */
export function startServiceBusTriggers(defs: readonly ServiceBusQueueFunction[], o: ServiceBusTriggerOptions): { stop(): Promise<void> } {
  const bus = new ServiceBusClient(o.connectionString);
  const receivers: ServiceBusReceiver[] = [];
  const batchers: { stop(): Promise<void> }[] = [];
  for (const def of defs) {
    const receiver = bus.createReceiver(def.queueName, { receiveMode: 'peekLock' });
    receivers.push(receiver);
    if (def.cardinality === 'many') {
      batchers.push(subscribeBatch(def, receiver, o));
      continue;
    }
    receiver.subscribe(
      {
        processMessage: async (msg) => {
          const outcome = await o.invoker.invoke(def.name, serviceBusMetadata(msg), (ctx) => def.handler(msg.body, ctx));
          // As the real host: complete on success, abandon on error so MaxDeliveryCount and the DLQ apply.
          if (outcome.ok) await receiver.completeMessage(msg);
          else await receiver.abandonMessage(msg);
        },
        processError: (args) => {
          o.logger.warn('service bus receiver error', { fn: def.name, source: args.errorSource, error: args.error.message });
          return Promise.resolve();
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: o.maxConcurrentCalls ?? 16 },
    );
  }
  return {
    stop: async () => {
      for (const b of batchers) await b.stop();
      for (const r of receivers) await r.close().catch(() => undefined);
      await bus.close().catch(() => undefined);
    },
  };
}

/**
 * `cardinality: 'many'`: messages stream in (credit = batch size × batches in flight) and are handed over in
 * batches of whatever has arrived, up to maxMessageBatchSize; while every batch slot is busy, arrivals wait and
 * form the next, larger batch. After the invocation the batch is settled as a whole: completed on success,
 * abandoned on failure (as in Azure).
 */
function subscribeBatch(def: ServiceBusQueueBatchFunction, receiver: ServiceBusReceiver, o: ServiceBusTriggerOptions): { stop(): Promise<void> } {
  const maxBatch = Math.max(1, o.maxMessageBatchSize ?? 1000);
  const slots = Math.max(1, o.maxConcurrentBatches ?? 2);
  let pending: { msg: ServiceBusReceivedMessage; settled: () => void }[] = [];
  let running = 0;
  const runs = new Set<Promise<void>>();
  let scheduled = false;
  let stopped = false;
  const settle = async (msg: ServiceBusReceivedMessage, how: () => Promise<void>): Promise<void> => {
    // A lost lock means the message comes back: harmless, every handler write is idempotent.
    await how().catch((err: unknown) =>
      o.logger.warn('service bus settlement failed', { fn: def.name, messageId: String(msg.messageId), error: ensureError(err).message }),
    );
  };
  const runBatch = async (batch: typeof pending): Promise<void> => {
    const msgs = batch.map((b) => b.msg);
    try {
      const outcome = await o.invoker.invoke(
        def.name,
        serviceBusBatchMetadata(msgs),
        (ctx) =>
          def.handler(
            msgs.map((m): unknown => m.body),
            ctx,
          ),
        (o) => ({ ...o, messages: msgs.length }),
      );
      if (!outcome.ok) {
        await Promise.all(msgs.map((m) => settle(m, () => receiver.abandonMessage(m))));
        return;
      }
      await Promise.all(msgs.map((m) => settle(m, () => receiver.completeMessage(m))));
    } finally {
      for (const b of batch) b.settled();
    }
  };
  const dispatch = (): void => {
    scheduled = false;
    while (!stopped && running < slots && pending.length > 0) {
      const batch = pending.slice(0, maxBatch);
      pending = pending.slice(batch.length);
      running++;
      const run = runBatch(batch).finally(() => {
        running--;
        runs.delete(run);
        if (pending.length > 0) schedule();
      });
      runs.add(run);
      o.invoker.track(run);
    }
  };
  const schedule = (): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(dispatch);
  };
  const subscription = receiver.subscribe(
    {
      processMessage: (msg) =>
        new Promise<void>((resolve) => {
          pending.push({ msg, settled: resolve });
          schedule();
        }),
      processError: (args) => {
        o.logger.warn('service bus receiver error', { fn: def.name, source: args.errorSource, error: args.error.message });
        return Promise.resolve();
      },
    },
    { autoCompleteMessages: false, maxConcurrentCalls: maxBatch * slots },
  );
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    stopped = true;
    await subscription.close().catch(() => undefined);
    // Received but never handed to the function: give them back at once rather than waiting for lock expiry.
    const left = pending;
    pending = [];
    await Promise.all(left.map((b) => settle(b.msg, () => receiver.abandonMessage(b.msg)).finally(b.settled)));
    // Batches being handled finish and settle while the receiver is still open.
    await Promise.allSettled([...runs]);
  };
  return { stop: () => (stopping ??= stop()) };
}

function serviceBusMetadata(msg: ServiceBusReceivedMessage): Record<string, unknown> {
  return {
    messageId: msg.messageId,
    correlationId: msg.correlationId,
    subject: msg.subject,
    contentType: msg.contentType,
    // The Functions host counts this delivery (1 on the first); the AMQP header counts earlier attempts only.
    deliveryCount: (msg.deliveryCount ?? 0) + 1,
    enqueuedTimeUtc: msg.enqueuedTimeUtc?.toISOString(),
    expiresAtUtc: msg.expiresAtUtc?.toISOString(),
    lockedUntilUtc: msg.lockedUntilUtc?.toISOString(),
    sequenceNumber: msg.sequenceNumber?.toString(),
    applicationProperties: msg.applicationProperties ?? {},
    userProperties: msg.applicationProperties ?? {},
  };
}

/** Batch trigger metadata as the Functions host binds it: one `<name>Array` per property, in message order. */
function serviceBusBatchMetadata(msgs: ServiceBusReceivedMessage[]): Record<string, unknown> {
  const each = msgs.map(serviceBusMetadata);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(each[0] ?? {})) out[`${key}Array`] = each.map((m) => m[key]);
  return out;
}
