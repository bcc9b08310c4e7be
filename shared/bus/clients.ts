import type { TokenCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import type { OrbiterConfig } from '../config';
import { OrbiterError } from '../errors';
import { azureCredential } from '../storage/clients';

/** A connection string locally (the emulator's, UseDevelopmentEmulator=true); namespace + identity in Azure. */
export function createServiceBusClient(config: OrbiterConfig, credential?: TokenCredential): ServiceBusClient {
  if (config.ServiceBusConnection) return new ServiceBusClient(config.ServiceBusConnection);
  const ns = config.ServiceBusConnection__fullyQualifiedNamespace;
  if (!ns) {
    throw new OrbiterError('ConfigInvalid', 'set ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace');
  }
  return new ServiceBusClient(ns, credential ?? azureCredential(config));
}
