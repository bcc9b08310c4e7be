import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ApiRoles, authorize } from '../shared/api/auth';
import { apiCall, json } from '../shared/api/http';
import { originOf, readJsonBody } from '../shared/api/request';
import { createRuns } from '../shared/api/runs';
import type { HttpFunction } from './definition';
import { apiAuthMode, runApiAuthLevel, runApiDeps } from './runsApi';

/** POST /api/runs: request a run, or a backfill over from..to; 202 with the status URL(s). */
export function runsCreateHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return apiCall(request, context, async () => {
    authorize(request, apiAuthMode(), [ApiRoles.request]);
    const body = await readJsonBody(request);
    const out = await createRuns(
      body,
      {
        baseUrl: originOf(request),
        idempotencyKey: request.headers.get('idempotency-key'),
        correlationId: request.headers.get('x-correlation-id'),
        traceparent: request.headers.get('traceparent'),
      },
      await runApiDeps(),
    );
    return json(out.status, out.body, { location: out.body.statusUrl });
  });
}

export const runsCreate: HttpFunction = {
  kind: 'http',
  name: 'runsCreate',
  route: 'runs',
  methods: ['POST'],
  authLevel: runApiAuthLevel,
  handler: runsCreateHandler,
};
