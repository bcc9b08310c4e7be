import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatHeadlines, InsightsFileError, readHeadlines, writeStaticDashboard } from '../../src/dashboard/insights';
import type { DashboardSnapshot } from '../../src/dashboard/snapshot';

const headlines = {
  generatedAt: '2026-12-06T02:00:00+00:00',
  headlines: [
    { key: 'closest_neo', label: 'Closest NEO miss', value: '2024 KN1: 1,234 km', detail: 'on 2024-05-27 UTC', table: 'neo_closest_approaches' },
    { key: 'strongest_flare', label: 'Strongest solar flare', value: 'X8.7', detail: 'in 2024-05</script><b>', table: 'flare_class_monthly' },
  ],
};

describe('insights files: headlines.json and the static dashboard page', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ops-insights-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads headlines.json (none before the job ran) and formats one aligned line per figure', () => {
    expect(readHeadlines(dir)).toBeUndefined();
    writeFileSync(join(dir, 'headlines.json'), JSON.stringify(headlines));
    const view = readHeadlines(dir)!;
    expect(formatHeadlines(view).split('\n')).toEqual([
      '  Closest NEO miss       2024 KN1: 1,234 km  (on 2024-05-27 UTC)',
      '  Strongest solar flare  X8.7  (in 2024-05</script><b>)',
    ]);
  });

  it('refuses a malformed headlines.json with the field at fault', () => {
    writeFileSync(join(dir, 'headlines.json'), JSON.stringify({ generatedAt: 'x', headlines: [{ key: 'a' }] }));
    expect(() => readHeadlines(dir)).toThrow(InsightsFileError);
    expect(() => readHeadlines(dir)).toThrow(/headlines\.0\.label/);
    writeFileSync(join(dir, 'headlines.json'), '{oops');
    expect(() => readHeadlines(dir)).toThrow(/is not JSON/);
  });

  it('writes one self-contained page: snapshot embedded without a way to close its script, charts inlined, no server calls', () => {
    writeFileSync(join(dir, 'neo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const snapshot: DashboardSnapshot = {
      generatedAt: '2026-12-06T02:00:00.000Z',
      runs: [],
      counts: {},
      ingestion: [],
      queues: [],
      alerts: [],
      charts: [{ name: 'neo', url: '/charts/neo.png', updatedAt: '2026-12-06T02:00:00.000Z' }],
      insights: headlines,
      errors: {},
    };
    const file = writeStaticDashboard(snapshot, dir, join(dir, 'out', 'dashboard.html'));
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('data:image/png;base64,iVBORw==');
    expect(html).not.toContain('/charts/neo.png');
    // Every closing tag is one of the page's own script elements (libraries, renderer, boot): no data closes one.
    expect(html.match(/<\/script>/g)).toHaveLength(html.match(/<script>/g)!.length);
    expect(html).toContain('in 2024-05\\u003c/script>\\u003cb>');
    expect(html).not.toContain("fetch('/api/optimize')");
    expect(html).toContain('var boot = {');
  });
});
