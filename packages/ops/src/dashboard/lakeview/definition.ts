import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * The part of a Lakeview (AI/BI) dashboard definition, `.lvdash.json`, that the local dashboard renders: pages, their
 * widgets' positions, queries (dataset + fields) and specs. Unknown keys are kept (loose objects) so a definition
 * that the Databricks editor enriched still parses; a widget spec is validated per widget by the translator, so one
 * odd widget cannot stop the others from rendering.
 */
export const FieldEncodingSchema = z.looseObject({
  fieldName: z.string().min(1),
  displayName: z.string().optional(),
  scale: z
    .looseObject({
      type: z.string(),
      domain: z.looseObject({ min: z.number().optional(), max: z.number().optional() }).optional(),
      reverse: z.boolean().optional(),
      sort: z.looseObject({ by: z.string() }).optional(),
      mappings: z.array(z.looseObject({ value: z.unknown(), color: z.string() })).optional(),
    })
    .optional(),
  axis: z.looseObject({ title: z.string().optional(), hideTitle: z.boolean().optional(), hideLabels: z.boolean().optional() }).optional(),
  legend: z.looseObject({ hide: z.boolean().optional(), title: z.string().optional(), hideTitle: z.boolean().optional() }).optional(),
});
export type FieldEncoding = z.infer<typeof FieldEncodingSchema>;

export const QuerySchema = z.looseObject({
  datasetName: z.string().min(1),
  fields: z.array(z.looseObject({ name: z.string().min(1), expression: z.string().min(1) })),
  disaggregated: z.boolean().optional(),
});

export const WidgetSchema = z.looseObject({
  name: z.string().min(1),
  queries: z.array(z.looseObject({ name: z.string(), query: QuerySchema })).optional(),
  spec: z.looseObject({ version: z.number().int(), widgetType: z.string().min(1), encodings: z.unknown().optional() }).optional(),
  multilineTextboxSpec: z.looseObject({ lines: z.array(z.string()) }).optional(),
});
export type Widget = z.infer<typeof WidgetSchema>;

export const PositionSchema = z.object({
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
});
export type Position = z.infer<typeof PositionSchema>;

export const DashboardDefinitionSchema = z.looseObject({
  datasets: z.array(z.looseObject({ name: z.string().min(1), displayName: z.string().optional() })).default([]),
  pages: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        displayName: z.string().optional(),
        layout: z.array(z.looseObject({ widget: WidgetSchema, position: PositionSchema })),
      }),
    )
    .min(1),
});
export type DashboardDefinition = z.infer<typeof DashboardDefinitionSchema>;

export class LakeviewDefinitionError extends Error {
  readonly code = 'LakeviewDefinitionInvalid';
}

/** Parses a definition's text; a clear error names the file and the field at fault. */
export function parseDefinition(text: string, file: string): DashboardDefinition {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LakeviewDefinitionError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = DashboardDefinitionSchema.safeParse(doc);
  if (!parsed.success)
    throw new LakeviewDefinitionError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function readDefinition(file: string): DashboardDefinition {
  return parseDefinition(readFileSync(file, 'utf8'), file);
}

// packages/ops/{src,dist}/dashboard/lakeview → the repository root is five levels up from either.
const defaultRepoRoot = (): string => resolve(__dirname, '..', '..', '..', '..', '..');

/**
 * The bundle's dashboard definition: the `.lvdash.json` under the bundle root (`notebooks/`): in
 * `orbiter_lake/dashboards/` (where the wheel ships it), else `src/` or `resources/`, the first by name. Undefined
 * when the bundle has none.
 */
export function findDefinition(repoRoot = defaultRepoRoot()): string | undefined {
  const bundle = join(repoRoot, 'notebooks');
  for (const dir of [join(bundle, 'orbiter_lake', 'dashboards'), join(bundle, 'src'), join(bundle, 'resources'), bundle]) {
    if (!existsSync(dir)) continue;
    const found = readdirSync(dir)
      .filter((f) => f.endsWith('.lvdash.json'))
      .sort()[0];
    if (found) return join(dir, found);
  }
  return undefined;
}
