import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { OrbiterError } from 'orbiter/shared/errors';

/** The fields of infra/alerts/alert-rules.json the local evaluator uses (the KQL itself is Azure's). */
export const alertRuleSchema = z.looseObject({
  name: z.string().min(1),
  displayName: z.string(),
  description: z.string().default(''),
  severity: z.number().int().min(0).max(4),
  operator: z.enum(['GreaterThan', 'GreaterThanOrEqual', 'LessThan', 'LessThanOrEqual', 'Equal']),
  threshold: z.number(),
  windowSize: z.string(),
  evaluationFrequency: z.string(),
  dimensions: z.array(z.string()).default([]),
  autoMitigate: z.boolean().default(false),
});
export type AlertRule = z.infer<typeof alertRuleSchema>;

// packages/ops/{src,dist}/alerts → the repository root is four levels up from either.
export const defaultRulesPath = (repoRoot = resolve(__dirname, '..', '..', '..', '..')): string =>
  join(repoRoot, 'infra', 'alerts', 'alert-rules.json');

export function loadAlertRules(path = defaultRulesPath()): AlertRule[] {
  const parsed = z.object({ rules: z.array(alertRuleSchema).min(1) }).safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new OrbiterError('ConfigInvalid', `alert rules ${path}: ${parsed.error.message}`);
  return parsed.data.rules;
}

/** ISO 8601 durations as the rules use them (PnDTnHnMnS; no years/months). */
export function isoDurationMs(d: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(d);
  if (!m || d === 'P' || d.endsWith('T')) throw new OrbiterError('ConfigInvalid', `unsupported ISO 8601 duration: ${d}`);
  const [, days, h, min, s] = m;
  return ((Number(days ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
}

export function compare(op: AlertRule['operator'], value: number, threshold: number): boolean {
  switch (op) {
    case 'GreaterThan':
      return value > threshold;
    case 'GreaterThanOrEqual':
      return value >= threshold;
    case 'LessThan':
      return value < threshold;
    case 'LessThanOrEqual':
      return value <= threshold;
    case 'Equal':
      return value === threshold;
  }
}
