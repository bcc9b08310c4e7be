import { z } from 'zod';
import { FieldEncodingSchema, type FieldEncoding, type Position, type Widget } from './definition';
import type { DatasetFile } from './datasets';

/** What the page draws for one widget; JSON, so it travels in the snapshot and is embedded in the static page. */
export type WidgetView =
  | { kind: 'chart'; spec: VegaLiteSpec; rows: number }
  | { kind: 'table'; columns: { name: string; title: string; numeric: boolean }[]; rows: string[][]; total: number; truncated: boolean }
  | { kind: 'counter'; value: string; label: string }
  | { kind: 'text'; lines: string[] }
  | { kind: 'empty'; message: string }
  | { kind: 'unsupported'; widgetType: string }
  | { kind: 'error'; message: string };

export interface PlacedWidget {
  name: string;
  title?: string;
  widgetType: string;
  position: Position;
  view: WidgetView;
}

/** A Vega-Lite spec as plain JSON (compiled in the browser by vega-lite). */
export type VegaLiteSpec = Record<string, unknown>;

/** The named Vega-Lite data source a map's land layer reads; the page fills it with the coastline TopoJSON. */
export const LAND_DATA = 'orbiter_land';

export class WidgetTranslateError extends Error {
  readonly code = 'WidgetUntranslatable';
}

const frameSchema = z.looseObject({ title: z.string().optional(), showTitle: z.boolean().optional() }).optional();
const multiFieldSchema = z.looseObject({
  fields: z.array(z.looseObject({ fieldName: z.string().min(1), displayName: z.string().optional() })).min(1),
  scale: FieldEncodingSchema.shape.scale,
  axis: FieldEncodingSchema.shape.axis,
});
type MultiField = z.infer<typeof multiFieldSchema>;
const isMulti = (e: FieldEncoding | MultiField): e is MultiField => Array.isArray((e as { fields?: unknown }).fields);
const chartSpecSchema = z.looseObject({
  frame: frameSchema,
  encodings: z.looseObject({
    x: z.union([FieldEncodingSchema, multiFieldSchema]),
    y: z.union([FieldEncodingSchema, multiFieldSchema]).optional(),
    color: FieldEncodingSchema.or(z.looseObject({ legend: FieldEncodingSchema.shape.legend })).optional(),
    size: FieldEncodingSchema.optional(),
  }),
  mark: z.looseObject({ colors: z.array(z.string()).optional(), layout: z.string().optional(), opacity: z.number().optional() }).optional(),
});
const tableSpecSchema = z.looseObject({
  frame: frameSchema,
  encodings: z.looseObject({
    columns: z.array(
      z.looseObject({
        fieldName: z.string().min(1),
        title: z.string().optional(),
        displayName: z.string().optional(),
        visible: z.boolean().optional(),
      }),
    ),
  }),
});
const counterSpecSchema = z.looseObject({
  frame: frameSchema,
  encodings: z.looseObject({ value: FieldEncodingSchema.extend({ rowNumber: z.number().int().min(1).optional() }) }),
});
const mapSpecSchema = z.looseObject({
  frame: frameSchema,
  encodings: z.looseObject({
    coordinates: z.looseObject({ latitude: FieldEncodingSchema, longitude: FieldEncodingSchema }),
    color: FieldEncodingSchema.optional(),
    size: FieldEncodingSchema.optional(),
    extra: z.array(FieldEncodingSchema).optional(),
  }),
  mark: z.looseObject({ opacity: z.number().optional() }).optional(),
});

const CHART_MARKS = { bar: 'bar', line: 'line', scatter: 'point', area: 'area' } as const;
export const SUPPORTED_WIDGET_TYPES = [...Object.keys(CHART_MARKS), 'table', 'counter', 'symbol-map', 'text'] as const;
/** Rows a table widget shows; the rest are counted, not sent. */
export const TABLE_ROW_LIMIT = 200;

