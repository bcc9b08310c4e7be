/** Pure queue semantics with an injected clock: no sockets, no timers. */
import { memoryJournal } from '../../src/journal';
import { MessageQueue, type QueueSettings, type StoredMessage } from '../../src/queue';

function setup(overrides: Partial<QueueSettings> = {}) {
  const clock = {
    t: 1_000_000,
    now() {
      return this.t;
    },
  };
  const deadLettered: StoredMessage[] = [];
  let available = 0;
  const queue = new MessageQueue(
    'q',
    {
      lockDurationMs: 1000,
      maxDeliveryCount: 3,
      defaultTtlMs: Infinity,
      deadLetteringOnMessageExpiration: false,
      isDeadLetterQueue: false,
      requiresSession: false,
      ...overrides,
    },
    clock,
    { journal: memoryJournal, deadLetter: (m) => deadLettered.push(m), available: () => available++ },
  );
  let seq = 0;
  const add = (meta: Partial<StoredMessage['meta']> = {}) =>
    queue.add({
      seq: ++seq,
      raw: Buffer.from(`m${seq}`),
      meta: { messageId: `id-${seq}`, applicationProperties: {}, ...meta },
      deliveryCount: 0,
      propsPatch: {},
    });
  return { queue, clock, deadLettered, add, available: () => available };
}

test('peekLock hands out messages in order, each locked once with a fresh token', () => {
  const { queue, add, clock } = setup();
  add();
  add();
  const a = queue.lockNext()!;
  const b = queue.lockNext()!;
  expect([a.seq, b.seq]).toEqual([1, 2]);
  expect(a.lockToken).not.toBe(b.lockToken);
  expect(a.lockedUntil).toBe(clock.t + 1000);
  expect(queue.lockNext()).toBeUndefined();
});

test('complete removes; a second settle with the same token is lock-lost', () => {
  const { queue, add } = setup();
  add();
  const token = queue.lockNext()!.lockToken!;
  expect(queue.settle(token, { kind: 'complete' })).toBe('ok');
  expect(queue.size).toBe(0);
  expect(queue.settle(token, { kind: 'complete' })).toBe('lockLost');
});

test('abandon unlocks, counts the delivery and merges properties', () => {
  const { queue, add } = setup();
  add();
  const m = queue.lockNext()!;
  expect(queue.settle(m.lockToken!, { kind: 'abandon', properties: { why: 'x' } })).toBe('ok');
  const again = queue.lockNext()!;
  expect(again.seq).toBe(1);
  expect(again.deliveryCount).toBe(1);
  expect(again.propsPatch).toEqual({ why: 'x' });
});

test('lock expiry makes the message available again with a new token and counts a delivery', () => {
  const { queue, add, clock } = setup();
  add();
  const first = queue.lockNext()!;
  const oldToken = first.lockToken!;
  clock.t += 999;
  expect(queue.lockNext()).toBeUndefined();
  clock.t += 1;
  const second = queue.lockNext()!;
  expect(second.lockToken).not.toBe(oldToken);
  expect(second.deliveryCount).toBe(1);
  expect(queue.settle(oldToken, { kind: 'complete' })).toBe('lockLost');
});

test('settling after the lock expired is lock-lost even before anyone else receives', () => {
  const { queue, add, clock } = setup();
  add();
  const m = queue.lockNext()!;
  clock.t += 1000;
  expect(queue.settle(m.lockToken!, { kind: 'complete' })).toBe('lockLost');
  expect(queue.size).toBe(1);
});

test('renewLock extends from now; unknown or expired tokens cannot be renewed', () => {
  const { queue, add, clock } = setup();
  add();
  const m = queue.lockNext()!;
  clock.t += 800;
  expect(queue.renewLock(m.lockToken!)).toBe(clock.t + 1000);
  clock.t += 900;
  expect(queue.settle(m.lockToken!, { kind: 'complete' })).toBe('ok');
  expect(queue.renewLock('00000000-0000-0000-0000-000000000000')).toBeUndefined();
});

test('MaxDeliveryCount: the Nth failed delivery dead-letters with MaxDeliveryCountExceeded', () => {
  const { queue, add, deadLettered, clock } = setup({ maxDeliveryCount: 3 });
  add();
  queue.settle(queue.lockNext()!.lockToken!, { kind: 'abandon' });
  queue.lockNext(); // second attempt times out
  clock.t += 1000;
  queue.sweep();
  expect(deadLettered).toEqual([]);
  queue.settle(queue.lockNext()!.lockToken!, { kind: 'abandon' });
  expect(queue.size).toBe(0);
  expect(deadLettered).toHaveLength(1);
  expect(deadLettered[0]!.propsPatch).toEqual({
    DeadLetterReason: 'MaxDeliveryCountExceeded',
    DeadLetterErrorDescription: 'Message could not be consumed after 3 delivery attempts.',
  });
});

