/** The append-only journal: replay, torn writes, compaction, and a namespace restored from it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEmulatorConfig } from '../../src/emulator-config';
import { ServiceBusNamespace } from '../../src/namespace';
import { FileJournal } from '../../src/persistence';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbjournal-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const defs = parseEmulatorConfig({
  UserConfig: {
    Namespaces: [
      {
        Name: 'ns',
        Queues: [{ Name: 'q', Properties: { MaxDeliveryCount: 2, RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M' } }],
        Topics: [{ Name: 't', Subscriptions: [{ Name: 's' }] }],
      },
    ],
  },
});

const clock = {
  t: 1_000,
  now() {
    return this.t;
  },
};
const msg = (id: string, scheduledAt?: number) => ({
  raw: Buffer.from(`body-${id}`),
  meta: { messageId: id, applicationProperties: { id }, scheduledAt },
});

function open(): { ns: ServiceBusNamespace; journal: FileJournal } {
  const { journal, state } = FileJournal.open(dir, () => clock.now());
  return { ns: new ServiceBusNamespace(defs, { clock, journal, restored: state }), journal };
}

test('state written through the journal is restored: messages, counts, dead letters, schedules, sequences, dedupe ids', () => {
  let { ns, journal } = open();
  ns.send('q', [msg('a'), msg('b'), msg('c')]);
  ns.schedule('t', [msg('later', 5_000)]);
  const q = ns.receiver('q')!;
  q.settle(q.lockNext()!.lockToken!, { kind: 'complete' }); // a
  q.settle(q.lockNext()!.lockToken!, { kind: 'abandon', properties: { note: 'x' } }); // b: count 1
  const b = q.lockNext()!; // b again
  expect(b.meta.messageId).toBe('b');
  q.settle(b.lockToken!, { kind: 'abandon' }); // b: count 2 -> dead-lettered
  expect(q.lockNext()!.meta.messageId).toBe('c'); // c stays locked when we "crash"
  journal.close();

  ({ ns, journal } = open());
  const restored = ns.receiver('q')!;
  expect(restored.peek(1, 10).map((m) => [m.seq, m.raw.toString(), m.deliveryCount, m.lockToken])).toEqual([[3, 'body-c', 0, undefined]]);
  expect(
    ns
      .receiver('q/$deadletterqueue')!
      .peek(1, 10)
      .map((m) => [m.seq, m.propsPatch]),
  ).toEqual([
    [
      2,
      {
        note: 'x',
        DeadLetterReason: 'MaxDeliveryCountExceeded',
        DeadLetterErrorDescription: 'Message could not be consumed after 2 delivery attempts.',
      },
    ],
  ]);
  ns.send('q', [msg('a'), msg('d')]); // 'a' is still inside the dedupe window
  expect(restored.peek(1, 10).map((m) => [m.seq, m.meta.messageId])).toEqual([
    [3, 'c'],
    [4, 'd'],
  ]);
  clock.t = 5_000;
  ns.sweep();
  expect(
    ns
      .receiver('t/subscriptions/s')!
      .peek(1, 10)
      .map((m) => [m.seq, m.meta.messageId]),
  ).toEqual([[1, 'later']]);
  journal.close();
});

test('a torn final commit is ignored; earlier commits survive', () => {
  let { ns, journal } = open();
  ns.send('q', [msg('kept')]);
  journal.close();
  const file = path.join(dir, 'servicebus.log');
  // Simulate a crash mid-append: a complete record of an unfinished commit, then half a line.
  fs.appendFileSync(file, `${JSON.stringify({ t: 'del', k: 'q', s: 1 })}\n{"t":"put","k":"q","m":{"seq":`);
  ({ ns, journal } = open());
  expect(
    ns
      .receiver('q')!
      .peek(1, 10)
      .map((m) => m.meta.messageId),
  ).toEqual(['kept']);
  journal.close();
});

test('corruption before the end of the log is an error, not silent data loss', () => {
  const { journal } = open();
  journal.close();
  fs.writeFileSync(path.join(dir, 'servicebus.log'), 'garbage\n{"t":"c"}\n');
  expect(() => FileJournal.open(dir)).toThrow(/corrupt/);
});

test('opening compacts the log to the live state', () => {
  let { ns, journal } = open();
  ns.send(
    'q',
    Array.from({ length: 50 }, (_, i) => msg(`m${i}`)),
  );
  const q = ns.receiver('q')!;
  for (let i = 0; i < 49; i++) q.settle(q.lockNext()!.lockToken!, { kind: 'complete' });
  journal.close();
  const before = fs.statSync(path.join(dir, 'servicebus.log')).size;
  ({ ns, journal } = open());
  const after = fs.statSync(path.join(dir, 'servicebus.log')).size;
  expect(after).toBeLessThan(before / 5);
  expect(
    ns
      .receiver('q')!
      .peek(1, 100)
      .map((m) => m.meta.messageId),
  ).toEqual(['m49']);
  ns.send('q', [msg('next')]);
  expect(
    ns
      .receiver('q')!
      .peek(1, 100)
      .map((m) => m.seq),
  ).toEqual([50, 51]);
  journal.close();
});

test('a data directory can be open in only one broker at a time; a stale lock from a dead process is taken over', () => {
  const { journal } = open();
  expect(() => FileJournal.open(dir)).toThrow(/already open/);
  journal.close();
  fs.writeFileSync(path.join(dir, 'servicebus.lock'), '999999999'); // no such process
  const again = FileJournal.open(dir);
  again.journal.close();
  fs.writeFileSync(path.join(dir, 'servicebus.lock'), String(process.ppid)); // a live process
  expect(() => FileJournal.open(dir)).toThrow(/in use by process/);
});
