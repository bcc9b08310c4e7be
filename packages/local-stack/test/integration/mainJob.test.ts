import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPinoLogger } from 'orbiter/shared/logger';
import { readQuality } from '@orbiter/ops/dashboard/quality';
import { openStaticPage, type OpenedPage } from '../../../ops/test/support/staticPage';
import { finishMainJob, runFirstCycle, type MainJobOutput, type MainJobResult } from '../../src/mainJob';
import { freePort, freeStackPorts } from '../../src/ports';
import { startStack, type Stack } from '../../src/stack';

jest.setTimeout(1_800_000);

const repoRoot = resolve(__dirname, '../../../..');
const samplesDir = resolve(repoRoot, '..', 'shared', 'nasa-samples');
const screenshot = join(repoRoot, '.orbiter', 'screenshots', 'main-job-dashboard.png');

/**
 * The main job as `npm start -- --once` runs it (every source, replayed NASA captures, real PySpark + Delta, the
 * insights run its gold updates trigger), then the static page it writes opened in headless Chromium: every widget
 * drawn from the real run's datasets, the maps on their coastline, the data-quality panel and the tasks' log links.
 */
describe('main job → static dashboard page, in headless Chromium', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'orbiter-mainjob-'));
  const lines: string[] = [];
  const out: MainJobOutput = {
    line: (t) => lines.push(t),
    error: (t) => lines.push(`ERROR ${t}`),
    progress: { isTTY: false, write: (t: string) => (lines.push(t.trimEnd()), true) },
  };
  let stack: Stack | undefined;
  let result: MainJobResult;
  let opened: OpenedPage | undefined;

  beforeAll(async () => {
    stack = await startStack({
      repoRoot,
      dataDir,
      ...(await freeStackPorts()),
      dashboardPort: await freePort(),
      nasaMode: 'replay',
      ...(existsSync(samplesDir) ? { samplesDir } : {}),
      timers: false,
      pauseInsightsTrigger: true,
      env: { ORBITER_FUNCTION_KEY: 'main-job-function-key-0123456789' },
      logger: createPinoLogger(process.env['E2E_LOG_LEVEL'] ?? 'warn', 'main-job'),
      deferAlerts: true,
    });
    const first = await runFirstCycle(stack, out);
    expect({ ok: first.ok, log: lines.join('\n') }).toEqual({ ok: true, log: expect.any(String) });
    result = await finishMainJob(stack, dataDir, 1_500_000, out, first.requests);
    expect({ ok: result.ok, page: result.page !== undefined }).toEqual({ ok: true, page: true });
    opened = await openStaticPage(result.page!);
  }, 1_800_000);

  afterAll(async () => {
    // What the main job printed, to read when a step failed.
    mkdirSync(join(repoRoot, '.orbiter', 'screenshots'), { recursive: true });
    writeFileSync(join(repoRoot, '.orbiter', 'screenshots', 'main-job.log'), lines.join('\n'));
    await opened?.close();
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends with every pipeline run succeeded and headline figures printed', () => {
    expect(result.runs.map((r) => r.state)).toEqual(result.runs.map(() => 'succeeded'));
    expect(new Set(result.runs.map((r) => r.dataset)).size).toBe(8);
    expect(lines.join('\n')).toMatch(/Insights from the gold tables/);
  });

  it('draws every Lakeview widget with data from the run, at least four maps on the coastline, and logs no errors', async () => {
    const { widgets, problems, requests } = opened!;
    const definition = JSON.parse(
      readFileSync(join(repoRoot, 'notebooks', 'orbiter_lake', 'dashboards', 'orbiter_insights.lvdash.json'), 'utf8'),
    ) as { pages: { layout: unknown[] }[] };
    expect(widgets).toHaveLength(definition.pages.reduce((n, p) => n + p.layout.length, 0));
    const notFilled = widgets
      .filter((w) => w.state !== 'done' || w.kind === 'empty')
      .map((w) => `${w.name}: ${w.state}/${w.kind} ${w.text.slice(0, 120)}`);
    // The top-reasons table is rightly empty when no row was quarantined (the real captures are clean).
    const quarantined = (readQuality(join(dataDir, 'charts'))?.sources ?? []).reduce((n, s) => n + s.quarantined, 0);
    const allowedEmpty = quarantined === 0 ? ['quarantine_reasons_table'] : [];
    expect(notFilled.filter((w) => !allowedEmpty.includes(w.split(':')[0]!))).toEqual([]);
    for (const w of widgets.filter((x) => x.kind === 'chart')) expect({ name: w.name, marks: w.marks > 0 }).toEqual({ name: w.name, marks: true });
    for (const w of widgets.filter((x) => x.type === 'table' && !allowedEmpty.includes(x.name)))
      expect({ name: w.name, rows: w.rows > 0 }).toEqual({ name: w.name, rows: true });
    const maps = widgets.filter((w) => w.type === 'symbol-map');
    expect(maps.length).toBeGreaterThanOrEqual(4);
    for (const m of maps)
      expect({ name: m.name, land: m.land > 0, points: m.marks - m.land > 0 }).toEqual({ name: m.name, land: true, points: true });
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('shows the data-quality panel and each run task with its log link, and saves a screenshot', async () => {
    const { page } = opened!;
    const sources = await page
      .locator('#quality tr.quality')
      .evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset['source']));
    expect(sources.sort()).toEqual(['apod', 'cmr', 'donki', 'eonet', 'epic', 'fireball', 'meteorites', 'neows']);
    const taskRows = page.locator('#tasks tbody tr');
    expect(await taskRows.count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#tasks a[href*="/tasks/"]').count()).toBeGreaterThanOrEqual(3);
    mkdirSync(join(repoRoot, '.orbiter', 'screenshots'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(50_000);
    // What the run produced, for the README's figures (widgets, rows per layer, quarantine counts).
    const figures = { widgets: opened!.widgets.map(({ text: _t, ...w }) => w), quality: await page.locator('#quality').innerText() };
    writeFileSync(join(repoRoot, '.orbiter', 'screenshots', 'main-job-dashboard.json'), JSON.stringify(figures, null, 2));
  });
});
