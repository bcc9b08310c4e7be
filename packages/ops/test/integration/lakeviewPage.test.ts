import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { silentLogger } from 'orbiter/shared/logger';
import { createStorageClients } from 'orbiter/shared/storage/clients';
import { createAlertEvaluator, type MonitoringData } from '../../src/alerts';
import { startDashboard, type Dashboard } from '../../src/dashboard';
import { writeStaticDashboard } from '../../src/dashboard/insights';
import { testConfig } from '../../../../test/support/config';
import type { DashboardSnapshot } from '../../src/dashboard/snapshot';
import { launchChromium, openStaticPage, type OpenedPage } from '../support/staticPage';
import type { BrowserContext } from 'playwright-core';

jest.setTimeout(90_000);

// Callbacks run in the page, so they can only use this type, not Node-side helpers.
type PageGlobal = { document: { querySelectorAll(s: string): { length: number } }; __pwned?: number };

const repoRoot = resolve(__dirname, '../../../..');
const fixtures = resolve(__dirname, '../fixtures/lakeview');
const screenshot = join(repoRoot, '.orbiter', 'screenshots', 'dashboard-lakeview.png');

const snapshot: DashboardSnapshot = {
  generatedAt: '2026-12-06T04:00:00.000Z',
  runs: [],
  counts: {},
  ingestion: [],
  queues: [],
  alerts: [],
  charts: [],
  errors: {},
};

describe('static dashboard page with the Lakeview widgets, in headless Chromium', () => {
  let opened: OpenedPage | undefined;
  let browser: BrowserContext | undefined;
  let dash: Dashboard | undefined;
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'orbiter-lakeview-'));
  });
  afterAll(async () => {
    await opened?.close();
    await browser?.close();
    await dash?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('draws every widget from the fixture datasets offline, escapes hostile strings, logs no errors', async () => {
    const file = writeStaticDashboard(snapshot, join(fixtures, 'charts'), join(tmp, 'dashboard.html'), {
      definition: join(fixtures, 'orbiter_insights.lvdash.json'),
      chartsDir: join(fixtures, 'charts'),
    });
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/); // everything inline

    opened = await openStaticPage(file, 30_000);
    const { page, widgets: states, problems, requests } = opened;
    expect(states.map((s) => s.name)).toEqual([
      'intro',
      'meteorite_count',
      'by_class',
      'flares',
      'fireball_energy',
      'closest',
      'meteorite_map',
      'fireball_map',
    ]);
    const by = Object.fromEntries(states.map((s) => [s.name, s]));
    for (const s of states) expect({ name: s.name, state: s.state }).toEqual({ name: s.name, state: 'done' });
    for (const name of ['by_class', 'flares', 'fireball_energy', 'meteorite_map', 'fireball_map']) {
      expect({ name, kind: by[name]!.kind }).toEqual({ name, kind: 'chart' });
      expect(by[name]!.marks).toBeGreaterThan(0);
    }
    expect(by['by_class']!.marks).toBeGreaterThanOrEqual(8); // one bar per class
    expect(by['meteorite_map']!.land).toBeGreaterThan(0); // the coastline drew
    expect(by['meteorite_map']!.marks - by['meteorite_map']!.land).toBe(40); // the row without coordinates is not drawn
    expect(by['closest']!.rows).toBe(3);
    expect(by['meteorite_count']!.text).toContain('45,716');
    // Hostile strings stay text: no element was injected and no script ran.
    expect(by['closest']!.text).toContain('</script><script>window.__pwned=2</script>');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobal).__pwned)).toBeUndefined();
    expect(await page.locator('#lakeview img').count()).toBe(0);
    expect(by['intro']!.text).toContain('<b>not bold</b>');
    // Readable axes: whole years without separators, and plain labels on the log axis.
    const energyLabels = await page
      .locator('.lv-widget[data-widget="fireball_energy"] svg .role-axis-label text')
      .evaluateAll((els) => els.map((e) => e.textContent ?? '').filter((t) => t !== ''));
    expect(energyLabels).toEqual(expect.arrayContaining(['2010', '1', '10', '100']));
    expect(energyLabels.join(' ')).not.toMatch(/×|e\+|2,0\d\d/);

    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
    mkdirSync(join(repoRoot, '.orbiter', 'screenshots'), { recursive: true });
    await page.locator('#lakeview-section').screenshot({ path: screenshot });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
  });
  it('live: serves the libraries from node_modules and the widgets at /api/lakeview, behind the Host check', async () => {
    const empty: MonitoringData = { runs: async () => [], watermarks: async () => [], queues: async () => [], telemetry: async () => [] };
    dash = await startDashboard({
      port: 0,
      storage: createStorageClients(testConfig()),
      data: empty,
      alertEvaluator: createAlertEvaluator({ data: empty, rules: [] }),
      logger: silentLogger,
      chartsDir: join(fixtures, 'charts'),
      lakeviewDefinition: join(fixtures, 'orbiter_insights.lvdash.json'),
      refreshMs: 500,
    });
    const api = (await (await fetch(`${dash.url}/api/lakeview`)).json()) as { view: { pages: { widgets: unknown[] }[] } };
    expect(api.view.pages[0]!.widgets).toHaveLength(8);
    const vega = await fetch(`${dash.url}/lakeview/vendor/vega.min.js`);
    expect(vega.headers.get('content-type')).toMatch(/javascript/);
    expect((await vega.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${dash.url}/lakeview/vendor/..%2Fpackage.json`)).status).toBe(404);
    const port = new URL(dash.url).port;
    const rebound = await import('node:http').then(
      (http) =>
        new Promise<number>((done, fail) => {
          http
            .get({ host: '127.0.0.1', port, path: '/api/lakeview', headers: { host: `evil.example:${port}` } }, (res) => done(res.statusCode ?? 0))
            .on('error', fail);
        }),
    );
    expect(rebound).toBe(421);

    browser = await launchChromium(join(tmp, 'profile-live'));
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      // The browser's own favicon probe is not the page's doing.
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(dash.url);
    await page.locator('#lakeview .lv-widget[data-widget="meteorite_map"]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () => (globalThis as unknown as PageGlobal).document.querySelectorAll('#lakeview .lv-widget[data-state="drawing"]').length === 0,
      undefined,
      {
        timeout: 30_000,
      },
    );
    const land = await page.locator('.lv-widget[data-widget="meteorite_map"] svg g.mark-shape.role-mark > path').count();
    expect(land).toBeGreaterThan(0);
    expect(await page.locator('#lakeview .lv-widget[data-state="error"]').count()).toBe(0);
    expect(problems.filter((p) => !p.includes('/api/optimize'))).toEqual([]);
  });
});
