import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ApiRoles, authorize } from '../shared/api/auth';
import { apiCall, json } from '../shared/api/http';
import { originOf } from '../shared/api/request';
import { getRun } from '../shared/api/runs';
import type { HttpFunction } from './definition';
import { apiAuthOf, runApiAuthLevel, type RunApiTriggerDeps } from './runsApi';

/** GET /api/runs/{id} */
export const makeRunsGet =
  (deps: RunApiTriggerDeps) =>
  (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    apiCall(request, context, async () => {
      await authorize(request, apiAuthOf(deps), [ApiRoles.read, ApiRoles.request]);
      return json(200, await getRun(request.params['id'], originOf(request), await deps.runApi()));
    });

export const runsGet = (deps: RunApiTriggerDeps): HttpFunction => ({
  kind: 'http',
  name: 'runsGet',
  route: 'runs/{id}',
  methods: ['GET'],
  authLevel: runApiAuthLevel(deps.apiAuthMode),
  handler: makeRunsGet(deps),
});
