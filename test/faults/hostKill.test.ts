import { resolve } from 'node:path';
import { Containers, Queues, Tables } from '../../shared/names';
import { runRequestForBlob } from '../../shared/runs/runRequestForBlob';
import { sendRunRequest } from '../../shared/runs/sendRunRequest';
import { startFaultStack, type FaultStack } from './support/faultStack';
import { landFiles, waitFor } from './support/files';
import { databricksRuns, expectExactlyOnce, runRecords, settle, summary, violations } from './support/ledger';
import { ScriptedRunner } from './support/runner';
import type { TapProxy, TapRequest } from './support/tapProxy';

jest.setTimeout(180_000);

/**
 * kill -9 of the functions host at chosen points of the dispatch path, then a restart against the same Azurite,
 * Service Bus emulator and Databricks emulator. The kill points are hit exactly: a tap proxy between the host and
 * the peer kills the host right after the peer processed the call and before the host could see the answer.
 * Each scenario owns one dataset, so one scenario's failure does not leak into the next one's assertions.
 */
describe('faults: functions host killed mid-dispatch', () => {
  const repoRoot = resolve(__dirname, '..', '..');
  let stack: FaultStack;

  beforeAll(async () => {
    // Runs take 1.5 s so that they are still running when polled.
    stack = await startFaultStack({ repoRoot, tapStorage: true, runner: new ScriptedRunner({ durationMs: () => 1500 }) });
    stack.watcher.start();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Arms a one-shot kill: the first matching call is forwarded, the host is SIGKILLed, and the caller's connection dropped. */
  function killOn(proxy: TapProxy, match: (r: TapRequest) => boolean, when: 'after' | 'before' = 'after'): { fired: Promise<TapRequest> } {
    let fired = false;
    let resolveFired: (r: TapRequest) => void = () => undefined;
    const p = new Promise<TapRequest>((r) => (resolveFired = r));
    proxy.setRule((r) => {
      if (fired || !match(r)) return undefined;
      fired = true;
      const kill = async (): Promise<void> => {
        await stack.host.kill();
        resolveFired(r);
      };
      return when === 'before'
        ? { kind: 'before', then: kill }
        : {
            kind: 'after',
            then: async () => {
              await kill();
              return { kind: 'drop' };
            },
          };
    });
    return { fired: p };
  }

  async function restartAfter(kill: { fired: Promise<TapRequest> }, proxy: TapProxy): Promise<void> {
    await Promise.race([kill.fired, new Promise((_, reject) => setTimeout(() => reject(new Error('the kill point was never reached')), 60_000))]);
    proxy.setRule(undefined);
    await stack.host.start();
  }

  // Several requests are accepted concurrently, so the kill may also land between another request's flush claim and
  // its scheduling (the next scenario's kill point).
  it('killed while run requests are being accepted (right after the first batch-row write)', async () => {
    // Rows are written one by one or as Table transactions (POST .../$batch, the table named in the body), depending on
    // how the requests were batched by the trigger: count both, never the flush marker.
    const rowWrite = (r: { method: string; path: string; body: Buffer }): boolean =>
      r.method !== 'GET' &&
      !r.body.toString().includes('~flush') &&
      (r.path.includes(Tables.batches) || (r.path.includes('$batch') && r.body.toString().includes(Tables.batches)));
    let rows = 0;
    const kill = killOn(stack.tableTap!, (r) => rowWrite(r) && ++rows === 1);
    const files = await landFiles(stack, 'apod', 20, 'kill-accept', { spacingMs: 20 });
    await restartAfter(kill, stack.tableTap!);
    await expectExactlyOnce(stack, ['apod'], files.length);
  });

  it('killed between claiming a batch flush and scheduling it', async () => {
    const kill = killOn(
      stack.tableTap!,
      (r) =>
        r.method === 'POST' &&
        r.path.endsWith(`/${Tables.batches}`) &&
        r.body.toString().includes('~flush') &&
        r.body.toString().includes('meteorites|'),
    );
    const files = await landFiles(stack, 'meteorites', 6, 'kill-claim');
    await restartAfter(kill, stack.tableTap!);
    await expectExactlyOnce(stack, ['meteorites'], files.length);
  });

  it('killed between run-now and the run record write: the replayed flush gets the same Databricks run back', async () => {
    const kill = killOn(stack.jobsTap, (r) => r.path.endsWith('/jobs/run-now') && r.body.toString().includes('"source":"neows"'));
    const files = await landFiles(stack, 'neows', 12, 'kill-runnow');
    await restartAfter(kill, stack.jobsTap);
    // The kill hit the intended point: Databricks has the run, Orbiter's record does not know it yet.
    const dbx = (await databricksRuns(stack)).filter((r) => r.jobName === 'orbiter-neows-pipeline');
    const recs = (await runRecords(stack)).filter((r) => r.dataset === 'neows');
    expect(dbx).toHaveLength(1);
    expect(recs.map((r) => [r.runId, r.state, r.databricksRunId])).toEqual([[dbx[0]!.orbiterRunId, 'requested', undefined]]);
    await expectExactlyOnce(stack, ['neows'], files.length);
    // That Orbiter run has exactly the Databricks run started before the kill (files landing in a later window on a
    // slow machine may make further runs of their own).
    expect((await databricksRuns(stack)).filter((r) => r.orbiterRunId === dbx[0]!.orbiterRunId).map((r) => r.runId)).toEqual([dbx[0]!.runId]);
  });

  it('killed while polling a running run (a runs/get answer lost)', async () => {
    let gets = 0;
    const kill = killOn(stack.jobsTap, (r) => r.path.endsWith('/jobs/runs/get') && ++gets === 2);
    const files = await landFiles(stack, 'eonet', 10, 'kill-poll');
    await restartAfter(kill, stack.jobsTap);
    await expectExactlyOnce(stack, ['eonet'], files.length);
  });

  it('killed between the record write after run-now (dispatched/running) and scheduling its first poll', async () => {
    const kill = killOn(
      stack.tableTap!,
      (r) => r.path.includes(Tables.runs) && r.path.includes('fireball-') && r.method !== 'GET' && r.body.toString().includes('databricksRunId'),
    );
    const files = await landFiles(stack, 'fireball', 8, 'kill-dispatched');
    await restartAfter(kill, stack.tableTap!);
    await expectExactlyOnce(stack, ['fireball'], files.length);
  });

  it('killed between the final record write and the completion event', async () => {
    const kill = killOn(
      stack.blobTap!,
      (r) => r.method === 'PUT' && r.path.includes(`/${Containers.events}/run-completions/`) && r.path.includes('/epic-'),
      'before',
    );
    const files = await landFiles(stack, 'epic', 8, 'kill-completion');
    await restartAfter(kill, stack.blobTap!);
    await expectExactlyOnce(stack, ['epic'], files.length);
  });

  it('killed between the completion event in the lake and its publication on run-events', async () => {
    const kill = killOn(
      stack.blobTap!,
      (r) => r.method === 'PUT' && r.path.includes(`/${Containers.events}/run-completions/`) && r.path.includes('/cmr-'),
      'after',
    );
    const files = await landFiles(stack, 'cmr', 8, 'kill-publish');
    await restartAfter(kill, stack.blobTap!);
    await expectExactlyOnce(stack, ['cmr'], files.length);
  });

  it('killed during a flush while a request of the same window is still on its way: the replayed flush must not run the files again', async () => {
    const kill = killOn(stack.jobsTap, (r) => r.path.endsWith('/jobs/run-now') && r.body.toString().includes('"source":"donki"'));
    const files = await landFiles(stack, 'donki', 6, 'kill-straggler');
    await Promise.race([kill.fired, new Promise((_, reject) => setTimeout(() => reject(new Error('the kill point was never reached')), 60_000))]);
    stack.jobsTap.setRule(undefined);
    // A request of the same coalescing window arrives late (e.g. its first delivery was held by the dead host):
    // Service Bus redelivers it after the restart, before or after the flush.
    const bucket = await waitFor(
      'the donki batch',
      async () => {
        for await (const e of stack.storage.table(Tables.batches).listEntities<{ partitionKey: string }>())
          if (e.partitionKey.startsWith('donki|')) return Number(e.partitionKey.split('|')[1]);
        return undefined;
      },
      10_000,
    );
    // The late file's own event cannot be delivered while the host is down; when it is, after the restart, its
    // request has the same MessageId as the one sent here and the broker drops it as a duplicate.
    const [late] = await landFiles(stack, 'donki', 1, 'kill-straggler-late');
    const decision = runRequestForBlob(
      {
        container: Containers.raw,
        name: late!.name,
        content: Buffer.from(JSON.stringify([{ fault: 'kill-straggler-late', i: 0 }])),
        etag: late!.etag,
      },
      new Date(bucket + 100),
    );
    if (decision.kind !== 'request') throw new Error(decision.reason);
    const sender = stack.bus.createSender(Queues.runRequests);
    await sendRunRequest(sender, decision.messageId, decision.request);
    await sender.close();
    await stack.host.start();
    await expectExactlyOnce(stack, ['donki'], files.length + 1);
  });
});

/**
 * The same kill point without Databricks job notifications: they are best-effort (a notification sent while the host
 * is down is lost), so the polling chain alone must bring the run to its end.
 */
describe('faults: functions host killed mid-dispatch, no job notifications', () => {
  const repoRoot = resolve(__dirname, '..', '..');
  let stack: FaultStack;

  beforeAll(async () => {
    stack = await startFaultStack({ repoRoot, tapStorage: true, webhooks: false, runner: new ScriptedRunner({ durationMs: () => 1500 }) });
    stack.watcher.start();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('killed between the record write after run-now and scheduling its first poll: the run still completes', async () => {
    let fired = false;
    const killed = new Promise<void>((resolveKilled) =>
      stack.tableTap!.setRule((r) => {
        if (fired || !(r.path.includes(Tables.runs) && r.method !== 'GET' && r.body.toString().includes('databricksRunId'))) return undefined;
        fired = true;
        return {
          kind: 'after',
          then: async () => {
            await stack.host.kill();
            resolveKilled();
            return { kind: 'drop' };
          },
        };
      }),
    );
    const files = await landFiles(stack, 'apod', 8, 'kill-dispatched-nohooks');
    await Promise.race([killed, new Promise((_, reject) => setTimeout(() => reject(new Error('the kill point was never reached')), 60_000))]);
    stack.tableTap!.setRule(undefined);
    await stack.host.start();
    // Files landing later must not be held back by the interrupted run (maxRunsInFlight counts it as in flight).
    const later = await landFiles(stack, 'apod', 3, 'kill-dispatched-nohooks-later');
    const s = await settle(stack, { expectedFiles: files.length + later.length, timeoutMs: 30_000 });
    const v = violations(s);
    if (v.length) console.log(summary(s));
    expect(v).toEqual([]);
    expect(s.settled).toBe(true);
  });
});
