import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse } from '@azure/functions';
import type { HttpFunction } from 'orbiter/functions/definition';
import { readBody, send } from './httpIo';
import type { Invoker } from './invoker';
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
    const body = await readBody(req, limit);
    if (body === 'too-large') return send(res, 413, { error: 'request body too large' });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const request = new HttpRequest({
      method,
      url: `${this.o.origin()}${url.pathname}${url.search}`,
      headers,
      query: Object.fromEntries(url.searchParams),
      params: hit.params!,
      ...(body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const outcome = await this.o.invoker.invoke(hit.def.name, { headers, query: Object.fromEntries(url.searchParams) }, (ctx) =>
      hit.def.handler(request, ctx),
    );
    if (!outcome.ok) return send(res, 500, { error: 'function failed' });
    const response = new HttpResponse(outcome.result as ConstructorParameters<typeof HttpResponse>[0]);
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, out);
    res.end(Buffer.from(await response.arrayBuffer()));
  }
}
