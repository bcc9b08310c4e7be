import type { Command } from 'commander';
import type { ServiceBusMessage } from '@azure/service-bus';
import { runRequestV1 } from 'orbiter/shared/messages/runRequest';
import { Queues } from 'orbiter/shared/names';
import { busFromSettings, messageView, type BusFactory } from './bus';
import { CliError, ExitCode } from './exitCodes';
import type { CliIO } from './io';

const queues: readonly string[] = [Queues.runRequests, Queues.runStatus, Queues.runFailures];

/** `<original>.r<time>`: unique per resubmission, still traceable to the original (max 128 chars). */
export const resubmitId = (original: unknown): string => `${String(original ?? 'message').slice(0, 100)}.r${Date.now().toString(36)}`;

/**
 * A parked failed run as a new request for its inputs: without a run id (the dispatcher runs direct requests only for
 * run records the Run API wrote), so its inputs join a coalescing batch like landed files; a new request id.
 */
export function asNewRun(body: unknown): unknown {
  const parsed = runRequestV1.safeParse(body);
  if (!parsed.success)
    throw new CliError(`a dead-lettered failed run is not a run request: ${parsed.error.issues[0]?.message ?? 'invalid'}`, ExitCode.failure);
  const { runId: _finished, ...r } = parsed.data;
  return {
    ...r,
    requestId: resubmitId(r.requestId),
    requestedAt: new Date().toISOString(),
  };
}

const queueList = (q: string | undefined): string[] => {
  if (q === undefined) return [...queues];
  if (!queues.includes(q)) throw new CliError(`--queue must be one of ${queues.join(', ')}`, ExitCode.usage);
  return [q];
};

export function registerDlq(program: Command, io: CliIO, deps: { bus?: BusFactory }): void {
  const dlq = program.command('dlq').description(`dead letters of ${queues.join(' and ')}`);

  dlq
    .command('list')
    .description('peek dead-lettered messages (nothing is removed)')
    .option('--queue <queue>', queues.join('|'))
    .option('--max <n>', 'at most n per queue', (v) => Number(v), 100)
    .option('--json', 'print one JSON array of the messages ([] when there are none)')
    .action(async (o: { queue?: string; max: number; json?: boolean }) => {
      const targets = queueList(o.queue);
      const bus = deps.bus ? deps.bus() : busFromSettings(io);
      // --json is one document, so an empty listing is still parseable output.
      const listed: Record<string, unknown>[] = [];
      try {
        for (const q of targets) {
          const r = bus.createReceiver(q, { subQueueType: 'deadLetter' });
          try {
            const msgs = await r.peekMessages(o.max);
            io.err(`${q}: ${msgs.length}${msgs.length >= o.max ? '+' : ''} dead-lettered`);
            for (const m of msgs) {
              const v = messageView(m);
              if (o.json) listed.push({ queue: q, ...v });
              else
                io.out(
                  `${q}  ${String(m.messageId)}  ${String(v['enqueuedAt'] ?? '')}  deliveries=${m.deliveryCount ?? ''}  ${m.deadLetterReason ?? ''}${m.deadLetterErrorDescription ? `: ${m.deadLetterErrorDescription}` : ''}`,
                );
            }
          } finally {
            await r.close();
          }
        }
      } finally {
        await bus.close();
      }
      if (o.json) io.out(JSON.stringify(listed, null, 2));
    });

  dlq
    .command('resubmit')
    .description(
      `move dead-lettered messages back to their queue (same body and properties, new message id); a failed run from ${Queues.runFailures} goes to ${Queues.runRequests} as a new run`,
    )
    .requiredOption('--queue <queue>', queues.join('|'))
    .option('--message-id <id...>', 'only these message ids')
    .option('--all', 'every dead-lettered message (required without --message-id)')
    .option('--max <n>', 'at most n messages', (v) => Number(v), 1000)
    .action(async (o: { queue: string; messageId?: string[]; all?: boolean; max: number }) => {
      const [q] = queueList(o.queue);
      if (!o.all && !o.messageId?.length) throw new CliError('give --message-id <id...> or --all', ExitCode.usage);
      const wanted = o.messageId ? new Set(o.messageId) : undefined;
      const bus = deps.bus ? deps.bus() : busFromSettings(io);
      const receiver = bus.createReceiver(q!, { subQueueType: 'deadLetter' });
      // Failed runs are run requests parked beside the pipeline: resubmitting one requests a new run of its inputs.
      const target = q === Queues.runFailures ? Queues.runRequests : q!;
      const sender = bus.createSender(target);
      let moved = 0;
      let looked = 0;
      // Messages not asked for stay locked until the end, so the loop does not receive them again; then abandoned.
      const skipped: Awaited<ReturnType<typeof receiver.receiveMessages>> = [];
      const unrunnable: string[] = [];
      try {
        // Peek-lock each message, send the copy, then complete it: a crash in between leaves a duplicate, never a loss.
        while (looked < o.max) {
          const batch = await receiver.receiveMessages(Math.min(50, o.max - looked), { maxWaitTimeInMs: 1500 });
          if (batch.length === 0) break;
          for (const m of batch) {
            looked++;
            if (wanted && !wanted.has(String(m.messageId))) {
              skipped.push(m);
              continue;
            }
            let body: unknown = m.body;
            if (q === Queues.runFailures) {
              try {
                body = asNewRun(m.body);
              } catch (err) {
                // A rejected message (not a run request) cannot become a run: it stays where it is, and the rest go on.
                unrunnable.push(String(m.messageId));
                skipped.push(m);
                io.err(`left in the dead-letter queue: ${String(m.messageId)} (${m.deadLetterReason ?? 'unknown'}): ${(err as Error).message}`);
                continue;
              }
            }
            const copy: ServiceBusMessage = {
              body,
              // A new message id: run-requests has duplicate detection, which would silently drop a copy under the old id
              // within its window. The dispatcher is idempotent on the run id in the body, not on the message id.
              messageId: resubmitId(m.messageId),
              ...(m.contentType ? { contentType: m.contentType } : {}),
              ...(m.correlationId !== undefined ? { correlationId: m.correlationId } : {}),
              ...(m.subject ? { subject: m.subject } : {}),
              applicationProperties: {
                ...(m.applicationProperties ?? {}),
                ...(m.messageId !== undefined ? { originalMessageId: String(m.messageId) } : {}),
                resubmittedFromDeadLetter: m.deadLetterReason ?? 'unknown',
              },
            };
            await sender.sendMessages(copy);
            await receiver.completeMessage(m);
            moved++;
            io.err(`resubmitted ${String(m.messageId)} (${moved}${wanted ? `/${wanted.size}` : ''})`);
          }
          if (wanted && moved >= wanted.size) break;
        }
      } finally {
        for (const m of skipped) await receiver.abandonMessage(m).catch(() => undefined);
        await Promise.all([receiver.close(), sender.close()]);
        await bus.close();
      }
      io.out(`${moved} message(s) resubmitted to ${target}`);
      if (unrunnable.length)
        throw new CliError(`${unrunnable.length} message(s) are not run requests and stay dead-lettered: ${unrunnable.join(', ')}`, ExitCode.failure);
      if (wanted && moved < wanted.size)
        throw new CliError(`${wanted.size - moved} message id(s) not found in the dead-letter queue`, ExitCode.notFound);
    });
}
