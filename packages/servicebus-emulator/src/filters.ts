/**
 * Subscription rule filters: correlation filters and the small SQL subset the emulator understands
 * (`1=1`, `TRUE`, `1=0`, `FALSE`, and `AND`-joined equality / inequality tests on system or user properties).
 */

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

export interface SqlCondition {
  field: { system: SystemField } | { user: string };
  op: '=' | '<>';
  value: PropertyValue;
}

export type Filter =
  | { kind: 'true' }
  | { kind: 'false' }
  | { kind: 'correlation'; system: Partial<Record<SystemField, string | undefined>>; properties: Record<string, PropertyValue> }
  | { kind: 'sql'; expression: string; conditions: SqlCondition[] };

const SYSTEM_FIELDS: Record<string, SystemField> = {
  messageid: 'messageId',
  correlationid: 'correlationId',
  label: 'subject',
  subject: 'subject',
  to: 'to',
  replyto: 'replyTo',
  replytosessionid: 'replyToSessionId',
  sessionid: 'sessionId',
  contenttype: 'contentType',
};

const CONDITION = /^\s*(\[[^\]]+\]|[A-Za-z_][\w.]*)\s*(=|<>|!=)\s*('(?:[^']|'')*'|-?\d+(?:\.\d+)?|TRUE|FALSE|NULL)\s*$/i;

function parseField(token: string): SqlCondition['field'] {
  const name = token.startsWith('[') ? token.slice(1, -1) : token;
  const lower = name.toLowerCase();
  if (lower.startsWith('sys.')) {
    const system = SYSTEM_FIELDS[lower.slice(4)];
    if (!system) throw new Error(`unsupported system property '${name}' in SQL filter`);
    return { system };
  }
  return { user: lower.startsWith('user.') ? name.slice(5) : name };
}

function parseLiteral(token: string): PropertyValue {
  if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
  const upper = token.toUpperCase();
  if (upper === 'TRUE') return true;
  if (upper === 'FALSE') return false;
  if (upper === 'NULL') return null;
  return Number(token);
}

/** Compiles a SQL filter expression; throws with a readable message for anything outside the supported subset. */
export function compileSqlFilter(expression: string): Filter {
  const text = expression.trim();
  const compact = text.replace(/\s+/g, '').toUpperCase();
  if (compact === '1=1' || compact === 'TRUE') return { kind: 'true' };
  if (compact === '1=0' || compact === 'FALSE') return { kind: 'false' };
  if (/\bOR\b|\bNOT\b|\bLIKE\b|\bIN\b|\bEXISTS\b|\(/i.test(text.replace(/'(?:[^']|'')*'/g, "''"))) {
    throw new Error(`unsupported SQL filter '${expression}': only 1=1, 1=0 and AND-joined '=' / '<>' tests are supported`);
  }
  const conditions = text.split(/\s+AND\s+/i).map((part): SqlCondition => {
    const m = CONDITION.exec(part);
    if (!m) throw new Error(`unsupported SQL filter condition '${part.trim()}' in '${expression}'`);
    return { field: parseField(m[1]!), op: m[2] === '=' ? '=' : '<>', value: parseLiteral(m[3]!) };
  });
  return { kind: 'sql', expression: text, conditions };
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
      return filter.conditions.every((c) => {
        const actual = 'system' in c.field ? m[c.field.system] : userProperty(m, c.field.user);
        // SQL three-valued logic: a missing property never satisfies a comparison.
        if (actual === undefined || actual === null) return false;
        return c.op === '=' ? actual === c.value : actual !== c.value;
      });
  }
}

/** A message is copied into a subscription when any of its rules matches; no rules = `$Default` (TrueFilter). */
export function matchesAny(filters: Filter[], m: FilterableMessage): boolean {
  return filters.length === 0 || filters.some((f) => matchesFilter(f, m));
}
