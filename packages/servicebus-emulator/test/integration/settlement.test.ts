/** Peek-lock settlement, locks and dead-lettering through the unchanged @azure/service-bus client. */
import { isServiceBusError, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
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

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isServiceBusError(e) ? e.code : `not a ServiceBusError: ${String(e)}`;
  }
}

test('complete removes the message', async () => {
  await h.client.createSender('basic').sendMessages({ body: 'done' });
  const receiver = h.client.createReceiver('basic');
  const m = await receiveOne(receiver);
  expect(m.lockToken).toMatch(/^[0-9a-f-]{36}$/);
  expect(m.lockedUntilUtc!.getTime()).toBeGreaterThan(Date.now());
  await receiver.completeMessage(m);
  expect(await peekAll(h, 'basic')).toEqual([]);
});

test('abandon redelivers with deliveryCount + 1 and merged properties', async () => {
  await h.client.createSender('basic').sendMessages({ body: 'retry', applicationProperties: { a: 1 } });
  const receiver = h.client.createReceiver('basic');
  const first = await receiveOne(receiver);
  expect(first.deliveryCount).toBe(0);
  await receiver.abandonMessage(first, { reason: 'flaky' });
  const second = await receiveOne(receiver);
  expect(second.body).toBe('retry');
  expect(second.deliveryCount).toBe(1);
  expect(second.applicationProperties).toEqual({ a: 1, reason: 'flaky' });
  expect(second.lockToken).not.toBe(first.lockToken);
  await receiver.completeMessage(second);
});

test('deadLetter moves the message to $DeadLetterQueue with reason and description', async () => {
  await h.client.createSender('basic').sendMessages({ body: 'poison', messageId: 'p-1' });
  const receiver = h.client.createReceiver('basic');
  const m = await receiveOne(receiver);
  await receiver.deadLetterMessage(m, { deadLetterReason: 'SchemaInvalid', deadLetterErrorDescription: 'field x missing' });
  expect(await peekAll(h, 'basic')).toEqual([]);

  const dlq = h.client.createReceiver('basic', { subQueueType: 'deadLetter' });
  const dead = await receiveOne(dlq);
  expect(dead.body).toBe('poison');
  expect(dead.messageId).toBe('p-1');
  expect(dead.deadLetterReason).toBe('SchemaInvalid');
  expect(dead.deadLetterErrorDescription).toBe('field x missing');
  await dlq.completeMessage(dead);
  expect(await peekAll(h, 'basic', { deadLetter: true })).toEqual([]);
});

test('defer hides the message until receiveDeferredMessages, which settles through $management', async () => {
  await h.client.createSender('basic').sendMessages([{ body: 'later' }, { body: 'now' }]);
  const receiver = h.client.createReceiver('basic');
  const m = await receiveOne(receiver);
  expect(m.body).toBe('later');
  await receiver.deferMessage(m, { deferredBy: 'test' });

  const next = await receiveOne(receiver);
  expect(next.body).toBe('now'); // the deferred one is not handed out again
  await receiver.completeMessage(next);

  const peeked = await peekAll(h, 'basic');
  expect(peeked.map((p) => [p.body, p.state])).toEqual([['later', 'deferred']]);

  const [deferred] = await receiver.receiveDeferredMessages([m.sequenceNumber!]);
  expect(deferred!.body).toBe('later');
  expect(deferred!.applicationProperties).toEqual({ deferredBy: 'test' });
  expect(deferred!.lockToken).toBeDefined();
  const renewed = await receiver.renewMessageLock(deferred!);
  expect(renewed.getTime()).toBeGreaterThan(Date.now());
  await receiver.completeMessage(deferred!);
  expect(await peekAll(h, 'basic')).toEqual([]);
  expect(await errorCode(receiver.receiveDeferredMessages([m.sequenceNumber!]))).toBe('MessageNotFound');
});

