import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ensureError } from '../errors';
import { ApiError, apiErrorResponse, problemResponse } from './problem';
import { instanceOf } from './request';

/**
 * Runs an API handler: an ApiError becomes its problem+json response; anything else is our fault (a peer down, a
 * bug) and becomes a 500 problem without internals — logged with the invocation id so it can be found.
 */
export async function apiCall(request: HttpRequest, context: InvocationContext, fn: () => Promise<HttpResponseInit>): Promise<HttpResponseInit> {
  const instance = instanceOf(request);
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) return apiErrorResponse(err, instance);
    const e = ensureError(err);
    context.error(`Run API ${request.method} ${instance} failed: ${e.message}`);
    return problemResponse(500, 'internal', `unexpected error (invocation ${context.invocationId})`, instance);
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(body) };
}
