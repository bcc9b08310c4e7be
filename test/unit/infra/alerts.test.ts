import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { sourceIds } from '../../../shared/config';
import { INFRA_DIR, loadCalls, moduleCalls, readBicep, varText } from './support/bicep';

/**
 * infra/alerts/alert-rules.json is the single definition of Orbiter's alerts (shape: infra/alerts/README.md).
 * These tests check each rule's shape and that the Bicep deploys every rule from that file, not a copy.
 */
const ALERT_FILE = 'alerts/alert-rules.json';

const isoDuration = z.string().regex(/^P(T\d+[MH]|\d+D)$/, 'ISO 8601 duration such as PT5M, PT1H or P1D');
const minutes = (d: string): number => {
  const m = /^P(?:T(\d+)([MH])|(\d+)D)$/.exec(d)!;
  if (m[3]) return Number(m[3]) * 1440;
  return Number(m[1]) * (m[2] === 'H' ? 60 : 1);
};

const RuleSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/),
    displayName: z.string().min(1),
    description: z.string().min(10),
    severity: z.int().min(0).max(4),
    query: z.string().min(10).optional(),
    /** A platform metric of an Azure resource instead of a query (metricScopes key, metric namespace, metric name). */
    metric: z
      .strictObject({ resource: z.enum(['serviceBusNamespace']), namespace: z.string().regex(/^Microsoft\.\w+\/\w+$/), name: z.string().min(1) })
      .optional(),
    timeAggregation: z.enum(['Count', 'Average', 'Minimum', 'Maximum', 'Total']),
    metricMeasureColumn: z.string().min(1).optional(),
    operator: z.enum(['GreaterThan', 'GreaterThanOrEqual', 'LessThan', 'LessThanOrEqual', 'Equal']),
    threshold: z.number(),
    windowSize: isoDuration,
    evaluationFrequency: isoDuration,
    dimensions: z.array(z.string().min(1)).optional(),
    autoMitigate: z.boolean().optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.query === undefined) === (r.metric === undefined))
      ctx.addIssue({ code: 'custom', path: ['query'], message: 'give exactly one of query (log rule) and metric (metric rule)' });
    if (r.metric) {
      // Metric alerts take fixed windows and frequencies, and have no measure column (the metric is the measure).
      if (!['PT1M', 'PT5M', 'PT15M', 'PT30M', 'PT1H', 'PT6H', 'PT12H', 'P1D'].includes(r.windowSize))
        ctx.addIssue({ code: 'custom', path: ['windowSize'], message: 'not a metric alert window' });
      if (!['PT1M', 'PT5M', 'PT15M', 'PT30M', 'PT1H'].includes(r.evaluationFrequency))
        ctx.addIssue({ code: 'custom', path: ['evaluationFrequency'], message: 'not a metric alert frequency' });
      if (r.timeAggregation === 'Count' || r.metricMeasureColumn)
        ctx.addIssue({
          code: 'custom',
          path: ['timeAggregation'],
          message: 'metric rules aggregate the metric itself (Average, Minimum, Maximum or Total)',
        });
      return;
    }
    const query = r.query ?? '';
    if (r.timeAggregation !== 'Count' && !r.metricMeasureColumn) {
      ctx.addIssue({ code: 'custom', path: ['metricMeasureColumn'], message: `required when timeAggregation is ${r.timeAggregation}` });
    }
    if (r.timeAggregation === 'Count' && r.metricMeasureColumn) {
      ctx.addIssue({ code: 'custom', path: ['metricMeasureColumn'], message: 'not used with Count' });
    }
    const window = minutes(r.windowSize);
    const every = minutes(r.evaluationFrequency);
    if (window < 1 || window > 2 * 1440) ctx.addIssue({ code: 'custom', path: ['windowSize'], message: 'must be within PT1M..P2D' });
    if (every > window) ctx.addIssue({ code: 'custom', path: ['evaluationFrequency'], message: 'must not be longer than windowSize' });
    if (r.metricMeasureColumn && !query.includes(r.metricMeasureColumn)) {
      ctx.addIssue({ code: 'custom', path: ['metricMeasureColumn'], message: 'is not a column the query produces' });
    }
    for (const d of r.dimensions ?? []) {
      if (!query.includes(d)) ctx.addIssue({ code: 'custom', path: ['dimensions'], message: `"${d}" is not a column the query produces` });
    }
  });

const AlertFileSchema = z.strictObject({
  $comment: z.string().optional(),
  version: z.literal(1),
  rules: z
    .array(RuleSchema)
    .min(1)
    .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, 'rule names must be unique'),
});

const raw: unknown = JSON.parse(readFileSync(join(INFRA_DIR, ALERT_FILE), 'utf8'));

