import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readDefinition } from './definition';
import { lakeviewVersion, readDataset, type DatasetFile } from './datasets';
import { translateWidget, type PlacedWidget } from './translate';

/** The dashboard definition rendered with the local datasets: what the page lays out, one grid per page. */
export interface LakeviewView {
  definition: string;
  /** Grid columns (Lakeview's canvas has 6; a wider definition widens the grid). */
  columns: number;
  pages: { name: string; title: string; widgets: PlacedWidget[] }[];
  /** When the newest dataset file was computed by the insights job. */
  datasetsGeneratedAt?: string;
  /** Whether any widget is a map (the page then loads the coastline data). */
  hasMaps: boolean;
}

export interface LakeviewSource {
  /** The `.lvdash.json` file. */
  definition: string;
  /** Where the insights job writes `datasets/<name>.json`. */
  chartsDir: string;
}

/** Reads the definition (errors propagate: no definition, no dashboard) and each dataset once; widgets never throw. */
export function buildLakeview(src: LakeviewSource): LakeviewView {
  const def = readDefinition(src.definition);
  const cache = new Map<string, DatasetFile | undefined>();
  const dataset = (name: string): DatasetFile | undefined => {
    if (!cache.has(name)) cache.set(name, readDataset(src.chartsDir, name));
    return cache.get(name);
  };
  const pages = def.pages.map((p) => ({
    name: p.name,
    title: p.displayName ?? p.name,
    widgets: [...p.layout]
      .sort((a, b) => a.position.y - b.position.y || a.position.x - b.position.x)
      .map((l) => translateWidget(l.widget, l.position, dataset)),
  }));
  const generated = [...cache.values()]
    .map((d) => d?.generatedAt)
    .filter((g): g is string => !!g)
    .sort();
  const columns = Math.max(6, ...def.pages.flatMap((p) => p.layout.map((l) => l.position.x + l.position.width)));
  return {
    definition: src.definition,
    columns,
    pages,
    ...(generated.length ? { datasetsGeneratedAt: generated[generated.length - 1]! } : {}),
    hasMaps: pages.some((p) => p.widgets.some((w) => w.widgetType === 'symbol-map')),
  };
}

/** Cheap change marker (stat only) for the live page: the definition and every dataset file. */
export function lakeviewStamp(src: LakeviewSource): string {
  const dir = join(src.chartsDir, 'datasets');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(dir, f))
    : [];
  return lakeviewVersion([src.definition, ...files]);
}
