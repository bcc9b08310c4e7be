import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of a peer (the Databricks Jobs API, Azurite's blob or table endpoint) that lets a scenario
 * decide, per request, what the caller experiences: the real answer, an injected status (429 storms, 500s), a
 * dropped connection, a delay, or the real answer withheld after the peer processed the request (a timeout or a
 * crash right after the call succeeded). Every call is recorded.
 */
export interface TapRequest {
  /** 1-based arrival number of this request. */
  n: number;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type TapAction =
  | { kind: 'pass' }
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'delay'; ms: number }
  /** Close the connection without forwarding: the peer never saw the request. */
  | { kind: 'drop' }
  /** Run `then` and drop the connection without forwarding (e.g. kill the caller just before the call lands). */
  | { kind: 'before'; then: () => Promise<void> }
  /** Forward, then decide what the caller gets once the peer has answered (it did process the request). */
  | { kind: 'after'; then: (up: Upstream) => Promise<AfterAction> | AfterAction };

export type AfterAction = { kind: 'deliver' } | { kind: 'drop' } | { kind: 'hold'; ms: number } | { kind: 'respond'; status: number; body?: unknown };

export type TapRule = (r: TapRequest) => TapAction | undefined;

export interface TapCall {
  n: number;
  method: string;
  path: string;
  at: number;
  /** What the caller got: a status, or 'dropped'. */
  outcome: number | 'dropped';
  injected: boolean;
}

export interface TapProxy {
  url: string;
  port: number;
  calls: TapCall[];
  /** Replaces the rule (undefined: pass everything). */
  setRule(rule: TapRule | undefined): void;
  close(): Promise<void>;
}

export async function startTapProxy(target: string, opts: { port?: number } = {}): Promise<TapProxy> {
  const t = new URL(target);
  let rule: TapRule | undefined;
  let n = 0;
  const calls: TapCall[] = [];

  const forward = (r: TapRequest): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...r.headers, host: t.host, 'content-length': String(r.body.length) };
      delete headers['transfer-encoding'];
      const qs = r.query.toString();
      const up = request({ host: t.hostname, port: t.port, method: r.method, path: `${r.path}${qs ? `?${qs}` : ''}`, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(r.body);
    });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://tap');
        const r: TapRequest = {
          n: ++n,
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks),
          at: Date.now(),
        };
        const call: TapCall = { n: r.n, method: r.method, path: r.path, at: r.at, outcome: 'dropped', injected: false };
        calls.push(call);
        const deliver = (up: Upstream): void => {
          call.outcome = up.status;
          // The body was buffered: a chunked answer gets a length; otherwise the peer's headers stand (HEAD included).
          const headers = { ...up.headers };
          if (headers['transfer-encoding']) {
            delete headers['transfer-encoding'];
            headers['content-length'] = String(up.body.length);
          }
          res.writeHead(up.status, headers);
          res.end(up.body);
        };
        const respond = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
          call.outcome = status;
          call.injected = true;
          const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
          res.end(text);
        };
        const drop = (): void => {
          call.outcome = 'dropped';
          call.injected = true;
          req.socket.destroy();
        };
        try {
          const action = rule?.(r) ?? { kind: 'pass' };
          switch (action.kind) {
            case 'respond':
              return respond(action.status, action.body, action.headers);
            case 'drop':
              return drop();
            case 'before':
              await action.then();
              return drop();
            case 'delay':
              await new Promise((w) => setTimeout(w, action.ms));
              return deliver(await forward(r));
            case 'pass':
              return deliver(await forward(r));
            case 'after': {
              const up = await forward(r);
              const next = await action.then(up);
              if (next.kind === 'deliver') return deliver(up);
              if (next.kind === 'drop') return drop();
              if (next.kind === 'respond') return respond(next.status, next.body);
              await new Promise((w) => setTimeout(w, next.ms));
              call.injected = true;
              if (!res.destroyed) deliver(up);
              return;
            }
          }
        } catch (err) {
          if (!res.headersSent) respond(502, { error: String(err) });
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    setRule: (r) => {
      rule = r;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A 429 as Databricks sends it when a workspace's rate limit is hit. */
export const throttled = (retryAfterSeconds = 1): TapAction => ({
  kind: 'respond',
  status: 429,
  headers: { 'retry-after': String(retryAfterSeconds) },
  body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'Too many requests (injected by the fault suite)' },
});

export const serverError = (): TapAction => ({
  kind: 'respond',
  status: 500,
  body: { error_code: 'INTERNAL_ERROR', message: 'injected by the fault suite' },
});
