/** Subscription rule filters. */
import { compileSqlFilter, matchesAny, matchesFilter, type FilterableMessage } from '../../src/filters';

const m = (over: Partial<FilterableMessage> = {}): FilterableMessage => ({ applicationProperties: {}, ...over });

test('SQL constants', () => {
  expect(compileSqlFilter('1=1')).toEqual({ kind: 'true' });
  expect(compileSqlFilter(' 1 = 1 ')).toEqual({ kind: 'true' });
  expect(compileSqlFilter('TRUE')).toEqual({ kind: 'true' });
  expect(compileSqlFilter('1=0')).toEqual({ kind: 'false' });
});

test('SQL equality on system and user properties, joined by AND', () => {
  const f = compileSqlFilter("sys.Label = 'error' AND severity = 'high' AND [retry count] <> 3 AND user.urgent = TRUE");
  const base = m({ subject: 'error', applicationProperties: { severity: 'high', 'retry count': 1, urgent: true } });
  expect(matchesFilter(f, base)).toBe(true);
  expect(matchesFilter(f, { ...base, subject: 'info' })).toBe(false);
  expect(matchesFilter(f, { ...base, applicationProperties: { ...base.applicationProperties, 'retry count': 3 } })).toBe(false);
  // A missing property never satisfies a comparison (SQL three-valued logic).
  expect(matchesFilter(compileSqlFilter("missing <> 'x'"), m())).toBe(false);
  expect(matchesFilter(compileSqlFilter("name = 'O''Brien'"), m({ applicationProperties: { name: "O'Brien" } }))).toBe(true);
});

test('unsupported SQL is rejected with a readable message', () => {
  expect(() => compileSqlFilter('a = 1 OR b = 2')).toThrow(/unsupported SQL filter/);
  expect(() => compileSqlFilter("a LIKE 'x%'")).toThrow(/unsupported SQL filter/);
  expect(() => compileSqlFilter('sys.Nope = 1')).toThrow(/unsupported system property/);
  expect(() => compileSqlFilter('a > 1')).toThrow(/unsupported SQL filter condition/);
});

test('correlation filters match every set field and property', () => {
  const f = { kind: 'correlation' as const, system: { subject: 'error', correlationId: 'c1' }, properties: { severity: 'high' } };
  expect(matchesFilter(f, m({ subject: 'error', correlationId: 'c1', applicationProperties: { severity: 'high' } }))).toBe(true);
  expect(matchesFilter(f, m({ subject: 'error', correlationId: 'c2', applicationProperties: { severity: 'high' } }))).toBe(false);
  expect(matchesFilter(f, m({ subject: 'error', correlationId: 'c1' }))).toBe(false);
});

test('no rules means the $Default TrueFilter; several rules are ORed', () => {
  expect(matchesAny([], m())).toBe(true);
  expect(matchesAny([{ kind: 'false' }, { kind: 'true' }], m())).toBe(true);
  expect(matchesAny([{ kind: 'false' }], m())).toBe(false);
});
