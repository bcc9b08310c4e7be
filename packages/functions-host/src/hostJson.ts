import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Service Bus trigger settings of host.json that the local host honours, as the Azure host does. */
export function serviceBusHostOptions(repoRoot: string): { maxConcurrentCalls?: number; maxMessageBatchSize?: number } {
  const hostJson = JSON.parse(readFileSync(join(repoRoot, 'host.json'), 'utf8')) as {
    extensions?: { serviceBus?: { maxConcurrentCalls?: number; maxMessageBatchSize?: number } };
  };
  const sb = hostJson.extensions?.serviceBus ?? {};
  return {
    ...(sb.maxConcurrentCalls ? { maxConcurrentCalls: sb.maxConcurrentCalls } : {}),
    ...(sb.maxMessageBatchSize ? { maxMessageBatchSize: sb.maxMessageBatchSize } : {}),
  };
}
