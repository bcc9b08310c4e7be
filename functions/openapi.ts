import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { apiCall, json } from '../shared/api/http';
import { buildOpenApi } from '../shared/api/openapi';
import { originOf } from '../shared/api/request';
import type { HttpFunction } from './definition';

/** GET /api/openapi.json (anonymous): the OpenAPI 3.1 document generated from the API's zod schemas. */
export const makeOpenapi =
  () =>
  (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    apiCall(request, context, () => Promise.resolve(json(200, buildOpenApi(originOf(request) || '/'), { 'cache-control': 'public, max-age=300' })));

export const openapi = (): HttpFunction => ({
  kind: 'http',
  name: 'openapi',
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: makeOpenapi(),
});
