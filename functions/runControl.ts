import type { InvocationContext } from '@azure/functions';
import { handleControl } from '../shared/dispatch/control';
import { controlMessage } from '../shared/dispatch/messages';
import { contextLogger } from '../shared/logger';
import { Connections, Queues } from '../shared/names';
import type { ServiceBusQueueFunction } from './definition';
import { runtime } from './runtime';

/** Service Bus (run-status): flush coalesced batches, poll runs until terminal, retry failed runs. */
export async function runControlHandler(message: unknown, context: InvocationContext): Promise<void> {
  await handleControl(controlMessage.parse(message), await runtime().dispatchDeps(contextLogger(context)));
}

export const runControl: ServiceBusQueueFunction = {
  kind: 'serviceBusQueue',
  name: 'runControl',
  queueName: Queues.runStatus,
  connection: Connections.serviceBus,
  handler: runControlHandler,
};
