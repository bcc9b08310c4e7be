/**
 * Every name that crosses a process boundary: containers, queues, topics, tables, connection settings.
 * Functions, tests, the local stack and infra/ (as outputs) use these, never string literals.
 */
export const Containers = {
  raw: 'raw',
  quarantine: 'quarantine',
  events: 'events',
  bronze: 'bronze',
  silver: 'silver',
  gold: 'gold',
  checkpoints: 'checkpoints',
} as const;

export const Queues = {
  runRequests: 'run-requests',
  runStatus: 'run-status',
  /** Runs that failed for good: parked here and dead-lettered at once, with the reason (no consumer). */
  runFailures: 'run-failures',
} as const;

export const Topics = {
  runEvents: 'run-events',
} as const;

export const Subscriptions = {
  runEventsStream: 'stream-consumer',
  runEventsMonitor: 'monitor',
} as const;

export const Tables = {
  watermarks: 'OrbiterWatermarks',
  runs: 'OrbiterRuns',
  blobReceipts: 'OrbiterBlobReceipts',
  batches: 'OrbiterBatches',
  apiIdempotency: 'OrbiterApiIdempotency',
} as const;

/** App-setting prefixes of binding connections (the Functions host reads `<name>` or `<name>__*`). */
export const Connections = {
  lake: 'OrbiterLake',
  serviceBus: 'ServiceBusConnection',
} as const;

/** Lake prefix for completion events, under the `events` container. */
export const RunCompletionsPrefix = 'run-completions';
