/** SQL rule actions: parsing SET / REMOVE statements and applying them to a message's properties. */
import { applyRuleAction, compileRuleAction, type ActionEffect } from '../../src/sql-action';

function run(text: string, props: Record<string, string | number | boolean | null>, system: { subject?: string } = {}): ActionEffect {
  const effect: ActionEffect = { set: {}, removed: [] };
  applyRuleAction(compileRuleAction(text).action, { ...system, applicationProperties: props }, effect);
  return effect;
}

test('SET evaluates expressions over the message, later statements see earlier ones', () => {
  expect(run("SET a = n + 1; SET [b c] = a * 2; SET user.label = sys.Label + '!'", { n: 1 }, { subject: 'hi' })).toEqual({
    set: { a: 2, 'b c': 4, label: 'hi!' },
    removed: [],
  });
});

test("a ';' inside a string literal does not split statements; REMOVE after SET drops the value", () => {
  expect(run("SET s = 'x;y'; SET t = 1; REMOVE t; REMOVE gone", {})).toEqual({ set: { s: 'x;y' }, removed: ['t', 'gone'] });
});

test('a missing property evaluates to null', () => {
  expect(run('SET copy = missing', {})).toEqual({ set: { copy: null }, removed: [] });
});

test.each([
  ["SET sys.Label = 'x'", /user properties only/],
  ['REMOVE sys.To', /user properties only/],
  ['UPDATE x', /expected SET <property> = <expression> or REMOVE <property>/],
  ['SET a = (1', /invalid rule action/],
  [' ; ', /no statements/],
])('%s is refused', (text, error) => {
  expect(() => compileRuleAction(text)).toThrow(error);
});
