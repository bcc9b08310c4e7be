import type { ContainerClient } from '@azure/storage-blob';
import type { ServiceBusMessage, ServiceBusReceiver, ServiceBusSender } from '@azure/service-bus';
import { OrbiterError } from '../errors';
import { completionBlobName, completionEventV1, type CompletionEvent } from './completionEvent';
import type { CompletionSink, ControlScheduler, FailureParking, ParkedRun } from './ports';
import { controlMessage, type ControlMessage } from './messages';
import { restStatus } from '../storage/restStatus';

/** Control messages as Service Bus scheduled messages on run-status: the broker holds the timer, not a lock. */
export class BusControlScheduler implements ControlScheduler {
  constructor(
    private readonly sender: ServiceBusSender,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async schedule(msg: ControlMessage, at: Date, messageId: string): Promise<void> {
    const body = controlMessage.parse(msg);
    const m = { messageId, body, contentType: 'application/json', subject: body.schema };
    if (at.getTime() <= this.now().getTime() + 20) await this.sender.sendMessages(m);
    else await this.sender.scheduleMessages(m, at);
  }
}

/** Completion events: one immutable blob per run attempt in the lake, then a deduplicated message on run-events. */
export class LakeTopicCompletionSink implements CompletionSink {
  constructor(
    private readonly events: ContainerClient,
    private readonly topic: ServiceBusSender,
  ) {}

  async write(e: CompletionEvent): Promise<void> {
    const body = Buffer.from(JSON.stringify(completionEventV1.parse(e)));
    try {
      await this.events.getBlockBlobClient(completionBlobName(e)).upload(body, body.length, {
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
    } catch (err) {
      const status = restStatus(err);
      if (status === 409 || status === 412) return; // written by an earlier delivery
      throw new OrbiterError('LakeWriteFailed', `could not write completion event ${completionBlobName(e)}`, { cause: err, retryable: true });
    }
  }

  async publish(e: CompletionEvent): Promise<void> {
    await this.topic.sendMessages({
      messageId: `${e.orbiter_run_id}.a${e.attempt}`,
      body: e,
      contentType: 'application/json',
      subject: `run-completed/${e.dataset ?? 'unknown'}`,
      correlationId: e.correlation_id,
      applicationProperties: {
        dataset: e.dataset ?? '',
        resultState: e.result_state,
        jobName: e.job_name,
        ...(e.traceparent ? { traceparent: e.traceparent } : {}),
      },
    });
  }
}

/**
 * A run that failed for good is parked on queue run-failures and moved at once to its dead-letter queue with the reason,
 * where `orbiter dlq list` and the dead-letter alert see it and `orbiter dlq resubmit` sends it back as a new run.
 * (Service Bus only dead-letters a received message, and nothing else consumes run-failures.) Sending is deduplicated on
 * the message id, and each call also moves anything a crashed process left in the active queue: nothing stays parked.
 */
export class DeadLetterFailureParking implements FailureParking {
  constructor(
    private readonly sender: ServiceBusSender,
    private readonly receiver: ServiceBusReceiver,
  ) {}

  async park(p: ParkedRun): Promise<void> {
    await this.parkOne({
      messageId: `failed-${p.request.runId ?? p.request.requestId}-a${p.attempt}`,
      body: p.request,
      contentType: 'application/json',
      subject: p.reason === 'RunCancelled' ? 'orbiter.run-cancelled' : 'orbiter.run-failed',
      correlationId: p.request.correlationId,
      applicationProperties: {
        deadLetterReason: p.reason,
        deadLetterDescription: p.description.slice(0, 4000),
        orbiterRunId: p.request.runId ?? '',
        dataset: p.request.dataset,
        attempt: p.attempt,
        ...(p.request.traceparent ? { traceparent: p.request.traceparent } : {}),
      },
    });
  }

  async parkMessage(m: { messageId: string; body: unknown; reason: string; description: string }): Promise<void> {
    await this.parkOne({
      messageId: m.messageId.slice(0, 128),
      body: m.body,
      subject: 'orbiter.message-rejected',
      applicationProperties: { deadLetterReason: m.reason, deadLetterDescription: m.description.slice(0, 4000) },
    });
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** One park at a time: a Service Bus receiver refuses a second receive while one is in progress. */
  private parkOne(message: ServiceBusMessage): Promise<void> {
    const next = this.queue.then(
      () => this.sendAndDeadLetter(message),
      () => this.sendAndDeadLetter(message),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async sendAndDeadLetter(message: ServiceBusMessage): Promise<void> {
    await this.sender.sendMessages(message);
    // The first receive waits for the message just sent; later ones only sweep what is already there.
    for (let wait = 3000; ; wait = 200) {
      const batch = await this.receiver.receiveMessages(50, { maxWaitTimeInMs: wait });
      if (batch.length === 0) return;
      for (const m of batch) {
        const props = m.applicationProperties ?? {};
        await this.receiver.deadLetterMessage(m, {
          deadLetterReason: String(props['deadLetterReason'] ?? 'RunFailed'),
          deadLetterErrorDescription: String(props['deadLetterDescription'] ?? 'run failed'),
        });
      }
    }
  }
}

/** lake_root for jobs: abfss://{zone}@<account>.dfs.core.windows.net from the lake's account name. */
export function lakeRootFor(account: string): string {
  return `abfss://{zone}@${account.toLowerCase()}.dfs.core.windows.net`;
}
