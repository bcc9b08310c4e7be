import type { ServiceBusClient, ServiceBusSender } from '@azure/service-bus';
import { createServiceBusClient } from '../shared/bus/clients';
import { loadConfig, type OrbiterConfig } from '../shared/config';
import { Queues } from '../shared/names';
import { createStorageClients, type StorageClients } from '../shared/storage/clients';

/**
 * The composition root: configuration from the environment (validated once) and the clients built from it,
 * created on first use. Handlers take what they need from here and pass it down; shared/ never reads the environment.
 */
export class Runtime {
  private busClient: ServiceBusClient | undefined;
  private readonly senders = new Map<string, ServiceBusSender>();
  readonly storage: StorageClients;

  constructor(readonly config: OrbiterConfig) {
    this.storage = createStorageClients(config);
  }

  get bus(): ServiceBusClient {
    this.busClient ??= createServiceBusClient(this.config);
    return this.busClient;
  }

  /** Senders are long-lived: opening an AMQP link per invocation would dominate latency. */
  sender(queueOrTopic: string = Queues.runRequests): ServiceBusSender {
    let s = this.senders.get(queueOrTopic);
    if (!s) {
      s = this.bus.createSender(queueOrTopic);
      this.senders.set(queueOrTopic, s);
    }
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.senders.values()) await s.close();
    this.senders.clear();
    await this.busClient?.close();
    this.busClient = undefined;
  }
}

let current: Runtime | undefined;

export function runtime(): Runtime {
  current ??= new Runtime(loadConfig(process.env));
  return current;
}

/** For the local host and tests that change the environment between runs. */
export async function resetRuntime(): Promise<void> {
  const r = current;
  current = undefined;
  await r?.close();
}
