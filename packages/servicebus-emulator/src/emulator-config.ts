/**
 * Emulator entity configuration, read in the exact shape of Microsoft's Service Bus emulator `Config.json`
 * (UserConfig → Namespaces → Queues / Topics → Subscriptions → Rules) so one file works with both.
 * Validated with zod; errors name the offending field path.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { compileSqlFilter, type Filter } from './filters';
import { compileRuleAction, type ActionStep } from './sql-action';

const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Parses an ISO 8601 duration (`PT1M`, `P14D`, `PT0.5S`) into milliseconds; undefined when malformed. */
export function parseIsoDuration(text: string): number | undefined {
  const m = ISO_DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [d, h, min, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v))) as [number, number, number, number];
  return Math.round((((d * 24 + h) * 60 + min) * 60 + s) * 1000);
}

const duration = z
  .string()
  .refine((s) => parseIsoDuration(s) !== undefined, { message: 'must be an ISO 8601 duration such as PT1M or P14D' })
  .transform((s) => parseIsoDuration(s) as number);

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/** A duration within Azure's range for the property, named in the error (the same file must deploy to Azure). */
function durationIn(minMs: number, maxMs: number, range: string) {
  return duration.refine((ms) => ms >= minMs && ms <= maxMs, { message: `must be between ${range} (Azure's range)` });
}

/** Azure Service Bus ranges (Standard tier). */
export const AzureLimits = {
  lockDuration: durationIn(5 * SECOND, 5 * MINUTE, 'PT5S and PT5M'),
  duplicateWindow: durationIn(20 * SECOND, 7 * DAY, 'PT20S and P7D'),
  /** Azure's minimum is one second; its maximum (TimeSpan.MaxValue) is effectively unbounded. */
  ttl: durationIn(SECOND, Number.MAX_SAFE_INTEGER, 'PT1S and TimeSpan.MaxValue'),
  /** The Azure portal's range for the maximum delivery count. */
  maxDeliveryCount: z
    .number()
    .int()
    .min(1, "must be at least 1 (Azure's range is 1-2000)")
    .max(2000, "must be at most 2000 (Azure's range is 1-2000)"),
} as const;

const entityName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/]*$/, 'must be a Service Bus entity name (letters, digits, . _ - /)');

/** Empty string in Microsoft's file means "not set". */
const optionalTarget = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s === '' ? undefined : s));

const QueuePropsSchema = z.strictObject({
  DeadLetteringOnMessageExpiration: z.boolean().optional(),
  DefaultMessageTimeToLive: AzureLimits.ttl.optional(),
  DuplicateDetectionHistoryTimeWindow: AzureLimits.duplicateWindow.optional(),
  ForwardDeadLetteredMessagesTo: optionalTarget,
  ForwardTo: optionalTarget,
  LockDuration: AzureLimits.lockDuration.optional(),
  MaxDeliveryCount: AzureLimits.maxDeliveryCount.optional(),
  RequiresDuplicateDetection: z.boolean().optional(),
  RequiresSession: z.boolean().optional(),
});

const TopicPropsSchema = z.strictObject({
  DefaultMessageTimeToLive: AzureLimits.ttl.optional(),
  DuplicateDetectionHistoryTimeWindow: AzureLimits.duplicateWindow.optional(),
  RequiresDuplicateDetection: z.boolean().optional(),
});

const SubscriptionPropsSchema = z.strictObject({
  DeadLetteringOnMessageExpiration: z.boolean().optional(),
  DefaultMessageTimeToLive: AzureLimits.ttl.optional(),
  LockDuration: AzureLimits.lockDuration.optional(),
  MaxDeliveryCount: AzureLimits.maxDeliveryCount.optional(),
  ForwardDeadLetteredMessagesTo: optionalTarget,
  ForwardTo: optionalTarget,
  RequiresSession: z.boolean().optional(),
});

const propertyValue = z.union([z.string(), z.number(), z.boolean()]);

const CorrelationFilterSchema = z.strictObject({
  ContentType: z.string().optional(),
  CorrelationId: z.string().optional(),
  Label: z.string().optional(),
  MessageId: z.string().optional(),
  ReplyTo: z.string().optional(),
  ReplyToSessionId: z.string().optional(),
  SessionId: z.string().optional(),
  To: z.string().optional(),
  Properties: z.record(z.string(), propertyValue).optional(),
});

