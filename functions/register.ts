import type { app as azureApp, InvocationContext } from '@azure/functions';
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
      case 'blobEvent':
        // An Event Grid trigger, not a blob trigger: a blob trigger (even with source EventGrid) has the host download
        // the whole blob before the function runs.
        app.eventGrid(def.name, { handler: def.handler });
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

/** The batch as an array of bodies, whatever shape the host hands over (a single message arrives unwrapped). */
export function azureBatchHandler(def: ServiceBusQueueBatchFunction): (messages: unknown, context: InvocationContext) => Promise<void> {
  return (messages, context) => def.handler(Array.isArray(messages) ? messages : [messages], context);
}
