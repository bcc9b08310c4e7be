import type { ServiceBusSender } from '@azure/service-bus';
import { runRequestV1, type RunRequest } from '../messages/runRequest';

/** Validates before sending: a malformed request must never reach the queue. */
export async function sendRunRequest(sender: ServiceBusSender, messageId: string, request: RunRequest): Promise<void> {
  const body = runRequestV1.parse(request);
  await sender.sendMessages({
    messageId,
    body,
    contentType: 'application/json',
    subject: `run-request/${body.dataset}`,
    correlationId: body.correlationId,
    applicationProperties: {
      dataset: body.dataset,
      origin: body.origin,
      ...(body.traceparent ? { traceparent: body.traceparent } : {}),
    },
  });
}
