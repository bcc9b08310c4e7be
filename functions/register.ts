import type { app as azureApp, InvocationContext } from '@azure/functions';
import { OrbiterError } from '../shared/errors';
import type { FunctionDefinition, ServiceBusQueueBatchFunction } from './definition';

/** Registers definitions with the Azure Functions programming model (only ever called inside the real host). */
export function registerWithAzure(app: typeof azureApp, defs: readonly FunctionDefinition[]): void {
  for (const def of defs) {
    switch (def.kind) {
      case 'timer':
        app.timer(def.name, {
          schedule: def.schedule,
          runOnStartup: def.runOnStartup ?? false,
          ...(def.retry ? { retry: def.retry } : {}),
          handler: def.handler,
        });
        break;
      case 'http':
        app.http(def.name, { route: def.route, methods: def.methods, authLevel: def.authLevel, handler: def.handler });
        break;
      case 'blob':
        // Flex Consumption only supports the Event Grid-based blob trigger.
        app.storageBlob(def.name, { path: def.path, connection: def.connection, source: 'EventGrid', handler: def.handler });
        break;
      case 'serviceBusQueue':
        if (def.cardinality === 'many') {
          app.serviceBusQueue(def.name, {
            queueName: def.queueName,
            connection: def.connection,
            cardinality: 'many',
            handler: azureBatchHandler(def),
          });
        } else {
          app.serviceBusQueue(def.name, { queueName: def.queueName, connection: def.connection, handler: def.handler });
        }
        break;
    }
  }
}

/**
 * Azure auto-completes or abandons a batch as a whole (autoCompleteMessages), so a member the handler wants
 * dead-lettered cannot be settled on its own there: the batch fails after the valid members were accepted (their
 * writes are idempotent, so every redelivery repeats them harmlessly) and Service Bus dead-letters the batch once
 * MaxDeliveryCount is reached; the error names each rejected message. The local host dead-letters just the members.
 */
export function azureBatchHandler(def: ServiceBusQueueBatchFunction): (messages: unknown, context: InvocationContext) => Promise<void> {
  return async (messages, context) => {
    const bodies = Array.isArray(messages) ? messages : [messages];
    const result = await def.handler(bodies, context);
    const rejected = result?.deadLetter ?? [];
    if (rejected.length === 0) return;
    const ids = (context.triggerMetadata?.['messageIdArray'] as unknown[] | undefined) ?? [];
    const named = rejected.map((r) => `${String(ids[r.index] ?? `#${r.index}`)} (${r.reason}: ${r.description})`);
    throw new OrbiterError(
      'MessageInvalid',
      `${rejected.length} of ${bodies.length} messages cannot be processed: ${named.join('; ')}`.slice(0, 4000),
      {
        details: { rejected: rejected.map((r) => ({ messageId: ids[r.index], reason: r.reason })) },
      },
    );
  };
}
