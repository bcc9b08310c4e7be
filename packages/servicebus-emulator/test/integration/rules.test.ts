/** Rule management over `$management` through the unchanged @azure/service-bus ServiceBusRuleManager. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

test('SQL rule actions set and remove user properties on the subscription copy only; sys.* targets are refused', async () => {
  const rules = h.client.createRuleManager('events', 'no-rules');
  await rules.deleteRule('$Default');
  await rules.createRule(
    'tag',
    { sqlExpression: "kind = 'order'" },
    { sqlExpression: "SET route = 'eu-' + region; SET user.n = n * 2; REMOVE secret" },
  );
  const listed: unknown[] = [];
  for await (const r of rules.listRules()) listed.push(r.action);
  expect(listed).toEqual([{ sqlExpression: "SET route = 'eu-' + region; SET user.n = n * 2; REMOVE secret" }]);
  await h.client.createSender('events').sendMessages({ body: 'o', applicationProperties: { kind: 'order', region: 'west', n: 21, secret: 's' } });
  const [copy] = await peekAll(h, ['events', 'no-rules']);
  expect(copy!.applicationProperties).toEqual({ kind: 'order', region: 'west', n: 42, route: 'eu-west' });
  const [original] = await peekAll(h, ['events', 'all']);
  expect(original!.applicationProperties).toEqual({ kind: 'order', region: 'west', n: 21, secret: 's' });
  await expect(rules.createRule('sys', { sqlExpression: '1=1' }, { sqlExpression: "SET sys.Label = 'x'" })).rejects.toThrow(/user properties only/);
  await expect(rules.createRule('bad', { sqlExpression: '1=1' }, { sqlExpression: 'UPDATE x' })).rejects.toThrow(/expected SET/);
});

test('rules changed at run time survive a restart', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-rules-'));
  try {
    let r = await startHarness({ dataDir });
    const rules = r.client.createRuleManager('events', 'no-rules');
    await rules.createRule('act', { correlationId: 'c' }, { sqlExpression: 'SET seen = TRUE' });
    await rules.deleteRule('$Default');
    await r.close();
    r = await startHarness({ dataDir });
    try {
      const names: string[] = [];
      for await (const rule of r.client.createRuleManager('events', 'no-rules').listRules()) names.push(rule.name);
      expect(names).toEqual(['act']);
      await r.client.createSender('events').sendMessages([{ body: 1, correlationId: 'c' }, { body: 2 }]);
      const got = await peekAll(r, ['events', 'no-rules']);
      expect(got.map((m) => [m.body, m.applicationProperties])).toEqual([[1, { seen: true }]]);
    } finally {
      await r.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
