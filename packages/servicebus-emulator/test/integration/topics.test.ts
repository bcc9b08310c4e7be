/** Topic fan-out, subscription filters and high-volume streaming through the unchanged @azure/service-bus client. */
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
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

const bodies = (ms: ServiceBusReceivedMessage[]): unknown[] => ms.map((m) => m.body);

test('a topic send is copied to every subscription whose rules match', async () => {
  await h.client
    .createSender('events')
    .sendMessages([
      { body: 'plain' },
      { body: 'error-high', subject: 'error', applicationProperties: { severity: 'high' } },
      { body: 'error-low', subject: 'error', applicationProperties: { severity: 'low' } },
      { body: 'kind-a-json', contentType: 'application/json', applicationProperties: { kind: 'a' } },
      { body: 'kind-a-text', contentType: 'text/plain', applicationProperties: { kind: 'a' } },
    ]);
  const all = ['plain', 'error-high', 'error-low', 'kind-a-json', 'kind-a-text'];
  expect(bodies(await peekAll(h, ['events', 'all']))).toEqual(all); // SQL 1=1
  expect(bodies(await peekAll(h, ['events', 'no-rules']))).toEqual(all); // $Default TrueFilter
  expect(bodies(await peekAll(h, ['events', 'errors']))).toEqual(['error-high']); // correlation: Label + property
  expect(bodies(await peekAll(h, ['events', 'sql-kind']))).toEqual(['kind-a-json']); // SQL with AND
  expect(await peekAll(h, ['events', 'nothing'])).toEqual([]); // SQL 1=0

  // Each copy shares the topic's sequence number.
  const seqsAll = (await peekAll(h, ['events', 'all'])).map((m) => Number(m.sequenceNumber));
  const seqsErrors = (await peekAll(h, ['events', 'errors'])).map((m) => Number(m.sequenceNumber));
  expect(seqsErrors).toEqual([seqsAll[1]]);
});

test('each subscription copy has its own lock, delivery count and dead-letter queue', async () => {
  await h.client.createSender('events').sendMessages({ body: 'shared', messageId: 'e-1' });
  const a = h.client.createReceiver('events', 'all');
  const b = h.client.createReceiver('events', 'no-rules');
  const [ma] = await a.receiveMessages(1, { maxWaitTimeInMs: 2000 });
  const [mb] = await b.receiveMessages(1, { maxWaitTimeInMs: 2000 });
  expect(ma!.lockToken).not.toBe(mb!.lockToken);
  await a.deadLetterMessage(ma!, { deadLetterReason: 'Bad', deadLetterErrorDescription: 'nope' });
  await b.completeMessage(mb!);
  const dead = await peekAll(h, ['events', 'all'], { deadLetter: true });
  expect(dead.map((m) => [m.messageId, m.deadLetterReason])).toEqual([['e-1', 'Bad']]);
  expect(await peekAll(h, ['events', 'no-rules'], { deadLetter: true })).toEqual([]);
  expect(await peekAll(h, ['events', 'no-rules'])).toEqual([]);
});

test('subscribe() on two subscriptions receives every message once each', async () => {
  const n = 50;
  await h.client.createSender('events').sendMessages(Array.from({ length: n }, (_, i) => ({ body: i })));
  const seen: Record<string, number[]> = { all: [], 'no-rules': [] };
  const subs = Object.keys(seen).map((name) =>
    h.client.createReceiver('events', name).subscribe(
      {
        processMessage: async (m) => {
          seen[name]!.push(m.body as number);
        },
        processError: async (args) => {
          throw args.error;
        },
      },
      { maxConcurrentCalls: 5 },
    ),
  );
  await pollUntil(() => seen['all']!.length >= n && seen['no-rules']!.length >= n, 5000, 'fan-out to both subscriptions');
  await Promise.all(subs.map((s) => s.close()));
  for (const got of Object.values(seen)) expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
});

test('more than 2048 messages flow through one peekLock subscribe() (settled deliveries are released)', async () => {
  const n = 2300;
  const sender = h.client.createSender('basic');
  for (let i = 0; i < n; i += 500) {
    await sender.sendMessages(Array.from({ length: Math.min(500, n - i) }, (_, j) => ({ body: i + j })));
  }
  let count = 0;
  const sub = h.client.createReceiver('basic').subscribe(
    {
      processMessage: async () => {
        count++;
      },
      processError: async (args) => {
        throw args.error;
      },
    },
    { maxConcurrentCalls: 50 },
  );
  await pollUntil(() => count >= n, 20_000, `${n} messages`);
  await sub.close();
  expect(count).toBe(n);
  await pollUntil(async () => (await peekAll(h, 'basic')).length === 0, 5000, 'every message completed');
}, 30_000);
