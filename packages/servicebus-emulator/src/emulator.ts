/**
 * Local Azure Service Bus emulator for the unchanged @azure/service-bus client: entities from a Microsoft
 * emulator-shaped Config.json, AMQP on rhea, optional durable state (`dataDir`).
 */
import { silentLogger, type Logger } from './logger';
import { AmqpBroker, DEFAULT_MAX_MESSAGE_SIZE } from './broker';
import { loadEmulatorConfigFile, parseEmulatorConfig, type EmulatorConfig, type NamespaceDef } from './emulator-config';
import { GroupCommitJournal, memoryJournal, type Journal, type RestoredState } from './journal';
import { ServiceBusNamespace } from './namespace';
import { FileJournal } from './persistence';
import { systemClock, type Clock } from './queue';
import { DEFAULT_POLICY, type SasPolicy } from './auth';

export type { EmulatorConfig } from './emulator-config';

export interface ServiceBusEmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** A config object or the path of a Config.json file. */
  config: EmulatorConfig | string;
  /** Directory for durable state; memory only when omitted. */
  dataDir?: string;
  logger?: Logger;
  /** How often locks, schedules and TTLs are checked (ms). Default 100. */
  sweepIntervalMs?: number;
  maxMessageSize?: number;
  clock?: Clock;
  /** SAS policies tokens are checked against; default RootManageSharedAccessKey / SAS_KEY_VALUE (Microsoft's emulator's). */
  policies?: SasPolicy[];
  /** Interface to listen on; default 127.0.0.1 (loopback only). */
  host?: string;
}

export interface ServiceBusEmulator {
  port: number;
  /** `Endpoint=sb://localhost:<port>;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;` */
  connectionString: string;
  close(): Promise<void>;
}

/** The connection string for a policy (default: the first policy, which the emulator prints). */
export function emulatorConnectionString(port: number, policy: SasPolicy = DEFAULT_POLICY): string {
  return `Endpoint=sb://localhost:${port};SharedAccessKeyName=${policy.name};SharedAccessKey=${policy.key};UseDevelopmentEmulator=true;`;
}

export async function startServiceBusEmulator(opts: ServiceBusEmulatorOptions): Promise<ServiceBusEmulator> {
  const logger = opts.logger ?? silentLogger;
  const policies = opts.policies && opts.policies.length > 0 ? opts.policies : [DEFAULT_POLICY];
  const clock = opts.clock ?? systemClock;
  const defs: NamespaceDef = typeof opts.config === 'string' ? loadEmulatorConfigFile(opts.config) : parseEmulatorConfig(opts.config);
  let journal: Journal = memoryJournal;
  let group: GroupCommitJournal | undefined;
  let restored: RestoredState | undefined;
  if (opts.dataDir !== undefined) {
    const opened = FileJournal.open(opts.dataDir, () => clock.now());
    journal = group = new GroupCommitJournal(opened.journal);
    restored = opened.state;
  }
  // Assigned once below; the namespace callback above runs only after the broker exists.
  // eslint-disable-next-line prefer-const -- read by a closure created before the assignment
  let broker: AmqpBroker | undefined;
  const ns = new ServiceBusNamespace(defs, {
    clock,
    journal,
    restored,
    onAvailable: (q) => broker?.notifyAvailable(q),
    warn: (m, meta) => logger.warn(m, meta),
  });
  broker = new AmqpBroker({
    namespace: ns,
    logger,
    maxMessageSize: opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    policies,
    host: opts.host,
    now: () => clock.now(),
    ...(group ? { whenDurable: (ack: () => void) => group.whenDurable(ack), flushNow: () => group.flush() } : {}),
  });
  let port: number;
  try {
    port = await broker.listen(opts.port ?? 0);
  } catch (e) {
    journal.close();
    throw e;
  }
  const sweep = setInterval(() => {
    try {
      ns.sweep();
    } catch (e) {
      logger.error('servicebus emulator sweep failed', { error: String(e) });
    }
  }, opts.sweepIntervalMs ?? 100);
  sweep.unref();
  logger.info('servicebus emulator listening', {
    port,
    queues: defs.queues.map((q) => q.name),
    topics: defs.topics.map((t) => t.name),
    dataDir: opts.dataDir,
  });
  let closing: Promise<void> | undefined;
  return {
    port,
    connectionString: emulatorConnectionString(port, policies[0]),
    close: () =>
      (closing ??= (async () => {
        clearInterval(sweep);
        await broker.close();
        journal.close();
        await group?.closed;
      })()),
  };
}