describe('infra/alerts/alert-rules.json', () => {
  it('has the documented shape', () => {
    const parsed = AlertFileSchema.safeParse(raw);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  it('rejects a rule that aggregates without a measure column or is evaluated less often than its window', () => {
    const bad = {
      version: 1,
      rules: [
        {
          name: 'x-rule',
          displayName: 'x',
          description: 'a broken rule for the test',
          severity: 2,
          query: 'customMetrics | project value',
          timeAggregation: 'Average',
          operator: 'GreaterThan',
          threshold: 1,
          windowSize: 'PT5M',
          evaluationFrequency: 'PT15M',
        },
      ],
    };
    const parsed = AlertFileSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['rules.0.metricMeasureColumn', 'rules.0.evaluationFrequency']);
  });

  it('covers failed runs, dead-lettered messages, stale sources and dispatch latency', () => {
    const names = AlertFileSchema.parse(raw).rules.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['failed-run', 'dead-lettered-message', 'stale-source', 'dispatch-latency']));
  });

  it('checks staleness for every contract source', () => {
    const stale = AlertFileSchema.parse(raw).rules.find((r) => r.name === 'stale-source')!;
    const listed = /dynamic\(\[([^\]]*)\]\)/
      .exec(stale.query!)![1]!
      .split(',')
      .map((s) => s.trim().replace(/'/g, ''));
    expect(listed.sort()).toEqual([...sourceIds].sort());
  });

  it('alerts on dead letters from the Service Bus metric, so broker-moved dead letters count too', () => {
    const dl = AlertFileSchema.parse(raw).rules.find((r) => r.name === 'dead-lettered-message')!;
    expect(dl).toMatchObject({
      metric: { resource: 'serviceBusNamespace', namespace: 'Microsoft.ServiceBus/namespaces', name: 'DeadletteredMessages' },
      dimensions: ['EntityName'],
      operator: 'GreaterThan',
      threshold: 0,
    });
  });

  it('queries Application Insights tables only', () => {
    for (const rule of AlertFileSchema.parse(raw).rules.filter((r) => r.query)) {
      const tables = [...rule.query!.matchAll(/(?:^|\n|=\s*)(customEvents|customMetrics|traces|requests|dependencies|exceptions)\b/g)].map(
        (m) => m[1],
      );
      expect({ rule: rule.name, usesAppInsights: tables.length > 0 }).toEqual({ rule: rule.name, usesAppInsights: true });
    }
  });
});

describe('alert deployment', () => {
  const main = readBicep('main.bicep');

  it('loads the rules file in main.bicep and hands every rule to the alerts module', () => {
    expect(loadCalls(main)).toContainEqual({ fn: 'loadJsonContent', path: ALERT_FILE });
    expect(varText(main, 'alertDefinitions')).toBe(`loadJsonContent('${ALERT_FILE}')`);
    const call = moduleCalls(main).find((m) => m.path === 'app/alerts.bicep');
    expect(call?.params.get('rules')).toBe('alertDefinitions.rules');
    expect(call?.conditional).toBe(false);
  });

  it('deploys one scheduled query rule per log entry and one metric alert per metric entry, with the action group', () => {
    const alerts = readBicep('app/alerts.bicep');
    expect(alerts).toContain("var logRules = filter(rules, rule => contains(rule, 'query'))");
    expect(alerts).toContain("var metricRules = filter(rules, rule => contains(rule, 'metric'))");
    expect(alerts).toMatch(/resource \w+ 'Microsoft\.Insights\/scheduledQueryRules@[\d-]+' = \[\s*for rule in logRules: \{/);
    expect(alerts).toMatch(/resource \w+ 'Microsoft\.Insights\/metricAlerts@[\d-]+' = \[\s*for rule in metricRules: \{/);
    for (const field of ['metric.resource', 'metric.namespace', 'metric.name'])
      expect({ field, used: alerts.includes(`rule.${field}`) }).toEqual({ field, used: true });
    expect(alerts).toMatch(/actions: \[\s*\{\s*actionGroupId: actionGroup\.id\s*\}\s*\]/);
    // Every metric rule names a scope main.bicep passes in.
    const call = moduleCalls(main).find((m) => m.path === 'app/alerts.bicep')!;
    for (const r of AlertFileSchema.parse(raw).rules.filter((x) => x.metric))
      expect(call.params.get('metricScopes')).toContain(`${r.metric!.resource}:`);
    for (const field of [
      'name',
      'displayName',
      'description',
      'severity',
      'query',
      'timeAggregation',
      'operator',
      'threshold',
      'windowSize',
      'evaluationFrequency',
    ]) {
      expect({ field, used: alerts.includes(`rule.${field}`) }).toEqual({ field, used: true });
    }
    expect(alerts).toContain('rule.metricMeasureColumn');
    expect(alerts).toContain("contains(rule, 'dimensions')");
    expect(alerts).toContain("contains(rule, 'autoMitigate')");
    expect(alerts).toMatch(/actionGroups: \[\s*actionGroup\.id\s*\]/);
    expect(alerts).toMatch(/emailReceivers: empty\(alertEmail\)/);
  });
});
