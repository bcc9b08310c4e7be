import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OrbiterError } from 'orbiter/shared/errors';

/** config/cost-rates.json: user-editable prices the cost report multiplies (docs/optimization.md). */
const positive = z.number().positive();
export const CostRatesSchema = z.object({
  version: z.literal(1),
  currency: z.string().min(1),
  note: z.string().optional(),
  computeKinds: z.record(
    z.string(),
    z.object({ dbuPrice: z.number().min(0), dbuMultiplier: positive.optional(), description: z.string().optional() }),
  ),
  nodeTypes: z.record(
    z.string(),
    z.object({ cores: z.int().positive(), memoryGiB: positive, dbuPerHour: z.number().min(0), vmPricePerHour: z.number().min(0) }),
  ),
  spot: z.object({ vmDiscount: z.number().min(0).max(1), note: z.string().optional() }),
  local: z.object({ nodeType: z.string(), computeKind: z.string(), workers: z.int().min(0), note: z.string().optional() }),
  recommendations: z
    .object({
      dominantTaskShare: z.number().gt(0).max(1).default(0.6),
      noNewDataRunShare: z.number().gt(0).max(1).default(0.5),
      minRunsForEvidence: z.int().min(1).default(3),
    })
    .default({ dominantTaskShare: 0.6, noNewDataRunShare: 0.5, minRunsForEvidence: 3 }),
});
export type CostRates = z.infer<typeof CostRatesSchema>;

/** Validates the rate table; the error names every bad field and the file. */
export function parseCostRates(raw: unknown, source = '(inline)'): CostRates {
  const parsed = CostRatesSchema.safeParse(raw);
  if (!parsed.success) {
    const list = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new OrbiterError('ConfigInvalid', `cost rates ${source} are invalid: ${list}`);
  }
  const r = parsed.data;
  const problems: string[] = [];
  if (!r.nodeTypes[r.local.nodeType]) problems.push(`local.nodeType: ${r.local.nodeType} is not in nodeTypes`);
  if (!r.computeKinds[r.local.computeKind]) problems.push(`local.computeKind: ${r.local.computeKind} is not in computeKinds`);
  if (problems.length) throw new OrbiterError('ConfigInvalid', `cost rates ${source} are invalid: ${problems.join('; ')}`);
  return r;
}

export function loadCostRates(path: string): CostRates {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OrbiterError('ConfigInvalid', `cannot read cost rates ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new OrbiterError('ConfigInvalid', `cost rates ${path} are not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseCostRates(raw, path);
}
