import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ApiRoles, authorize } from '../shared/api/auth';
import { apiCall, json } from '../shared/api/http';
import { originOf, readJsonBody } from '../shared/api/request';
import { createRuns } from '../shared/api/runs';
import type { HttpFunction } from './definition';
import { apiAuthOf, runApiAuthLevel, type RunApiTriggerDeps } from './runsApi';

/** POST /api/runs: request a run, or a backfill over from..to; 202 with the status URL(s). */
export const makeRunsCreate =
  (deps: RunApiTriggerDeps) =>
  (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    apiCall(request, context, async () => {
      const caller = await authorize(request, apiAuthOf(deps), [ApiRoles.request]);
      const body = await readJsonBody(request);
      const out = await createRuns(
        body,
        {
          baseUrl: originOf(request),
          idempotencyKey: request.headers.get('idempotency-key'),
          callerId: caller.id,
          correlationId: request.headers.get('x-correlation-id'),
          traceparent: request.headers.get('traceparent'),
        },
        await deps.runApi(),
      );
      return json(out.status, out.body, { location: out.body.statusUrl });
    });

export const runsCreate = (deps: RunApiTriggerDeps): HttpFunction => ({
  kind: 'http',
  name: 'runsCreate',
  route: 'runs',
  methods: ['POST'],
  authLevel: runApiAuthLevel(deps.apiAuthMode),
  handler: makeRunsCreate(deps),
});
