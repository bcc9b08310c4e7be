import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';

/**
 * A function defined once: its name, trigger options and handler. functions/index.ts registers these with
 * `app.*` for the Azure Functions host; local/host fires the very same objects.
 */
export type TimerHandler = (timer: Timer, context: InvocationContext) => Promise<unknown>;
export type HttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
export type BlobHandler = (blob: Buffer, context: InvocationContext) => Promise<unknown>;
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

export interface BlobFunction {
  kind: 'blob';
  name: string;
  /** container/{name} */
  path: string;
  /** App-setting prefix of the storage connection. */
  connection: string;
  handler: BlobHandler;
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

export type FunctionDefinition = TimerFunction | HttpFunction | BlobFunction | ServiceBusQueueFunction;
