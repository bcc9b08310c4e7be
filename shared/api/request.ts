import type { HttpRequest } from '@azure/functions';
import { isOrbiterError } from '../errors';
import { readLimited } from '../http/limitedBody';
import { ApiError, badRequest } from './problem';
import { ApiLimits } from './schemas';

/** The path a problem names as `instance`: never the query string, which may carry a function key. */
export function instanceOf(request: Pick<HttpRequest, 'url'>): string {
  try {
    return new URL(request.url).pathname;
  } catch {
    return '/';
  }
}

/** Origin for status URLs (the host the caller reached). */
export function originOf(request: Pick<HttpRequest, 'url'>): string {
  try {
    return new URL(request.url).origin;
  } catch {
    return '';
  }
}

/**
 * Reads a JSON body strictly: size limit counted while reading (a larger upload is cut off, never buffered; the
 * host's own limit is larger), application/json only, UTF-8 that parses. Anything else is a 4xx naming what is wrong.
 */
export async function readJsonBody(request: HttpRequest, maxBytes: number = ApiLimits.maxBodyBytes): Promise<unknown> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const tooLarge = (): ApiError =>
    new ApiError(413, 'body-too-large', `request body exceeds ${maxBytes} bytes`, [{ field: '(body)', message: `at most ${maxBytes} bytes` }]);
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (type !== 'application/json') {
    throw new ApiError(
      415,
      'unsupported-media-type',
      'expected content-type application/json',
      [{ field: 'content-type', message: 'must be application/json' }],
      {
        'accept-post': 'application/json',
      },
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readLimited(request.body, maxBytes);
  } catch (err) {
    if (isOrbiterError(err, 'BodyTooLarge')) throw tooLarge();
    throw err;
  }
  if (bytes.length === 0) throw badRequest('a JSON body is required', [{ field: '(body)', message: 'required' }]);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('body is not valid UTF-8', [{ field: '(body)', message: 'not valid UTF-8' }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // Deeply nested input can overflow the parser's stack: still the caller's bad JSON.
    const why = err instanceof SyntaxError ? err.message : 'could not be parsed';
    throw badRequest(`body is not valid JSON: ${why}`.slice(0, 300), [{ field: '(body)', message: 'malformed JSON' }]);
  }
}

/** Query parameters as a plain object; a repeated parameter is a 400 (ambiguous). */
export function queryObject(request: HttpRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of request.query.entries()) {
    if (k in out) throw badRequest(`query parameter ${k} is repeated`, [{ field: `query.${k}`, message: 'given more than once' }]);
    out[k] = v;
  }
  return out;
}
