import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { runHealthChecks } from '../shared/api/health';
import { apiCall, json } from '../shared/api/http';
import { Queues } from '../shared/names';
import { ORBITER_VERSION } from '../shared/version';
import type { HttpFunction } from './definition';
import { runtime } from './runtime';

/** GET /api/health (anonymous): storage, Service Bus and Databricks reachability; 200 or 503, no secrets. */
export function healthHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return apiCall(request, context, async () => {
    const rt = runtime();
    const c = rt.config;
    const out = await runHealthChecks(
      {
        storage: async () => {
          await rt.runs.list({ limit: 1 });
        },
        serviceBus:
          c.ServiceBusConnection || c.ServiceBusConnection__fullyQualifiedNamespace
            ? async (signal) => {
                const receiver = rt.bus.createReceiver(Queues.runRequests, { receiveMode: 'peekLock' });
                try {
                  await receiver.peekMessages(1, { abortSignal: signal });
                } finally {
                  await receiver.close().catch(() => undefined);
                }
              }
            : undefined,
        databricks: c.DATABRICKS_HOST
          ? async (signal) => {
              await (await rt.jobs()).listJobs({ limit: 1 }, { abortSignal: signal, timeoutMs: 5000 });
            }
          : undefined,
      },
      ORBITER_VERSION,
    );
    return json(out.status, out.body);
  });
}

export const health: HttpFunction = {
  kind: 'http',
  name: 'health',
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: healthHandler,
};
