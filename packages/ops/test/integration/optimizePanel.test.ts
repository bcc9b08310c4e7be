import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { silentLogger } from 'orbiter/shared/logger';
import { createStorageClients } from 'orbiter/shared/storage/clients';
import { createAlertEvaluator, type MonitoringData } from '../../src/alerts';
import { startDashboard, type Dashboard } from '../../src/dashboard';
import { parseCostRates } from '../../src/optimize/rates';
import { buildReport } from '../../src/optimize/report';
import { testConfig } from '../../../../test/support/config';

jest.setTimeout(120_000);
const CHROMIUM = '/usr/bin/chromium';

/** The cost and sizing panel renders /api/optimize (a report built from fixture runs) in a real browser. */
describe('dashboard cost and sizing panel', () => {
  let dash: Dashboard | undefined;
  let browser: BrowserContext | undefined;
  let tmp: string;
  const empty: MonitoringData = { runs: async () => [], watermarks: async () => [], queues: async () => [], telemetry: async () => [] };
  const rates = parseCostRates({
    version: 1,
    currency: 'USD',
    computeKinds: { jobs: { dbuPrice: 0.5 } },
    nodeTypes: { N4: { cores: 4, memoryGiB: 16, dbuPerHour: 1, vmPricePerHour: 0.2 } },
    spot: { vmDiscount: 0.5 },
    local: { nodeType: 'N4', computeKind: 'jobs', workers: 0 },
  });
  const t0 = Date.parse('2026-11-30T00:00:00Z');
  const report = buildReport({
    runs: [1, 2, 3].map((i) => ({
      runId: i,
      jobName: 'orbiter-neows-pipeline',
      trigger: 'ONE_TIME',
      resultState: 'SUCCESS',
      startTime: t0 + i * 3_600_000,
      durationMs: 60_000,
      queueMs: 0,
      setupMs: 0,
      tasks: [
        { taskKey: 'bronze', durationMs: 5_000, bytes: 100 },
        { taskKey: 'silver', durationMs: 50_000, rows: 10 },
      ],
    })),
    rates,
    since: new Date(t0),
    until: new Date(t0 + 86_400_000),
  });

  beforeAll(() => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: run scripts/setup-browser.sh`);
    tmp = mkdtempSync(join(tmpdir(), 'orbiter-optpanel-'));
  });
  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shows jobs, estimates and recommendations, labelled as estimates', async () => {
    dash = await startDashboard({
      port: 0,
      storage: createStorageClients(testConfig()),
      data: empty,
      alertEvaluator: createAlertEvaluator({ data: empty, rules: [] }),
      logger: silentLogger,
      optimizeReport: async () => report,
    });
    const api = (await (await fetch(`${dash.url}/api/optimize`)).json()) as { estimate: boolean; jobs: unknown[] };
    expect(api.estimate).toBe(true);
    browser = await chromium.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(dash.url);
    const row = page.locator('tr.opt-job[data-job="orbiter-neows-pipeline"]');
    await row.waitFor({ timeout: 60_000 });
    expect(await row.innerText()).toContain('3/3');
    expect(await page.locator('li.opt-rec[data-kind="dominant-task"]').innerText()).toMatch(/silver takes 91%/);
    expect(await page.locator('#optimize-section h2').innerText()).toMatch(/estimates .* not measured spend/i);
  });
});