const parse = <T>(schema: z.ZodType<T>, spec: unknown, widgetType: string): T => {
  const r = schema.safeParse(spec);
  if (!r.success) throw new WidgetTranslateError(`${widgetType} spec: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
};

/** Vega-Lite reads dots and brackets in a field name as nested access; Lakeview names like `sum(a.b)` are flat. */
export const vlField = (name: string): string => name.replace(/[.[\]\\]/g, (c) => `\\${c}`);

/** Maps each query field name to its dataset column; only plain column references are computed locally. */
function fieldColumns(widget: Widget, dataset: DatasetFile): Map<string, string> {
  const query = widget.queries?.[0]?.query;
  const map = new Map<string, string>();
  const known = new Set(dataset.columns.map((c) => c.name));
  for (const f of query?.fields ?? []) {
    const m = /^`([^`]+)`$/.exec(f.expression.trim());
    if (!m)
      throw new WidgetTranslateError(
        `field "${f.name}": expression ${f.expression} is not a plain column reference (only those are computed locally)`,
      );
    if (!known.has(m[1]!)) throw new WidgetTranslateError(`field "${f.name}": column "${m[1]}" is not in dataset "${dataset.dataset}"`);
    map.set(f.name, m[1]!);
  }
  return map;
}

/** Rows keyed by query field name, holding only the fields the widget uses. */
function projectRows(rows: DatasetFile['rows'], columns: Map<string, string>, fields: readonly string[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(fields.map((f) => [f, r[columns.get(f)!]])));
}

const numbers = (rows: Record<string, unknown>[], field: string): number[] =>
  rows.map((r) => r[field]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

/** Whether every value of a field is a whole number (so the axis steps by whole units and has no decimals). */
export function isIntegral(rows: Record<string, unknown>[], field: string): boolean {
  const vals = numbers(rows, field);
  return vals.length > 0 && vals.length === rows.filter((r) => r[field] != null).length && vals.every((v) => Number.isInteger(v));
}

/** Positive values spanning three decades or more read better on a log scale (fireball energies, flare fluxes). */
export function wantsLog(rows: Record<string, unknown>[], field: string): boolean {
  const vals = numbers(rows, field);
  if (vals.length < 2 || vals.some((v) => v <= 0)) return false;
  return Math.max(...vals) / Math.min(...vals) >= 1000;
}

/** Powers of ten covering the values: the only ticks of a log axis, so it reads 0.1, 1, 10, never 6×10². */
export function decadeTicks(rows: Record<string, unknown>[], field: string): number[] {
  const vals = numbers(rows, field).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...vals)));
  const hi = Math.ceil(Math.log10(Math.max(...vals)));
  return Array.from({ length: hi - lo + 1 }, (_, i) => Number(`1e${lo + i}`));
}

/** A temporal field whose dates all fall on the first of a month (or of a year) is labelled by month (or year). */
function dateGrain(rows: Record<string, unknown>[], field: string): 'year' | 'month' | undefined {
  const vals = rows.map((r) => r[field]).filter((v): v is string => typeof v === 'string');
  if (vals.length === 0) return undefined;
  if (vals.every((v) => /^\d{4}-01-01(?:$|[T ]00:00)/.test(v))) return 'year';
  if (vals.every((v) => /^\d{4}-\d{2}-01(?:$|[T ]00:00)/.test(v))) return 'month';
  return undefined;
}

type Channel = 'x' | 'y';

