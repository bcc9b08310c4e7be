import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, HttpResponse } from '@azure/functions';
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
import { Cron } from 'croner';
import type { OrbiterConfig } from 'orbiter/shared/config';
import { ensureError } from 'orbiter/shared/errors';
import type { Logger } from 'orbiter/shared/logger';
import type { StorageClients } from 'orbiter/shared/storage/clients';
import { restStatus } from 'orbiter/shared/storage/restStatus';
import type {
  BlobFunction,
  FunctionDefinition,
  HttpFunction,
  ServiceBusQueueBatchFunction,
  ServiceBusQueueFunction,
  TimerFunction,
} from 'orbiter/functions/definition';
import { completedWriteApis, eventGridBatch, parseBlobSubject } from './eventGrid';
import { makeContext } from './invocation';
import { compileRoute, type CompiledRoute } from './routes';

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
  /** From host.json extensions.serviceBus: single-message functions invoked at once (default 16). */
  maxConcurrentCalls?: number;
  /** From host.json extensions.serviceBus: most messages per invocation of a `cardinality: 'many'` function (default 1000). */
  maxMessageBatchSize?: number;
  /** Batches of one batch function in flight at once (default 2: the next batch is received while one runs). */
  maxConcurrentBatches?: number;
  maxBodyBytes?: number;
}

export interface InvocationOutcome {
  ok: boolean;
  result?: unknown;
  error?: Error;
  durationMs: number;
  /** Batch invocations: messages delivered. */
  messages?: number;
}

/**
 * A local Functions host for the very definitions functions/index.ts registers in Azure: timers by NCRONTAB,
 * HTTP under /api with function keys, Event Grid blob notifications at /runtime/webhooks/blobs, and
 * Service Bus queue triggers in peekLock (complete on success, abandon on error) as the real host does.
 */
export class FunctionHost {
  private server: Server | undefined;
  private readonly crons: Cron[] = [];
  private readonly receivers: ServiceBusReceiver[] = [];
  private readonly batchers: { stop(): Promise<void> }[] = [];
  private bus: ServiceBusClient | undefined;
  private readonly routes: { def: HttpFunction; route: CompiledRoute }[];
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Listeners told about every invocation (the stack prints, tests assert). */
  readonly invocations: { name: string; outcome: InvocationOutcome }[] = [];

