/** Namespace routing with an injected clock: sequence numbers, dedupe, fan-out, forwarding, topic schedules. */
import { parseEmulatorConfig, type EmulatorConfig } from '../../src/emulator-config';
import { EntityNotFoundError, ServiceBusNamespace, type IncomingMessage } from '../../src/namespace';

const config: EmulatorConfig = {
  UserConfig: {
    Namespaces: [
      {
        Name: 'ns',
        Queues: [
          { Name: 'Orders', Properties: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M', MaxDeliveryCount: 1 } },
          { Name: 'audit' },
          { Name: 'relay', Properties: { ForwardTo: 'audit' } },
          { Name: 'fragile', Properties: { MaxDeliveryCount: 1, ForwardDeadLetteredMessagesTo: 'audit' } },
        ],
        Topics: [
          {
            Name: 'events',
            Subscriptions: [
              { Name: 'all' },
              { Name: 'errors', Rules: [{ Name: 'r', Properties: { FilterType: 'Correlation', CorrelationFilter: { Label: 'error' } } }] },
              {
                Name: 'to-audit',
                Properties: { ForwardTo: 'audit' },
                Rules: [{ Name: 'r', Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: "kind = 'audit'" } } }],
              },
            ],
          },
        ],
      },
    ],
  },
};

function setup() {
  const clock = {
    t: 0,
    now() {
      return this.t;
    },
  };
  const availableKeys: string[] = [];
  const ns = new ServiceBusNamespace(parseEmulatorConfig(config), { clock, onAvailable: (q) => availableKeys.push(q.key) });
  return { ns, clock, availableKeys };
}

const msg = (id: string, extra: Partial<IncomingMessage['meta']> = {}): IncomingMessage => ({
  raw: Buffer.from(id),
  meta: { messageId: id, applicationProperties: {}, ...extra },
});

const seqs = (ns: ServiceBusNamespace, path: string) =>
  ns
    .receiver(path)!
    .peek(1, 100)
    .map((m) => m.seq);

test('paths resolve case-insensitively, including sub-queues and $management', () => {
  const { ns } = setup();
  expect(ns.receiver('orders')).toBe(ns.receiver('ORDERS/'));
  expect(ns.receiver('Orders/$DeadLetterQueue')!.key).toBe('orders/$deadletterqueue');
  expect(ns.receiver('events/Subscriptions/All')!.key).toBe('events/subscriptions/all');
  expect(ns.receiver('events')).toBeUndefined(); // a topic is not receivable
  expect(ns.isSendable('events')).toBe(true);
  expect(ns.isSendable('events/subscriptions/all')).toBe(false);
  expect(ns.exists('orders/$management')).toBe(true);
  expect(ns.exists('events/subscriptions/all/$deadletterqueue/$management')).toBe(true);
  expect(ns.exists('nope')).toBe(false);
  expect(() => ns.send('nope', [msg('a')])).toThrow(EntityNotFoundError);
});

test('sequence numbers are per entity, start at 1 and increase', () => {
  const { ns } = setup();
  ns.send('orders', [msg('a'), msg('b')]);
  ns.send('audit', [msg('c')]);
  expect(seqs(ns, 'orders')).toEqual([1, 2]);
  expect(seqs(ns, 'audit')).toEqual([1]);
});

test('duplicate detection drops a repeated message id inside the window only', () => {
  const { ns, clock } = setup();
  ns.send('orders', [msg('a'), msg('a'), msg('b')]);
  expect(seqs(ns, 'orders')).toEqual([1, 2]);
  clock.t += 59_999;
  ns.send('orders', [msg('a')]);
  expect(seqs(ns, 'orders')).toEqual([1, 2]);
  clock.t += 1;
  ns.send('orders', [msg('a')]);
  expect(seqs(ns, 'orders')).toEqual([1, 2, 3]);
  ns.send('audit', [msg('x'), msg('x')]); // not enabled on audit
  expect(seqs(ns, 'audit')).toEqual([1, 2]);
});

test('topic fan-out copies to matching subscriptions with the topic sequence number; no match is dropped', () => {
  const { ns } = setup();
  ns.send('events', [msg('plain'), msg('err', { subject: 'error' }), msg('aud', { applicationProperties: { kind: 'audit' } })]);
  expect(seqs(ns, 'events/subscriptions/all')).toEqual([1, 2, 3]);
  expect(seqs(ns, 'events/subscriptions/errors')).toEqual([2]);
  expect(seqs(ns, 'events/subscriptions/to-audit')).toEqual([]); // forwarded
  expect(
    ns
      .receiver('audit')!
      .peek(1, 10)
      .map((m) => m.meta.messageId),
  ).toEqual(['aud']);
});

test('ForwardTo on a queue forwards with the target sequence numbers', () => {
  const { ns } = setup();
  ns.send('audit', [msg('first')]);
  ns.send('relay', [msg('fwd')]);
  expect(seqs(ns, 'relay')).toEqual([]);
  expect(
    ns
      .receiver('audit')!
      .peek(1, 10)
      .map((m) => [m.seq, m.meta.messageId]),
  ).toEqual([
    [1, 'first'],
    [2, 'fwd'],
  ]);
});

test('dead letters go to the sub-queue keeping their sequence number, or to ForwardDeadLetteredMessagesTo', () => {
  const { ns } = setup();
  ns.send('orders', [msg('a')]);
  const q = ns.receiver('orders')!;
  q.settle(q.lockNext()!.lockToken!, { kind: 'abandon' }); // MaxDeliveryCount 1
  expect(
    ns
      .receiver('orders/$deadletterqueue')!
      .peek(1, 10)
      .map((m) => [m.seq, m.propsPatch['DeadLetterReason']]),
  ).toEqual([[1, 'MaxDeliveryCountExceeded']]);

  ns.send('fragile', [msg('f')]);
  const f = ns.receiver('fragile')!;
  f.settle(f.lockNext()!.lockToken!, { kind: 'abandon' });
  expect(seqs(ns, 'fragile/$deadletterqueue')).toEqual([]);
  const forwarded = ns.receiver('audit')!.peek(1, 10);
  expect(forwarded.map((m) => [m.meta.messageId, m.propsPatch['DeadLetterReason']])).toEqual([['f', 'MaxDeliveryCountExceeded']]);
});

test('topic schedules wait at the topic, can be cancelled, and fan out when due', () => {
  const { ns, clock, availableKeys } = setup();
  const [s1, s2] = ns.schedule('events', [msg('later', { scheduledAt: 1000 }), msg('cancelled', { scheduledAt: 1000 })]);
  expect([s1, s2]).toEqual([1, 2]);
  expect(ns.cancelScheduled('events', [s2!, 99])).toEqual([99]);
  expect(seqs(ns, 'events/subscriptions/all')).toEqual([]);
  clock.t = 1000;
  ns.sweep();
  expect(seqs(ns, 'events/subscriptions/all')).toEqual([1]);
  expect(availableKeys).toContain('events/subscriptions/all');
  const m = ns.receiver('events/subscriptions/all')!.lockNext()!;
  expect(m.enqueuedAt).toBe(1000);
});

test('queue schedules get their sequence number at schedule time', () => {
  const { ns, clock } = setup();
  const [seq] = ns.schedule('audit', [msg('s', { scheduledAt: 500 })]);
  ns.send('audit', [msg('now')]);
  expect(seq).toBe(1);
  expect(ns.receiver('audit')!.lockNext()!.meta.messageId).toBe('now');
  clock.t = 500;
  expect(ns.receiver('audit')!.lockNext()!.seq).toBe(1);
});