function positional(enc: FieldEncoding, channel: Channel, rows: Record<string, unknown>[], o: { allowLog: boolean }): Record<string, unknown> {
  const scaleType = enc.scale?.type ?? 'quantitative';
  const type = scaleType === 'categorical' ? 'nominal' : scaleType === 'temporal' ? 'temporal' : 'quantitative';
  const title = enc.axis?.hideTitle ? null : (enc.axis?.title ?? enc.displayName ?? enc.fieldName);
  const def: Record<string, unknown> = { field: vlField(enc.fieldName), type };
  const axis: Record<string, unknown> = { title };
  const scale: Record<string, unknown> = {};
  if (enc.axis?.hideLabels) axis['labels'] = false;
  if (type === 'quantitative') {
    const log = o.allowLog && wantsLog(rows, enc.fieldName);
    if (log) {
      scale['type'] = 'log';
      axis['values'] = decadeTicks(rows, enc.fieldName);
      axis['format'] = ',~r';
      axis['title'] = title === null ? null : `${title} (log scale)`;
    } else if (isIntegral(rows, enc.fieldName)) {
      // Whole numbers: ticks one unit apart at least, and years without a thousands separator.
      const vals = numbers(rows, enc.fieldName);
      const yearLike = /year/i.test(enc.fieldName) && vals.every((v) => v >= 1000 && v <= 3000);
      axis['tickMinStep'] = 1;
      axis['format'] = yearLike ? 'd' : ',d';
      if (yearLike) scale['zero'] = false;
    }
    if (enc.scale?.domain && (enc.scale.domain.min !== undefined || enc.scale.domain.max !== undefined)) {
      if (enc.scale.domain.min !== undefined) scale['domainMin'] = enc.scale.domain.min;
      if (enc.scale.domain.max !== undefined) scale['domainMax'] = enc.scale.domain.max;
    }
    if (enc.scale?.reverse) scale['reverse'] = true;
  }
  if (type === 'temporal') {
    const grain = dateGrain(rows, enc.fieldName);
    if (grain === 'year') Object.assign(axis, { format: '%Y', tickCount: { interval: 'year', step: 1 } });
    if (grain === 'month') Object.assign(axis, { format: '%b %Y', tickCount: { interval: 'month', step: 1 }, labelOverlap: true });
  }
  if (type === 'nominal') {
    const by = enc.scale?.sort?.by;
    const other = channel === 'x' ? 'y' : 'x';
    def['sort'] = by === `${other}` ? other : by === `${other}-reversed` ? `-${other}` : by === 'natural-order-reversed' ? 'descending' : null;
    axis['labelLimit'] = 160;
  }
  def['axis'] = axis;
  if (Object.keys(scale).length) def['scale'] = scale;
  return def;
}

function colorDef(enc: FieldEncoding, rows: Record<string, unknown>[]): Record<string, unknown> {
  const quantitative = enc.scale?.type === 'quantitative';
  const def: Record<string, unknown> = { field: vlField(enc.fieldName), type: quantitative ? 'quantitative' : 'nominal' };
  def['legend'] = enc.legend?.hide ? null : { title: enc.legend?.hideTitle ? null : (enc.legend?.title ?? enc.displayName ?? enc.fieldName) };
  if (enc.scale?.mappings?.length) def['scale'] = { domain: enc.scale.mappings.map((m) => m.value), range: enc.scale.mappings.map((m) => m.color) };
  else if (quantitative && wantsLog(rows, enc.fieldName)) def['scale'] = { type: 'log' };
  return def;
}

const base = (): VegaLiteSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: 'container',
  height: 'container',
  autosize: { type: 'fit', contains: 'padding' },
  background: 'transparent',
});

