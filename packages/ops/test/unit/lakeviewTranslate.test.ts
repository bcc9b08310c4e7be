import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LakeviewDatasetError, readDataset, type DatasetFile } from '../../src/dashboard/lakeview/datasets';
import { LakeviewDefinitionError, parseDefinition, type Widget } from '../../src/dashboard/lakeview/definition';
import { buildLakeview } from '../../src/dashboard/lakeview/model';
import { decadeTicks, isIntegral, LAND_DATA, translateWidget, vlField, type PlacedWidget } from '../../src/dashboard/lakeview/translate';

const pos = { x: 0, y: 0, width: 3, height: 6 };
const ds = (name: string, columns: [string, string][], rows: Record<string, unknown>[]): DatasetFile => ({
  dataset: name,
  generatedAt: '2026-12-06T04:00:00Z',
  columns: columns.map(([n, type]) => ({ name: n, type })),
  rows,
  truncated: false,
});
const query = (dataset: string, fields: string[]): Widget['queries'] => [
  { name: 'main_query', query: { datasetName: dataset, fields: fields.map((f) => ({ name: f, expression: `\`${f}\`` })), disaggregated: true } },
];
// Specs are plain JSON; the tests walk them loosely and assert on the shapes that matter.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const spec = (p: PlacedWidget): Loose => {
  if (p.view.kind !== 'chart') throw new Error(`expected a chart, got ${p.view.kind}: ${JSON.stringify(p.view)}`);
  return p.view.spec;
};

const classes = ds(
  'by_class',
  [
    ['recclass', 'string'],
    ['landings', 'bigint'],
  ],
  [
    { recclass: 'L6', landings: 8285 },
    { recclass: 'H5', landings: 7142 },
  ],
);
const fireballs = ds(
  'fireballs',
  [
    ['year', 'int'],
    ['energy_kt', 'double'],
    ['lat', 'double'],
    ['lon', 'double'],
  ],
  [
    { year: 2005, energy_kt: 0.05, lat: 10, lon: 20 },
    { year: 2013, energy_kt: 440, lat: 54.8, lon: 61.1 },
    { year: 2024, energy_kt: 1.2, lat: null, lon: null },
  ],
);
const lookup =
  (...files: DatasetFile[]) =>
  (name: string) =>
    files.find((f) => f.dataset === name);

