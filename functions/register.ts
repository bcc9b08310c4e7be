import type { app as azureApp } from '@azure/functions';
import type { FunctionDefinition } from './definition';

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
        app.serviceBusQueue(def.name, { queueName: def.queueName, connection: def.connection, handler: def.handler });
        break;
    }
  }
}
