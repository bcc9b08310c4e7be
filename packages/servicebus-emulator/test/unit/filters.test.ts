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

test('invalid SQL is rejected with a readable message naming the position', () => {
  expect(() => compileSqlFilter('a = ')).toThrow(/invalid SQL filter 'a = '.*unexpected end/);
  expect(() => compileSqlFilter('a LIKE 5')).toThrow(/LIKE needs a string pattern/);
  expect(() => compileSqlFilter('sys.Nope = 1')).toThrow(/unsupported system property/);
  expect(() => compileSqlFilter("name = 'open")).toThrow(/unterminated string/);
});

test("Azure's SQL grammar: OR, NOT, comparisons, arithmetic, IN, LIKE, IS NULL, EXISTS", () => {
  const msg = m({ subject: 'Order', applicationProperties: { qty: 12, price: 2.5, region: 'eu-west', vip: true, note: null } });
  const yes = [
    'qty > 10 AND price <= 2.5',
    "qty < 5 OR region = 'eu-west'",
    'NOT (qty = 1)',
    'qty * price = 30',
    'qty % 5 = 2 AND -qty = -12 AND (qty + 3) / 3 = 5',
    "region IN ('us', 'eu-west')",
    "region NOT IN ('us')",
    "region LIKE 'eu-%' AND region NOT LIKE '%east' AND sys.Label LIKE 'Ord_r'",
    "region LIKE 'eu!-%' ESCAPE '!'",
    'note IS NULL AND missing IS NULL AND qty IS NOT NULL',
    'EXISTS(qty) AND NOT EXISTS(missing)',
    'vip = TRUE AND vip <> FALSE',
    "sys.Label = 'Order' AND user.qty >= 12",
  ];
  for (const e of yes) expect([e, matchesFilter(compileSqlFilter(e), msg)]).toEqual([e, true]);
  const no = ['qty > 12', "missing = 'x' OR missing <> 'x'", 'NOT (missing = 1)', "region IN ('us')", "region LIKE 'us%'", 'qty / 0 = 1'];
  for (const e of no) expect([e, matchesFilter(compileSqlFilter(e), msg)]).toEqual([e, false]);
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
