import { HttpRequest, InvocationContext } from '@azure/functions';

/** An invocation context as the Functions host builds one (trigger metadata included), logging nowhere. */
export function invocation(functionName: string, triggerMetadata: Record<string, unknown> = {}): InvocationContext {
  return new InvocationContext({ invocationId: `test-${functionName}`, functionName, triggerMetadata, logHandler: () => undefined });
}

/** An HTTP request as the Functions host hands it to a handler. */
export function httpRequest(o: {
  method?: string;
  url: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  params?: Record<string, string>;
}): HttpRequest {
  const body = o.json !== undefined ? JSON.stringify(o.json) : o.body;
  return new HttpRequest({
    method: o.method ?? 'GET',
    url: o.url,
    headers: { ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
    ...(o.params ? { params: o.params } : {}),
    ...(body !== undefined ? { body: { string: body } } : {}),
  });
}
