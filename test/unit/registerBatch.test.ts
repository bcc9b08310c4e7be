/** Registration of a batch (cardinality many) Service Bus function with the Azure Functions programming model. */
import { InvocationContext, type app as azureApp } from '@azure/functions';
import type { ServiceBusQueueBatchFunction } from '../../functions/definition';
import { dispatchRunRequests } from '../../functions/dispatchRunRequests';
import { fakeDeps } from '../support/dispatchFakes';
import { azureBatchHandler, registerWithAzure } from '../../functions/register';

function fakeApp() {
  const registered: { name: string; options: Record<string, unknown> }[] = [];
  const app = {
    serviceBusQueue: (name: string, options: Record<string, unknown>) => void registered.push({ name, options }),
  } as unknown as typeof azureApp;
  return { app, registered };
}

const ctx = (meta: Record<string, unknown>) =>
  new InvocationContext({ invocationId: 'i', functionName: 'f', triggerMetadata: meta, logHandler: () => undefined });

describe('batch Service Bus functions in Azure', () => {
  it('dispatchRunRequests is registered with cardinality many', () => {
    const { app, registered } = fakeApp();
    registerWithAzure(app, [dispatchRunRequests({ dispatch: async () => fakeDeps({ t: 0 }) })]);
    expect(registered).toHaveLength(1);
    expect(registered[0]!.options).toMatchObject({ queueName: 'run-requests', connection: 'ServiceBusConnection', cardinality: 'many' });
  });

  it('the handler gets the batch as an array of bodies', async () => {
    const seen: unknown[][] = [];
    const def: ServiceBusQueueBatchFunction = {
      kind: 'serviceBusQueue',
      name: 'b',
      queueName: 'q',
      connection: 'c',
      cardinality: 'many',
      handler: async (bodies) => {
        seen.push(bodies);
        await Promise.resolve();
      },
    };
    const handler = azureBatchHandler(def);
    await expect(handler([{ a: 1 }, { a: 2 }], ctx({ messageIdArray: ['m1', 'm2'] }))).resolves.toBeUndefined();
    await expect(handler({ a: 3 }, ctx({ messageIdArray: ['m3'] }))).resolves.toBeUndefined();
    expect(seen).toEqual([[{ a: 1 }, { a: 2 }], [{ a: 3 }]]);
  });
});
