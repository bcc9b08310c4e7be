/** Shared set-up for emulator integration tests: a fresh emulator per test, SDK clients that fail fast. */
import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { createPinoLogger } from 'orbiter/shared/logger';
import { startServiceBusEmulator, type EmulatorConfig, type ServiceBusEmulator } from '../../src/emulator';

type QueueProps = NonNullable<EmulatorConfig['UserConfig']['Namespaces'][number]['Queues']>[number]['Properties'];

const queue = (Name: string, Properties: QueueProps = {}) => ({ Name, Properties: { LockDuration: 'PT5S', MaxDeliveryCount: 5, ...Properties } });

/** The shortest locks and TTLs Azure allows (5 s, 1 s), so expiry paths run quickly and the config stays deployable. */
export const testConfig: EmulatorConfig = {
  UserConfig: {
    Namespaces: [
      {
        Name: 'sbemulatorns',
        Queues: [
          queue('basic'),
          queue('short-lock', { LockDuration: 'PT5S', MaxDeliveryCount: 3 }),
          queue('ttl-drop', { DefaultMessageTimeToLive: 'PT1S' }),
          queue('ttl-dlq', { DefaultMessageTimeToLive: 'PT1S', DeadLetteringOnMessageExpiration: true }),
          queue('dedupe', { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT10M' }),
          queue('forward-in', { ForwardTo: 'basic' }),
          queue('sessions', { RequiresSession: true }),
        ],
        Topics: [
          {
            Name: 'events',
            Subscriptions: [
              {
                Name: 'all',
                Properties: { LockDuration: 'PT5S' },
                Rules: [{ Name: 'all', Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: '1=1' } } }],
              },
              { Name: 'no-rules', Properties: { LockDuration: 'PT5S' } },
              {
                Name: 'errors',
                Rules: [
                  {
                    Name: 'errors',
                    Properties: { FilterType: 'Correlation', CorrelationFilter: { Label: 'error', Properties: { severity: 'high' } } },
                  },
                ],
              },
              {
                Name: 'sql-kind',
                Rules: [
                  {
                    Name: 'kind',
                    Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: "kind = 'a' AND sys.ContentType = 'application/json'" } },
                  },
                ],
              },
              { Name: 'nothing', Rules: [{ Name: 'none', Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: '1=0' } } }] },
            ],
          },
          { Name: 'session-events', Subscriptions: [{ Name: 'by-session', Properties: { LockDuration: 'PT5S', RequiresSession: true } }] },
        ],
      },
    ],
  },
};

export interface Harness {
  emulator: ServiceBusEmulator;
  client: ServiceBusClient;
  close(): Promise<void>;
}

export function sdkClient(connectionString: string): ServiceBusClient {
  // Fail fast: a broker bug must not look like the SDK's default 30 s retry delays.
  return new ServiceBusClient(connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 5000 } });
}

/** Set SB_EMULATOR_LOG=debug to see the emulator's log while debugging a test. */
const logger = process.env['SB_EMULATOR_LOG'] ? createPinoLogger(process.env['SB_EMULATOR_LOG'], 'servicebus-emulator') : undefined;

export async function startHarness(opts: { dataDir?: string; port?: number } = {}): Promise<Harness> {
  const emulator = await startServiceBusEmulator({ port: opts.port ?? 0, config: testConfig, dataDir: opts.dataDir, sweepIntervalMs: 50, logger });
  const client = sdkClient(emulator.connectionString);
  return {
    emulator,
    client,
    async close() {
      await client.close();
      await emulator.close();
    },
  };
}

/** Polls until `fn` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function pollUntil<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Peeks an entity from its first message. Uses its own client: without fromSequenceNumber the SDK continues from
 * the last sequence number that client peeked on the entity, so repeated peeks on one client would miss messages.
 */
export async function peekAll(
  h: Harness,
  entity: string | [topic: string, subscription: string],
  opts: { deadLetter?: boolean } = {},
): Promise<ServiceBusReceivedMessage[]> {
  const client = sdkClient(h.emulator.connectionString);
  const receiverOpts = opts.deadLetter ? { subQueueType: 'deadLetter' as const } : {};
  const receiver =
    typeof entity === 'string' ? client.createReceiver(entity, receiverOpts) : client.createReceiver(entity[0], entity[1], receiverOpts);
  try {
    return await receiver.peekMessages(100);
  } finally {
    await client.close();
  }
}
