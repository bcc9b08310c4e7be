import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { ExitCode } from '../../src/cli/exitCodes';
import { watermarkPerSource } from '../../src/cli/quality';
import { formatQuality, qualityView, QualityFileError, readQuality, watermarkLagDays } from '../../src/dashboard/quality';
import { databricksRedirect, databricksRunPath } from '../../src/dashboard/runLinks';
import { buildSnapshot } from '../../src/dashboard/snapshot';
import { FakeMonitoringData, run } from './fakes';

const layer = (rows: number, tables: Record<string, number | null>) => ({ rows, tables });
const qualityFile = {
  generatedAt: '2026-12-06T04:00:00+00:00',
  sources: [
    {
      source: 'donki',
      layers: {
        bronze: layer(120, { donki_flr: 100, donki_gst: 20 }),
        silver: layer(110, { solar_flares: 110 }),
        gold: layer(14, { flare_class_monthly: 14 }),
      },
      quarantined: 3,
      topReasons: [{ entity: 'solar_flares', reason: 'peakTime not a time', rows: 3 }],
      newestWindowEnd: '2024-05-31',
    },
    {
      source: 'apod',
      layers: { bronze: layer(0, {}), silver: layer(0, {}), gold: layer(0, {}) },
      quarantined: 0,
      topReasons: [],
      newestWindowEnd: null,
    },
  ],
};
const NOW = new Date('2026-12-06T05:00:00Z');

