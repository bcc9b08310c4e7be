import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ApiRoles, authorize } from '../shared/api/auth';
import { apiCall, json } from '../shared/api/http';
import { originOf } from '../shared/api/request';
import { getRun } from '../shared/api/runs';
import type { HttpFunction } from './definition';
import { apiAuthMode, runApiAuthLevel, runApiDeps } from './runsApi';

/** GET /api/runs/{id} */
export function runsGetHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return apiCall(request, context, async () => {
    authorize(request, apiAuthMode(), [ApiRoles.read, ApiRoles.request]);
    return json(200, await getRun(request.params['id'], originOf(request), await runApiDeps()));
  });
}

export const runsGet: HttpFunction = {
  kind: 'http',
  name: 'runsGet',
  route: 'runs/{id}',
  methods: ['GET'],
  authLevel: runApiAuthLevel,
  handler: runsGetHandler,
};
