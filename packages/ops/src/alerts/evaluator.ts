import { sourceIds } from 'orbiter/shared/config';
import { OrbiterError } from 'orbiter/shared/errors';
import { silentLogger, type Logger } from 'orbiter/shared/logger';
import { isCallerCancel, TelemetryEvents, TelemetryMetrics } from 'orbiter/shared/telemetry/index';
import type { MonitoringData } from './data';
import { compare, isoDurationMs, loadAlertRules, type AlertRule } from './rules';

export interface Alert {
  rule: string;
  displayName: string;
  severity: number;
  /** The rule's split dimensions, e.g. { dataset: 'neows' }. */
  dimensions: Record<string, string>;
  value: number;
  threshold: number;
  message: string;
  /** Evaluation time. */
  at: string;
}

export interface EvalContext {
  rule: AlertRule;
  now: Date;
  /** now − windowSize: the time range the rule's query sees. */
  windowStart: Date;
  data: MonitoringData;
  /** Sources expected to be ingested (stale-source). */
  sources: readonly string[];
}

export type RuleEvaluator = (ctx: EvalContext) => Promise<Alert[]>;

const alert = (ctx: EvalContext, dimensions: Record<string, string>, value: number, message: string): Alert => ({
  rule: ctx.rule.name,
  displayName: ctx.rule.displayName,
  severity: ctx.rule.severity,
  dimensions,
  value,
  threshold: ctx.rule.threshold,
  message,
  at: ctx.now.toISOString(),
});

const windowText = (ctx: EvalContext): string => ctx.rule.windowSize.replace(/^PT?/, '').toLowerCase();

/** failed-run: runs that ended in the window in a non-SUCCESS result (run records + OrbiterRunCompleted events), per dataset. */
const failedRun: RuleEvaluator = async (ctx) => {
  const since = ctx.windowStart.toISOString();
  // A run may have been requested long before it ended: look back a day further for the records.
  const runs = await ctx.data.runs(new Date(ctx.windowStart.getTime() - 86_400_000));
  const failed = new Map<string, { dataset: string; state: string }>();
  for (const r of runs) {
    const ended = r.endedAt ?? r.updatedAt;
    if (r.state === 'failed' && ended >= since) failed.set(r.runId, { dataset: r.dataset, state: r.resultState ?? 'FAILED' });
  }
  for (const e of await ctx.data.telemetry(ctx.windowStart)) {
    if (e.type !== 'event' || e.name !== TelemetryEvents.runCompleted) continue;
    const state = String(e.dims['resultState'] ?? '');
    // A run its caller cancelled ended as asked: not a failure (the KQL excludes the same codes).
    const code = e.dims['terminationCode'] === undefined ? undefined : String(e.dims['terminationCode']);
    if (state.toUpperCase() !== 'SUCCESS' && !isCallerCancel(code))
      failed.set(String(e.dims['runId'] ?? e.ts), { dataset: String(e.dims['dataset'] ?? ''), state });
  }
  const byDataset = new Map<string, string[]>();
  for (const [runId, f] of failed) byDataset.set(f.dataset, [...(byDataset.get(f.dataset) ?? []), `${runId} (${f.state})`]);
  return [...byDataset]
    .filter(([, ids]) => compare(ctx.rule.operator, ids.length, ctx.rule.threshold))
    .map(([dataset, ids]) =>
      alert(ctx, { dataset }, ids.length, `${ids.length} failed run(s) of ${dataset} in the last ${windowText(ctx)}: ${ids.slice(0, 5).join(', ')}`),
    );
};

/** dead-lettered-message: dead letters present now (peek) or reported in the window (OrbiterMessageDeadLettered), per entity. */
const deadLettered: RuleEvaluator = async (ctx) => {
  const counts = new Map<string, { n: number; reasons: Set<string> }>();
  const bump = (entity: string, n: number, reason?: string): void => {
    const c = counts.get(entity) ?? { n: 0, reasons: new Set<string>() };
    c.n = Math.max(c.n, n);
    if (reason) c.reasons.add(reason);
    counts.set(entity, c);
  };
  for (const q of await ctx.data.queues()) {
    if (q.deadLetters > 0) for (const s of q.samples.length ? q.samples : [{}]) bump(q.entity, q.deadLetters, (s as { reason?: string }).reason);
  }
  const events = new Map<string, { n: number; reasons: string[] }>();
  for (const e of await ctx.data.telemetry(ctx.windowStart)) {
    if (e.type !== 'event' || e.name !== TelemetryEvents.messageDeadLettered) continue;
    const entity = String(e.dims['entity'] ?? 'unknown');
    const c = events.get(entity) ?? { n: 0, reasons: [] };
    c.n++;
    if (e.dims['reason'] !== undefined) c.reasons.push(String(e.dims['reason']));
    events.set(entity, c);
  }
  for (const [entity, c] of events) for (const r of c.reasons.length ? c.reasons : [undefined]) bump(entity, c.n, r);
  return [...counts]
    .filter(([, c]) => compare(ctx.rule.operator, c.n, ctx.rule.threshold))
    .map(([entity, c]) =>
      alert(ctx, { entity }, c.n, `${c.n} dead-lettered message(s) on ${entity}${c.reasons.size ? ` (${[...c.reasons].join(', ')})` : ''}`),
    );
};

