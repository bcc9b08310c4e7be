/**
 * Subscription rule filters: TrueFilter / FalseFilter, correlation filters and SQL filters (grammar in sql.ts).
 */

import { evaluateSql, parseSql, type SqlNode } from './sql';

export type PropertyValue = string | number | boolean | null;

/** What filters look at: system properties plus application properties. */
export interface FilterableMessage {
  messageId?: string;
  correlationId?: string;
  subject?: string;
  to?: string;
  replyTo?: string;
  replyToSessionId?: string;
  sessionId?: string;
  contentType?: string;
  applicationProperties: Record<string, PropertyValue>;
}

type SystemField = Exclude<keyof FilterableMessage, 'applicationProperties'>;

export type Filter =
  | { kind: 'true' }
  | { kind: 'false' }
  | { kind: 'correlation'; system: Partial<Record<SystemField, string | undefined>>; properties: Record<string, PropertyValue> }
  | { kind: 'sql'; expression: string; ast: SqlNode };

/** Compiles a SQL filter expression (Azure's grammar, see sql.ts); throws with a readable message on a syntax error. */
export function compileSqlFilter(expression: string): Filter {
  const text = expression.trim();
  const compact = text.replace(/\s+/g, '').toUpperCase();
  if (compact === '1=1' || compact === 'TRUE') return { kind: 'true' };
  if (compact === '1=0' || compact === 'FALSE') return { kind: 'false' };
  try {
    return { kind: 'sql', expression: text, ast: parseSql(text) };
  } catch (e) {
    throw new Error(`invalid SQL filter '${expression}': ${(e as Error).message}`);
  }
}

function userProperty(m: FilterableMessage, name: string): PropertyValue | undefined {
  if (name in m.applicationProperties) return m.applicationProperties[name];
  const lower = name.toLowerCase();
  const key = Object.keys(m.applicationProperties).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : m.applicationProperties[key];
}

export function matchesFilter(filter: Filter, m: FilterableMessage): boolean {
  switch (filter.kind) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'correlation':
      for (const [field, expected] of Object.entries(filter.system) as [SystemField, string | undefined][]) {
        if (expected !== undefined && m[field] !== expected) return false;
      }
      return Object.entries(filter.properties).every(([k, v]) => userProperty(m, k) === v);
    case 'sql':
      return evaluateSql(filter.ast, { get: (ref) => ('system' in ref ? m[ref.system] : userProperty(m, ref.user)) });
  }
}

/** A message is copied into a subscription when any of its rules matches; no rules = `$Default` (TrueFilter). */
export function matchesAny(filters: Filter[], m: FilterableMessage): boolean {
  return filters.length === 0 || filters.some((f) => matchesFilter(f, m));
}
