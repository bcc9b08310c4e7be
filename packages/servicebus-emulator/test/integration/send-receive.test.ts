/** Sending and receiving through the unchanged @azure/service-bus client. */
import { isServiceBusError, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { peekAll, startHarness, type Harness } from './harness';

// jest's per-project testTimeout is not applied to tests selected by path; lock/TTL tests need a few seconds.
jest.setTimeout(30_000);

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function receiveAll(queue: string, n: number, mode: 'peekLock' | 'receiveAndDelete' = 'peekLock'): Promise<ServiceBusReceivedMessage[]> {
  const receiver = h.client.createReceiver(queue, { receiveMode: mode });
  const got: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + 5000;
  while (got.length < n && Date.now() < deadline) {
    got.push(...(await receiver.receiveMessages(n - got.length, { maxWaitTimeInMs: 1000 })));
  }
  if (mode === 'peekLock') for (const m of got) await receiver.completeMessage(m);
  await receiver.close();
  return got;
}

test('message fields round-trip: JSON, string and binary bodies and all system/application properties', async () => {
  const sender = h.client.createSender('basic');
  await sender.sendMessages({
    body: { dataset: 'neows', n: 3, nested: { ok: true } },
    messageId: 'msg-1',
    correlationId: 'corr-1',
    subject: 'run.requested',
    contentType: 'application/json',
    to: 'dest',
    replyTo: 'run-status',
    sessionId: 'session-7',
    timeToLive: 600_000,
    applicationProperties: { source: 'neows', attempt: 2, ratio: 0.5, urgent: true },
  });
  await sender.sendMessages({ body: 'plain text', messageId: 'msg-2' });
  await sender.sendMessages({ body: Buffer.from([0, 1, 2, 255]), messageId: 'msg-3' });
  await sender.close();

  const [json, text, binary] = await receiveAll('basic', 3);
  expect(json!.body).toEqual({ dataset: 'neows', n: 3, nested: { ok: true } });
  expect(json).toMatchObject({
    messageId: 'msg-1',
    correlationId: 'corr-1',
    subject: 'run.requested',
    contentType: 'application/json',
    to: 'dest',
    replyTo: 'run-status',
    sessionId: 'session-7',
    timeToLive: 600_000,
    applicationProperties: { source: 'neows', attempt: 2, ratio: 0.5, urgent: true },
    deliveryCount: 0,
  });
  expect(text!.body).toBe('plain text');
  expect(Buffer.from(binary!.body as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]));
});