/** stale-source: minutes since the last successful ingestion (watermark advance or OrbiterIngestCompleted success), per source. */
const staleSource: RuleEvaluator = async (ctx) => {
  const last = new Map<string, string>();
  const later = (source: string, ts: string | undefined): void => {
    if (ts && (!last.has(source) || ts > last.get(source)!)) last.set(source, ts);
  };
  for (const w of await ctx.data.watermarks()) later(w.source, w.updatedAt);
  for (const e of await ctx.data.telemetry(ctx.windowStart)) {
    if (e.type === 'event' && e.name === TelemetryEvents.ingestCompleted && e.dims['outcome'] === 'success') later(String(e.dims['source']), e.ts);
  }
  const out: Alert[] = [];
  for (const source of ctx.sources) {
    const seen = last.get(source);
    // As in the KQL: nothing inside the window counts as stale since the window's start.
    const from = seen && seen > ctx.windowStart.toISOString() ? new Date(seen) : ctx.windowStart;
    const staleMinutes = Math.floor((ctx.now.getTime() - from.getTime()) / 60_000);
    if (compare(ctx.rule.operator, staleMinutes, ctx.rule.threshold)) {
      out.push(
        alert(
          ctx,
          { source },
          staleMinutes,
          `${source}: no successful ingestion for ${staleMinutes} min${seen ? ` (last ${seen})` : ' (none in the window)'}; threshold ${ctx.rule.threshold} min`,
        ),
      );
    }
  }
  return out;
};

/** dispatch-latency: average landed → run-submitted time in the window (orbiter_dispatch_latency_ms + run records), per dataset. */
const dispatchLatency: RuleEvaluator = async (ctx) => {
  const since = ctx.windowStart.toISOString();
  const samples = new Map<string, { dataset: string; ms: number }>();
  for (const r of await ctx.data.runs(new Date(ctx.windowStart.getTime() - 86_400_000))) {
    if (r.dispatchedAt && r.firstLandedAt && r.dispatchedAt >= since) {
      samples.set(r.runId, { dataset: r.dataset, ms: Date.parse(r.dispatchedAt) - Date.parse(r.firstLandedAt) });
    }
  }
  let anon = 0;
  for (const m of await ctx.data.telemetry(ctx.windowStart)) {
    if (m.name !== TelemetryMetrics.dispatchLatencyMs || m.value === undefined || m.type === 'event' || m.type === 'span') continue;
    samples.set(String(m.dims['runId'] ?? `#${anon++}`), { dataset: String(m.dims['dataset'] ?? ''), ms: m.value });
  }
  const byDataset = new Map<string, number[]>();
  for (const s of samples.values()) if (Number.isFinite(s.ms)) byDataset.set(s.dataset, [...(byDataset.get(s.dataset) ?? []), s.ms]);
  const out: Alert[] = [];
  for (const [dataset, v] of byDataset) {
    const avg = Math.round(v.reduce((a, b) => a + b, 0) / v.length);
    if (compare(ctx.rule.operator, avg, ctx.rule.threshold)) {
      out.push(
        alert(
          ctx,
          { dataset },
          avg,
          `${dataset}: average dispatch latency ${Math.round(avg / 1000)} s over ${v.length} run(s) (goal ${Math.round(ctx.rule.threshold / 1000)} s)`,
        ),
      );
    }
  }
  return out;
};

/** Local evaluators by rule name (infra/alerts/alert-rules.json). A new rule needs one here. */
export const localEvaluators: Readonly<Record<string, RuleEvaluator>> = {
  'failed-run': failedRun,
  'dead-lettered-message': deadLettered,
  'stale-source': staleSource,
  'dispatch-latency': dispatchLatency,
};

