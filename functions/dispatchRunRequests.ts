import { createHash } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import { acceptRunRequests, validateRunRequests } from '../shared/dispatch/accept';
import { contextLogger } from '../shared/logger';
import { Connections, Queues } from '../shared/names';
import type { ServiceBusQueueBatchFunction } from './definition';
import type { RunControlDeps } from './runControl';

export type DispatchRunRequestsDeps = RunControlDeps;

/**
 * Service Bus (run-requests), a batch per invocation: validate each message, then add landed blobs to their
 * coalescing batches (grouped by dataset and window) or dispatch Run API requests directly. Never waits on Databricks.
 * Messages that can never be valid go to run-failures' dead-letter queue with the reason (the same path in Azure,
 * where a batch can only be settled as a whole, and locally) and do not hold up the others; any other error fails
 * the whole batch, which is safe to redeliver (every write is idempotent).
 */
export const makeDispatchRunRequests =
  (app: DispatchRunRequestsDeps) =>
  async (messages: unknown[], context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const deps = await app.dispatch(log);
    const { valid, rejected } = validateRunRequests(messages, deps.catalog);
    const ids = (context.triggerMetadata?.['messageIdArray'] as unknown[] | undefined) ?? [];
    const accepted = await acceptRunRequests(
      valid.map(({ index, request }) => ({ request, index })),
      deps,
    );
    for (const r of [...rejected, ...accepted.rejected]) {
      const body = messages[r.index];
      const id =
        ids[r.index] !== undefined
          ? String(ids[r.index])
          : createHash('sha256')
              .update(JSON.stringify(body) ?? String(body))
              .digest('hex')
              .slice(0, 32);
      log.error('run request rejected: parked in the dead-letter queue of run-failures', {
        messageId: id,
        reason: r.reason,
        description: r.description,
      });
      await deps.failures.parkMessage({ messageId: `rejected-${id}`, body, reason: r.reason, description: r.description });
    }
  };

export const dispatchRunRequests = (deps: DispatchRunRequestsDeps): ServiceBusQueueBatchFunction => ({
  kind: 'serviceBusQueue',
  name: 'dispatchRunRequests',
  queueName: Queues.runRequests,
  connection: Connections.serviceBus,
  cardinality: 'many',
  handler: makeDispatchRunRequests(deps),
});