const RuleSchema = z.strictObject({
  Name: z.string().min(1),
  Properties: z
    .strictObject({
      FilterType: z.enum(['Correlation', 'Sql']),
      CorrelationFilter: CorrelationFilterSchema.optional(),
      SqlFilter: z.strictObject({ SqlExpression: z.string().min(1) }).optional(),
      Action: z
        .strictObject({ SqlExpression: z.string() })
        .optional()
        .superRefine((a, ctx) => {
          if (!a || a.SqlExpression.trim() === '') return;
          try {
            compileRuleAction(a.SqlExpression);
          } catch (e) {
            ctx.addIssue({ code: 'custom', path: ['SqlExpression'], message: (e as Error).message });
          }
        }),
    })
    .superRefine((p, ctx) => {
      if (p.FilterType === 'Correlation' && !p.CorrelationFilter) {
        ctx.addIssue({ code: 'custom', path: ['CorrelationFilter'], message: 'required when FilterType is Correlation' });
      }
      if (p.FilterType === 'Sql') {
        if (!p.SqlFilter) {
          ctx.addIssue({ code: 'custom', path: ['SqlFilter'], message: 'required when FilterType is Sql' });
        } else {
          try {
            compileSqlFilter(p.SqlFilter.SqlExpression);
          } catch (e) {
            ctx.addIssue({ code: 'custom', path: ['SqlFilter', 'SqlExpression'], message: (e as Error).message });
          }
        }
      }
    }),
});

const SubscriptionSchema = z.strictObject({
  Name: entityName,
  Properties: SubscriptionPropsSchema.prefault({}),
  Rules: z.array(RuleSchema).optional(),
});

const QueueSchema = z.strictObject({ Name: entityName, Properties: QueuePropsSchema.prefault({}) });

const TopicSchema = z.strictObject({
  Name: entityName,
  Properties: TopicPropsSchema.prefault({}),
  Subscriptions: z.array(SubscriptionSchema).optional(),
});

export const EmulatorConfigSchema = z.strictObject({
  UserConfig: z.strictObject({
    Namespaces: z
      .array(
        z.strictObject({
          Name: z.string().min(1),
          Queues: z.array(QueueSchema).optional(),
          Topics: z.array(TopicSchema).optional(),
        }),
      )
      .min(1),
    Logging: z.object({ Type: z.string() }).optional(),
  }),
});

/** The file as written (Microsoft's shape). */
export type EmulatorConfig = z.input<typeof EmulatorConfigSchema>;

/** Settings of anything messages are received from (queue or subscription). */
export interface ReceivableSettings {
  lockDurationMs: number;
  maxDeliveryCount: number;
  /** Infinity when unset. */
  defaultTtlMs: number;
  deadLetteringOnMessageExpiration: boolean;
  /** Receivers must accept a session; messages must carry a SessionId. */
  requiresSession: boolean;
  forwardTo?: string;
  forwardDeadLetteredMessagesTo?: string;
}

export interface DuplicateDetection {
  enabled: boolean;
  windowMs: number;
}

export interface QueueDef extends ReceivableSettings {
  name: string;
  duplicateDetection: DuplicateDetection;
}

/** One subscription rule: its name, compiled filter and (SQL filters) the expression as written. */
export interface RuleDef {
  name: string;
  filter: Filter;
  sqlExpression?: string;
  /** SQL rule action as written, and compiled. */
  actionExpression?: string;
  action?: ActionStep[];
}

export interface SubscriptionDef extends ReceivableSettings {
  name: string;
  /** A message is copied when any filter matches (no rules = the `$Default` TrueFilter). */
  filters: Filter[];
  /** The same rules with their names (empty = `$Default`). */
  rules: RuleDef[];
}

export interface TopicDef {
  name: string;
  defaultTtlMs: number;
  duplicateDetection: DuplicateDetection;
  subscriptions: SubscriptionDef[];
}

export interface NamespaceDef {
  queues: QueueDef[];
  topics: TopicDef[];
}

export const Defaults = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  duplicateWindowMs: 10 * 60_000,
} as const;

