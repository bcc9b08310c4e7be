/**
 * Rules as `$management` carries them: the `rule-description` map of add-rule (sql-filter / correlation-filter /
 * sql-rule-action) and the described lists enumerate-rules answers with (descriptor codes as Azure sends them), and
 * the JSON form the journal keeps.
 */
import rhea from 'rhea';
import type { RuleDef } from './emulator-config';
import { compileSqlFilter, type PropertyValue } from './filters';
import type { RuleSpec } from './journal';
import { compileRuleAction } from './sql-action';

const types = rhea.types;

const Descriptor = {
  ruleDescription: 1335734829060,
  sqlFilter: 83483426822,
  trueFilter: 83483426823,
  falseFilter: 83483426824,
  correlationFilter: 83483426825,
  emptyRuleAction: 83483426821,
  sqlRuleAction: 1335734829062,
} as const;

const CORRELATION_FIELDS = [
  ['correlation-id', 'correlationId'],
  ['message-id', 'messageId'],
  ['to', 'to'],
  ['reply-to', 'replyTo'],
  ['label', 'subject'],
  ['session-id', 'sessionId'],
  ['reply-to-session-id', 'replyToSessionId'],
  ['content-type', 'contentType'],
] as const;

function described(code: number, fields: unknown[]): unknown {
  return types.described(types.wrap_ulong(code), types.wrap_list(fields));
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

/** Builds a rule from add-rule's description; a bad filter or action throws with a readable message. */
export function decodeRuleDescription(name: string, description: unknown): RuleDef {
  if (description === null || typeof description !== 'object') throw new Error("'rule-description' must be a map");
  const d = description as Record<string, unknown>;
  const actionText = str((d['sql-rule-action'] as { expression?: unknown } | undefined)?.expression)?.trim();
  const action = actionText ? compileRuleAction(actionText) : {};
  const sql = d['sql-filter'] as { expression?: unknown } | undefined;
  if (sql) {
    const expression = str(sql.expression);
    if (!expression) throw new Error("'sql-filter' needs an 'expression'");
    return { name, filter: compileSqlFilter(expression), sqlExpression: expression, ...action };
  }
  const corr = d['correlation-filter'] as Record<string, unknown> | undefined;
  if (corr) {
    const system: Record<string, string | undefined> = {};
    for (const [wire, field] of CORRELATION_FIELDS) system[field] = str(corr[wire]);
    const properties: Record<string, PropertyValue> = {};
    for (const [k, v] of Object.entries((corr['properties'] as Record<string, unknown> | undefined) ?? {})) {
      if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) properties[k] = v as PropertyValue;
      else throw new Error(`correlation filter property '${k}' must be a string, number or boolean`);
    }
    return { name, filter: { kind: 'correlation', system, properties }, ...action };
  }
  throw new Error("'rule-description' needs a 'sql-filter' or a 'correlation-filter'");
}

/** The rule-description described list enumerate-rules returns: [filter, action, name]. */
export function encodeRule(rule: RuleDef): unknown {
  let filter: unknown;
  const f = rule.filter;
  if (f.kind === 'correlation') {
    // Always a map, even empty: the JS client reads the ninth field as a map whenever it is present.
    filter = described(Descriptor.correlationFilter, [
      ...CORRELATION_FIELDS.map(([, field]) => f.system[field] ?? null),
      types.wrap_map(f.properties),
    ]);
  } else if (rule.sqlExpression !== undefined && f.kind === 'sql') {
    filter = described(Descriptor.sqlFilter, [rule.sqlExpression]);
  } else if (f.kind === 'true' || f.kind === 'false') {
    filter = described(f.kind === 'true' ? Descriptor.trueFilter : Descriptor.falseFilter, []);
  } else {
    filter = described(Descriptor.sqlFilter, [f.expression]);
  }
  const action =
    rule.actionExpression !== undefined ? described(Descriptor.sqlRuleAction, [rule.actionExpression]) : described(Descriptor.emptyRuleAction, []);
  return described(Descriptor.ruleDescription, [filter, action, rule.name]);
}

/** The journal's form of a rule. */
export function ruleToSpec(rule: RuleDef): RuleSpec {
  const spec: RuleSpec = { name: rule.name };
  if (rule.filter.kind === 'correlation') spec.correlation = { system: rule.filter.system, properties: rule.filter.properties };
  else spec.sql = rule.sqlExpression ?? (rule.filter.kind === 'sql' ? rule.filter.expression : rule.filter.kind === 'true' ? '1=1' : '1=0');
  if (rule.actionExpression !== undefined) spec.action = rule.actionExpression;
  return spec;
}

export function ruleFromSpec(spec: RuleSpec): RuleDef {
  const rule: RuleDef = spec.correlation
    ? { name: spec.name, filter: { kind: 'correlation', ...spec.correlation } }
    : { name: spec.name, filter: compileSqlFilter(spec.sql ?? '1=1'), sqlExpression: spec.sql ?? '1=1' };
  if (spec.action !== undefined) Object.assign(rule, compileRuleAction(spec.action));
  return rule;
}