describe('Lakeview widget → Vega-Lite translator', () => {
  it('text: markdown lines lose the newline Lakeview stores with them, so a heading stays a heading', () => {
    const w = translateWidget(
      { name: 't', multilineTextboxSpec: { lines: ['## Orbiter\n', '\n', 'Gold tables.\r\n'] } },
      { x: 0, y: 0, width: 6, height: 2 },
      lookup(),
    );
    expect(w.view).toEqual({ kind: 'text', lines: ['## Orbiter', '', 'Gold tables.'] });
  });

  it('bar: categorical x sorted by value, whole-number y axis, titles from the definition', () => {
    const w = translateWidget(
      {
        name: 'bar1',
        queries: query('by_class', ['recclass', 'landings']),
        spec: {
          version: 3,
          widgetType: 'bar',
          encodings: {
            x: { fieldName: 'recclass', displayName: 'Class', scale: { type: 'categorical', sort: { by: 'y-reversed' } } },
            y: { fieldName: 'landings', scale: { type: 'quantitative' }, axis: { title: 'Landings' } },
          },
          frame: { showTitle: true, title: 'Meteorites by class' },
        },
      },
      pos,
      lookup(classes),
    );
    expect(w.title).toBe('Meteorites by class');
    const s = spec(w);
    expect(s['mark'].type).toBe('bar');
    expect(s['data'].values).toEqual([
      { recclass: 'L6', landings: 8285 },
      { recclass: 'H5', landings: 7142 },
    ]);
    expect(s['encoding'].x).toMatchObject({ field: 'recclass', type: 'nominal', sort: '-y', axis: { title: 'Class' } });
    expect(s['encoding'].y).toMatchObject({ field: 'landings', type: 'quantitative', axis: { title: 'Landings', tickMinStep: 1, format: ',d' } });
  });

  it('scatter: years as whole numbers without separators, energies spanning decades on a log axis ticked at powers of ten', () => {
    const w = translateWidget(
      {
        name: 'sc',
        queries: query('fireballs', ['year', 'energy_kt']),
        spec: {
          version: 3,
          widgetType: 'scatter',
          encodings: {
            x: { fieldName: 'year', scale: { type: 'quantitative' } },
            y: { fieldName: 'energy_kt', displayName: 'Energy (kt)', scale: { type: 'quantitative' } },
          },
        },
      },
      pos,
      lookup(fireballs),
    );
    const s = spec(w);
    expect(s['mark']).toMatchObject({ type: 'point', filled: true });
    expect(s['encoding'].x).toMatchObject({ axis: { format: 'd', tickMinStep: 1 }, scale: { zero: false } });
    expect(s['encoding'].y).toMatchObject({
      scale: { type: 'log' },
      axis: { title: 'Energy (kt) (log scale)', values: [0.01, 0.1, 1, 10, 100, 1000], format: ',~r' },
    });
  });

  it('line with several y fields: one series per field named by its displayName, in a legend', () => {
    const flares = ds(
      'flares',
      [
        ['month', 'date'],
        ['c', 'bigint'],
        ['x', 'bigint'],
      ],
      [
        { month: '2024-04-01', c: 120, x: 1 },
        { month: '2024-05-01', c: 150, x: 12 },
      ],
    );
    const w = translateWidget(
      {
        name: 'ln',
        queries: query('flares', ['month', 'c', 'x']),
        spec: {
          version: 3,
          widgetType: 'line',
          encodings: {
            x: { fieldName: 'month', scale: { type: 'temporal' } },
            y: {
              scale: { type: 'quantitative' },
              fields: [
                { fieldName: 'c', displayName: 'C flares' },
                { fieldName: 'x', displayName: 'X flares' },
              ],
            },
          },
        },
      },
      pos,
      lookup(flares),
    );
    const s = spec(w);
    expect(s['data'].values).toEqual([
      { month: '2024-04-01', series: 'C flares', value: 120 },
      { month: '2024-04-01', series: 'X flares', value: 1 },
      { month: '2024-05-01', series: 'C flares', value: 150 },
      { month: '2024-05-01', series: 'X flares', value: 12 },
    ]);
    expect(s['encoding'].color).toEqual({ field: 'series', type: 'nominal', legend: { title: null } });
    expect(s['encoding'].x).toMatchObject({ type: 'temporal', axis: { format: '%b %Y' } });
  });

  it('symbol map: land layer from the named coastline data plus one circle per row with coordinates', () => {
    const w = translateWidget(
      {
        name: 'map',
        queries: query('fireballs', ['lat', 'lon', 'energy_kt']),
        spec: {
          version: 2,
          widgetType: 'symbol-map',
          encodings: {
            coordinates: { latitude: { fieldName: 'lat' }, longitude: { fieldName: 'lon' } },
            size: { fieldName: 'energy_kt', scale: { type: 'quantitative' } },
          },
        },
      },
      pos,
      lookup(fireballs),
    );
    const s = spec(w);
    expect(w.view.kind === 'chart' && w.view.rows).toBe(2); // the row without coordinates is dropped, not drawn at 0,0
    expect(s['layer'][0]).toMatchObject({ data: { name: LAND_DATA }, mark: { type: 'geoshape' } });
    expect(s['layer'][1].encoding).toMatchObject({ longitude: { field: 'lon' }, latitude: { field: 'lat' }, size: { field: 'energy_kt' } });
  });

  it('table and counter: escaped later by the page, here plain strings; counter formats its number', () => {
    const table = translateWidget(
      {
        name: 't',
        queries: query('by_class', ['recclass', 'landings']),
        spec: { version: 1, widgetType: 'table', encodings: { columns: [{ fieldName: 'recclass', title: 'Class' }, { fieldName: 'landings' }] } },
      },
      pos,
      lookup(classes),
    );
    expect(table.view).toEqual({
      kind: 'table',
      columns: [
        { name: 'recclass', title: 'Class', numeric: false },
        { name: 'landings', title: 'landings', numeric: true },
      ],
      rows: [
        ['L6', '8285'],
        ['H5', '7142'],
      ],
      total: 2,
      truncated: false,
    });
    const counter = translateWidget(
      {
        name: 'c',
        queries: query('by_class', ['landings']),
        spec: { version: 2, widgetType: 'counter', encodings: { value: { fieldName: 'landings', displayName: 'Landings' } } },
      },
      pos,
      lookup(classes),
    );
    expect(counter.view).toEqual({ kind: 'counter', value: '8,285', label: 'Landings' });
  });

  it('never throws: unknown types, missing datasets, computed expressions and bad specs become boxes saying why', () => {
    const pie = translateWidget(
      { name: 'p', queries: query('by_class', ['landings']), spec: { version: 3, widgetType: 'pie', encodings: {} } },
      pos,
      lookup(classes),
    );
    expect(pie.view).toEqual({ kind: 'unsupported', widgetType: 'pie' });
    const missing = translateWidget(
      { name: 'm', queries: query('nope', ['a']), spec: { version: 3, widgetType: 'bar', encodings: {} } },
      pos,
      lookup(),
    );
    expect(missing.view).toMatchObject({ kind: 'empty', message: expect.stringContaining('dataset nope') });
    const computed = translateWidget(
      {
        name: 'agg',
        queries: [{ name: 'q', query: { datasetName: 'by_class', fields: [{ name: 'sum(landings)', expression: 'SUM(`landings`)' }] } }],
        spec: { version: 3, widgetType: 'bar', encodings: { x: { fieldName: 'sum(landings)' } } },
      },
      pos,
      lookup(classes),
    );
    expect(computed.view).toMatchObject({ kind: 'error', message: expect.stringContaining('not a plain column reference') });
    const badSpec = translateWidget(
      { name: 'b', queries: query('by_class', ['recclass']), spec: { version: 3, widgetType: 'bar', encodings: { x: {} } } },
      pos,
      lookup(classes),
    );
    expect(badSpec.view).toMatchObject({ kind: 'error', message: expect.stringContaining('encodings.x') });
    const unknownColumn = translateWidget(
      { name: 'u', queries: query('by_class', ['mass']), spec: { version: 2, widgetType: 'counter', encodings: { value: { fieldName: 'mass' } } } },
      pos,
      lookup(classes),
    );
    expect(unknownColumn.view).toMatchObject({ kind: 'error', message: 'field "mass": column "mass" is not in dataset "by_class"' });
  });

  it('helpers: flat field names for Vega-Lite, integral detection, decade ticks', () => {
    expect(vlField('sum(a.b)[0]')).toBe('sum(a\\.b)\\[0\\]');
    expect(isIntegral([{ v: 1 }, { v: 2 }, { v: null }], 'v')).toBe(true);
    expect(isIntegral([{ v: 1 }, { v: 2.5 }], 'v')).toBe(false);
    expect(isIntegral([{ v: '1' }], 'v')).toBe(false);
    expect(decadeTicks([{ v: 3 }, { v: 4500 }], 'v')).toEqual([1, 10, 100, 1000, 10000]);
  });
});