export class EmulatorConfigError extends Error {
  override readonly name = 'EmulatorConfigError';
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Validates a config object and normalises it into entity definitions. Throws EmulatorConfigError naming bad fields. */
export function parseEmulatorConfig(raw: unknown): NamespaceDef {
  const parsed = EmulatorConfigSchema.safeParse(raw);
  if (!parsed.success) throw new EmulatorConfigError(`Invalid Service Bus emulator config: ${formatIssues(parsed.error)}`);
  const queues: QueueDef[] = [];
  const topics: TopicDef[] = [];
  for (const ns of parsed.data.UserConfig.Namespaces) {
    for (const q of ns.Queues ?? []) {
      const p = q.Properties;
      queues.push({
        name: q.Name,
        lockDurationMs: p.LockDuration ?? Defaults.lockDurationMs,
        maxDeliveryCount: p.MaxDeliveryCount ?? Defaults.maxDeliveryCount,
        defaultTtlMs: p.DefaultMessageTimeToLive ?? Infinity,
        deadLetteringOnMessageExpiration: p.DeadLetteringOnMessageExpiration ?? false,
        requiresSession: p.RequiresSession ?? false,
        forwardTo: p.ForwardTo,
        forwardDeadLetteredMessagesTo: p.ForwardDeadLetteredMessagesTo,
        duplicateDetection: {
          enabled: p.RequiresDuplicateDetection ?? false,
          windowMs: p.DuplicateDetectionHistoryTimeWindow ?? Defaults.duplicateWindowMs,
        },
      });
    }
    for (const t of ns.Topics ?? []) {
      const p = t.Properties;
      const topicTtl = p.DefaultMessageTimeToLive ?? Infinity;
      topics.push({
        name: t.Name,
        defaultTtlMs: topicTtl,
        duplicateDetection: {
          enabled: p.RequiresDuplicateDetection ?? false,
          windowMs: p.DuplicateDetectionHistoryTimeWindow ?? Defaults.duplicateWindowMs,
        },
        subscriptions: (t.Subscriptions ?? []).map((s) => {
          const sp = s.Properties;
          return {
            name: s.Name,
            lockDurationMs: sp.LockDuration ?? Defaults.lockDurationMs,
            maxDeliveryCount: sp.MaxDeliveryCount ?? Defaults.maxDeliveryCount,
            defaultTtlMs: Math.min(sp.DefaultMessageTimeToLive ?? Infinity, topicTtl),
            deadLetteringOnMessageExpiration: sp.DeadLetteringOnMessageExpiration ?? false,
            requiresSession: sp.RequiresSession ?? false,
            forwardTo: sp.ForwardTo,
            forwardDeadLetteredMessagesTo: sp.ForwardDeadLetteredMessagesTo,
            rules: (s.Rules ?? []).map((r): RuleDef => ({
              name: r.Name,
              filter: ruleFilter(r.Properties),
              sqlExpression: r.Properties.FilterType === 'Sql' ? r.Properties.SqlFilter!.SqlExpression : undefined,
              ...(r.Properties.Action?.SqlExpression.trim() ? compileRuleAction(r.Properties.Action.SqlExpression.trim()) : {}),
            })),
            filters: (s.Rules ?? []).map((r): Filter => ruleFilter(r.Properties)),
          };
        }),
      });
    }
  }
  checkReferences({ queues, topics });
  return { queues, topics };
}

function ruleFilter(rp: z.output<typeof RuleSchema>['Properties']): Filter {
  if (rp.FilterType === 'Sql') return compileSqlFilter(rp.SqlFilter!.SqlExpression);
  const c = rp.CorrelationFilter!;
  return {
    kind: 'correlation',
    system: {
      contentType: c.ContentType,
      correlationId: c.CorrelationId,
      subject: c.Label,
      messageId: c.MessageId,
      replyTo: c.ReplyTo,
      replyToSessionId: c.ReplyToSessionId,
      sessionId: c.SessionId,
      to: c.To,
    },
    properties: c.Properties ?? {},
  };
}

/** Entity names are case-insensitive and share one namespace; forwarding targets must exist. */
function checkReferences(ns: NamespaceDef): void {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const name of [...ns.queues.map((q) => q.name), ...ns.topics.map((t) => t.name)]) {
    const key = name.toLowerCase();
    if (seen.has(key)) problems.push(`duplicate entity name '${name}'`);
    seen.add(key);
  }
  const check = (owner: string, field: string, target: string | undefined): void => {
    if (target !== undefined && !seen.has(target.toLowerCase())) {
      problems.push(`${owner}.${field}: '${target}' is not a queue or topic in this config`);
    }
  };
  for (const q of ns.queues) {
    check(`queue '${q.name}'`, 'ForwardTo', q.forwardTo);
    check(`queue '${q.name}'`, 'ForwardDeadLetteredMessagesTo', q.forwardDeadLetteredMessagesTo);
  }
  for (const t of ns.topics) {
    const subs = new Set<string>();
    for (const s of t.subscriptions) {
      if (subs.has(s.name.toLowerCase())) problems.push(`topic '${t.name}': duplicate subscription '${s.name}'`);
      subs.add(s.name.toLowerCase());
      check(`subscription '${t.name}/${s.name}'`, 'ForwardTo', s.forwardTo);
      check(`subscription '${t.name}/${s.name}'`, 'ForwardDeadLetteredMessagesTo', s.forwardDeadLetteredMessagesTo);
    }
  }
  if (problems.length) throw new EmulatorConfigError(`Invalid Service Bus emulator config: ${problems.join('; ')}`);
}

/** Reads and validates a config file; errors name the file and the bad field. */
export function loadEmulatorConfigFile(path: string): NamespaceDef {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    throw new EmulatorConfigError(`Cannot read Service Bus emulator config ${path}: ${(e as Error).message}`);
  }
  try {
    return parseEmulatorConfig(raw);
  } catch (e) {
    throw new EmulatorConfigError(`${path}: ${(e as Error).message}`);
  }
}
