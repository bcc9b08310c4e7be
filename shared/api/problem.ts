import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';

/** RFC 9457 problem details, with the offending fields named in `errors`. */
export const problemSchema = z
  .object({
    type: z.string().describe('URI reference identifying the problem type'),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    instance: z.string().describe('the request path (never the query: it may carry a function key)'),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof problemSchema>;
export type FieldError = { field: string; message: string };

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Thrown by request validation and API logic; turned into a problem+json response by the handler wrapper. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly slug: string,
    detail: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string, errors: FieldError[] = []): ApiError => new ApiError(400, 'validation', detail, errors);

/** zod issues → field errors; `prefix` is where the validated value sits (body, query, a header). */
export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    const keys = i.code === 'unrecognized_keys' ? (i as { keys?: string[] }).keys : undefined;
    const field = [prefix, path, keys && keys.length === 1 ? keys[0] : ''].filter(Boolean).join('.') || prefix || '(body)';
    return { field, message: i.message };
  });
}

export function validationError(error: z.ZodError, prefix = '', status = 400): ApiError {
  const errors = fieldErrors(error, prefix);
  return new ApiError(status, 'validation', `invalid request: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`.slice(0, 2000), errors);
}

export function problemResponse(
  status: number,
  slug: string,
  detail: string,
  instance: string,
  errors: FieldError[] = [],
  headers: Record<string, string> = {},
): HttpResponseInit {
  const body: Problem = {
    type: slug === 'about:blank' ? 'about:blank' : `urn:orbiter:problem:${slug}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    instance,
    ...(errors.length > 0 ? { errors } : {}),
  };
  return { status, headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

export function apiErrorResponse(err: ApiError, instance: string): HttpResponseInit {
  return problemResponse(err.status, err.slug, err.message, instance, err.errors, err.headers);
}
