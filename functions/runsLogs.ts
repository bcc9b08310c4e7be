import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ApiRoles, authorize } from '../shared/api/auth';
import { apiCall, json } from '../shared/api/http';
import { queryObject } from '../shared/api/request';
import { getRunLogs } from '../shared/api/runLogs';
import type { HttpFunction } from './definition';
import { apiAuthOf, runApiAuthLevel, type RunApiTriggerDeps } from './runsApi';

/** GET /api/runs/{id}/logs[?task=key] */
export const makeRunsLogs =
  (deps: RunApiTriggerDeps) =>
  (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    apiCall(request, context, async () => {
      await authorize(request, apiAuthOf(deps), [ApiRoles.read, ApiRoles.request]);
      const api = await deps.runApi();
      return json(200, await getRunLogs(request.params['id'], queryObject(request), { runs: api.runs, databricks: () => api.databricks() }));
    });

export const runsLogs = (deps: RunApiTriggerDeps): HttpFunction => ({
  kind: 'http',
  name: 'runsLogs',
  route: 'runs/{id}/logs',
  methods: ['GET'],
  authLevel: runApiAuthLevel(deps.apiAuthMode),
  handler: makeRunsLogs(deps),
});
