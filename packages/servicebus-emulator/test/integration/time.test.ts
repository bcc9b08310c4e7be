/** Scheduling, TTL and duplicate detection through the unchanged @azure/service-bus client. */
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { peekAll, pollUntil, startHarness, type Harness } from './harness';

// jest's per-project testTimeout is not applied to tests selected by path; lock/TTL tests need a few seconds.
jest.setTimeout(30_000);

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function receiveOne(receiver: ServiceBusReceiver, timeoutMs = 5000): Promise<ServiceBusReceivedMessage> {
  return pollUntil(async () => (await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 }))[0], timeoutMs, 'a message');
}

test('scheduleMessages holds messages until their time; cancelScheduledMessages removes them', async () => {
  const sender = h.client.createSender('basic');
  const start = Date.now();
  const [cancelled] = await sender.scheduleMessages({ body: 'cancelled' }, new Date(start + 5000));
  const [kept] = await sender.scheduleMessages({ body: 'kept' }, new Date(start + 6000));
  expect(Number(kept)).toBeGreaterThan(Number(cancelled));
  await sender.cancelScheduledMessages(cancelled!);

  const receiver = h.client.createReceiver('basic');
  const peeked = await peekAll(h, 'basic');
  expect(peeked.map((m) => [m.body, m.state, Number(m.sequenceNumber)])).toEqual([['kept', 'scheduled', Number(kept)]]);
  expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);

  const m = await receiveOne(receiver, 20_000);
  expect(m.body).toBe('kept');
  expect(Date.now()).toBeGreaterThanOrEqual(start + 6000);
  expect(Number(m.sequenceNumber)).toBe(Number(kept));
  expect(m.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(start + 6000);
  await receiver.completeMessage(m);
  // The cancelled one (due earlier) never arrived.
  expect(await peekAll(h, 'basic')).toEqual([]);
});

test('scheduledEnqueueTimeUtc on a plain send is honoured', async () => {
  const start = Date.now();
  await h.client.createSender('basic').sendMessages([{ body: 'future', scheduledEnqueueTimeUtc: new Date(start + 1000) }, { body: 'now' }]);
  const receiver = h.client.createReceiver('basic');
  const first = await receiveOne(receiver);
  expect(first.body).toBe('now');
  await receiver.completeMessage(first);
  const later = await receiveOne(receiver);
  expect(later.body).toBe('future');
  expect(Date.now()).toBeGreaterThanOrEqual(start + 1000);
  await receiver.completeMessage(later);
});

test('scheduled messages on a topic fan out when due', async () => {
  const start = Date.now();
  const [seq] = await h.client.createSender('events').scheduleMessages({ body: 'tick' }, new Date(start + 600));
  const receiver = h.client.createReceiver('events', 'all');
  const m = await receiveOne(receiver);
  expect(m.body).toBe('tick');
  expect(Number(m.sequenceNumber)).toBe(Number(seq));
  expect(Date.now()).toBeGreaterThanOrEqual(start + 600);
});

test('entity DefaultMessageTimeToLive: expired messages are dropped', async () => {
  await h.client.createSender('ttl-drop').sendMessages({ body: 'stale' }); // queue TTL 1 s (Azure's minimum)
  const receiver = h.client.createReceiver('ttl-drop');
  await pollUntil(async () => (await peekAll(h, 'ttl-drop')).length === 0, 5000, 'expiry');
  expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
  expect(await peekAll(h, 'ttl-drop', { deadLetter: true })).toEqual([]);
});

test('DeadLetteringOnMessageExpiration: expired messages go to the DLQ with TTLExpiredException', async () => {
  await h.client.createSender('ttl-dlq').sendMessages({ body: 'stale', messageId: 'ttl-1' });
  const dlq = h.client.createReceiver('ttl-dlq', { subQueueType: 'deadLetter' });
  const dead = await receiveOne(dlq);
  expect(dead.messageId).toBe('ttl-1');
  expect(dead.deadLetterReason).toBe('TTLExpiredException');
  expect(dead.deadLetterErrorDescription).toBe('The message expired and was dead lettered.');
  expect(await peekAll(h, 'ttl-dlq')).toEqual([]);
});

test('message timeToLive shorter than the entity default expires the message; expiresAtUtc is reported', async () => {
  const sender = h.client.createSender('basic');
  await sender.sendMessages({ body: 'brief', timeToLive: 300 });
  await sender.sendMessages({ body: 'lasting', timeToLive: 60_000 });
  const receiver = h.client.createReceiver('basic');
  await pollUntil(async () => (await peekAll(h, 'basic')).length === 1, 5000, 'the short-lived message to expire');
  const m = await receiveOne(receiver);
  expect(m.body).toBe('lasting');
  expect(m.expiresAtUtc!.getTime()).toBe(m.enqueuedTimeUtc!.getTime() + 60_000);
});

test('duplicate detection drops a repeated MessageId within the window, also inside a batch', async () => {
  const sender = h.client.createSender('dedupe');
  await sender.sendMessages({ body: 'one', messageId: 'run/neows/abc' });
  await sender.sendMessages({ body: 'one again', messageId: 'run/neows/abc' });
  await sender.sendMessages([
    { body: 'two', messageId: 'run/neows/def' },
    { body: 'two again', messageId: 'run/neows/def' },
    { body: 'three', messageId: 'run/neows/ghi' },
  ]);
  const peeked = await peekAll(h, 'dedupe');
  expect(peeked.map((m) => m.body)).toEqual(['one', 'two', 'three']);
  // Queues without duplicate detection keep both.
  const basic = h.client.createSender('basic');
  await basic.sendMessages({ body: 1, messageId: 'same' });
  await basic.sendMessages({ body: 2, messageId: 'same' });
  expect((await peekAll(h, 'basic')).length).toBe(2);
});

test('duplicate detection drops a scheduled message whose MessageId was seen, as a sent one', async () => {
  const sender = h.client.createSender('dedupe');
  const due = new Date(Date.now() + 60_000);
  // As the dispatcher re-sends a batch's flush: the same MessageId scheduled again gets a sequence number and is dropped.
  const seqs: Awaited<ReturnType<typeof sender.scheduleMessages>> = [];
  for (const body of ['first', 'again', 'and again']) seqs.push(...(await sender.scheduleMessages({ body, messageId: 'flush-x-1' }, due)));
  expect(new Set(seqs.map(String)).size).toBe(3);
  expect((await peekAll(h, 'dedupe')).map((m) => [m.body, m.state])).toEqual([['first', 'scheduled']]);
  await sender.sendMessages({ body: 'sent after', messageId: 'flush-x-1' });
  expect((await peekAll(h, 'dedupe')).map((m) => m.body)).toEqual(['first']);
  await sender.cancelScheduledMessages(seqs);
});
