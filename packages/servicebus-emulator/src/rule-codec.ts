/**
 * Rules as `$management` carries them: the `rule-description` map of add-rule (sql-filter / correlation-filter /
 * sql-rule-action) and the described lists enumerate-rules answers with (descriptor codes as Azure sends them).
 */
import rhea from 'rhea';
import type { RuleDef } from './emulator-config';
import { compileSqlFilter, type PropertyValue } from './filters';

const types = rhea.types;

const Descriptor = {
  ruleDescription: 1335734829060,
  sqlFilter: 83483426822,
  trueFilter: 83483426823,
  falseFilter: 83483426824,
  correlationFilter: 83483426825,
  emptyRuleAction: 83483426821,
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

/** Builds a rule from add-rule's description; rule actions are refused (the emulator does not run them). */
export function decodeRuleDescription(name: string, description: unknown): RuleDef {
  if (description === null || typeof description !== 'object') throw new Error("'rule-description' must be a map");
  const d = description as Record<string, unknown>;
  const action = d['sql-rule-action'] as { expression?: unknown } | undefined;
  if (action && str(action.expression)?.trim()) {
    throw new Error(`rule actions are not supported by this emulator (rule '${name}': '${str(action.expression)}')`);
  }
  const sql = d['sql-filter'] as { expression?: unknown } | undefined;
  if (sql) {
    const expression = str(sql.expression);
    if (!expression) throw new Error("'sql-filter' needs an 'expression'");
    return { name, filter: compileSqlFilter(expression), sqlExpression: expression };
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
    return { name, filter: { kind: 'correlation', system, properties } };
  }
  throw new Error("'rule-description' needs a 'sql-filter' or a 'correlation-filter'");
}

/** The rule-description described list enumerate-rules returns: [filter, action, name]. */
export function encodeRule(rule: RuleDef): unknown {
  let filter: unknown;
  const f = rule.filter;
  if (f.kind === 'correlation') {
    const props = Object.keys(f.properties).length ? f.properties : null;
    filter = described(Descriptor.correlationFilter, [...CORRELATION_FIELDS.map(([, field]) => f.system[field] ?? null), props]);
  } else if (rule.sqlExpression !== undefined && f.kind === 'sql') {
    filter = described(Descriptor.sqlFilter, [rule.sqlExpression]);
  } else if (f.kind === 'true' || f.kind === 'false') {
    filter = described(f.kind === 'true' ? Descriptor.trueFilter : Descriptor.falseFilter, []);
  } else {
    filter = described(Descriptor.sqlFilter, [f.expression]);
  }
  return described(Descriptor.ruleDescription, [filter, described(Descriptor.emptyRuleAction, []), rule.name]);
}