test('deadLetter settlement carries reason, description and extra properties', () => {
  const { queue, add, deadLettered } = setup();
  add();
  const m = queue.lockNext()!;
  queue.settle(m.lockToken!, { kind: 'deadLetter', reason: 'Bad', description: 'very', properties: { extra: 1 } });
  expect(deadLettered[0]!.propsPatch).toEqual({ extra: 1, DeadLetterReason: 'Bad', DeadLetterErrorDescription: 'very' });
});

test('defer: hidden from receivers, visible to peek, receivable by sequence number', () => {
  const { queue, add } = setup();
  add();
  const m = queue.lockNext()!;
  queue.settle(m.lockToken!, { kind: 'defer' });
  expect(queue.lockNext()).toBeUndefined();
  expect(queue.peek(1, 10).map((p) => p.state)).toEqual(['deferred']);
  expect(queue.receiveDeferred(99, 'peekLock')).toBeUndefined();
  const d = queue.receiveDeferred(1, 'peekLock')!;
  expect(d.lockToken).toBeDefined();
  expect(queue.receiveDeferred(1, 'peekLock')).toBeUndefined(); // already locked
  queue.settle(d.lockToken!, { kind: 'abandon' });
  expect(queue.get(1)!.state).toBe('deferred'); // abandoning a deferred message keeps it deferred
  expect(queue.receiveDeferred(1, 'receiveAndDelete')!.seq).toBe(1);
  expect(queue.size).toBe(0);
});

test('receiveAndDelete removes on hand-out', () => {
  const { queue, add } = setup();
  add();
  expect(queue.takeNext()!.seq).toBe(1);
  expect(queue.size).toBe(0);
  expect(queue.takeNext()).toBeUndefined();
});

test('scheduled messages are invisible until due, then enqueued at their scheduled time', () => {
  const { queue, add, clock, available } = setup();
  const due = clock.t + 5000;
  add({ scheduledAt: due });
  expect(available()).toBe(0);
  expect(queue.lockNext()).toBeUndefined();
  expect(queue.peek(1, 10).map((m) => m.state)).toEqual(['scheduled']);
  expect(queue.cancelScheduled(2)).toBe(false);
  clock.t = due;
  queue.sweep();
  expect(available()).toBe(1);
  const m = queue.lockNext()!;
  expect(m.enqueuedAt).toBe(due);
  expect(m.state).toBe('active');
});

test('cancelScheduled removes a scheduled message but not an active one', () => {
  const { queue, add, clock } = setup();
  add({ scheduledAt: clock.t + 1000 });
  add();
  expect(queue.cancelScheduled(2)).toBe(false);
  expect(queue.cancelScheduled(1)).toBe(true);
  expect(queue.peek(1, 10).map((m) => m.seq)).toEqual([2]);
});

test('TTL: min(message ttl, entity default); expired messages are dropped, never delivered or peeked', () => {
  const { queue, add, clock, deadLettered } = setup({ defaultTtlMs: 10_000 });
  add({ ttlMs: 500 });
  add();
  expect(queue.get(1)!.expiresAt).toBe(clock.t + 500);
  expect(queue.get(2)!.expiresAt).toBe(clock.t + 10_000);
  clock.t += 500;
  expect(queue.peek(1, 10).map((m) => m.seq)).toEqual([2]);
  expect(deadLettered).toEqual([]);
});

test('TTL with DeadLetteringOnMessageExpiration dead-letters; a held lock postpones expiry', () => {
  const { queue, add, clock, deadLettered } = setup({ defaultTtlMs: 500, deadLetteringOnMessageExpiration: true });
  add();
  add();
  const held = queue.lockNext()!;
  clock.t += 600;
  queue.sweep();
  expect(deadLettered.map((m) => [m.seq, m.propsPatch['DeadLetterReason']])).toEqual([[2, 'TTLExpiredException']]);
  // The held message outlived its TTL but stayed locked; once released it expires instead of being redelivered.
  expect(queue.settle(held.lockToken!, { kind: 'abandon' })).toBe('ok');
  expect(queue.lockNext()).toBeUndefined();
  expect(deadLettered.map((m) => m.seq)).toEqual([2, 1]);
});

test('a dead-letter queue never expires or re-dead-letters its messages', () => {
  const { queue, add, clock, deadLettered } = setup({ isDeadLetterQueue: true, defaultTtlMs: 100, maxDeliveryCount: 1 });
  add();
  clock.t += 10_000;
  const m = queue.lockNext()!;
  queue.settle(m.lockToken!, { kind: 'abandon' });
  queue.settle(queue.lockNext()!.lockToken!, { kind: 'deadLetter', reason: 'x' });
  expect(deadLettered).toEqual([]);
  expect(queue.size).toBe(1);
});
