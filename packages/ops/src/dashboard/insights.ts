import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from './jsonFile';
import { buildLakeview, type LakeviewSource } from './lakeview/model';
import { staticDashboardHtml } from './page';
import type { DashboardSnapshot } from './snapshot';

/** headlines.json, written by the visual insights notebook (notebooks/orbiter_lake/headlines.py) beside the charts. */
export const HeadlinesFileSchema = z.object({
  generatedAt: z.string(),
  headlines: z.array(z.object({ key: z.string(), label: z.string(), value: z.string(), detail: z.string(), table: z.string() })),
});
export type InsightsView = z.infer<typeof HeadlinesFileSchema>;

export class InsightsFileError extends Error {
  readonly code = 'InsightsFileInvalid';
}

/** The headline figures in `chartsDir`, or undefined before the insights job has run; a malformed file is an error. */
export function readHeadlines(chartsDir: string | undefined): InsightsView | undefined {
  const file = chartsDir ? join(chartsDir, 'headlines.json') : undefined;
  return file ? readJsonFile(file, HeadlinesFileSchema, (m) => new InsightsFileError(m)) : undefined;
}

/** One line per headline figure, for a terminal. */
export function formatHeadlines(view: InsightsView): string {
  const width = Math.max(...view.headlines.map((h) => h.label.length));
  return view.headlines.map((h) => `  ${h.label.padEnd(width)}  ${h.value}  (${h.detail})`).join('\n');
}

/**
 * Writes the dashboard as one self-contained HTML file (snapshot embedded, chart PNGs inlined as data URIs, the
 * Lakeview widgets with their rows and chart libraries inline), via a temporary file and a rename so a reader never
 * sees half a page. Returns the file's path.
 */
export function writeStaticDashboard(snapshot: DashboardSnapshot, chartsDir: string | undefined, file: string, lakeview?: LakeviewSource): string {
  const charts = snapshot.charts.map((c) => {
    const png = chartsDir ? join(chartsDir, `${c.name}.png`) : undefined;
    return png && existsSync(png) ? { ...c, url: `data:image/png;base64,${readFileSync(png).toString('base64')}` } : c;
  });
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  let board: Parameters<typeof staticDashboardHtml>[1] = {};
  try {
    if (lakeview) board = { view: buildLakeview(lakeview) };
  } catch (err) {
    board = { error: err instanceof Error ? err.message : String(err) };
  }
  writeFileSync(tmp, staticDashboardHtml({ ...snapshot, charts }, board));
  renameSync(tmp, file);
  return file;
}
