import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { startLocalMonitoring, type LocalMonitoring } from '../../../local/dashboard';
import type { DashboardSnapshot } from '../../../local/dashboard';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../../local/servicebus/emulator';
import type { Logger } from '../../../shared/logger';
import { Queues } from '../../../shared/names';
import { createStorageClients } from '../../../shared/storage/clients';
import { startTestAzurite } from '../../support/azurite';
import { testConfig } from '../../support/config';

jest.setTimeout(90_000);

describe('startLocalMonitoring: dashboard + alerts + telemetry over the local peers', () => {
  let az: Awaited<ReturnType<typeof startTestAzurite>>;
  let sb: ServiceBusEmulator;
  let mon: LocalMonitoring | undefined;
  let dataDir: string;

  beforeAll(async () => {
    az = await startTestAzurite();
    sb = await startServiceBusEmulator({ port: 0, config: resolve(__dirname, '../../../local/servicebus/config.json') });
    dataDir = mkdtempSync(join(tmpdir(), 'orbiter-mon-'));
  });
  afterAll(async () => {
    await mon?.stop();
    await sb?.close();
    await az?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves queues, charts and alerts; telemetry written through it reaches the alert rules; alerts are printed', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(`ERROR ${m}`) };
    mkdirSync(join(dataDir, 'charts'));
    writeFileSync(join(dataDir, 'charts', 'neo_close_approaches.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
    mon = await startLocalMonitoring({
      dataDir,
      storage: createStorageClients(testConfig({ OrbiterLake: az.connectionString })),
      serviceBusConnectionString: sb.connectionString,
      logger,
      port: 0,
      sources: ['neows'],
      alertIntervalMs: 200,
    });
    mon.telemetry.ingestCompleted({ source: 'neows', outcome: 'success', records: 7 });
    mon.telemetry.runCompleted({ dataset: 'neows', runId: 'r-t1', resultState: 'FAILED', durationMs: 1000 });

    const bus = new ServiceBusClient(sb.connectionString);
    const s = bus.createSender(Queues.runStatus);
    await s.sendMessages({ body: 'x', messageId: 'm1' });
    await s.close();
    const r = bus.createReceiver(Queues.runStatus);
    const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await r.deadLetterMessage(m!, { deadLetterReason: 'Poison', deadLetterErrorDescription: 'test' });
    await r.close();
    await bus.close();

    let snap: DashboardSnapshot | undefined;
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      snap = (await (await fetch(`${mon.dashboard.url}/api/snapshot`)).json()) as DashboardSnapshot;
      if (snap.alerts.length >= 2) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(snap!.errors).toEqual({});
    expect(snap!.alerts.map((a) => a.rule).sort()).toEqual(['dead-lettered-message', 'failed-run']);
    expect(snap!.queues.find((q) => q.entity === Queues.runStatus)).toMatchObject({ deadLetters: 1, samples: [expect.objectContaining({ reason: 'Poison' })] });
    expect(snap!.ingestion.find((v) => v.source === 'neows')).toMatchObject({ lastRecords: 7 });
    expect(snap!.charts).toEqual([expect.objectContaining({ name: 'neo_close_approaches', url: '/charts/neo_close_approaches.png' })]);
    const png = await fetch(`${mon.dashboard.url}${snap!.charts[0]!.url}`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect((await fetch(`${mon.dashboard.url}/charts/..%2Fsecret.png`)).status).toBe(404);
    // The evaluator printed both alerts.
    expect(warnings.some((w) => w.startsWith('ALERT sev1 Orbiter: Databricks run failed'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('ALERT sev2 Orbiter: message dead-lettered'))).toBe(true);
  });
});