test('lock expiry redelivers with a new lock token; settling with the stale lock fails with MessageLockLost', async () => {
  await h.client.createSender('short-lock').sendMessages({ body: 'slow' });
  const receiver = h.client.createReceiver('short-lock', { maxAutoLockRenewalDurationInMs: 0 });
  const first = await receiveOne(receiver);
  const second = await receiveOne(receiver, 20_000); // arrives once the 5 s lock has expired
  expect(second.body).toBe('slow');
  expect(second.lockToken).not.toBe(first.lockToken);
  expect(second.deliveryCount).toBe(1);
  expect(await errorCode(receiver.completeMessage(first))).toBe('MessageLockLost');
  expect(await errorCode(receiver.renewMessageLock(first))).toBe('MessageLockLost');
  await receiver.completeMessage(second);
  expect(await peekAll(h, 'short-lock')).toEqual([]);
});

test('renewMessageLock extends the lock past the lock duration', async () => {
  await h.client.createSender('short-lock').sendMessages({ body: 'held' });
  const receiver = h.client.createReceiver('short-lock', { maxAutoLockRenewalDurationInMs: 0 });
  const m = await receiveOne(receiver);
  const originalUntil = m.lockedUntilUtc!.getTime();
  // Renew repeatedly for ~2.5 lock durations; the message must stay locked to us throughout.
  const deadline = originalUntil + 1500;
  let until = originalUntil;
  while (Date.now() < deadline) {
    until = (await receiver.renewMessageLock(m)).getTime();
    await new Promise((r) => setTimeout(r, 300));
  }
  expect(until).toBeGreaterThan(originalUntil);
  expect(await h.client.createReceiver('short-lock').receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
  await receiver.completeMessage(m);
});

test('SDK auto lock renewal keeps a 5 s lock alive past its duration', async () => {
  await h.client.createSender('short-lock').sendMessages({ body: 'auto' });
  const receiver = h.client.createReceiver('short-lock'); // auto-renewal is on by default
  const m = await receiveOne(receiver);
  const lockedAt = m.lockedUntilUtc!.getTime();
  await pollUntil(() => m.lockedUntilUtc!.getTime() >= lockedAt + 1500, 20_000, 'the SDK to renew the lock');
  await receiver.completeMessage(m);
  expect(await peekAll(h, 'short-lock')).toEqual([]);
});

test('MaxDeliveryCount exceeded moves the message to the dead-letter queue', async () => {
  await h.client.createSender('short-lock').sendMessages({ body: 'cursed', messageId: 'c-1' }); // MaxDeliveryCount 3
  const receiver = h.client.createReceiver('short-lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    const m = await receiveOne(receiver);
    expect(m.deliveryCount).toBe(attempt);
    await receiver.abandonMessage(m);
  }
  expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
  const dlq = h.client.createReceiver('short-lock', { subQueueType: 'deadLetter' });
  const dead = await receiveOne(dlq);
  expect(dead.messageId).toBe('c-1');
  expect(dead.deadLetterReason).toBe('MaxDeliveryCountExceeded');
  expect(dead.deadLetterErrorDescription).toBe('Message could not be consumed after 3 delivery attempts.');
  await dlq.completeMessage(dead);
});

test('lock expiries count as delivery attempts too', async () => {
  await h.client.createSender('short-lock').sendMessages({ body: 'abandoned-by-crash' });
  const receiver = h.client.createReceiver('short-lock', { maxAutoLockRenewalDurationInMs: 0 });
  for (let attempt = 0; attempt < 3; attempt++) expect((await receiveOne(receiver, 20_000)).deliveryCount).toBe(attempt);
  const dlq = h.client.createReceiver('short-lock', { subQueueType: 'deadLetter' });
  expect((await receiveOne(dlq, 20_000)).deadLetterReason).toBe('MaxDeliveryCountExceeded');
});

test('subscribe() processes messages with peekLock and auto-complete', async () => {
  await h.client.createSender('basic').sendMessages(Array.from({ length: 20 }, (_, i) => ({ body: i })));
  const receiver = h.client.createReceiver('basic');
  const seen: number[] = [];
  const sub = receiver.subscribe(
    {
      processMessage: async (m) => {
        seen.push(m.body as number);
      },
      processError: async (args) => {
        throw args.error;
      },
    },
    { maxConcurrentCalls: 4 },
  );
  await pollUntil(() => seen.length >= 20, 5000, '20 messages');
  await sub.close();
  expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  await pollUntil(async () => (await peekAll(h, 'basic')).length === 0, 5000, 'all completed');
});
