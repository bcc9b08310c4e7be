import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from './jsonFile';

/** data_quality.json, written by the visual insights job (notebooks/orbiter_lake/quality.py) beside headlines.json. */
const LayerSchema = z.object({ rows: z.number().int().min(0), tables: z.record(z.string(), z.number().int().min(0).nullable()) });
export const QualityFileSchema = z.object({
  generatedAt: z.string(),
  sources: z.array(
    z.object({
      source: z.string(),
      layers: z.object({ bronze: LayerSchema, silver: LayerSchema, gold: LayerSchema }),
      quarantined: z.number().int().min(0),
      topReasons: z.array(z.object({ entity: z.string(), reason: z.string(), rows: z.number().int().min(0) })),
      newestWindowEnd: z.string().nullable(),
    }),
  ),
});
export type QualityFile = z.infer<typeof QualityFileSchema>;

export class QualityFileError extends Error {
  readonly code = 'QualityFileInvalid';
}

/** The data quality figures in `chartsDir`, or undefined before the insights job has run; a malformed file is an error. */
export function readQuality(chartsDir: string | undefined): QualityFile | undefined {
  const file = chartsDir ? join(chartsDir, 'data_quality.json') : undefined;
  return file ? readJsonFile(file, QualityFileSchema, (m) => new QualityFileError(m)) : undefined;
}

/** One source's row of the data-quality panel. */
export interface QualityRow {
  source: string;
  bronze: number;
  silver: number;
  gold: number;
  quarantined: number;
  topReasons: { entity: string; reason: string; rows: number }[];
  /** The newest ingestion window end in bronze (what the lake holds). */
  newestWindowEnd?: string;
  /** The ingestion watermark: the first day not ingested yet (Table OrbiterWatermarks). */
  watermark?: string;
  /** Whole days the watermark is behind now: how old the newest data the source can have is. */
  watermarkLagDays?: number;
  /** Whole days the lake's newest window is behind the watermark (ingested but not yet in bronze). */
  lakeLagDays?: number;
}

export interface QualityView {
  generatedAt: string;
  rows: QualityRow[];
}

const DAY = 86_400_000;
const days = (later: number, earlier: number): number => Math.max(0, Math.floor((later - earlier) / DAY));
const parse = (s: string | undefined): number | undefined => {
  if (!s) return undefined;
  const t = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
  return Number.isNaN(t) ? undefined : t;
};

/** Whole days a watermark (first day not yet ingested) is behind `now`: 0 when it is today or later. */
export function watermarkLagDays(nextStart: string | undefined, now: Date): number | undefined {
  const t = parse(nextStart);
  return t === undefined ? undefined : days(now.getTime(), t);
}

/** The panel's rows: the lake's counts per source beside its ingestion watermark. */
export function qualityView(file: QualityFile, watermarks: ReadonlyMap<string, string | undefined>, now: Date): QualityView {
  return {
    generatedAt: file.generatedAt,
    rows: file.sources.map((s) => {
      const watermark = watermarks.get(s.source);
      const lag = watermarkLagDays(watermark, now);
      const mark = parse(watermark);
      const newest = parse(s.newestWindowEnd ?? undefined);
      return {
        source: s.source,
        bronze: s.layers.bronze.rows,
        silver: s.layers.silver.rows,
        gold: s.layers.gold.rows,
        quarantined: s.quarantined,
        topReasons: s.topReasons,
        ...(s.newestWindowEnd ? { newestWindowEnd: s.newestWindowEnd } : {}),
        ...(watermark ? { watermark } : {}),
        ...(lag !== undefined ? { watermarkLagDays: lag } : {}),
        // A window ending on day D covers D (inclusive): the watermark after it is D + 1.
        ...(mark !== undefined && newest !== undefined ? { lakeLagDays: Math.max(0, days(mark, newest) - 1) } : {}),
      };
    }),
  };
}

/** The panel as terminal lines (orbiter quality). */
export function formatQuality(view: QualityView): string[] {
  const head = ['SOURCE', 'BRONZE', 'SILVER', 'GOLD', 'QUARANTINED', 'WATERMARK', 'BEHIND NOW', 'NEWEST IN LAKE'];
  const rows = view.rows.map((r) => [
    r.source,
    String(r.bronze),
    String(r.silver),
    String(r.gold),
    String(r.quarantined),
    r.watermark ?? '—',
    r.watermarkLagDays !== undefined ? `${r.watermarkLagDays} d` : '—',
    r.newestWindowEnd ?? '—',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(head), ...rows.map(line)];
  for (const r of view.rows) for (const q of r.topReasons) out.push(`  ${r.source} ${q.entity}: ${q.rows} × ${q.reason}`);
  out.push(`computed ${view.generatedAt} by the visual insights job`);
  return out;
}
