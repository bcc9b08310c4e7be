import { z } from 'zod';
import { DatabricksErrorResponse } from './api/errors';
import { QuartzSchedule } from './jobs/quartz';

/**
 * Jobs API job settings: the schema the emulator checks on jobs/create and jobs/reset, and the engine's view of a
 * job (what the run state machine needs). The full settings are stored as given and returned by jobs/get.
 */

export interface EmulatorTask {
  task_key: string;
  depends_on: { task_key: string }[];
  description?: string;
  /** notebook_path is a workspace path (/Users/.../files/bronze), resolved to the deployed file at run time. */
  notebook_task?: { notebook_path: string; base_parameters: Record<string, string>; source?: string };
  /** Wheels to install into the task's Python environment (workspace paths). */
  libraries?: string[];
  /** Set when the task has a type the emulator cannot run (it then fails with INVALID_RUN_CONFIGURATION). */
  unsupported?: string;
  timeout_seconds?: number;
}

export interface EmulatorJobSettings {
  name: string;
  description?: string;
  tags: Record<string, string>;
  tasks: EmulatorTask[];
  parameters: { name: string; default: string }[];
  max_concurrent_runs: number;
  queue: { enabled: boolean };
  timeout_seconds?: number;
  /** Events with at least one webhook destination (webhook_notifications.on_*), e.g. ['on_start', 'on_failure']. */
  webhook_events: string[];
  notification_settings: { no_alert_for_skipped_runs: boolean; no_alert_for_canceled_runs: boolean };
  /** A Quartz schedule (the scheduler starts PERIODIC runs while UNPAUSED). */
  schedule?: CronSchedule;
  /** A continuous job (the scheduler keeps one run going while UNPAUSED). */
  continuous?: { pause_status: PauseStatus };
  /** A table-update trigger (./jobs/tableTriggers.ts starts TABLE runs while UNPAUSED). */
  table_update?: TableUpdateTrigger;
}

/** trigger.table_update: start a run when the listed Delta tables change (Unity Catalog names catalog.schema.table). */
export interface TableUpdateTrigger {
  pause_status: PauseStatus;
  table_names: string[];
  condition: 'ANY_UPDATED' | 'ALL_UPDATED';
  min_time_between_triggers_seconds?: number;
  wait_after_last_change_seconds?: number;
}

export type PauseStatus = 'PAUSED' | 'UNPAUSED';

export interface CronSchedule {
  quartz_cron_expression: string;
  timezone_id: string;
  pause_status: PauseStatus;
}

/** The engine's view of one job. */
export interface BundleJob {
  job_id: number;
  settings: EmulatorJobSettings;
}

// Databricks' floor for both table-trigger delays (Jobs API TableUpdateTriggerConfiguration).
const MIN_TRIGGER_SECONDS = 60;
const triggerSeconds = z.int().min(MIN_TRIGGER_SECONDS, `must be at least ${MIN_TRIGGER_SECONDS} seconds`).optional();
const TABLE_NAME = /^[^.\s`]+\.[^.\s`]+\.[^.\s`]+$/;

const stringish = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const pause = z.enum(['PAUSED', 'UNPAUSED']);

const TaskSchema = z.looseObject({
  task_key: z.string().min(1).max(100),
  description: z.string().optional(),
  depends_on: z.array(z.looseObject({ task_key: z.string() })).optional(),
  notebook_task: z
    .looseObject({ notebook_path: z.string().min(1), base_parameters: z.record(z.string(), stringish).optional(), source: z.string().optional() })
    .optional(),
  libraries: z.array(z.looseObject({ whl: z.string().optional() })).optional(),
  timeout_seconds: z.int().min(0).optional(),
});

/** What jobs/create and new_settings of jobs/reset must satisfy (unknown fields are kept and returned). */
export const JobSettingsSchema = z.looseObject({
  name: z.string().max(4096).optional(),
  description: z.string().optional(),
  tags: z.record(z.string(), stringish).optional(),
  tasks: z.array(TaskSchema).max(1000).optional(),
  parameters: z.array(z.looseObject({ name: z.string().min(1), default: stringish })).optional(),
  max_concurrent_runs: z.int().min(0).max(1000).optional(),
  queue: z.looseObject({ enabled: z.boolean() }).optional(),
  timeout_seconds: z.int().min(0).optional(),
  webhook_notifications: z.record(z.string(), z.array(z.unknown()).nullable()).optional(),
  notification_settings: z
    .looseObject({ no_alert_for_skipped_runs: z.boolean().optional(), no_alert_for_canceled_runs: z.boolean().optional() })
    .optional(),
  schedule: z.looseObject({ quartz_cron_expression: z.string().min(1), timezone_id: z.string().min(1), pause_status: pause.optional() }).optional(),
  continuous: z.looseObject({ pause_status: pause.optional() }).optional(),
  trigger: z
    .looseObject({
      pause_status: pause.optional(),
      table_update: z
        .strictObject({
          table_names: z.array(z.string().regex(TABLE_NAME, 'must be catalog_name.schema_name.table_name')).min(1),
          condition: z.enum(['ANY_UPDATED', 'ALL_UPDATED']).optional(),
          min_time_between_triggers_seconds: triggerSeconds,
          wait_after_last_change_seconds: triggerSeconds,
        })
        .optional(),
      file_arrival: z.looseObject({ url: z.string().min(1) }).optional(),
      periodic: z.looseObject({ interval: z.int().min(1), unit: z.enum(['HOURS', 'DAYS', 'WEEKS']) }).optional(),
    })
    .optional(),
});
const TRIGGER_KINDS = ['table_update', 'file_arrival', 'periodic'] as const;
export type JobSettings = z.infer<typeof JobSettingsSchema>;

/** Parses job settings from a request body, naming the first bad field as Databricks does. */
export function parseJobSettings(value: unknown, field: string): JobSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `${field} must be an object`);
  const parsed = JobSettingsSchema.safeParse(value);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Invalid ${[field, ...i.path].join('.')}: ${i.message}`);
  }
  const keys = (parsed.data.tasks ?? []).map((t) => t.task_key);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Task key ${dup} is used by more than one task.`);
  for (const t of parsed.data.tasks ?? [])
    for (const d of t.depends_on ?? [])
      if (!keys.includes(d.task_key))
        throw new DatabricksErrorResponse(
          400,
          'INVALID_PARAMETER_VALUE',
          `Task ${t.task_key} depends on ${d.task_key}, which is not a task of the job.`,
        );
  const schedule = parsed.data.schedule;
  if (schedule) {
    try {
      new QuartzSchedule(schedule.quartz_cron_expression, schedule.timezone_id);
    } catch (err) {
      throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Invalid ${field}.schedule: ${(err as Error).message}`);
    }
  }
  const timeTriggers = (['schedule', 'continuous', 'trigger'] as const).filter((k) => parsed.data[k] !== undefined);
  if (timeTriggers.length > 1)
    throw new DatabricksErrorResponse(
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid ${field}: a job has at most one of schedule, continuous and trigger (got ${timeTriggers.join(' and ')}).`,
    );
  const trigger = parsed.data.trigger;
  if (trigger) {
    const kinds = TRIGGER_KINDS.filter((k) => trigger[k] !== undefined);
    if (kinds.length !== 1)
      throw new DatabricksErrorResponse(
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid ${field}.trigger: exactly one of ${TRIGGER_KINDS.join(', ')} is required${kinds.length ? ` (got ${kinds.join(' and ')})` : ''}.`,
      );
  }
  return parsed.data;
}

