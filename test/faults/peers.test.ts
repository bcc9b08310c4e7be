import { resolve } from 'node:path';
import { portAnswers } from '@orbiter/local-stack/ports';
import { startFaultStack, type FaultStack } from './support/faultStack';
import { landFiles, waitFor } from './support/files';
import { expectExactlyOnce } from './support/ledger';
import { ScriptedRunner } from './support/runner';

jest.setTimeout(180_000);

/**
 * The peers restarting under a running host: Azurite (same data folder) and the Service Bus emulator (kill -9, then
 * started again on the same port from its --data journal). Both restarts are triggered at a busy moment: while a
 * run-now is in flight, with coalesced batches, scheduled flushes and polls outstanding.
 */
describe('faults: Azurite and the Service Bus emulator restarted mid-flow', () => {
  const repoRoot = resolve(__dirname, '..', '..');
  let stack: FaultStack;

  beforeAll(async () => {
    stack = await startFaultStack({ repoRoot, tapStorage: true, runner: new ScriptedRunner({ durationMs: () => 1000 }) });
    stack.watcher.start();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Resolves when the first run-now for `source` reaches the Jobs API (it is let through). */
  function onFirstRunNow(source: string): Promise<void> {
    return new Promise((resolveSeen) => {
      stack.jobsTap.setRule((r) => {
        if (r.path.endsWith('/jobs/run-now') && r.body.toString().includes(`"source":"${source}"`)) {
          stack.jobsTap.setRule(undefined);
          resolveSeen();
        }
        return undefined;
      });
    });
  }

  it('Azurite restarted (same data folder) while runs are being dispatched', async () => {
    const busy = onFirstRunNow('apod');
    const first = [...(await landFiles(stack, 'apod', 10, 'azurite-before')), ...(await landFiles(stack, 'neows', 10, 'azurite-before'))];
    await busy;
    const down = Date.now();
    const failedCalls = (): number =>
      [stack.blobTap!, stack.tableTap!].reduce((n, t) => n + t.calls.filter((c) => c.at >= down && c.outcome === 502).length, 0);
    await stack.azurite.stop();
    // Down until the host has been refused storage calls a few times (and at least 2 s).
    await waitFor('the host to hit the storage outage', () => failedCalls() >= 3 && Date.now() - down >= 2000, 60_000, 100);
    await stack.azurite.restart();
    const after = [...(await landFiles(stack, 'apod', 5, 'azurite-after')), ...(await landFiles(stack, 'neows', 5, 'azurite-after'))];
    await expectExactlyOnce(stack, ['apod', 'neows'], first.length + after.length);
  });

  it('Service Bus emulator killed (while a flush is between run-now and its bookkeeping), down for 6 s, restarted from its journal', async () => {
    // The first donki run-now reaches Databricks; the broker dies before the dispatcher sees the answer, so the
    // flush's poll scheduling and settlement, and every request in flight, meet a dead broker.
    let down = 0;
    const killed = new Promise<void>((resolveKilled) =>
      stack.jobsTap.setRule((r) => {
        if (down || !(r.path.endsWith('/jobs/run-now') && r.body.toString().includes('"source":"donki"'))) return undefined;
        down = Date.now();
        return {
          kind: 'after',
          then: async () => {
            await stack.serviceBus.kill();
            resolveKilled();
            return { kind: 'deliver' };
          },
        };
      }),
    );
    const first = [...(await landFiles(stack, 'donki', 10, 'sb-before')), ...(await landFiles(stack, 'eonet', 10, 'sb-before'))];
    await killed;
    stack.jobsTap.setRule(undefined);
    expect(await portAnswers(Number(/sb:\/\/[^:;]+:(\d+)/.exec(stack.serviceBusConnection)?.[1]))).toBe(false);
    // Files keep landing during the outage; the broker comes back after 6 s.
    const during = [...(await landFiles(stack, 'donki', 3, 'sb-during')), ...(await landFiles(stack, 'eonet', 3, 'sb-during'))];
    await waitFor('a 6 s broker outage', () => Date.now() - down >= 6000, 30_000, 100);
    await stack.serviceBus.start();
    const after = [...(await landFiles(stack, 'donki', 3, 'sb-after')), ...(await landFiles(stack, 'eonet', 3, 'sb-after'))];
    // A busy machine stretches the broker's recovery (client reconnect backoff, lock expiries): settle returns as
    // soon as everything is accounted for, so the longer deadline costs nothing when it goes quickly.
    await expectExactlyOnce(stack, ['donki', 'eonet'], first.length + during.length + after.length, 120_000);
  });
});
