/** Config.json parsing (Microsoft emulator shape) and the project's default entities. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmulatorConfigError, loadEmulatorConfigFile, parseEmulatorConfig, parseIsoDuration } from '../../src/emulator-config';
import { Queues, Subscriptions, Topics } from 'orbiter/shared/names';

const projectConfig = path.resolve(__dirname, '../../config.json');

const wrap = (ns: Record<string, unknown>) => ({ UserConfig: { Namespaces: [{ Name: 'sbemulatorns', ...ns }] } });

test('the default config declares exactly the shared names, with the agreed settings', () => {
  const defs = loadEmulatorConfigFile(projectConfig);
  expect(defs.queues.map((q) => q.name).sort()).toEqual([Queues.runRequests, Queues.runStatus, Queues.runFailures].sort());
  expect(defs.topics.map((t) => t.name)).toEqual([Topics.runEvents]);
  expect(defs.topics[0]!.subscriptions.map((s) => s.name).sort()).toEqual([Subscriptions.runEventsMonitor, Subscriptions.runEventsStream].sort());
  const runRequests = defs.queues.find((q) => q.name === Queues.runRequests)!;
  expect(runRequests).toMatchObject({ lockDurationMs: 60_000, maxDeliveryCount: 5, duplicateDetection: { enabled: true, windowMs: 600_000 } });
  for (const s of defs.topics[0]!.subscriptions) expect(s.filters).toEqual([{ kind: 'true' }]);
});

test("Microsoft's sample Config.json shape is accepted (empty forward targets, correlation filters, empty actions)", () => {
  const defs = parseEmulatorConfig({
    UserConfig: {
      Namespaces: [
        {
          Name: 'sbemulatorns',
          Queues: [
            {
              Name: 'queue.1',
              Properties: {
                DeadLetteringOnMessageExpiration: false,
                DefaultMessageTimeToLive: 'PT1H',
                DuplicateDetectionHistoryTimeWindow: 'PT20S',
                ForwardDeadLetteredMessagesTo: '',
                ForwardTo: '',
                LockDuration: 'PT1M',
                MaxDeliveryCount: 3,
                RequiresDuplicateDetection: false,
                RequiresSession: false,
              },
            },
          ],
          Topics: [
            {
              Name: 'topic.1',
              Properties: { DefaultMessageTimeToLive: 'PT1H', DuplicateDetectionHistoryTimeWindow: 'PT20S', RequiresDuplicateDetection: false },
              Subscriptions: [
                {
                  Name: 'subscription.1',
                  Properties: {
                    DeadLetteringOnMessageExpiration: false,
                    DefaultMessageTimeToLive: 'PT1H',
                    LockDuration: 'PT1M',
                    MaxDeliveryCount: 3,
                    ForwardDeadLetteredMessagesTo: '',
                    ForwardTo: '',
                    RequiresSession: false,
                  },
                  Rules: [
                    {
                      Name: 'app-prop-filter-1',
                      Properties: {
                        FilterType: 'Correlation',
                        CorrelationFilter: {
                          ContentType: 'application/text',
                          CorrelationId: 'id1',
                          Label: 'subject1',
                          MessageId: 'msgid1',
                          ReplyTo: 'someQueue',
                          ReplyToSessionId: 'sessionId',
                          SessionId: 'session1',
                          To: 'xyz',
                          Properties: { prop3: 'value3' },
                        },
                      },
                    },
                    {
                      Name: 'sql-1',
                      Properties: {
                        FilterType: 'Sql',
                        SqlFilter: { SqlExpression: "sys.MessageId = '123456' AND userProp1 = 'value1'" },
                        Action: { SqlExpression: '' },
                      },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
      Logging: { Type: 'File' },
    },
  });
  expect(defs.queues[0]).toMatchObject({
    name: 'queue.1',
    lockDurationMs: 60_000,
    maxDeliveryCount: 3,
    defaultTtlMs: 3_600_000,
    forwardTo: undefined,
  });
  expect(defs.topics[0]!.subscriptions[0]!.filters.map((f) => f.kind)).toEqual(['correlation', 'sql']);
});

test('defaults apply when Properties are omitted', () => {
  const defs = parseEmulatorConfig(wrap({ Queues: [{ Name: 'q' }], Topics: [{ Name: 't', Subscriptions: [{ Name: 's' }] }] }));
  expect(defs.queues[0]).toMatchObject({
    lockDurationMs: 60_000,
    maxDeliveryCount: 10,
    defaultTtlMs: Infinity,
    deadLetteringOnMessageExpiration: false,
    duplicateDetection: { enabled: false, windowMs: 600_000 },
  });
  expect(defs.topics[0]!.subscriptions[0]!.filters).toEqual([]);
});

test('RequiresSession is read for queues and subscriptions', () => {
  const defs = parseEmulatorConfig({
    UserConfig: {
      Namespaces: [
        {
          Name: 'ns',
          Queues: [{ Name: 'q', Properties: { RequiresSession: true } }, { Name: 'plain' }],
          Topics: [{ Name: 't', Subscriptions: [{ Name: 's', Properties: { RequiresSession: true } }] }],
        },
      ],
    },
  });
  expect(defs.queues.map((q) => q.requiresSession)).toEqual([true, false]);
  expect(defs.topics[0]!.subscriptions[0]!.requiresSession).toBe(true);
});

test.each([
  [{ Queues: [{ Name: 'q', Properties: { MaxDeliveryCount: 'five' } }] }, 'UserConfig.Namespaces.0.Queues.0.Properties.MaxDeliveryCount'],
  [
    { Queues: [{ Name: 'q', Properties: { LockDuration: '60s' } }] },
    'UserConfig.Namespaces.0.Queues.0.Properties.LockDuration: must be an ISO 8601 duration',
  ],
  [{ Queues: [{ Name: 'q', Properties: { MaxDeliveryCont: 5 } }] }, 'MaxDeliveryCont'],
  [{ Queues: [{ Name: 'q', Properties: { RequiresSession: 'yes' } }] }, 'UserConfig.Namespaces.0.Queues.0.Properties.RequiresSession'],
  [{ Queues: [{ Name: 'q', Properties: { ForwardTo: 'missing' } }] }, "queue 'q'.ForwardTo: 'missing' is not a queue or topic"],
  [{ Queues: [{ Name: 'q' }, { Name: 'Q' }] }, "duplicate entity name 'Q'"],
  [
    {
      Topics: [
        {
          Name: 't',
          Subscriptions: [{ Name: 's', Rules: [{ Name: 'r', Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: 'a = 1 OR' } } }] }],
        },
      ],
    },
    'Subscriptions.0.Rules.0.Properties.SqlFilter.SqlExpression: invalid SQL filter',
  ],
  [
    { Topics: [{ Name: 't', Subscriptions: [{ Name: 's', Rules: [{ Name: 'r', Properties: { FilterType: 'Correlation' } }] }] }] },
    'Rules.0.Properties.CorrelationFilter: required when FilterType is Correlation',
  ],
  [
    {
      Topics: [
        {
          Name: 't',
          Subscriptions: [
            {
              Name: 's',
              Rules: [
                {
                  Name: 'r',
                  Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: '1=1' }, Action: { SqlExpression: "SET sys.Label = 'b'" } },
                },
              ],
            },
          ],
        },
      ],
    },
    'Action.SqlExpression: invalid rule action',
  ],
])('invalid config %#: the error names the field', (ns, expected) => {
  expect(() => parseEmulatorConfig(wrap(ns))).toThrow(EmulatorConfigError);
  expect(() => parseEmulatorConfig(wrap(ns))).toThrow(expected);
});

test('loadEmulatorConfigFile names the file for unreadable or invalid JSON', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbcfg-'));
  try {
    const file = path.join(dir, 'Config.json');
    fs.writeFileSync(file, '{ not json');
    expect(() => loadEmulatorConfigFile(file)).toThrow(file);
    expect(() => loadEmulatorConfigFile(path.join(dir, 'missing.json'))).toThrow('missing.json');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ISO 8601 durations', () => {
  expect(parseIsoDuration('PT1M')).toBe(60_000);
  expect(parseIsoDuration('PT0.5S')).toBe(500);
  expect(parseIsoDuration('P14D')).toBe(14 * 86_400_000);
  expect(parseIsoDuration('P1DT2H3M4S')).toBe(((26 * 60 + 3) * 60 + 4) * 1000);
  expect(parseIsoDuration('P')).toBeUndefined();
  expect(parseIsoDuration('PT')).toBeUndefined();
  expect(parseIsoDuration('1M')).toBeUndefined();
});

test.each([
  ['LockDuration', 'PT1H', 'LockDuration: must be between PT5S and PT5M'],
  ['LockDuration', 'PT0.5S', 'LockDuration: must be between PT5S and PT5M'],
  ['DuplicateDetectionHistoryTimeWindow', 'P30D', 'DuplicateDetectionHistoryTimeWindow: must be between PT20S and P7D'],
  ['DuplicateDetectionHistoryTimeWindow', 'PT10S', 'DuplicateDetectionHistoryTimeWindow: must be between PT20S and P7D'],
  ['MaxDeliveryCount', 100000, 'MaxDeliveryCount: must be at most 2000'],
  ['MaxDeliveryCount', 0, 'MaxDeliveryCount: must be at least 1'],
  ['DefaultMessageTimeToLive', 'PT0.5S', 'DefaultMessageTimeToLive: must be between PT1S'],
])("refuses %s=%s outside Azure's range, naming the property", (prop, value, message) => {
  const config = { UserConfig: { Namespaces: [{ Name: 'ns', Queues: [{ Name: 'q', Properties: { [prop]: value } }] }] } };
  expect(() => parseEmulatorConfig(config)).toThrow(message);
});
