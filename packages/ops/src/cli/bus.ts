import { DefaultAzureCredential } from '@azure/identity';
import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { Connections } from 'orbiter/shared/names';
import { CliError, ExitCode } from './exitCodes';
import type { CliIO } from './io';
import { cliSettings, stackHint } from './settings';

export type BusFactory = () => ServiceBusClient;

/** ServiceBusConnection (connection string) or ServiceBusConnection__fullyQualifiedNamespace (Entra identity). */
export function busFromSettings(io: CliIO): ServiceBusClient {
  const s = cliSettings(io.cwd, io.env);
  const conn = s[Connections.serviceBus];
  if (conn) return new ServiceBusClient(conn);
  const ns = s[`${Connections.serviceBus}__fullyQualifiedNamespace`];
  if (ns) return new ServiceBusClient(ns, new DefaultAzureCredential());
  throw new CliError(
    `set ${Connections.serviceBus} (or ${Connections.serviceBus}__fullyQualifiedNamespace): ${stackHint(io.cwd, io.env)}`,
    ExitCode.usage,
  );
}

/** One message as a JSON-friendly object. */
export function messageView(m: ServiceBusReceivedMessage): Record<string, unknown> {
  return {
    messageId: m.messageId,
    ...(m.subject ? { subject: m.subject } : {}),
    ...(m.correlationId ? { correlationId: m.correlationId } : {}),
    ...(m.enqueuedTimeUtc ? { enqueuedAt: m.enqueuedTimeUtc.toISOString() } : {}),
    ...(m.sequenceNumber !== undefined ? { sequenceNumber: m.sequenceNumber.toString() } : {}),
    deliveryCount: m.deliveryCount,
    ...(m.deadLetterReason ? { deadLetterReason: m.deadLetterReason } : {}),
    ...(m.deadLetterErrorDescription ? { deadLetterDescription: m.deadLetterErrorDescription } : {}),
    ...(m.applicationProperties && Object.keys(m.applicationProperties).length ? { applicationProperties: m.applicationProperties } : {}),
    body: Buffer.isBuffer(m.body) ? m.body.toString('utf8') : m.body,
  };
}
