import { resolve } from 'node:path';
import { Queues } from '../../shared/names';
import { startFaultStack, type FaultStack } from './support/faultStack';
import { landFiles, pushBlobCreated } from './support/files';
import { completionMessages, settle, violations } from './support/ledger';

jest.setTimeout(240_000);

/**
 * Faults in the messages themselves: a poison run request (invalid body) and Event Grid delivering the same
 * BlobCreated notification several times, concurrently and after the run already finished.
 */
describe('faults: poison messages and duplicate blob events', () => {
  const repoRoot = resolve(__dirname, '..', '..');
  let stack: FaultStack;

  beforeAll(async () => {
    stack = await startFaultStack({ repoRoot });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('a poison run request is dead-lettered with its reason at once (run-failures) and blocks nothing', async () => {
    const sender = stack.bus.createSender(Queues.runRequests);
    try {
      // Not JSON at all, and JSON that is not a run request.
      await sender.sendMessages([
        { messageId: 'poison-text', body: 'this is {not a run request', contentType: 'text/plain' },
        {
          messageId: 'poison-shape',
          body: { schema: 'orbiter.run-request', version: 1, dataset: 'pluto', inputs: 'none' },
          contentType: 'application/json',
        },
      ]);
    } finally {
      await sender.close();
    }
    stack.watcher.start();
    const files = await landFiles(stack, 'apod', 12, 'poison');
    const s = await settle(stack, { expectedFiles: files.length, timeoutMs: 90_000 });
    expect(violations(s)).toEqual([]);
    expect(s.settled).toBe(true);
    // Rejected at the first delivery (no retry can fix them), parked with the reason in run-failures' dead-letter queue.
    expect(s.deadLetters.filter((d) => d.queue === Queues.runRequests)).toEqual([]);
    const poison = s.deadLetters.filter((d) => d.queue === Queues.runFailures);
    expect(poison.map((d) => d.messageId).sort()).toEqual(['rejected-poison-shape', 'rejected-poison-text']);
    for (const d of poison) {
      expect(d.reason).toBe('InvalidRunRequest');
      expect(d.description.length).toBeGreaterThan(10);
    }
    expect(poison.find((d) => d.messageId === 'rejected-poison-shape')!.body).toEqual({
      schema: 'orbiter.run-request',
      version: 1,
      dataset: 'pluto',
      inputs: 'none',
    });
    // Every landed file ran, exactly once (violations() checks the "exactly").
    expect(new Set(s.runs.filter((r) => r.result === 'SUCCESS').flatMap((r) => r.files))).toEqual(new Set(files.map((f) => f.key)));
  });

  it('the same BlobCreated event delivered three times (two at once, one after the run) makes one run per file', async () => {
    await stack.watcher.stop(); // this test is Event Grid itself
    const before = (await settle(stack, { expectedFiles: 0, timeoutMs: 30_000 })).runs.length;
    const files = await landFiles(stack, 'neows', 10, 'dup');
    const first = await Promise.all(files.flatMap((f) => [pushBlobCreated(stack, f), pushBlobCreated(stack, f)]));
    expect(first.every((st) => st === 202)).toBe(true);
    const mid = await settle(stack, { expectedFiles: 22, timeoutMs: 60_000 });
    expect(violations(mid)).toEqual([]);
    // A late redelivery, after the files already ran.
    const late = await Promise.all(files.map((f) => pushBlobCreated(stack, f)));
    expect(late.every((st) => st === 202)).toBe(true);
    const s = await settle(stack, { expectedFiles: 22, timeoutMs: 60_000 });
    expect(violations(s)).toEqual([]);
    expect(s.settled).toBe(true);
    const mine = s.runs.filter((r) => r.jobName === 'orbiter-neows-pipeline');
    expect(mine.flatMap((r) => r.files).sort()).toEqual(files.map((f) => f.key).sort());
    expect(s.runs.length - before).toBe(mine.length);
    // Every succeeded run published its completion at least once (the topic is not de-duplicated: consumers use the MessageId).
    const published = await completionMessages(stack);
    expect(s.records.filter((r) => (published.get(r.runId) ?? 0) < 1).map((r) => r.runId)).toEqual([]);
  });
});