export interface AlertEvaluator {
  readonly rules: readonly AlertRule[];
  /** Evaluates every rule now; prints newly firing and resolved alerts; returns all firing alerts. */
  evaluate(): Promise<Alert[]>;
  /** The result of the last evaluate() (for the dashboard). */
  current(): Alert[];
  /** Evaluates every `intervalMs` until the returned stop() is called. */
  start(intervalMs?: number): () => void;
}

export interface AlertEvaluatorOptions {
  data: MonitoringData;
  rules?: readonly AlertRule[];
  /** Read when `rules` is not given (default infra/alerts/alert-rules.json). */
  rulesPath?: string;
  evaluators?: Readonly<Record<string, RuleEvaluator>>;
  sources?: readonly string[];
  now?: () => Date;
  logger?: Logger;
  /**
   * Where fired/resolved alerts are printed, one readable line each (the local stack: its console). Without it they go
   * to `logger` (warn/info), where a JSON logger makes them log records.
   */
  announce?: (line: string) => void;
}

/** One alert as a line a person reads: `ALERT sev1 Orbiter: Databricks run failed: 1 failed run(s) … [dataset=neows]`. */
export function alertLine(a: Alert, change: 'fired' | 'resolved'): string {
  const dims = Object.entries(a.dimensions)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const where = dims ? ` [${dims}]` : '';
  return change === 'fired' ? `ALERT sev${a.severity} ${a.displayName}: ${a.message}${where}` : `RESOLVED ${a.displayName}${where}`;
}

const keyOf = (a: Alert): string => `${a.rule}|${JSON.stringify(a.dimensions)}`;

/** Fails at creation when a rule has no local evaluator: every rule deployed to Azure must also be checked locally. */
export function createAlertEvaluator(o: AlertEvaluatorOptions): AlertEvaluator {
  const rules = o.rules ?? loadAlertRules(o.rulesPath);
  const evaluators = o.evaluators ?? localEvaluators;
  const missing = rules.filter((r) => !evaluators[r.name]).map((r) => r.name);
  if (missing.length) {
    throw new OrbiterError('ConfigInvalid', `alert rule(s) without a local evaluator: ${missing.join(', ')} (add one in local/alerts/evaluator.ts)`);
  }
  for (const r of rules) isoDurationMs(r.windowSize); // malformed windows fail now, not at the first evaluation
  const logger = o.logger ?? silentLogger;
  const now = o.now ?? (() => new Date());
  let firing = new Map<string, Alert>();

  const evaluateNow = async (): Promise<Alert[]> => {
    const t = now();
    const all: Alert[] = [];
    for (const rule of rules) {
      const ctx: EvalContext = {
        rule,
        now: t,
        windowStart: new Date(t.getTime() - isoDurationMs(rule.windowSize)),
        data: o.data,
        sources: o.sources ?? sourceIds,
      };
      try {
        all.push(...(await evaluators[rule.name]!(ctx)));
      } catch (err) {
        logger.error(`alert rule ${rule.name} could not be evaluated`, { error: err instanceof Error ? err.message : String(err) });
        // Unknown is not resolved: keep what was firing for this rule until it can be evaluated again.
        all.push(...[...firing.values()].filter((a) => a.rule === rule.name));
      }
    }
    const next = new Map(all.map((a) => [keyOf(a), a]));
    for (const [k, a] of next)
      if (!firing.has(k)) {
        if (o.announce) o.announce(alertLine(a, 'fired'));
        else logger.warn(`ALERT sev${a.severity} ${a.displayName}: ${a.message}`, { rule: a.rule, ...a.dimensions });
      }
    for (const [k, a] of firing)
      if (!next.has(k)) {
        if (o.announce) o.announce(alertLine(a, 'resolved'));
        else logger.info(`RESOLVED ${a.displayName}`, { rule: a.rule, ...a.dimensions });
      }
    firing = next;
    return all;
  };
  // The stack's loop and the dashboard both evaluate: one at a time, so a change is printed once.
  let queue: Promise<unknown> = Promise.resolve();
  const evaluate = (): Promise<Alert[]> => {
    const run = queue.then(evaluateNow, evaluateNow);
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    rules,
    evaluate,
    current: () => [...firing.values()],
    start(intervalMs = 30_000) {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const loop = async (): Promise<void> => {
        await evaluate().catch((err: unknown) => logger.error('alert evaluation failed', { error: String(err) }));
        if (!stopped) {
          timer = setTimeout(() => void loop(), intervalMs);
          timer.unref();
        }
      };
      void loop();
      return () => {
        stopped = true;
        if (timer) clearTimeout(timer);
      };
    },
  };
}