describe('data quality view', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ops-quality-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the lake counts beside the watermark: lag behind now, and the lake behind the watermark', () => {
    const view = qualityView(qualityFile, new Map([['donki', '2024-07-01']]), NOW);
    expect(view.rows[0]).toEqual({
      source: 'donki',
      bronze: 120,
      silver: 110,
      gold: 14,
      quarantined: 3,
      topReasons: [{ entity: 'solar_flares', reason: 'peakTime not a time', rows: 3 }],
      newestWindowEnd: '2024-05-31',
      watermark: '2024-07-01',
      watermarkLagDays: 888,
      // The window ending 2024-05-31 covers that day: June is ingested but not yet in bronze.
      lakeLagDays: 30,
    });
    expect(view.rows[1]).toEqual({ source: 'apod', bronze: 0, silver: 0, gold: 0, quarantined: 0, topReasons: [] });
    expect(watermarkLagDays('2026-12-06', NOW)).toBe(0);
    expect(watermarkLagDays('2027-01-01', NOW)).toBe(0);
    expect(watermarkLagDays('not a date', NOW)).toBeUndefined();
    const lines = formatQuality(view);
    expect(lines[0]).toMatch(/^SOURCE\s+BRONZE\s+SILVER\s+GOLD\s+QUARANTINED\s+WATERMARK\s+BEHIND NOW\s+NEWEST IN LAKE$/);
    expect(lines[1]).toMatch(/^donki\s+120\s+110\s+14\s+3\s+2024-07-01\s+888 d\s+2024-05-31$/);
    expect(lines).toContain('  donki solar_flares: 3 × peakTime not a time');
  });

  it('reads data_quality.json: none before the job ran, a malformed file names the field', () => {
    expect(readQuality(dir)).toBeUndefined();
    writeFileSync(join(dir, 'data_quality.json'), JSON.stringify({ ...qualityFile, sources: [{ source: 'x', quarantined: -1 }] }));
    expect(() => readQuality(dir)).toThrow(QualityFileError);
    expect(() => readQuality(dir)).toThrow(/sources\.0\.layers/);
  });

  it('the snapshot carries quality, the watermark lag per source, run tasks and stable run links', async () => {
    writeFileSync(join(dir, 'data_quality.json'), JSON.stringify(qualityFile));
    const data = new FakeMonitoringData();
    data.marks = [
      { source: 'donki', stream: 'FLR', nextStart: '2024-06-15' },
      { source: 'donki', stream: 'GST', nextStart: '2024-07-01' },
    ];
    const tasks = [{ taskKey: 'silver', databricksRunId: 72, dependsOn: ['bronze'], state: 'SUCCESS', durationMs: 1000, rowsWritten: 9 }];
    data.runList = [
      run({ runId: 'r1', requestedAt: '2026-12-06T04:00:00.000Z', databricksRunUrl: 'http://127.0.0.1:40111/?o=0#job/3/run/42', tasks }),
    ];
    const snap = await buildSnapshot({ data, alerts: async () => [], chartsDir: dir, now: NOW });
    expect(snap.errors).toEqual({});
    expect(snap.ingestion.find((s) => s.source === 'donki')!.watermarkLagDays).toBe(888);
    expect(snap.quality!.rows[0]!.watermark).toBe('2024-07-01');
    expect(snap.runs[0]!.tasks).toEqual(tasks);
    expect(snap.runs[0]!.databricksRunPath).toBe('/databricks/jobs/3/runs/42');
    writeFileSync(join(dir, 'data_quality.json'), '{');
    const broken = await buildSnapshot({ data, alerts: async () => [], chartsDir: dir, now: NOW });
    expect(broken.quality).toBeUndefined();
    expect(broken.errors['quality']).toMatch(/is not JSON/);
  });

  it('stable run links: both run page URL forms map to the dashboard path, which redirects to the workspace running now', () => {
    expect(databricksRunPath('http://127.0.0.1:40111/?o=0#job/3/run/42')).toBe('/databricks/jobs/3/runs/42');
    expect(databricksRunPath('https://adb-1.azuredatabricks.net/jobs/3/runs/42?o=1')).toBe('/databricks/jobs/3/runs/42');
    expect(databricksRunPath('http://dbx/run/7')).toBeUndefined();
    expect(databricksRunPath(undefined)).toBeUndefined();
    expect(databricksRedirect('/databricks/jobs/3/runs/42', 'http://127.0.0.1:45555/')).toBe('http://127.0.0.1:45555/jobs/3/runs/42');
    expect(databricksRedirect('/databricks/jobs/3/runs/42/tasks/silver/log', 'http://127.0.0.1:45555')).toBe(
      'http://127.0.0.1:45555/jobs/3/runs/42/tasks/silver/log',
    );
    expect(databricksRedirect('/databricks/jobs/3/runs/42/../../x', 'http://w')).toBeUndefined();
    expect(databricksRedirect('/databricks/jobs/3/runs/42/tasks/a b/log', 'http://w')).toBeUndefined();
  });

  it('orbiter quality prints the panel with watermark lag; without figures it exits 3 and says how to get them', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), env: { ORBITER_DATA_DIR: dir }, cwd: dir };
    const deps = { quality: { watermarks: async () => [{ source: 'donki', stream: 'GST', nextStart: '2024-07-01' }], now: () => NOW } };
    expect(await runCli(['quality'], io, deps)).toBe(ExitCode.notFound);
    expect(err.join('\n')).toContain('the visual insights job writes them after the pipelines');
    writeFileSync(join(dir, 'charts-dq.json'), '{}');
    expect(await runCli(['quality', '--file', join(dir, 'charts-dq.json')], io, deps)).toBe(ExitCode.usage);
    const charts = join(dir, 'charts');
    mkdirSync(charts);
    writeFileSync(join(charts, 'data_quality.json'), JSON.stringify(qualityFile));
    out.length = 0;
    expect(await runCli(['quality'], io, deps)).toBe(0);
    expect(out[1]).toMatch(/^donki\s+120\s+110\s+14\s+3\s+2024-07-01\s+888 d/);
    out.length = 0;
    expect(
      await runCli(['quality', '--json'], io, { quality: { watermarks: async () => Promise.reject(new Error('no storage')), now: () => NOW } }),
    ).toBe(0);
    expect(JSON.parse(out.join('\n')).rows[0].watermark).toBeUndefined();
    expect(err.at(-1)).toContain('watermarks not read (no storage)');
  });

  it('watermarkPerSource keeps the latest stream watermark of each source', () => {
    expect([
      ...watermarkPerSource([
        { source: 'donki', stream: 'FLR', nextStart: '2024-06-15' },
        { source: 'donki', stream: 'GST', nextStart: '2024-07-01' },
        { source: 'neows', stream: 'feed', nextStart: '' },
      ]),
    ]).toEqual([['donki', '2024-07-01']]);
  });
});
