import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { OrbiterConfig } from 'orbiter/shared/config';
import { ensureError } from 'orbiter/shared/errors';
import type { Logger } from 'orbiter/shared/logger';
import type { StorageClients } from 'orbiter/shared/storage/clients';
import type { BlobEventFunction, FunctionDefinition, HttpFunction, ServiceBusQueueFunction, TimerFunction } from 'orbiter/functions/definition';
import { isOwnHost } from 'orbiter/shared/http/hostCheck';
import { handleEventGridWebhook } from './eventGridWebhook';
import { send } from './httpIo';
import { HttpTriggers } from './httpTriggers';
import { Invoker, type InvocationOutcome } from './invoker';
import { startServiceBusTriggers } from './serviceBusTriggers';
import { fireTimer, startTimers } from './timers';

export type { InvocationOutcome } from './invoker';

export interface HostOptions {
  definitions: readonly FunctionDefinition[];
  config: OrbiterConfig;
  /** App settings for %NAME% resolution (the environment the functions see). */
  settings: Record<string, string | undefined>;
  storage: StorageClients;
  functionKey: string;
  logger: Logger;
  port?: number;
  /** Start timers on their schedules (off in tests that fire them by hand). */
  timers?: boolean;
  /** Start Service Bus triggers (needs ServiceBusConnection). */
  serviceBus?: boolean;
  /**
   * Start the Service Bus triggers only once this settles successfully (the local stack: once the bundle has deployed
   * the jobs the dispatcher starts). Messages sent before wait in their queue, as they would for a stopped app.
   */
  serviceBusAfter?: Promise<unknown>;
  /** From host.json extensions.serviceBus: single-message functions invoked at once (default 16). */
  maxConcurrentCalls?: number;
  /** From host.json extensions.serviceBus: most messages per invocation of a `cardinality: 'many'` function (default 1000). */
  maxMessageBatchSize?: number;
  /** Batches of one batch function in flight at once (default 2: the next batch is received while one runs). */
  maxConcurrentBatches?: number;
  maxBodyBytes?: number;
}

/**
 * A local Functions host for the very definitions functions/index.ts registers in Azure: timers by NCRONTAB
 * (timers.ts), HTTP under /api with function keys (httpTriggers.ts), Event Grid blob notifications at
 * /runtime/webhooks/eventgrid (eventGridWebhook.ts), and Service Bus queue triggers in peekLock (serviceBusTriggers.ts).
 */
export class FunctionHost {
  private server: Server | undefined;
  private timers: { stop(): void } | undefined;
  private serviceBus: { stop(): Promise<void> } | undefined;
  private stopped = false;
  private readonly invoker: Invoker;
  private readonly http: HttpTriggers;

  constructor(private readonly opts: HostOptions) {
    this.invoker = new Invoker(opts.logger);
    this.http = new HttpTriggers(
      opts.definitions.filter((d): d is HttpFunction => d.kind === 'http'),
      { invoker: this.invoker, origin: () => this.url, authorized: (req, url) => this.authorized(req, url), maxBodyBytes: opts.maxBodyBytes },
    );
  }

  /** Every invocation so far (the stack prints, tests assert). */
  get invocations(): { name: string; outcome: InvocationOutcome }[] {
    return this.invoker.invocations;
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    return `http://127.0.0.1:${addr?.port ?? this.opts.port ?? 7071}`;
  }

  definition<K extends FunctionDefinition['kind']>(name: string, kind: K): Extract<FunctionDefinition, { kind: K }> {
    const def = this.opts.definitions.find((d) => d.name === name && d.kind === kind);
    if (!def) throw new Error(`no ${kind} function named ${name}`);
    return def as Extract<FunctionDefinition, { kind: K }>;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const p = this.handle(req, res).catch((err: unknown) => {
        this.opts.logger.error('host request failed', { error: ensureError(err).message });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'host error' }));
      });
      this.invoker.track(p);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port ?? 7071, '127.0.0.1', () => resolve());
    });
    if (this.opts.timers) {
      const defs = this.opts.definitions.filter((d): d is TimerFunction => d.kind === 'timer');
      this.timers = startTimers(defs, (v) => this.resolveSetting(v), this.invoker, this.opts.logger);
    }
    if (this.opts.serviceBus) {
      const conn = this.opts.config.ServiceBusConnection;
      if (!conn) throw new Error('Service Bus triggers need the ServiceBusConnection setting');
      const begin = (): void => {
        if (this.stopped) return;
        this.serviceBus = startServiceBusTriggers(
          this.opts.definitions.filter((d): d is ServiceBusQueueFunction => d.kind === 'serviceBusQueue'),
          {
            connectionString: conn,
            invoker: this.invoker,
            logger: this.opts.logger,
            maxConcurrentCalls: this.opts.maxConcurrentCalls,
            maxMessageBatchSize: this.opts.maxMessageBatchSize,
            maxConcurrentBatches: this.opts.maxConcurrentBatches,
          },
        );
      };
      if (!this.opts.serviceBusAfter) begin();
      else
        void this.opts.serviceBusAfter.then(begin, (err: unknown) =>
          this.opts.logger.error('Service Bus triggers not started: what they waited for failed', { error: ensureError(err).message }),
        );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers?.stop();
    await this.serviceBus?.stop();
    await this.invoker.drain();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }

  /** Fires a timer function now, as the schedule would. */
  fireTimer(name: string, isPastDue = false): Promise<InvocationOutcome> {
    return fireTimer(this.definition(name, 'timer'), this.invoker, isPastDue);
  }

  resolveSetting(value: string): string {
    return value.replace(/%([A-Za-z0-9_]+)%/g, (_, name: string) => {
      const v = this.opts.settings[name] ?? (this.opts.config as Record<string, unknown>)[name];
      if (v === undefined) throw new Error(`app setting ${name} is not set`);
      return String(v);
    });
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const header = req.headers['x-functions-key'];
    const key = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('code') ?? '';
    return sameKey(key, this.opts.functionKey);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // DNS rebinding: a page whose name resolves to 127.0.0.1 must not drive the API with the browser.
    const port = (this.server?.address() as AddressInfo | null)?.port ?? 0;
    if (!isOwnHost(req.headers.host, port)) return send(res, 421, { error: 'misdirected request: Host is not this server' }, { connection: 'close' });
    if (url.pathname === '/admin/host/status') {
      return send(res, 200, { state: 'Running', functions: this.opts.definitions.map((d) => d.name) });
    }
    if (url.pathname === '/runtime/webhooks/eventgrid' && req.method === 'POST') {
      return handleEventGridWebhook(req, res, url, {
        definitions: this.opts.definitions.filter((d): d is BlobEventFunction => d.kind === 'blobEvent'),
        invoker: this.invoker,
        authorized: (r, u) => this.authorized(r, u),
      });
    }
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return this.http.handle(req, res, url);
    return send(res, 404, { error: 'not found' });
  }
}

/** Constant-time key comparison (over digests, so neither the length nor a common prefix shows in the timing). */
export function sameKey(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected)) && expected.length > 0;
}