  constructor(private readonly opts: HostOptions) {
    this.routes = opts.definitions.filter((d): d is HttpFunction => d.kind === 'http').map((def) => ({ def, route: compileRoute(def.route) }));
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
      this.track(p);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port ?? 7071, '127.0.0.1', () => resolve());
    });
    if (this.opts.timers) this.startTimers();
    if (this.opts.serviceBus) this.startServiceBus();
  }

  async stop(): Promise<void> {
    for (const c of this.crons) c.stop();
    for (const b of this.batchers) await b.stop();
    for (const r of this.receivers) await r.close().catch(() => undefined);
    await this.bus?.close().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }

  /** Fires a timer function now, as the schedule would. */
  async fireTimer(name: string, isPastDue = false): Promise<InvocationOutcome> {
    const def = this.definition(name, 'timer');
    return this.invoke(def.name, {}, (ctx) =>
      def.handler(
        { isPastDue, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: new Date().toISOString() } },
        ctx,
      ),
    );
  }

  resolveSetting(value: string): string {
    return value.replace(/%([A-Za-z0-9_]+)%/g, (_, name: string) => {
      const v = this.opts.settings[name] ?? (this.opts.config as Record<string, unknown>)[name];
      if (v === undefined) throw new Error(`app setting ${name} is not set`);
      return String(v);
    });
  }

  private startTimers(): void {
    for (const def of this.opts.definitions.filter((d): d is TimerFunction => d.kind === 'timer')) {
      const schedule = this.resolveSetting(def.schedule);
      // Cron with 6 fields is seconds-first, like NCRONTAB; UTC like the Functions host's default (WEBSITE_TIME_ZONE unset).
      const cron = new Cron(schedule, { timezone: 'UTC', protect: true }, () => {
        this.track(this.fireTimer(def.name));
      });
      this.crons.push(cron);
      this.opts.logger.info('timer scheduled', { fn: def.name, schedule, next: cron.nextRun()?.toISOString() });
      if (def.runOnStartup) this.track(this.fireTimer(def.name));
    }
  }

  private startServiceBus(): void {
    const conn = this.opts.config.ServiceBusConnection;
    if (!conn) throw new Error('Service Bus triggers need the ServiceBusConnection setting');
    this.bus = new ServiceBusClient(conn);
    for (const def of this.opts.definitions.filter((d): d is ServiceBusQueueFunction => d.kind === 'serviceBusQueue')) {
      const receiver = this.bus.createReceiver(def.queueName, { receiveMode: 'peekLock' });
      this.receivers.push(receiver);
      if (def.cardinality === 'many') {
        this.batchers.push(this.subscribeBatch(def, receiver));
        continue;
      }
      receiver.subscribe(
        {
          processMessage: async (msg) => {
            const outcome = await this.invoke(def.name, serviceBusMetadata(msg), (ctx) => def.handler(msg.body, ctx));
            // As the real host: complete on success, abandon on error so MaxDeliveryCount and the DLQ apply.
            if (outcome.ok) await receiver.completeMessage(msg);
            else await receiver.abandonMessage(msg);
          },
          processError: (args) => {
            this.opts.logger.warn('service bus receiver error', { fn: def.name, error: args.error.message });
            return Promise.resolve();
          },
        },
        { autoCompleteMessages: false, maxConcurrentCalls: this.opts.maxConcurrentCalls ?? 16 },
      );
    }
  }

  /**
   * `cardinality: 'many'`: messages stream in (credit = batch size × batches in flight) and are handed over in
   * batches of whatever has arrived, up to maxMessageBatchSize; while every batch slot is busy, arrivals wait and
   * form the next, larger batch. After the invocation each message is settled: members the handler reported are
   * dead-lettered with its reason, the others completed; a failed invocation abandons the whole batch.
   */
  private subscribeBatch(def: ServiceBusQueueBatchFunction, receiver: ServiceBusReceiver): { stop(): Promise<void> } {
    const maxBatch = Math.max(1, this.opts.maxMessageBatchSize ?? 1000);
    const slots = Math.max(1, this.opts.maxConcurrentBatches ?? 2);
    let pending: { msg: ServiceBusReceivedMessage; settled: () => void }[] = [];
    let running = 0;
    const runs = new Set<Promise<void>>();
    let scheduled = false;
    let stopped = false;
    const settle = async (msg: ServiceBusReceivedMessage, how: () => Promise<void>): Promise<void> => {
      // A lost lock means the message comes back: harmless, every handler write is idempotent.
      await how().catch((err: unknown) =>
        this.opts.logger.warn('service bus settlement failed', { fn: def.name, messageId: String(msg.messageId), error: ensureError(err).message }),
      );
    };
    const runBatch = async (batch: typeof pending): Promise<void> => {
      const msgs = batch.map((b) => b.msg);
      try {
        const outcome = await this.invoke(
          def.name,
          serviceBusBatchMetadata(msgs),
          (ctx) =>
            def.handler(
              msgs.map((m): unknown => m.body),
              ctx,
            ),
          (o) => ({ ...o, messages: msgs.length }),
        );
        if (!outcome.ok) {
          await Promise.all(msgs.map((m) => settle(m, () => receiver.abandonMessage(m))));
          return;
        }
        await Promise.all(msgs.map((m) => settle(m, () => receiver.completeMessage(m))));
      } finally {
        for (const b of batch) b.settled();
      }
    };
    const dispatch = (): void => {
      scheduled = false;
      while (!stopped && running < slots && pending.length > 0) {
        const batch = pending.slice(0, maxBatch);
        pending = pending.slice(batch.length);
        running++;
        const run = runBatch(batch).finally(() => {
          running--;
          runs.delete(run);
          if (pending.length > 0) schedule();
        });
        runs.add(run);
        this.track(run);
      }
    };
    const schedule = (): void => {
      if (scheduled || stopped) return;
      scheduled = true;
      setImmediate(dispatch);
    };
    const subscription = receiver.subscribe(
      {
        processMessage: (msg) =>
          new Promise<void>((resolve) => {
            pending.push({ msg, settled: resolve });
            schedule();
          }),
        processError: (args) => {
          this.opts.logger.warn('service bus receiver error', { fn: def.name, error: args.error.message });
          return Promise.resolve();
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: maxBatch * slots },
    );
    let stopping: Promise<void> | undefined;
    const stop = async (): Promise<void> => {
      stopped = true;
      await subscription.close().catch(() => undefined);
      // Received but never handed to the function: give them back at once rather than waiting for lock expiry.
      const left = pending;
      pending = [];
      await Promise.all(left.map((b) => settle(b.msg, () => receiver.abandonMessage(b.msg)).finally(b.settled)));
      // Batches being handled finish and settle while the receiver is still open.
      await Promise.allSettled([...runs]);
    };
    return { stop: () => (stopping ??= stop()) };
  }

  private async invoke(
    name: string,
    triggerMetadata: Record<string, unknown>,
    run: (ctx: ReturnType<typeof makeContext>) => Promise<unknown>,
    annotate: (o: InvocationOutcome) => InvocationOutcome = (o) => o,
  ): Promise<InvocationOutcome> {
    const ctx = makeContext(name, this.opts.logger, triggerMetadata);
    const started = Date.now();
    let outcome: InvocationOutcome;
    try {
      const result = await run(ctx);
      outcome = { ok: true, result, durationMs: Date.now() - started };
    } catch (err) {
      const error = ensureError(err);
      this.opts.logger.error(`Executed 'Functions.${name}' (Failed)`, { error: error.message });
      outcome = { ok: false, error, durationMs: Date.now() - started };
    }
    outcome = annotate(outcome);
    this.invocations.push({ name, outcome });
    return outcome;
  }

  private track<T>(p: Promise<T>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const header = req.headers['x-functions-key'];
    const key = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('code') ?? '';
    return key === this.opts.functionKey;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/admin/host/status') {
      return send(res, 200, { state: 'Running', functions: this.opts.definitions.map((d) => d.name) });
    }
    if (url.pathname === '/runtime/webhooks/blobs' && req.method === 'POST') return this.handleBlobWebhook(req, res, url);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return this.handleHttp(req, res, url);
    return send(res, 404, { error: 'not found' });
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice(4) || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const candidates = this.routes.map((r) => ({ ...r, params: r.route.match(path) })).filter((r) => r.params);
    if (candidates.length === 0) return send(res, 404, { error: 'not found' });
    const hit = candidates.find((r) => r.def.methods.includes(method as HttpFunction['methods'][number]));
    if (!hit) return send(res, 405, { error: `method ${method} not allowed` }, { allow: candidates.flatMap((c) => c.def.methods).join(', ') });
    if (hit.def.authLevel !== 'anonymous' && !this.authorized(req, url)) {
      // Azure answers 401 with an empty body for a missing or wrong function key.
      res.writeHead(401).end();
      return;
    }
    const limit = this.opts.maxBodyBytes ?? 100 * 1024 * 1024;
    const body = await readBody(req, limit);
    if (body === 'too-large') return send(res, 413, { error: 'request body too large' });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const request = new HttpRequest({
      method,
      url: `${this.url}${url.pathname}${url.search}`,
      headers,
      query: Object.fromEntries(url.searchParams),
      params: hit.params!,
      ...(body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const outcome = await this.invoke(hit.def.name, { headers, query: Object.fromEntries(url.searchParams) }, (ctx) => hit.def.handler(request, ctx));
    if (!outcome.ok) return send(res, 500, { error: 'function failed' });
    const response = new HttpResponse(outcome.result as ConstructorParameters<typeof HttpResponse>[0]);
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, out);
    res.end(Buffer.from(await response.arrayBuffer()));
  }

  /** The blobs extension webhook, as Event Grid calls it (subscription validation, then notifications). */
  private async handleBlobWebhook(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!this.authorized(req, url)) {
      res.writeHead(401).end();
      return;
    }
    const fn = (url.searchParams.get('functionName') ?? '').replace(/^Host\.Functions\./, '');
    const def = this.opts.definitions.find((d): d is BlobFunction => d.kind === 'blob' && d.name === fn);
    if (!def) return send(res, 404, { error: `no blob function named ${fn}` });
    const raw = await readBody(req, 1024 * 1024);
    if (raw === 'too-large') return send(res, 413, { error: 'event batch too large' });
    let batch;
    try {
      batch = eventGridBatch.parse(JSON.parse(raw.toString('utf8')));
    } catch (err) {
      return send(res, 400, { error: `invalid Event Grid batch: ${ensureError(err).message}` });
    }
    if (req.headers['aeg-event-type'] === 'SubscriptionValidation') {
      return send(res, 200, { validationResponse: batch[0]!.data.validationCode ?? '' });
    }
    const container = def.path.split('/')[0]!;
    for (const ev of batch) {
      const where = parseBlobSubject(ev.subject);
      if (ev.eventType !== 'Microsoft.Storage.BlobCreated' || !where || where.container !== container) continue;
      if (ev.data.api && !(completedWriteApis as readonly string[]).includes(ev.data.api)) continue;
      const blob = this.opts.storage.blobs.getContainerClient(where.container).getBlobClient(where.name);
      let content: Buffer;
      let props;
      try {
        // One GET: the content and the properties of the same version (two calls could straddle an overwrite).
        props = await blob.download();
        content = await readStream(props.readableStreamBody);
      } catch (err) {
        if (restStatus(err) === 404) continue; // deleted since: nothing to process
        throw err;
      }
      const outcome = await this.invoke(
        def.name,
        {
          blobTrigger: `${where.container}/${where.name}`,
          name: where.name,
          uri: blob.url,
          properties: {
            eTag: props.etag,
            length: props.contentLength,
            contentType: props.contentType,
            lastModified: props.lastModified?.toISOString(),
          },
          metadata: props.metadata ?? {},
          ...(ev.data.traceparent ? { traceparent: ev.data.traceparent } : {}),
        },
        (ctx) => def.handler(content, ctx),
      );
      // A failed invocation fails the delivery, so the sender (Event Grid, or the local watcher) retries it.
      if (!outcome.ok) return send(res, 500, { error: outcome.error?.message ?? 'failed' });
    }
    res.writeHead(202).end();
  }
}

function serviceBusMetadata(msg: ServiceBusReceivedMessage): Record<string, unknown> {
  return {
    messageId: msg.messageId,
    correlationId: msg.correlationId,
    subject: msg.subject,
    contentType: msg.contentType,
    // The Functions host counts this delivery (1 on the first); the AMQP header counts earlier attempts only.
    deliveryCount: (msg.deliveryCount ?? 0) + 1,
    enqueuedTimeUtc: msg.enqueuedTimeUtc?.toISOString(),
    expiresAtUtc: msg.expiresAtUtc?.toISOString(),
    lockedUntilUtc: msg.lockedUntilUtc?.toISOString(),
    sequenceNumber: msg.sequenceNumber?.toString(),
    applicationProperties: msg.applicationProperties ?? {},
    userProperties: msg.applicationProperties ?? {},
  };
}

/** Batch trigger metadata as the Functions host binds it: one `<name>Array` per property, in message order. */
function serviceBusBatchMetadata(msgs: ServiceBusReceivedMessage[]): Record<string, unknown> {
  const each = msgs.map(serviceBusMetadata);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(each[0] ?? {})) out[`${key}Array`] = each.map((m) => m[key]);
  return out;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readStream(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  if (stream) for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
