import { z } from 'zod';
import { ORBITER_VERSION } from '../version';
import { ApiRoles } from './auth';
import { problemSchema } from './problem';
import {
  cancelRunResponse,
  createRunBody,
  createRunResponse,
  healthResponse,
  listRunsQuery,
  listRunsResponse,
  runIdSchema,
  runLogsView,
  runTaskView,
  runView,
} from './schemas';

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, the dialect of OpenAPI 3.1) of a zod schema, without the per-document keys. */
function schemaOf(s: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const out = z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any', reused: 'inline' }) as Json;
  delete out['$schema'];
  return out;
}

/** The named schemas as components; nested named schemas become $refs between components. */
function components(): Record<string, Json> {
  const reg = z.registry<{ id: string }>();
  for (const s of [
    createRunBody,
    createRunResponse,
    runView,
    listRunsResponse,
    cancelRunResponse,
    runTaskView,
    runLogsView,
    healthResponse,
    problemSchema,
  ]) {
    const id = (s.meta() as { id?: string } | undefined)?.id;
    if (id) reg.add(s, { id });
  }
  const out = z.toJSONSchema(reg, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as {
    schemas: Record<string, Json>;
  };
  for (const v of Object.values(out.schemas)) {
    delete v['$schema'];
    delete v['id'];
    delete v['$id'];
  }
  return out.schemas;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const problemContent = { 'application/problem+json': { schema: ref('Problem') } };
const problems = (...codes: number[]): Json =>
  Object.fromEntries(codes.map((c) => [String(c), { description: `problem (RFC 9457)`, content: problemContent }]));

/** The OpenAPI 3.1 document of the Run API, generated from the same zod schemas the handlers validate with. */
export function buildOpenApi(serverUrl = '/'): Json {
  const shape = (listRunsQuery as unknown as { shape: Record<string, z.ZodType> }).shape;
  const queryParams = Object.entries(shape)
    .filter(([name]) => name !== 'code')
    .map(([name, s]) => ({ name, in: 'query', required: false, schema: schemaOf(s, 'input') }));
  const idParam = { name: 'id', in: 'path', required: true, schema: schemaOf(runIdSchema, 'input') };
  const secured = (role: string): Json[] => [{ functionKey: [] }, { functionKeyQuery: [] }, { entra: [role] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Orbiter Run API',
      version: ORBITER_VERSION,
      description: 'Request Databricks pipeline runs for NASA datasets and read their status.',
    },
    servers: [{ url: serverUrl }],
    paths: {
      '/api/runs': {
        post: {
          operationId: 'createRun',
          summary: 'Request a run (or a backfill: one run per window of from..to)',
          security: secured(ApiRoles.request),
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'Replays the first request with this key (per caller) for RUN_API_IDEMPOTENCY_TTL_HOURS (default 24); a different body with it is a 409',
              schema: { type: 'string', maxLength: 200 },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateRunRequest') } } },
          responses: {
            '202': {
              description: 'accepted',
              headers: { Location: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: ref('CreateRunResponse') } },
            },
            ...problems(400, 401, 403, 409, 413, 415, 422),
            '429': {
              description: 'the caller spent its run quota (RUN_API_QUOTA_PER_MINUTE runs per minute; a backfill counts one per window)',
              headers: { 'Retry-After': { description: 'seconds until the request would fit the quota', schema: { type: 'integer' } } },
              content: problemContent,
            },
          },
        },
        get: {
          operationId: 'listRuns',
          summary: 'List runs, newest first (by request time), with a cursor; a page filtered by state may hold fewer than limit',
          security: secured(ApiRoles.read),
          parameters: queryParams,
          responses: {
            '200': { description: 'a page of runs', content: { 'application/json': { schema: ref('RunList') } } },
            ...problems(400, 401, 403),
          },
        },
      },
      '/api/runs/{id}': {
        get: {
          operationId: 'getRun',
          security: secured(ApiRoles.read),
          parameters: [idParam],
          responses: { '200': { description: 'the run', content: { 'application/json': { schema: ref('Run') } } }, ...problems(400, 401, 403, 404) },
        },
      },
      '/api/runs/{id}/logs': {
        get: {
          operationId: 'getRunLogs',
          summary: "Each task's stdout/stderr, exit value and error (Jobs API runs/get-output), optionally one task",
          security: secured(ApiRoles.read),
          parameters: [idParam, { name: 'task', in: 'query', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' } }],
          responses: {
            '200': { description: 'the logs per task', content: { 'application/json': { schema: ref('RunLogs') } } },
            ...problems(400, 401, 403, 404),
          },
        },
      },
      '/api/runs/{id}/cancel': {
        post: {
          operationId: 'cancelRun',
          security: secured(ApiRoles.request),
          parameters: [idParam],
          responses: {
            '200': { description: 'cancelled before dispatch', content: { 'application/json': { schema: ref('CancelRunResponse') } } },
            '202': { description: 'cancellation requested from Databricks', content: { 'application/json': { schema: ref('CancelRunResponse') } } },
            ...problems(400, 401, 403, 404, 409),
          },
        },
      },
      '/api/health': {
        get: {
          operationId: 'health',
          security: [],
          responses: {
            '200': { description: 'all checks ok', content: { 'application/json': { schema: ref('Health') } } },
            '503': { description: 'a check failed', content: { 'application/json': { schema: ref('Health') } } },
          },
        },
      },
      '/api/openapi.json': { get: { operationId: 'openapi', security: [], responses: { '200': { description: 'this document' } } } },
    },
    components: {
      schemas: components(),
      securitySchemes: {
        functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
        functionKeyQuery: { type: 'apiKey', in: 'query', name: 'code' },
        entra: {
          type: 'oauth2',
          description: `Microsoft Entra ID through App Service authentication; app roles ${ApiRoles.read} and ${ApiRoles.request}`,
          flows: {
            clientCredentials: {
              tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
              scopes: { [ApiRoles.read]: 'read runs', [ApiRoles.request]: 'request and cancel runs' },
            },
          },
        },
      },
    },
  };
}
