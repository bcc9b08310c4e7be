import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse, type HttpRequestInit } from '@azure/functions';
import type { HttpFunction } from 'orbiter/functions/definition';
import { send } from './httpIo';
import type { Invoker } from './invoker';
import { declaredTooLarge, streamBody } from './requestBody';
import { compileRoute, type CompiledRoute } from './routes';

export interface HttpTriggerOptions {
  invoker: Invoker;
  /** The host's own origin (request URLs the functions see). */
  origin(): string;
  /** Whether the request carries the function key. */
  authorized(req: IncomingMessage, url: URL): boolean;
  maxBodyBytes?: number | undefined;
}

/** HTTP functions under /api: routes with {param} segments, methods, function-key auth, the request as the host builds it. */
export class HttpTriggers {
  private readonly routes: { def: HttpFunction; route: CompiledRoute }[];

  constructor(
    defs: readonly HttpFunction[],
    private readonly o: HttpTriggerOptions,
  ) {
    this.routes = defs.map((def) => ({ def, route: compileRoute(def.route) }));
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice(4) || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const candidates = this.routes.map((r) => ({ ...r, params: r.route.match(path) })).filter((r) => r.params);
    if (candidates.length === 0) return send(res, 404, { error: 'not found' });
    const hit = candidates.find((r) => r.def.methods.includes(method as HttpFunction['methods'][number]));
    if (!hit) return send(res, 405, { error: `method ${method} not allowed` }, { allow: candidates.flatMap((c) => c.def.methods).join(', ') });
    if (hit.def.authLevel !== 'anonymous' && !this.o.authorized(req, url)) {
      // Azure answers 401 with an empty body for a missing or wrong function key.
      res.writeHead(401).end();
      return;
    }
    const limit = this.o.maxBodyBytes ?? 100 * 1024 * 1024;
    if (declaredTooLarge(req, limit)) return tooLarge(res);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    // The body is streamed to the function, never buffered here (Azure with enableHttpStream builds the same
    // native Request around its proxied stream; the library's public init takes only whole bodies).
    const body = streamBody(req, limit);
    const request = new HttpRequest({
      nativeRequest: new Request(`${this.o.origin()}${url.pathname}${url.search}`, {
        method,
        headers,
        ...(body.stream ? { body: body.stream, duplex: 'half' } : {}),
      }),
      params: hit.params!,
    } as unknown as HttpRequestInit);
    const outcome = await this.o.invoker.invoke(hit.def.name, { headers, query: Object.fromEntries(url.searchParams) }, (ctx) =>
      hit.def.handler(request, ctx),
    );
    if (body.overLimit) return tooLarge(res);
    // An unread rest of the body would be taken for the next request on this connection: close it instead.
    const close: Record<string, string> = body.complete ? {} : { connection: 'close' };
    if (!outcome.ok) return send(res, 500, { error: 'function failed' }, close);
    const response = new HttpResponse(outcome.result as ConstructorParameters<typeof HttpResponse>[0]);
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, { ...out, ...close });
    res.end(Buffer.from(await response.arrayBuffer()));
  }
}

/** Over the host's limit (Azure's is 100 MB): 413 and the connection closed, the rest of the upload unread. */
function tooLarge(res: ServerResponse): void {
  send(res, 413, { error: 'request body too large' }, { connection: 'close' });
}
