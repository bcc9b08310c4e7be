import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { createAlertEvaluator, localMonitoringData } from '../../src/alerts';
import { startServiceBusEmulator, type ServiceBusEmulator } from '@orbiter/servicebus-emulator/emulator';
import { Queues, Tables } from 'orbiter/shared/names';
import { TableRunStore } from 'orbiter/shared/runs/runStore';
import { TableWatermarkStore } from 'orbiter/shared/ingest/watermarks';
import { createStorageClients, type StorageClients } from 'orbiter/shared/storage/clients';
import { LocalTelemetry } from 'orbiter/shared/telemetry/index';
import { startTestAzurite } from '../../../../test/support/azurite';
import { testConfig } from '../../../../test/support/config';
import { run } from '../unit/fakes';

jest.setTimeout(90_000);

describe('local alert evaluator over Azurite, the Service Bus emulator and telemetry files', () => {
  let az: Awaited<ReturnType<typeof startTestAzurite>>;
  let sb: ServiceBusEmulator;
  let bus: ServiceBusClient;
  let storage: StorageClients;
  let telemetryDir: string;

  beforeAll(async () => {
    az = await startTestAzurite();
    sb = await startServiceBusEmulator({ port: 0, config: resolve(__dirname, '../../../servicebus-emulator/config.json') });
    bus = new ServiceBusClient(sb.connectionString);
    storage = createStorageClients(testConfig({ OrbiterLake: az.connectionString }));
    telemetryDir = mkdtempSync(join(tmpdir(), 'orbiter-tel-'));
  });
  afterAll(async () => {
    await bus?.close();
    await sb?.close();
    await az?.stop();
    rmSync(telemetryDir, { recursive: true, force: true });
  });

  it('stays quiet on healthy data, then fires every rule on its condition', async () => {
    const runs = new TableRunStore(storage.table(Tables.runs));
    const marksTable = storage.table(Tables.watermarks);
    await marksTable.createTable();
    const now = new Date();
    const iso = (minAgo: number): string => new Date(now.getTime() - minAgo * 60_000).toISOString();
    await new TableWatermarkStore(marksTable, () => now).set('neows', 'feed', '2026-11-24');
    await runs.createIfAbsent(
      run({
        runId: 'ok-1',
        requestedAt: iso(5),
        updatedAt: iso(1),
        state: 'succeeded',
        resultState: 'SUCCESS',
        firstLandedAt: iso(5),
        dispatchedAt: iso(4),
        endedAt: iso(1),
      }),
    );

    const evaluator = createAlertEvaluator({
      data: localMonitoringData({ storage, bus, telemetryDir }),
      sources: ['neows', 'apod'],
    });
    new LocalTelemetry(telemetryDir).ingestCompleted({ source: 'apod', outcome: 'success', records: 1 });
    expect(await evaluator.evaluate()).toEqual([]);

    // failed-run
    await runs.createIfAbsent(
      run({ runId: 'bad-1', requestedAt: iso(3), updatedAt: iso(1), state: 'failed', resultState: 'FAILED', endedAt: iso(1) }),
    );
    // dispatch-latency (20 min landed → submitted, goal 10 min), on another dataset so neows's average stays low
    await runs.createIfAbsent(
      run({
        runId: 'slow-1',
        dataset: 'apod',
        jobName: 'orbiter-apod-pipeline',
        requestedAt: iso(21),
        updatedAt: iso(1),
        firstLandedAt: iso(21),
        dispatchedAt: iso(1),
      }),
    );
    // stale-source: replace apod's fresh success with one 13 h old (threshold 12 h)
    rmSync(telemetryDir, { recursive: true, force: true });
    new LocalTelemetry(telemetryDir, () => new Date(now.getTime() - 13 * 3_600_000)).ingestCompleted({ source: 'apod', outcome: 'success' });
    // dead-lettered-message: a real dead letter on run-status
    const sender = bus.createSender(Queues.runStatus);
    await sender.sendMessages({ body: { runId: 'x' }, messageId: 'dl-1' });
    await sender.close();
    const receiver = bus.createReceiver(Queues.runStatus);
    const [msg] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await receiver.deadLetterMessage(msg!, { deadLetterReason: 'TestPoison', deadLetterErrorDescription: 'test' });
    await receiver.close();

    const alerts = await evaluator.evaluate();
    const fired = alerts.map((a) => `${a.rule} ${JSON.stringify(a.dimensions)}`).sort();
    expect(fired).toEqual([
      'dead-lettered-message {"entity":"run-status"}',
      'dispatch-latency {"dataset":"apod"}',
      'failed-run {"dataset":"neows"}',
      'stale-source {"source":"apod"}',
    ]);
    expect(alerts.find((a) => a.rule === 'dead-lettered-message')!.message).toContain('TestPoison');
  });
});
