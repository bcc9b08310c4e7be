import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ApiRoles, authorize } from '../shared/api/auth';
import { apiCall, json } from '../shared/api/http';
import { originOf, queryObject } from '../shared/api/request';
import { listRuns } from '../shared/api/runs';
import type { HttpFunction } from './definition';
import { apiAuthOf, runApiAuthLevel, type RunApiTriggerDeps } from './runsApi';

/** GET /api/runs?dataset=&job=&state=&since=&limit=&cursor= */
export const makeRunsList =
  (deps: RunApiTriggerDeps) =>
  (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    apiCall(request, context, async () => {
      await authorize(request, apiAuthOf(deps), [ApiRoles.read, ApiRoles.request]);
      return json(200, await listRuns(queryObject(request), originOf(request), await deps.runApi()));
    });

export const runsList = (deps: RunApiTriggerDeps): HttpFunction => ({
  kind: 'http',
  name: 'runsList',
  route: 'runs',
  methods: ['GET'],
  authLevel: runApiAuthLevel(deps.apiAuthMode),
  handler: makeRunsList(deps),
});
