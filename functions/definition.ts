import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';

/**
 * A function defined once: its name, trigger options and handler. functions/index.ts registers these with
 * `app.*` for the Azure Functions host; local/host fires the very same objects.
 */
export type TimerHandler = (timer: Timer, context: InvocationContext) => Promise<unknown>;
export type HttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
/** The Event Grid event as delivered (validated by the handler). */
export type BlobEventHandler = (event: unknown, context: InvocationContext) => Promise<unknown>;
export type ServiceBusHandler = (message: unknown, context: InvocationContext) => Promise<unknown>;

/**
 * `cardinality: 'many'`: the handler gets every message body of one delivered batch, in order. The batch is settled
 * as a whole (as in Azure): completed when the handler returns, abandoned when it throws.
 */
export type ServiceBusBatchHandler = (messages: unknown[], context: InvocationContext) => Promise<void>;

export interface TimerFunction {
  kind: 'timer';
  name: string;
  /** 6-field NCRONTAB, or %SETTING% resolved from app settings as the real host does. */
  schedule: string;
  runOnStartup?: boolean;
  retry?: { strategy: 'exponentialBackoff'; maxRetryCount: number; minimumInterval: number; maximumInterval: number };
  handler: TimerHandler;
}

export interface HttpFunction {
  kind: 'http';
  name: string;
  /** Route under /api, with {param} segments. */
  route: string;
  methods: ('GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH')[];
  authLevel: 'anonymous' | 'function' | 'admin';
  handler: HttpHandler;
}

/**
 * An Event Grid trigger fed BlobCreated events of one container (the subscription filters them in Azure; the
 * handler checks again). Unlike a blob trigger, the host binds the event only, never the blob's content, so landing a
 * 2 GB file costs what landing 1 KB costs.
 */
export interface BlobEventFunction {
  kind: 'blobEvent';
  name: string;
  /** The container whose landed blobs the function handles. */
  container: string;
  handler: BlobEventHandler;
}

interface ServiceBusQueueTriggerBase {
  kind: 'serviceBusQueue';
  name: string;
  queueName: string;
  connection: string;
}

/** One message per invocation: complete on success, abandon on error. */
export interface ServiceBusQueueSingleFunction extends ServiceBusQueueTriggerBase {
  cardinality?: 'one';
  handler: ServiceBusHandler;
}

/**
 * A batch per invocation (up to host.json `maxMessageBatchSize`; trigger metadata as arrays, e.g.
 * `deliveryCountArray`, `messageIdArray`): completed as a whole on success; an error abandons the whole batch, so
 * every member must be safe to process again.
 */
export interface ServiceBusQueueBatchFunction extends ServiceBusQueueTriggerBase {
  cardinality: 'many';
  handler: ServiceBusBatchHandler;
}

export type ServiceBusQueueFunction = ServiceBusQueueSingleFunction | ServiceBusQueueBatchFunction;

export type FunctionDefinition = TimerFunction | HttpFunction | BlobEventFunction | ServiceBusQueueFunction;