/** The engine's view of stored settings. */
export function emulatorSettings(s: JobSettings): EmulatorJobSettings {
  return {
    name: s.name ?? 'Untitled',
    ...(s.description !== undefined ? { description: s.description } : {}),
    tags: s.tags ?? {},
    tasks: (s.tasks ?? []).map((t) => {
      const task: EmulatorTask = {
        task_key: t.task_key,
        depends_on: (t.depends_on ?? []).map((d) => ({ task_key: d.task_key })),
        ...(t.description !== undefined ? { description: t.description } : {}),
        ...(t.timeout_seconds ? { timeout_seconds: t.timeout_seconds } : {}),
      };
      const wheels = (t.libraries ?? []).map((l) => l.whl).filter((w): w is string => typeof w === 'string');
      if (wheels.length > 0) task.libraries = wheels;
      const otherLibraries = (t.libraries ?? []).filter((l) => typeof l.whl !== 'string');
      if (t.notebook_task) {
        task.notebook_task = {
          notebook_path: t.notebook_task.notebook_path,
          base_parameters: t.notebook_task.base_parameters ?? {},
          ...(t.notebook_task.source !== undefined ? { source: t.notebook_task.source } : {}),
        };
      } else {
        const kind = Object.keys(t).find((k) => k.endsWith('_task')) ?? 'unknown';
        task.unsupported = `task type ${kind} is not supported by the local emulator (notebook_task only)`;
      }
      if (otherLibraries.length > 0)
        task.unsupported = `library types ${otherLibraries.map((l) => Object.keys(l).join('/')).join(', ')} are not supported by the local emulator (whl only)`;
      return task;
    }),
    parameters: (s.parameters ?? []).map((p) => ({ name: p.name, default: p.default })),
    // Jobs API defaults: one run at a time; jobs created through API 2.2 (and bundles) queue.
    max_concurrent_runs: s.max_concurrent_runs ?? 1,
    queue: { enabled: s.queue?.enabled ?? true },
    ...(s.timeout_seconds ? { timeout_seconds: s.timeout_seconds } : {}),
    webhook_events: Object.entries(s.webhook_notifications ?? {})
      .filter(([, v]) => Array.isArray(v) && v.length > 0)
      .map(([k]) => k),
    notification_settings: {
      no_alert_for_skipped_runs: s.notification_settings?.no_alert_for_skipped_runs ?? false,
      no_alert_for_canceled_runs: s.notification_settings?.no_alert_for_canceled_runs ?? false,
    },
    // Databricks fills in UNPAUSED when pause_status is left out.
    ...(s.schedule
      ? {
          schedule: {
            quartz_cron_expression: s.schedule.quartz_cron_expression,
            timezone_id: s.schedule.timezone_id,
            pause_status: s.schedule.pause_status ?? 'UNPAUSED',
          },
        }
      : {}),
    ...(s.continuous ? { continuous: { pause_status: s.continuous.pause_status ?? 'UNPAUSED' } } : {}),
    ...(s.trigger?.table_update
      ? {
          table_update: {
            pause_status: s.trigger.pause_status ?? 'UNPAUSED',
            table_names: s.trigger.table_update.table_names,
            condition: s.trigger.table_update.condition ?? 'ANY_UPDATED',
            ...(s.trigger.table_update.min_time_between_triggers_seconds !== undefined
              ? { min_time_between_triggers_seconds: s.trigger.table_update.min_time_between_triggers_seconds }
              : {}),
            ...(s.trigger.table_update.wait_after_last_change_seconds !== undefined
              ? { wait_after_last_change_seconds: s.trigger.table_update.wait_after_last_change_seconds }
              : {}),
          },
        }
      : {}),
  };
}
