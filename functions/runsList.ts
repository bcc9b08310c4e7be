import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ApiRoles, authorize } from '../shared/api/auth';
import { apiCall, json } from '../shared/api/http';
import { originOf, queryObject } from '../shared/api/request';
import { listRuns } from '../shared/api/runs';
import type { HttpFunction } from './definition';
import { apiAuthMode, runApiAuthLevel, runApiDeps } from './runsApi';

/** GET /api/runs?dataset=&job=&state=&since=&limit=&cursor= */
export function runsListHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return apiCall(request, context, async () => {
    authorize(request, apiAuthMode(), [ApiRoles.read, ApiRoles.request]);
    return json(200, await listRuns(queryObject(request), originOf(request), await runApiDeps()));
  });
}

export const runsList: HttpFunction = {
  kind: 'http',
  name: 'runsList',
  route: 'runs',
  methods: ['GET'],
  authLevel: runApiAuthLevel,
  handler: runsListHandler,
};
