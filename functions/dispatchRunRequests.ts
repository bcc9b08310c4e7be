import type { InvocationContext } from '@azure/functions';
import { acceptRunRequest } from '../shared/dispatch/dispatcher';
import { contextLogger } from '../shared/logger';
import { runRequestV1 } from '../shared/messages/runRequest';
import { Connections, Queues } from '../shared/names';
import type { ServiceBusQueueFunction } from './definition';
import { runtime } from './runtime';

/** Service Bus (run-requests): validate, then batch for coalescing or dispatch directly. Never waits on Databricks. */
export async function dispatchRunRequestsHandler(message: unknown, context: InvocationContext): Promise<void> {
  // A message that is not a valid run request fails every delivery and ends in the dead-letter queue.
  const request = runRequestV1.parse(message);
  await acceptRunRequest(request, await runtime().dispatchDeps(contextLogger(context)));
}

export const dispatchRunRequests: ServiceBusQueueFunction = {
  kind: 'serviceBusQueue',
  name: 'dispatchRunRequests',
  queueName: Queues.runRequests,
  connection: Connections.serviceBus,
  handler: dispatchRunRequestsHandler,
};
