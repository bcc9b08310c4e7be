import { z } from 'zod';
import type { Run, RunOutput } from '../databricks/schemas';

/**
 * The task graph of a finished Databricks run as a run record keeps it: per task its state, times and what its
 * notebook reported (rows written, rows quarantined and why). Read from runs/get (tasks) and runs/get-output (each
 * task's exit value), the same calls on Azure Databricks and the local emulator.
 */
export const runTaskSchema = z.object({
  taskKey: z.string().min(1),
  /** The task's own Databricks run id (runs/get-output takes it). */
  databricksRunId: z.number().int(),
  dependsOn: z.array(z.string()).default([]),
  /** result_state when it ended (SUCCESS, FAILED, ...), else life_cycle_state. */
  state: z.string(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  durationMs: z.number().int().min(0).optional(),
  rowsWritten: z.number().int().min(0).optional(),
  quarantined: z.number().int().min(0).optional(),
  /** Top quarantine reasons of this task's rows: reason -> rows. */
  quarantineReasons: z.record(z.string(), z.number().int().min(0)).optional(),
  /** The notebook's exit value (dbutils.notebook.exit), cut to OUTPUT_CHARS. */
  output: z.string().optional(),
  error: z.string().optional(),
});
export type RunTask = z.infer<typeof runTaskSchema>;

/** Exit values kept in a run record are cut here: the record is a table entity of at most 1 MiB. */
export const OUTPUT_CHARS = 2_000;

/** The exit values of the pipeline notebooks (orbiter_lake.notebook.exit_value): silver and gold report row counts. */
const ExitValueSchema = z.looseObject({
  stage: z.string().optional(),
  entities: z
    .record(
      z.string(),
      z.looseObject({ candidates: z.number().optional(), quarantined: z.number().optional(), reasons: z.record(z.string(), z.number()).optional() }),
    )
    .optional(),
  tables: z.record(z.string(), z.unknown()).optional(),
});

export interface ExitSummary {
  rowsWritten?: number;
  quarantined?: number;
  quarantineReasons?: Record<string, number>;
}

/** Rows written (silver's merged candidates, gold's table rows) and rows quarantined, from a notebook's exit value. */
export function exitSummary(exitValue: string | undefined): ExitSummary {
  if (!exitValue) return {};
  let json: unknown;
  try {
    json = JSON.parse(exitValue);
  } catch {
    return {};
  }
  const parsed = ExitValueSchema.safeParse(json);
  if (!parsed.success) return {};
  const { entities, tables } = parsed.data;
  if (entities) {
    const list = Object.values(entities);
    const reasons: Record<string, number> = {};
    for (const e of list) for (const [k, n] of Object.entries(e.reasons ?? {})) reasons[k] = (reasons[k] ?? 0) + n;
    return {
      rowsWritten: list.reduce((n, e) => n + (e.candidates ?? 0), 0),
      quarantined: list.reduce((n, e) => n + (e.quarantined ?? 0), 0),
      ...(Object.keys(reasons).length ? { quarantineReasons: reasons } : {}),
    };
  }
  if (tables) return { rowsWritten: Object.values(tables).reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0) };
  return {};
}

const iso = (ms: number | undefined): string | undefined => (ms ? new Date(ms).toISOString() : undefined);

/** One task of runs/get plus its runs/get-output (undefined when it could not be read) as a run record task. */
export function toRunTask(t: NonNullable<Run['tasks']>[number], output: RunOutput | undefined): RunTask {
  const startedAt = iso(t.start_time);
  const endedAt = iso(t.end_time);
  const result = output?.notebook_output?.result;
  const summary = exitSummary(result);
  return runTaskSchema.parse({
    taskKey: t.task_key,
    databricksRunId: t.run_id,
    dependsOn: (t.depends_on ?? []).map((d) => d.task_key),
    state: t.state?.result_state ?? t.state?.life_cycle_state ?? 'UNKNOWN',
    ...(startedAt ? { startedAt } : {}),
    ...(endedAt ? { endedAt } : {}),
    ...(t.start_time && t.end_time ? { durationMs: Math.max(0, t.end_time - t.start_time) } : {}),
    ...summary,
    ...(result ? { output: result.slice(0, OUTPUT_CHARS) } : {}),
    ...(output?.error ? { error: output.error.slice(0, OUTPUT_CHARS) } : {}),
  });
}

/**
 * The tasks of a finished run, in runs/get order. An output that cannot be read leaves that task without rows (the
 * run still completes: the counts are a view, not a gate).
 */
export async function readRunTasks(
  run: Run,
  getOutput: (taskRunId: number) => Promise<RunOutput>,
  onError?: (taskKey: string, err: unknown) => void,
): Promise<RunTask[]> {
  const out: RunTask[] = [];
  for (const t of run.tasks ?? []) {
    let output: RunOutput | undefined;
    try {
      output = await getOutput(t.run_id);
    } catch (err) {
      onError?.(t.task_key, err);
    }
    out.push(toRunTask(t, output));
  }
  return out;
}
