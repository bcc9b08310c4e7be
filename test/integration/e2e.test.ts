import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import type { CompletionEvent } from '../../shared/dispatch/completionEvent';
import type { CycleSummary } from '../../shared/ingest/ingestCycle';
import { createPinoLogger } from '../../shared/logger';
import { Containers, Subscriptions, Topics } from '../../shared/names';
import { startStack, type Stack } from '@orbiter/local-stack/stack';
import { waitForRuns } from '@orbiter/local-stack/waitForRuns';
import { freeStackPorts } from '@orbiter/local-stack/ports';

jest.setTimeout(900_000);

/**
 * The whole path on real local peers: a NASA ingestion cycle (replay) → blobs in Azurite → Event Grid-style
 * notifications → run requests on the Service Bus emulator → coalesced run-now on the Databricks emulator, which runs
 * the real bronze/silver/gold notebooks on PySpark + Delta → completion event in the lake and on topic run-events.
 */
describe('end to end: landing → run request → Databricks run → completion event', () => {
  const repoRoot = resolve(__dirname, '..', '..');
  const dataDir = mkdtempSync(join(tmpdir(), 'orbiter-e2e-'));
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      repoRoot,
      dataDir,
      ...(await freeStackPorts()),
      nasaMode: 'replay',
      timers: false,
      env: { INGEST_SOURCES: 'apod', ORBITER_FUNCTION_KEY: 'e2e-function-key-0123456789' },
      logger: createPinoLogger(process.env['E2E_LOG_LEVEL'] ?? 'warn', 'e2e'),
      coalescingCapSeconds: 1,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs a real notebook pipeline for landed APOD data and publishes its completion', async () => {
    const bus = new ServiceBusClient(stack.serviceBus.connectionString);
    const receiver = bus.createReceiver(Topics.runEvents, Subscriptions.runEventsStream, { receiveMode: 'receiveAndDelete' });
    try {
      const outcome = await stack.host.fireTimer('ingestNasa');
      expect(outcome.ok).toBe(true);
      const cycle = outcome.result as CycleSummary;
      const landed = cycle.streams.reduce((n, s) => n + s.blobsWritten, 0);
      expect(landed).toBeGreaterThan(0);

      let delivered = 0;
      for (let idle = 0; idle < 2;) {
        const n = await stack.watcher.scanOnce();
        delivered += n;
        idle = n === 0 ? idle + 1 : 0;
      }
      expect(delivered).toBe(landed);
      // N landed blobs → N run requests sent.
      const sent = stack.host.invocations.filter(
        (i) => i.name === 'landedBlob' && (i.outcome.result as { kind?: string } | undefined)?.kind === 'request',
      );
      expect(sent).toHaveLength(landed);
      // Landing the same content again delivers nothing new.
      expect(await stack.watcher.scanOnce()).toBe(0);

      const runs = await waitForRuns(stack, 800_000, { expectedInputs: landed });
      expect(runs).toHaveLength(1); // every landed blob of the burst coalesced into one run
      const run = runs[0]!;
      expect(run).toMatchObject({ dataset: 'apod', state: 'succeeded', jobName: 'orbiter-apod-pipeline' });
      expect(run.inputs).toHaveLength(landed);

      // The completion event: in the lake ...
      const events = stack.storage.blobs.getContainerClient(Containers.events);
      const names: string[] = [];
      for await (const b of events.listBlobsFlat({ prefix: 'run-completions/' })) names.push(b.name);
      expect(names).toEqual([expect.stringMatching(new RegExp(`^run-completions/date=\\d{4}-\\d{2}-\\d{2}/${run.runId}\\.a1\\.json$`))]);
      const stored = JSON.parse((await events.getBlobClient(names[0]!).downloadToBuffer()).toString()) as CompletionEvent;
      expect(stored).toMatchObject({ event_version: 1, orbiter_run_id: run.runId, result_state: 'SUCCESS', databricks_run_id: run.databricksRunId });

      // ... and on the topic.
      const msgs = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
      expect(msgs).toHaveLength(1);
      expect(msgs[0]!.body).toMatchObject({ orbiter_run_id: run.runId, result_state: 'SUCCESS' });

      // The notebooks really ran: the run's output names the gold tables it wrote.
      const jobs = await stack.app.jobs();
      const dbxRun = await jobs.getRun(run.databricksRunId!);
      expect(dbxRun.tasks?.map((t) => t.task_key).sort()).toEqual(['bronze', 'gold', 'silver']);
      expect(dbxRun.tasks?.every((t) => t.state?.result_state === 'SUCCESS')).toBe(true);

      // One trace from the landed file through the run: the same W3C traceparent on the run record, the job parameter
      // the notebooks log, and the completion event.
      expect(run.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      expect(dbxRun.job_parameters?.find((p) => p.name === 'traceparent')?.value).toBe(run.traceparent);
      expect(stored.traceparent).toBe(run.traceparent);
    } finally {
      await receiver.close();
      await bus.close();
    }
  });
});
