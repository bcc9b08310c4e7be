import { z } from 'zod';

/**
 * Job settings as the Jobs API (jobs/create, jobs/reset, runs/submit) and bundles state them, and the subset the
 * emulator executes. The settings are kept whole (`raw`) so jobs/get returns them as given.
 */

export interface EmulatorTask {
  task_key: string;
  depends_on: { task_key: string }[];
  description?: string;
  /** notebook_path is an absolute local file path here. */
  notebook_task?: { notebook_path: string; base_parameters: Record<string, string>; source?: string };
  /** Set when the task has a type the emulator cannot run (it then fails with INVALID_RUN_CONFIGURATION). */
  unsupported?: string;
  timeout_seconds?: number;
}

export interface CronSchedule {
  quartz_cron_expression: string;
  timezone_id: string;
  pause_status: 'PAUSED' | 'UNPAUSED';
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
  schedule?: CronSchedule;
  continuous?: { pause_status: 'PAUSED' | 'UNPAUSED' };
  /** The settings as given (after bundle variable substitution), for jobs/get. */
  raw: Record<string, unknown>;
}

/** A job in the workspace. */
export interface EmulatorJob {
  /** Resource key in the bundle (resources.jobs.<key>), when the job came from one. */
  key?: string;
  job_id: number;
  created_time?: number;
  settings: EmulatorJobSettings;
}

const stringish = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const pause = z.enum(['PAUSED', 'UNPAUSED']);

const TaskSettings = z.looseObject({
  task_key: z.string().min(1),
  description: z.string().optional(),
  depends_on: z.array(z.looseObject({ task_key: z.string() })).optional(),
  notebook_task: z
    .looseObject({ notebook_path: z.string(), base_parameters: z.record(z.string(), stringish).optional(), source: z.string().optional() })
    .optional(),
  timeout_seconds: z.number().optional(),
});

export const JobSettingsSchema = z.looseObject({
  name: z.string().min(1).default('Untitled'),
  description: z.string().optional(),
  tags: z.record(z.string(), stringish).optional(),
  tasks: z.array(TaskSettings).default([]),
  parameters: z.array(z.looseObject({ name: z.string(), default: stringish })).default([]),
  max_concurrent_runs: z.int().min(0).default(1),
  queue: z.looseObject({ enabled: z.boolean() }).optional(),
  timeout_seconds: z.number().optional(),
  webhook_notifications: z.record(z.string(), z.array(z.unknown()).nullable()).optional(),
  notification_settings: z
    .looseObject({ no_alert_for_skipped_runs: z.boolean().optional(), no_alert_for_canceled_runs: z.boolean().optional() })
    .optional(),
  schedule: z
    .looseObject({ quartz_cron_expression: z.string().min(1), timezone_id: z.string().min(1), pause_status: pause.default('UNPAUSED') })
    .optional(),
  continuous: z.looseObject({ pause_status: pause.default('UNPAUSED') }).optional(),
});

/** Maps a task's notebook_path to the local file that runs (bundles: resolved file path; API: workspace path). */
export type NotebookResolver = (notebookPath: string) => string;

/** Parses settings; throws the zod error (callers turn it into their own error naming the field). */
export function toEmulatorSettings(raw: unknown, resolveNotebook: NotebookResolver): EmulatorJobSettings {
  const j = JobSettingsSchema.parse(raw);
  const tasks: EmulatorTask[] = j.tasks.map((t) => {
    const task: EmulatorTask = {
      task_key: t.task_key,
      depends_on: (t.depends_on ?? []).map((d) => ({ task_key: d.task_key })),
      ...(t.description !== undefined ? { description: t.description } : {}),
      ...(t.timeout_seconds !== undefined ? { timeout_seconds: t.timeout_seconds } : {}),
    };
    if (t.notebook_task) {
      task.notebook_task = {
        notebook_path: resolveNotebook(t.notebook_task.notebook_path),
        base_parameters: t.notebook_task.base_parameters ?? {},
        ...(t.notebook_task.source !== undefined ? { source: t.notebook_task.source } : {}),
      };
    } else {
      const kind = Object.keys(t).find((k) => k.endsWith('_task')) ?? 'unknown';
      task.unsupported = `task type ${kind} is not supported by the local emulator (notebook_task only)`;
    }
    return task;
  });
  return {
    name: j.name,
    ...(j.description !== undefined ? { description: j.description } : {}),
    tags: j.tags ?? {},
    tasks,
    parameters: j.parameters.map((p) => ({ name: p.name, default: p.default })),
    max_concurrent_runs: j.max_concurrent_runs,
    // Jobs created through API 2.2 (and bundles) queue by default.
    queue: { enabled: j.queue?.enabled ?? true },
    ...(j.timeout_seconds !== undefined ? { timeout_seconds: j.timeout_seconds } : {}),
    webhook_events: Object.entries(j.webhook_notifications ?? {})
      .filter(([, v]) => Array.isArray(v) && v.length > 0)
      .map(([k]) => k),
    notification_settings: {
      no_alert_for_skipped_runs: j.notification_settings?.no_alert_for_skipped_runs ?? false,
      no_alert_for_canceled_runs: j.notification_settings?.no_alert_for_canceled_runs ?? false,
    },
    ...(j.schedule ? { schedule: j.schedule } : {}),
    ...(j.continuous ? { continuous: j.continuous } : {}),
    raw: raw as Record<string, unknown>,
  };
}
