/** Rule management over `$management` through the unchanged @azure/service-bus ServiceBusRuleManager. */
import { peekAll, startHarness, type Harness } from './harness';

jest.setTimeout(30_000);

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

test('a subscription starts with $Default; add, enumerate and remove rules change what it receives', async () => {
  const rules = h.client.createRuleManager('events', 'no-rules');
  expect(await rules.listRules().next()).toMatchObject({ value: { name: '$Default', filter: { sqlExpression: '1=1' } } });
  await rules.createRule('reds', { sqlExpression: "color = 'red'" });
  await rules.createRule('vip', { correlationId: 'vip', applicationProperties: { tier: 'gold' } });
  const names: string[] = [];
  for await (const r of rules.listRules()) names.push(r.name);
  expect(names).toEqual(['$Default', 'reds', 'vip']);
  await expect(rules.createRule('reds', { sqlExpression: '1=1' })).rejects.toMatchObject({ code: 'MessagingEntityAlreadyExists' });
  await rules.deleteRule('$Default');
  await expect(rules.deleteRule('$Default')).rejects.toMatchObject({ code: 'MessagingEntityNotFound' });

  await h.client.createSender('events').sendMessages([
    { body: 'red', applicationProperties: { color: 'red' } },
    { body: 'blue', applicationProperties: { color: 'blue' } },
    { body: 'gold', correlationId: 'vip', applicationProperties: { tier: 'gold' } },
  ]);
  expect((await peekAll(h, ['events', 'no-rules'])).map((m) => m.body)).toEqual(['red', 'gold']);
  await rules.deleteRule('reds');
  await rules.deleteRule('vip');
  await h.client.createSender('events').sendMessages({ body: 'after', applicationProperties: { color: 'red' } });
  expect((await peekAll(h, ['events', 'no-rules'])).map((m) => m.body)).toEqual(['red', 'gold']); // no rules: nothing
});

test('a rule action is refused with a clear error (not run silently)', async () => {
  const rules = h.client.createRuleManager('events', 'no-rules');
  await expect(rules.createRule('act', { sqlExpression: '1=1' }, { sqlExpression: "SET x = 'y'" })).rejects.toThrow(/rule actions are not supported/);
});