function chartView(widgetType: keyof typeof CHART_MARKS, spec: unknown, widget: Widget, dataset: DatasetFile): WidgetView {
  const s = parse(chartSpecSchema, spec, widgetType);
  const cols = fieldColumns(widget, dataset);
  const need = (name: string): string => {
    if (!cols.has(name)) throw new WidgetTranslateError(`encoding uses field "${name}", which the widget's query does not select`);
    return name;
  };
  const x = s.encodings.x;
  const y = s.encodings.y;
  if (isMulti(x)) throw new WidgetTranslateError('several fields on the x axis are not rendered locally');
  if (!y) throw new WidgetTranslateError('no y encoding');
  const used = [need(x.fieldName)];
  const multiY = isMulti(y) ? y.fields.map((f) => need(f.fieldName)) : undefined;
  if (!isMulti(y)) used.push(need(y.fieldName));
  else used.push(...multiY!);
  const color = s.encodings.color && 'fieldName' in s.encodings.color ? (s.encodings.color as FieldEncoding) : undefined;
  if (color) used.push(need(color.fieldName));
  const size = s.encodings.size;
  if (size) used.push(need(size.fieldName));
  const fields = [...new Set(used)];
  const rows = projectRows(dataset.rows, cols, fields);
  const allowLog = widgetType === 'scatter' || widgetType === 'line';

  const encoding: Record<string, unknown> = { x: positional(x, 'x', rows, { allowLog }) };
  let values: Record<string, unknown>[] = rows;
  if (isMulti(y)) {
    // Several measures on one y axis: one series per field (long format), told apart by colour, with a legend naming each.
    values = rows.flatMap((r) =>
      y.fields.map((f) => ({ [x.fieldName]: r[x.fieldName], series: f.displayName ?? f.fieldName, value: r[f.fieldName] })),
    );
    const yDef = positional({ fieldName: 'value', ...(y.scale ? { scale: y.scale } : {}) }, 'y', values, { allowLog });
    encoding['y'] = { ...yDef, axis: { ...(yDef['axis'] as object), title: y.axis?.hideTitle ? null : (y.axis?.title ?? null) } };
    encoding['color'] = { field: 'series', type: 'nominal', legend: { title: null } };
  } else {
    encoding['y'] = positional(y, 'y', rows, { allowLog });
    if (color) encoding['color'] = colorDef(color, rows);
  }
  if (size) encoding['size'] = { field: vlField(size.fieldName), type: 'quantitative', legend: { title: size.displayName ?? size.fieldName } };
  const tipFields = multiY ? [x.fieldName, 'series', 'value'] : fields;
  encoding['tooltip'] = tipFields.map((f) => ({
    field: vlField(f),
    ...(typeof values.find((r) => r[f] != null)?.[f] === 'number' ? { type: 'quantitative', format: ',.6~g' } : {}),
  }));
  if (widgetType === 'bar' && color && s.mark?.layout === 'group') encoding['xOffset'] = { field: vlField(color.fieldName) };

  const mark: Record<string, unknown> = { type: CHART_MARKS[widgetType], tooltip: true };
  if (widgetType === 'line') mark['point'] = rows.length <= 60;
  if (widgetType === 'scatter') Object.assign(mark, { filled: true, opacity: 0.75 });
  if (s.mark?.colors?.[0] && !encoding['color']) mark['color'] = s.mark.colors[0];
  return {
    kind: 'chart',
    rows: rows.length,
    spec: { ...base(), data: { values }, mark, encoding },
  };
}

const cell = (v: unknown): string =>
  v == null
    ? ''
    : typeof v === 'number'
      ? Number.isInteger(v)
        ? String(v)
        : String(Number(v.toPrecision(10)))
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);

function tableView(spec: unknown, widget: Widget, dataset: DatasetFile): WidgetView {
  const s = parse(tableSpecSchema, spec, 'table');
  const cols = fieldColumns(widget, dataset);
  const shown = s.encodings.columns.filter((c) => c.visible !== false);
  for (const c of shown) if (!cols.has(c.fieldName)) throw new WidgetTranslateError(`column "${c.fieldName}" is not selected by the widget's query`);
  const rows = dataset.rows.slice(0, TABLE_ROW_LIMIT);
  return {
    kind: 'table',
    columns: shown.map((c) => ({
      name: c.fieldName,
      title: c.title ?? c.displayName ?? c.fieldName,
      numeric: dataset.rows.some((r) => typeof r[cols.get(c.fieldName)!] === 'number'),
    })),
    rows: rows.map((r) => shown.map((c) => cell(r[cols.get(c.fieldName)!]))),
    total: dataset.rows.length,
    truncated: dataset.truncated,
  };
}

function counterView(spec: unknown, widget: Widget, dataset: DatasetFile): WidgetView {
  const s = parse(counterSpecSchema, spec, 'counter');
  const cols = fieldColumns(widget, dataset);
  const enc = s.encodings.value;
  const column = cols.get(enc.fieldName);
  if (!column) throw new WidgetTranslateError(`counter field "${enc.fieldName}" is not selected by the widget's query`);
  const row = dataset.rows[(enc.rowNumber ?? 1) - 1];
  const v = row?.[column];
  const value = typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 2 }) : cell(v);
  return { kind: 'counter', value, label: enc.displayName ?? enc.fieldName };
}