test('single, array and batch sends; sequence numbers increase and enqueued time is set', async () => {
  const before = Date.now();
  const sender = h.client.createSender('basic');
  await sender.sendMessages({ body: 0 });
  await sender.sendMessages([{ body: 1 }, { body: 2 }]);
  const batch = await sender.createMessageBatch();
  expect(batch.maxSizeInBytes).toBeGreaterThan(0);
  for (const body of [3, 4, 5]) expect(batch.tryAddMessage({ body })).toBe(true);
  await sender.sendMessages(batch);
  await sender.close();

  const got = await receiveAll('basic', 6);
  expect(got.map((m) => m.body)).toEqual([0, 1, 2, 3, 4, 5]);
  const seqs = got.map((m) => Number(m.sequenceNumber));
  expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
  for (const m of got) {
    expect(m.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(m.enqueuedTimeUtc!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(typeof m.messageId).toBe('string'); // assigned by the broker when the sender set none
  }
  expect(new Set(got.map((m) => m.messageId)).size).toBe(6);
});

test('receiveAndDelete removes messages on delivery', async () => {
  const sender = h.client.createSender('basic');
  await sender.sendMessages([{ body: 'a' }, { body: 'b' }]);
  const got = await receiveAll('basic', 2, 'receiveAndDelete');
  expect(got.map((m) => m.body)).toEqual(['a', 'b']);
  const receiver = h.client.createReceiver('basic');
  expect(await peekAll(h, 'basic')).toEqual([]);
  expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
});

test('receiveMessages with more credit than messages returns promptly (drain is answered)', async () => {
  await h.client.createSender('basic').sendMessages({ body: 'only' });
  const receiver = h.client.createReceiver('basic');
  const started = Date.now();
  const got = await receiver.receiveMessages(10, { maxWaitTimeInMs: 2000 });
  expect(got.map((m) => m.body)).toEqual(['only']);
  expect(Date.now() - started).toBeLessThan(2000);
  await receiver.completeMessage(got[0]!);
  // The link survives the drain: a second receive on the same receiver still works.
  await h.client.createSender('basic').sendMessages({ body: 'second' });
  const again = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
  expect(again.map((m) => m.body)).toEqual(['second']);
});

test('peekMessages shows messages without locking them, from a sequence number, and [] when empty', async () => {
  const receiver = h.client.createReceiver('basic');
  expect(await receiver.peekMessages(5)).toEqual([]);
  await h.client.createSender('basic').sendMessages([{ body: 'a' }, { body: 'b' }, { body: 'c' }]);
  const peeked = await receiver.peekMessages(2);
  expect(peeked.map((m) => m.body)).toEqual(['a', 'b']);
  expect(peeked[0]!.lockToken).toBeUndefined();
  const rest = await h.client.createReceiver('basic').peekMessages(5, { fromSequenceNumber: peeked[1]!.sequenceNumber! });
  expect(rest.map((m) => m.body)).toEqual(['b', 'c']);
  // Peeking did not lock: all three can be received.
  expect((await receiveAll('basic', 3)).map((m) => m.body)).toEqual(['a', 'b', 'c']);
});

test('competing receivers each get distinct messages', async () => {
  await h.client.createSender('basic').sendMessages(Array.from({ length: 10 }, (_, i) => ({ body: i })));
  const r1 = h.client.createReceiver('basic');
  const r2 = h.client.createReceiver('basic');
  const [a, b] = await Promise.all([r1.receiveMessages(5, { maxWaitTimeInMs: 1000 }), r2.receiveMessages(5, { maxWaitTimeInMs: 1000 })]);
  const bodies = [...a, ...b].map((m) => m.body as number).sort((x, y) => x - y);
  expect(bodies).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('ForwardTo moves messages into the target queue', async () => {
  await h.client.createSender('forward-in').sendMessages({ body: 'fwd' });
  expect((await receiveAll('basic', 1)).map((m) => m.body)).toEqual(['fwd']);
});

test('unknown entities fail with MessagingEntityNotFound for senders, receivers and management calls', async () => {
  const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
    try {
      await p;
      return undefined;
    } catch (e) {
      return isServiceBusError(e) ? e.code : `not a ServiceBusError: ${String(e)}`;
    }
  };
  expect(await codeOf(h.client.createSender('no-such-queue').sendMessages({ body: 1 }))).toBe('MessagingEntityNotFound');
  expect(await codeOf(h.client.createReceiver('no-such-queue').receiveMessages(1, { maxWaitTimeInMs: 500 }))).toBe('MessagingEntityNotFound');
  expect(await codeOf(h.client.createReceiver('no-such-queue').peekMessages(1))).toBe('MessagingEntityNotFound');
});

test('a message over the advertised size limit is rejected with MessageSizeExceeded', async () => {
  const sender = h.client.createSender('basic');
  await expect(sender.sendMessages({ body: Buffer.alloc(300 * 1024) })).rejects.toMatchObject({ code: 'MessageSizeExceeded' });
  const batch = await sender.createMessageBatch();
  expect(batch.tryAddMessage({ body: Buffer.alloc(300 * 1024) })).toBe(false);
});

test('receiving from a topic or sending to a subscription is refused', async () => {
  await expect(h.client.createReceiver('events').receiveMessages(1, { maxWaitTimeInMs: 500 })).rejects.toMatchObject({
    code: 'MessagingEntityNotFound',
  });
  await expect(h.client.createSender('events/Subscriptions/all').sendMessages({ body: 1 })).rejects.toBeInstanceOf(Error);
  // Neither attempt put anything anywhere.
  expect(await peekAll(h, ['events', 'all'])).toEqual([]);
});

test('a dead-letter queue can be drained in receiveAndDelete mode', async () => {
  await h.client.createSender('basic').sendMessages({ body: 'to-dlq' });
  const receiver = h.client.createReceiver('basic');
  const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
  await receiver.deadLetterMessage(m!, { deadLetterReason: 'r', deadLetterErrorDescription: 'd' });
  const dlq = h.client.createReceiver('basic', { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' });
  const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2000 });
  expect([dead!.body, dead!.deadLetterReason]).toEqual(['to-dlq', 'r']);
  expect(await peekAll(h, 'basic', { deadLetter: true })).toEqual([]);
});
