import { resolve } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { ExitCode } from '../../src/cli/exitCodes';
import { startServiceBusEmulator, type ServiceBusEmulator } from '@orbiter/servicebus-emulator/emulator';
import { Queues, Topics } from 'orbiter/shared/names';
import { DeadLetterFailureParking } from 'orbiter/shared/dispatch/adapters';
import { runRequestV1 } from 'orbiter/shared/messages/runRequest';

jest.setTimeout(60_000);

function io(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: '/nonexistent-cwd' };
  return { io: x, out, err };
}

const parsed = (out: string[]): Record<string, unknown>[] => JSON.parse(out.join('\n')) as Record<string, unknown>[];

describe('orbiter dlq and events tail against the Service Bus emulator', () => {
  let sb: ServiceBusEmulator;
  let bus: ServiceBusClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    sb = await startServiceBusEmulator({ port: 0, config: resolve(__dirname, '../../../servicebus-emulator/config.json') });
    bus = new ServiceBusClient(sb.connectionString);
    env = { ServiceBusConnection: sb.connectionString };
  });
  afterAll(async () => {
    await bus?.close();
    await sb?.close();
  });

  async function deadLetter(ids: string[]): Promise<void> {
    const sender = bus.createSender(Queues.runRequests);
    await sender.sendMessages(
      ids.map((id) => ({
        body: { runId: id },
        messageId: id,
        applicationProperties: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      })),
    );
    await sender.close();
    const r = bus.createReceiver(Queues.runRequests);
    let n = 0;
    while (n < ids.length) {
      for (const m of await r.receiveMessages(ids.length - n, { maxWaitTimeInMs: 3000 })) {
        await r.deadLetterMessage(m, { deadLetterReason: 'TestPoison', deadLetterErrorDescription: 'bad body' });
        n++;
      }
    }
    await r.close();
  }

  it('dlq list peeks dead letters; resubmit moves the chosen ones back with their properties under a new id (duplicate detection)', async () => {
    // Nothing dead-lettered yet: --json still prints a parseable (empty) array.
    const empty = io(env);
    expect(await runCli(['dlq', 'list', '--queue', Queues.runRequests, '--json'], empty.io)).toBe(ExitCode.ok);
    expect(JSON.parse(empty.out.join('\n'))).toEqual([]);

    await deadLetter(['dl-a', 'dl-b']);
    const list = io(env);
    expect(await runCli(['dlq', 'list', '--queue', Queues.runRequests, '--json'], list.io)).toBe(ExitCode.ok);
    const listed = JSON.parse(list.out.join('\n')) as { messageId: string; deadLetterReason: string }[];
    expect(listed.map((m) => m.messageId).sort()).toEqual(['dl-a', 'dl-b']);
    expect(listed[0]!.deadLetterReason).toBe('TestPoison');

    const re = io(env);
    expect(await runCli(['dlq', 'resubmit', '--queue', Queues.runRequests, '--message-id', 'dl-b'], re.io)).toBe(ExitCode.ok);
    expect(re.out).toEqual([`1 message(s) resubmitted to ${Queues.runRequests}`]);

    const main = bus.createReceiver(Queues.runRequests);
    const [back] = await main.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(String(back?.messageId)).toMatch(/^dl-b\.r[0-9a-z]+$/);
    expect(back?.applicationProperties?.['originalMessageId']).toBe('dl-b');
    expect(back?.body).toEqual({ runId: 'dl-b' });
    expect(back?.applicationProperties?.['traceparent']).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    await main.completeMessage(back!);
    await main.close();

    // dl-a stays dead-lettered; asking for an id that is not there exits 3.
    const after = io(env);
    await runCli(['dlq', 'list', '--queue', Queues.runRequests, '--json'], after.io);
    expect(parsed(after.out).map((m) => m['messageId'])).toEqual(['dl-a']);
    expect(await runCli(['dlq', 'resubmit', '--queue', Queues.runRequests, '--message-id', 'nope'], io(env).io)).toBe(ExitCode.notFound);
    expect(await runCli(['dlq', 'resubmit', '--queue', 'other'], io(env).io)).toBe(ExitCode.usage);
  });

  it('a parked failed run is dead-lettered with its reason, listed, and resubmitted as a new run on run-requests', async () => {
    const sender = bus.createSender(Queues.runFailures);
    const receiver = bus.createReceiver(Queues.runFailures);
    const parking = new DeadLetterFailureParking(sender, receiver);
    const request = {
      schema: 'orbiter.run-request' as const,
      version: 1 as const,
      requestId: 'failed-neows-20261124T100000-abc',
      dataset: 'neows' as const,
      origin: 'retry' as const,
      runId: 'neows-20261124T100000-abc',
      inputs: [{ container: 'raw', path: 'neows/feed/2026/11/24/a.json', etag: '"0x1"' }],
      parameters: {},
      correlationId: 'corr-1',
      requestedAt: '2026-11-24T10:05:00.000Z',
    };
    const p = { request, attempt: 3, reason: 'RunFailed', description: 'CLOUD_FAILURE: 3 of 3 attempts used; attempt 3 ended CLOUD_FAILURE/X: boom' };
    await parking.park(p);
    await parking.park(p); // a replayed poll: deduplicated, still one dead letter
    await parking.parkMessage({
      messageId: 'rejected-junk',
      body: 'not a run request',
      reason: 'InvalidRunRequest',
      description: '(body): expected object',
    });
    await Promise.all([sender.close(), receiver.close()]);

    const list = io(env);
    expect(await runCli(['dlq', 'list', '--queue', Queues.runFailures, '--json'], list.io)).toBe(ExitCode.ok);
    expect(parsed(list.out)).toHaveLength(2);
    expect(parsed(list.out).find((m) => m['messageId'] === 'rejected-junk')).toMatchObject({ deadLetterReason: 'InvalidRunRequest' });
    expect(parsed(list.out).find((m) => m['messageId'] !== 'rejected-junk')).toMatchObject({
      messageId: 'failed-neows-20261124T100000-abc-a3',
      deadLetterReason: 'RunFailed',
      deadLetterDescription: p.description,
    });

    const re = io(env);
    // The failed run goes back as a new run; the rejected message cannot, stays dead-lettered, and the exit code says so.
    expect(await runCli(['dlq', 'resubmit', '--queue', Queues.runFailures, '--all'], re.io)).toBe(ExitCode.failure);
    expect(re.out).toEqual([`1 message(s) resubmitted to ${Queues.runRequests}`]);
    expect(re.err.join('\n')).toMatch(/left in the dead-letter queue: rejected-junk \(InvalidRunRequest\)/);
    const left = io(env);
    await runCli(['dlq', 'list', '--queue', Queues.runFailures, '--json'], left.io);
    expect(parsed(left.out).map((m) => m['messageId'])).toEqual(['rejected-junk']);
    const main = bus.createReceiver(Queues.runRequests);
    const [back] = await main.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await main.completeMessage(back!);
    await main.close();
    // A valid run request for a new run of the same inputs (the failed run id is finished).
    const again = runRequestV1.parse(back!.body);
    expect(again.inputs).toEqual(request.inputs);
    expect(again.runId).toBeUndefined(); // its inputs join a batch: direct requests need a Run API record
    expect(again.requestId).not.toBe(request.requestId);
  });

  it('events tail peeks by default (the events stay) and consumes with --consume', async () => {
    const sender = bus.createSender(Topics.runEvents);
    await sender.sendMessages([
      { body: { orbiter_run_id: 'e1', result_state: 'SUCCESS' }, subject: 'run-completed' },
      { body: { orbiter_run_id: 'e2', result_state: 'FAILED' } },
    ]);
    await sender.close();
    const t = io(env);
    expect(await runCli(['events', 'tail', '--max', '2', '--idle', '10'], t.io)).toBe(ExitCode.ok);
    expect(t.out.map((l) => JSON.parse(l).body.orbiter_run_id)).toEqual(['e1', 'e2']);
    expect(t.err).toContain('2 event(s)');
    expect(t.err[0]).toMatch(/\(peek\)/);

    // Peeking left both events: consuming receives them again and takes them off the subscription.
    const c = io(env);
    expect(await runCli(['events', 'tail', '--consume', '--max', '2', '--idle', '10'], c.io)).toBe(ExitCode.ok);
    expect(c.out.map((l) => JSON.parse(l).body.orbiter_run_id)).toEqual(['e1', 'e2']);
    const after = io(env);
    expect(await runCli(['events', 'tail', '--consume', '--idle', '2'], after.io)).toBe(ExitCode.ok);
    expect(after.out).toEqual([]);
    expect(await runCli(['events', 'tail', '--consume', '--peek'], io(env).io)).toBe(ExitCode.usage);
  });

  it('needs a Service Bus connection', async () => {
    const t = io({});
    expect(await runCli(['dlq', 'list'], t.io)).toBe(ExitCode.usage);
    expect(t.err.join('\n')).toContain('ServiceBusConnection');
  });
});
