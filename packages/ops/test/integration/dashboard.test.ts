import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { createAlertEvaluator, localMonitoringData } from '../../src/alerts';
import { startDashboard, type Dashboard } from '../../src/dashboard';
import { silentLogger } from 'orbiter/shared/logger';
import { Tables } from 'orbiter/shared/names';
import { TableRunStore } from 'orbiter/shared/runs/runStore';
import { TableWatermarkStore } from 'orbiter/shared/ingest/watermarks';
import { createStorageClients } from 'orbiter/shared/storage/clients';
import { LocalTelemetry } from 'orbiter/shared/telemetry/index';
import { startTestAzurite } from '../../../../test/support/azurite';
import { testConfig } from '../../../../test/support/config';
import { run } from '../unit/fakes';
import { CHROMIUM, launchChromium } from '../support/staticPage';

jest.setTimeout(120_000);

const repoRoot = resolve(__dirname, '../../../..');
const screenshot = join(repoRoot, '.orbiter', 'screenshots', 'dashboard.png');

describe('dashboard in headless Chromium', () => {
  let az: Awaited<ReturnType<typeof startTestAzurite>>;
  let dash: Dashboard;
  let browser: BrowserContext;
  let tmp: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: run scripts/setup-browser.sh`);
    tmp = mkdtempSync(join(tmpdir(), 'orbiter-dash-'));
    az = await startTestAzurite();
  });
  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await az?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shows a finished run written to the run store, and a new run without a reload', async () => {
    const storage = createStorageClients(testConfig({ OrbiterLake: az.connectionString }));
    const runs = new TableRunStore(storage.table(Tables.runs));
    const now = Date.now();
    const iso = (sAgo: number): string => new Date(now - sAgo * 1000).toISOString();
    await runs.createIfAbsent(
      run({
        runId: 'run-finished-0001',
        state: 'succeeded',
        resultState: 'SUCCESS',
        requestedAt: iso(300),
        firstLandedAt: iso(305),
        dispatchedAt: iso(298),
        startedAt: iso(290),
        endedAt: iso(110),
        updatedAt: iso(110),
        databricksRunId: 4242,
        databricksRunUrl: 'http://127.0.0.1:8123/#job/1/run/4242',
        inputs: [
          { container: 'raw', path: 'neows/feed/2024/05/25/a.json', etag: '0x1' },
          { container: 'raw', path: 'neows/feed/2024/06/01/b.json', etag: '0x2' },
        ],
        tasks: [
          { taskKey: 'bronze', databricksRunId: 4243, dependsOn: [], state: 'SUCCESS', durationMs: 20_000 },
          {
            taskKey: 'silver',
            databricksRunId: 4244,
            dependsOn: ['bronze'],
            state: 'SUCCESS',
            durationMs: 30_000,
            rowsWritten: 1234,
            quarantined: 2,
          },
        ],
      }),
    );
    await runs.createIfAbsent(
      run({
        runId: 'run-failed-0002',
        dataset: 'apod',
        jobName: 'orbiter-apod-pipeline',
        state: 'failed',
        resultState: 'FAILED',
        error: 'notebook silver failed',
        requestedAt: iso(200),
        endedAt: iso(60),
        updatedAt: iso(60),
        inputs: [],
      }),
    );
    const marks = storage.table(Tables.watermarks);
    await marks.createTable();
    await new TableWatermarkStore(marks).set('neows', 'feed', '2024-06-01');
    const telemetryDir = join(tmp, 'telemetry');
    new LocalTelemetry(telemetryDir).ingestCompleted({ source: 'neows', outcome: 'success', records: 42 });

    const data = localMonitoringData({ storage, telemetryDir });
    mkdirSync(join(tmp, 'charts'), { recursive: true });
    const layer = (rows: number) => ({ rows, tables: {} });
    writeFileSync(
      join(tmp, 'charts', 'data_quality.json'),
      JSON.stringify({
        generatedAt: '2026-12-06T04:00:00+00:00',
        sources: [
          {
            source: 'neows',
            layers: { bronze: layer(321), silver: layer(300), gold: layer(12) },
            quarantined: 5,
            topReasons: [{ entity: 'neo_close_approaches', reason: 'miss distance <b>not</b> numeric', rows: 5 }],
            newestWindowEnd: '2024-05-31',
          },
        ],
      }),
    );
    const alertEvaluator = createAlertEvaluator({ data, sources: ['neows', 'apod'] });
    dash = await startDashboard({
      port: 0,
      storage,
      alertEvaluator,
      logger: silentLogger,
      telemetryDir,
      chartsDir: join(tmp, 'charts'),
      refreshMs: 500,
      databricksUrl: () => 'http://127.0.0.1:8123',
    });

    browser = await launchChromium(join(tmp, 'profile'));
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(dash.url);

    const finished = page.locator('tr.run[data-run-id="run-finished-0001"]');
    await finished.waitFor({ timeout: 20_000 });
    await expect(finished.getAttribute('data-state')).resolves.toBe('succeeded');
    const text = await finished.innerText();
    expect(text).toContain('orbiter-neows-pipeline');
    expect(text).toContain('3 min 0 s');
    // Run links go through the dashboard, which sends them to the workspace running now (its port changes per start).
    expect(await finished.locator('td > a').getAttribute('href')).toBe('/databricks/jobs/1/runs/4242');
    const hop = await fetch(`${dash.url}/databricks/jobs/1/runs/4242`, { redirect: 'manual' });
    expect([hop.status, hop.headers.get('location')]).toEqual([302, 'http://127.0.0.1:8123/jobs/1/runs/4242']);
    // Every input, behind a count.
    expect(await finished.locator('td.inputs summary').innerText()).toBe('2 inputs');
    expect(await finished.locator('td.inputs div').allTextContents()).toEqual([
      'raw/neows/feed/2024/05/25/a.json',
      'raw/neows/feed/2024/06/01/b.json',
    ]);
    // The task graph with rows and log links; the data-quality panel with its reasons (escaped) and the watermark lag.
    const silver = page.locator('tr.task[data-run-id="run-finished-0001"][data-task="silver"]');
    expect(await silver.innerText()).toMatch(/silver\s+← bronze\s+SUCCESS\s+30 s\s+1,234\s+2\s+log/);
    expect(await silver.locator('a').getAttribute('href')).toBe('/databricks/jobs/1/runs/4242/tasks/silver/log');
    const quality = await page.locator('tr.quality[data-source="neows"]').innerText();
    expect(quality).toMatch(/neows\s+321\s+300\s+12\s+5/);
    expect(quality).toContain('miss distance <b>not</b> numeric');
    expect(quality).toMatch(/2024-06-01\s+\d+ d behind/);
    expect(await page.locator('tr.source[data-source="neows"]').innerText()).toMatch(/watermark \d+ d behind/);
    // The failed run raises the failed-run alert; neows is fresh, apod was never ingested.
    await page.locator('tr.alert[data-rule="failed-run"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('tr.source[data-source="neows"]').innerText()).toContain('42');

    // A run written after the page loaded appears through Server-Sent Events, without a reload.
    await runs.createIfAbsent(run({ runId: 'run-live-0003', state: 'running', requestedAt: iso(0), updatedAt: iso(0) }));
    await page.locator('tr.run[data-run-id="run-live-0003"]').waitFor({ timeout: 20_000 });
    await expect(page.locator('#live').innerText()).resolves.toBe('live');

    mkdirSync(join(repoRoot, '.orbiter', 'screenshots'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
  });
});