describe('definition and dataset files', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ops-lakeview-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a definition without pages or with a bad position, naming the field', () => {
    expect(() => parseDefinition('{', 'x.lvdash.json')).toThrow(LakeviewDefinitionError);
    expect(() => parseDefinition(JSON.stringify({ datasets: [], pages: [] }), 'x.lvdash.json')).toThrow(/pages/);
    const bad = { pages: [{ name: 'p', layout: [{ widget: { name: 'w' }, position: { x: -1, y: 0, width: 1, height: 1 } }] }] };
    expect(() => parseDefinition(JSON.stringify(bad), 'x.lvdash.json')).toThrow(/pages\.0\.layout\.0\.position\.x/);
  });

  it('reads a dataset file, refuses a misnamed or malformed one and a path-like name', () => {
    mkdirSync(join(dir, 'datasets'));
    expect(readDataset(dir, 'fireballs')).toBeUndefined();
    writeFileSync(join(dir, 'datasets', 'fireballs.json'), JSON.stringify(fireballs));
    expect(readDataset(dir, 'fireballs')?.rows).toHaveLength(3);
    writeFileSync(join(dir, 'datasets', 'other.json'), JSON.stringify(fireballs));
    expect(() => readDataset(dir, 'other')).toThrow(/holds dataset "fireballs"/);
    writeFileSync(join(dir, 'datasets', 'broken.json'), JSON.stringify({ dataset: 'broken', rows: 3 }));
    expect(() => readDataset(dir, 'broken')).toThrow(LakeviewDatasetError);
    expect(() => readDataset(dir, '../secrets')).toThrow(/not a plain file name/);
  });

  it('builds the fixture dashboard: every widget drawn, grid of 6 columns, maps flagged', () => {
    const fixtures = resolve(__dirname, '../fixtures/lakeview');
    const view = buildLakeview({ definition: join(fixtures, 'orbiter_insights.lvdash.json'), chartsDir: join(fixtures, 'charts') });
    expect(view.columns).toBe(6);
    expect(view.hasMaps).toBe(true);
    const widgets = view.pages[0]!.widgets;
    expect(widgets.map((w) => `${w.widgetType}:${w.view.kind}`)).toEqual([
      'text:text',
      'counter:counter',
      'bar:chart',
      'line:chart',
      'scatter:chart',
      'table:table',
      'symbol-map:chart',
      'symbol-map:chart',
    ]);
    expect(view.datasetsGeneratedAt).toBe('2026-12-06T04:00:00+00:00');
  });
});
