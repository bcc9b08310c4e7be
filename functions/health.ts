import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { runHealthChecks, type HealthProbe } from '../shared/api/health';
import { apiCall, json } from '../shared/api/http';
import { ORBITER_VERSION } from '../shared/version';
import type { HttpFunction } from './definition';

export interface HealthDeps {
  /** One probe per peer; undefined where the peer is not configured (reported as skipped). */
  healthProbes(): Record<string, HealthProbe | undefined>;
}

/** GET /api/health (anonymous): storage, Service Bus and Databricks reachability; 200 or 503, no secrets. */
export const makeHealth =
  (deps: HealthDeps) =>
  (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    apiCall(request, context, async () => {
      const out = await runHealthChecks(deps.healthProbes(), ORBITER_VERSION);
      return json(out.status, out.body);
    });

export const health = (deps: HealthDeps): HttpFunction => ({
  kind: 'http',
  name: 'health',
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: makeHealth(deps),
});
