import type { InvocationContext } from '@azure/functions';
import { handleControl } from '../shared/dispatch/control';
import { controlMessage } from '../shared/dispatch/messages';
import { contextLogger } from '../shared/logger';
import { Connections, Queues } from '../shared/names';
import type { DispatchDeps } from '../shared/dispatch/ports';
import type { Logger } from '../shared/logger';
import type { ServiceBusQueueFunction } from './definition';

export interface RunControlDeps {
  /** The dispatcher's ports, logging to this invocation. */
  dispatch(logger: Logger): Promise<DispatchDeps>;
}

/** Service Bus (run-status): flush coalesced batches, poll runs until terminal, retry failed runs. */
export const makeRunControl =
  (deps: RunControlDeps) =>
  async (message: unknown, context: InvocationContext): Promise<void> => {
    await handleControl(controlMessage.parse(message), await deps.dispatch(contextLogger(context)));
  };

export const runControl = (deps: RunControlDeps): ServiceBusQueueFunction => ({
  kind: 'serviceBusQueue',
  name: 'runControl',
  queueName: Queues.runStatus,
  connection: Connections.serviceBus,
  handler: makeRunControl(deps),
});
