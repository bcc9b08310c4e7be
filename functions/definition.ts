import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';

/**
 * A function defined once: its name, trigger options and handler. functions/index.ts registers these with
 * `app.*` for the Azure Functions host; local/host fires the very same objects.
 */
export type TimerHandler = (timer: Timer, context: InvocationContext) => Promise<unknown>;
export type HttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
export type BlobHandler = (blob: Buffer, context: InvocationContext) => Promise<unknown>;
export type ServiceBusHandler = (message: unknown, context: InvocationContext) => Promise<unknown>;

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

export interface ServiceBusQueueFunction {
  kind: 'serviceBusQueue';
  name: string;
  queueName: string;
  connection: string;
  handler: ServiceBusHandler;
}

export type FunctionDefinition = TimerFunction | HttpFunction | BlobFunction | ServiceBusQueueFunction;
