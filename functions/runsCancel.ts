import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ApiRoles, authorize } from '../shared/api/auth';
import { apiCall, json } from '../shared/api/http';
import { originOf } from '../shared/api/request';
import { cancelRun } from '../shared/api/runs';
import type { HttpFunction } from './definition';
import { apiAuthOf, runApiAuthLevel, type RunApiTriggerDeps } from './runsApi';

/** POST /api/runs/{id}/cancel: 200 cancelled before dispatch, 202 cancel asked of Databricks, 409 already finished. */
export const makeRunsCancel =
  (deps: RunApiTriggerDeps) =>
  (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    apiCall(request, context, async () => {
      const caller = await authorize(request, apiAuthOf(deps), [ApiRoles.request]);
      const out = await cancelRun(request.params['id'], originOf(request), await deps.runApi(), caller);
      return json(out.status, out.body);
    });

export const runsCancel = (deps: RunApiTriggerDeps): HttpFunction => ({
  kind: 'http',
  name: 'runsCancel',
  route: 'runs/{id}/cancel',
  methods: ['POST'],
  authLevel: runApiAuthLevel(deps.apiAuthMode),
  handler: makeRunsCancel(deps),
});