function mapView(spec: unknown, widget: Widget, dataset: DatasetFile): WidgetView {
  const s = parse(mapSpecSchema, spec, 'symbol-map');
  const cols = fieldColumns(widget, dataset);
  const { latitude, longitude } = s.encodings.coordinates;
  const extra = s.encodings.extra ?? [];
  const fields = [latitude, longitude, s.encodings.color, s.encodings.size, ...extra].filter((f): f is FieldEncoding => !!f).map((f) => f.fieldName);
  for (const f of fields) if (!cols.has(f)) throw new WidgetTranslateError(`map field "${f}" is not selected by the widget's query`);
  const unique = [...new Set(fields)];
  // Points without coordinates cannot be placed; they are dropped here rather than drawn at 0,0.
  const rows = projectRows(dataset.rows, cols, unique).filter(
    (r) => typeof r[latitude.fieldName] === 'number' && typeof r[longitude.fieldName] === 'number',
  );
  const encoding: Record<string, unknown> = {
    longitude: { field: vlField(longitude.fieldName), type: 'quantitative' },
    latitude: { field: vlField(latitude.fieldName), type: 'quantitative' },
    tooltip: unique.map((f) => ({ field: vlField(f), title: [latitude, longitude, ...extra].find((e) => e.fieldName === f)?.displayName ?? f })),
  };
  if (s.encodings.color) encoding['color'] = colorDef(s.encodings.color, rows);
  if (s.encodings.size)
    encoding['size'] = {
      field: vlField(s.encodings.size.fieldName),
      type: 'quantitative',
      legend: { title: s.encodings.size.displayName ?? s.encodings.size.fieldName },
    };
  return {
    kind: 'chart',
    rows: rows.length,
    spec: {
      ...base(),
      projection: { type: 'equalEarth' },
      layer: [
        { data: { name: LAND_DATA }, mark: { type: 'geoshape', fill: '#2b3650', stroke: '#46557a', strokeWidth: 0.5 } },
        { data: { values: rows }, mark: { type: 'circle', opacity: s.mark?.opacity ?? 0.7, size: 18, tooltip: true }, encoding },
      ],
    },
  };
}

const titleOf = (spec: unknown): string | undefined => {
  const f = frameSchema.safeParse((spec as { frame?: unknown } | undefined)?.frame);
  return f.success && f.data?.showTitle !== false ? f.data?.title : undefined;
};

/**
 * Turns one widget of the definition, with its dataset's rows, into what the page draws. Never throws: a widget that
 * cannot be drawn becomes an `error` or `unsupported` view, so one bad widget leaves the rest of the page intact.
 */
export function translateWidget(widget: Widget, position: Position, dataset: (name: string) => DatasetFile | undefined): PlacedWidget {
  if (widget.multilineTextboxSpec)
    return {
      name: widget.name,
      widgetType: 'text',
      position,
      // Lakeview stores markdown lines with their newline: drop it, so "## Title\n" is still a heading.
      view: { kind: 'text', lines: widget.multilineTextboxSpec.lines.map((l) => l.replace(/\r?\n$/, '')) },
    };
  const widgetType = widget.spec?.widgetType ?? 'unknown';
  const title = titleOf(widget.spec);
  const placed = (view: WidgetView): PlacedWidget => ({ name: widget.name, widgetType, position, ...(title ? { title } : {}), view });
  if (!(SUPPORTED_WIDGET_TYPES as readonly string[]).includes(widgetType)) return placed({ kind: 'unsupported', widgetType });
  const datasetName = widget.queries?.[0]?.query.datasetName;
  if (!datasetName) return placed({ kind: 'error', message: 'the widget has no query' });
  try {
    const data = dataset(datasetName);
    if (!data) return placed({ kind: 'empty', message: `No rows yet: dataset ${datasetName} is written by the visual insights job.` });
    if (data.rows.length === 0) return placed({ kind: 'empty', message: `Dataset ${datasetName} has no rows.` });
    switch (widgetType) {
      case 'table':
        return placed(tableView(widget.spec, widget, data));
      case 'counter':
        return placed(counterView(widget.spec, widget, data));
      case 'symbol-map':
        return placed(mapView(widget.spec, widget, data));
      default:
        return placed(chartView(widgetType as keyof typeof CHART_MARKS, widget.spec, widget, data));
    }
  } catch (err) {
    return placed({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}
