import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'orbiter/shared/logger';
import type { BundleJob, TableUpdateTrigger } from '../jobSettings';
import type { Clock } from './clock';
import type { JobStore } from './jobStore';
import type { RunLauncher } from './launcher';

/** The latest committed version of a table, or undefined when it does not exist (yet). */
export type TableVersionReader = (tableName: string) => number | undefined;

const COMMIT = /^(\d{20})\.(json|checkpoint\.parquet)$/;

/** Latest version in a Delta table's `_delta_log` folder (commit or checkpoint files); undefined without a log. */
export function latestDeltaVersion(tableDir: string): number | undefined {
  const log = join(tableDir, '_delta_log');
  if (!existsSync(log)) return undefined;
  let latest: number | undefined;
  for (const name of readdirSync(log)) {
    const m = COMMIT.exec(name);
    if (m) latest = Math.max(latest ?? -1, Number(m[1]));
  }
  return latest;
}

/**
 * Unity Catalog names to the local lake: `<catalog>.<schema>.<table>` is the Delta table `<lakeRoot>/<schema>/<table>`
 * (the schema names the lake zone, e.g. orbiter.gold.neo_closest_approaches → <lake>/gold/neo_closest_approaches).
 */
export function lakeTableVersions(lakeRoot: string): TableVersionReader {
  return (name) => {
    const [, schema, table] = name.split('.');
    return schema && table ? latestDeltaVersion(join(lakeRoot, schema, table)) : undefined;
  };
}

interface TriggerState {
  /** Table versions the last fired run (or arming) saw. */
  baseline: Map<string, number | undefined>;
  /** Tables changed since the baseline. */
  changed: Set<string>;
  lastChangeAt?: number;
  lastFiredAt?: number;
  timer?: { cancel(): void };
}

/**
 * Table-update triggers, as the Databricks job scheduler does them: an UNPAUSED `trigger.table_update` starts a run
 * (trigger `TABLE`) once any (ANY_UPDATED) or all (ALL_UPDATED) of the listed tables got new Delta versions since the
 * last time it fired — no sooner than `wait_after_last_change_seconds` after the latest change (a burst of updates
 * makes one run) and `min_time_between_triggers_seconds` after the previous trigger. Tables are checked whenever a
 * run ends (locally only runs write tables); the versions seen when a job's trigger is armed are its baseline, so
 * changes made while the workspace was down do not fire.
 */
export class TableUpdateTriggers {
  private readonly states = new Map<number, TriggerState>();
  private stopped = false;

  constructor(
    private readonly jobs: JobStore,
    private readonly launcher: RunLauncher,
    private readonly options: { clock: Clock; logger: Logger; tableVersion: TableVersionReader },
  ) {}

  /** Arms every job's trigger (start), or re-arms one job's after it was created, reset, updated or deleted. */
  refresh(jobId?: number): void {
    if (this.stopped) return;
    const ids = jobId !== undefined ? [jobId] : this.jobs.all().map((j) => j.job_id);
    for (const id of ids) {
      const trigger = this.active(this.jobs.find(id));
      const state = this.states.get(id);
      if (!trigger) {
        state?.timer?.cancel();
        this.states.delete(id);
      } else if (!state) {
        this.states.set(id, { baseline: this.versions(trigger), changed: new Set() });
      } else {
        // A table added by reset/update starts from its current version; a removed one no longer counts.
        for (const [table, version] of this.versions(trigger)) if (!state.baseline.has(table)) state.baseline.set(table, version);
        for (const table of [...state.baseline.keys()]) if (!trigger.table_names.includes(table)) state.baseline.delete(table);
        for (const table of [...state.changed]) if (!trigger.table_names.includes(table)) state.changed.delete(table);
      }
    }
  }

  /** Looks for new table versions (the executor calls this when any run ends). */
  check(): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    for (const [jobId, state] of this.states) {
      const trigger = this.active(this.jobs.find(jobId));
      if (!trigger) continue;
      let changedNow = false;
      for (const [table, version] of this.versions(trigger)) {
        if (version === undefined || version === state.baseline.get(table)) continue;
        state.baseline.set(table, version);
        state.changed.add(table);
        changedNow = true;
      }
      if (changedNow) state.lastChangeAt = now;
      this.arm(jobId, state, trigger);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) s.timer?.cancel();
    this.states.clear();
  }

  private active(job: BundleJob | undefined): TableUpdateTrigger | undefined {
    const t = job?.settings.table_update;
    return t?.pause_status === 'UNPAUSED' ? t : undefined;
  }

  private versions(trigger: TableUpdateTrigger): Map<string, number | undefined> {
    return new Map(trigger.table_names.map((t) => [t, this.options.tableVersion(t)]));
  }

  /** Schedules the run when the condition holds, at the later of the two delays. */
  private arm(jobId: number, state: TriggerState, trigger: TableUpdateTrigger): void {
    const ready = trigger.condition === 'ALL_UPDATED' ? trigger.table_names.every((t) => state.changed.has(t)) : state.changed.size > 0;
    if (!ready || state.lastChangeAt === undefined) return;
    const at = Math.max(
      state.lastChangeAt + (trigger.wait_after_last_change_seconds ?? 0) * 1000,
      state.lastFiredAt === undefined ? 0 : state.lastFiredAt + (trigger.min_time_between_triggers_seconds ?? 0) * 1000,
    );
    state.timer?.cancel();
    state.timer = this.options.clock.at(at, () => this.fire(jobId, state));
  }

  private fire(jobId: number, state: TriggerState): void {
    delete state.timer;
    const job = this.jobs.find(jobId);
    if (this.stopped || !this.active(job) || this.states.get(jobId) !== state) return;
    const tables = [...state.changed].sort();
    state.changed.clear();
    state.lastFiredAt = this.options.clock.now();
    try {
      const run = this.launcher.launch(job!, { trigger: 'TABLE' });
      this.options.logger.info('table update triggered run', { jobId, runId: run.run_id, tables });
    } catch (err) {
      this.options.logger.error('table-triggered run failed to start', { jobId, err: String(err) });
    }
  }
}
