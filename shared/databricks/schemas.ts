import { z } from 'zod';

/**
 * Zod schemas for Jobs API 2.2 responses (Azure Databricks shapes, snake_case as on the wire).
 * Enums are open: Databricks adds states over time, so an unknown value parses as its string and callers
 * compare against the known literals (anything else is "not known yet", never a parse failure).
 * Unknown object keys are dropped.
 */
export function openEnum<const T extends readonly [string, ...string[]]>(_known: T): z.ZodType<T[number] | (string & {})> {
  return z.string();
}

export const RUN_LIFE_CYCLE_STATES = [
  'QUEUED',
  'PENDING',
  'RUNNING',
  'TERMINATING',
  'TERMINATED',
  'SKIPPED',
  'INTERNAL_ERROR',
  'BLOCKED',
  'WAITING_FOR_RETRY',
] as const;
export const RUN_RESULT_STATES = [
  'SUCCESS',
  'FAILED',
  'TIMEDOUT',
  'CANCELED',
  'MAXIMUM_CONCURRENT_RUNS_REACHED',
  'EXCLUDED',
  'SUCCESS_WITH_FAILURES',
  'UPSTREAM_FAILED',
  'UPSTREAM_CANCELED',
  'DISABLED',
] as const;
export const RUN_STATUS_STATES = ['BLOCKED', 'PENDING', 'QUEUED', 'RUNNING', 'TERMINATING', 'TERMINATED', 'WAITING_FOR_RETRY'] as const;
export const TERMINATION_TYPES = ['SUCCESS', 'INTERNAL_ERROR', 'CLIENT_ERROR', 'CLOUD_FAILURE'] as const;
export const TERMINATION_CODES = [
  'SUCCESS',
  'CANCELED',
  'USER_CANCELED',
  'SKIPPED',
  'RUN_EXECUTION_ERROR',
  'INTERNAL_ERROR',
  'DRIVER_ERROR',
  'CLUSTER_ERROR',
  'CLOUD_FAILURE',
  'MAX_CONCURRENT_RUNS_EXCEEDED',
  'MAX_JOB_QUEUE_SIZE_EXCEEDED',
  'INVALID_RUN_CONFIGURATION',
  'LIBRARY_INSTALLATION_ERROR',
  'STORAGE_ACCESS_ERROR',
  'RESOURCE_NOT_FOUND',
  'TIMEOUT',
  'UNAUTHORIZED_ERROR',
  'WORKSPACE_RUN_LIMIT_EXCEEDED',
] as const;

export type RunLifeCycleState = (typeof RUN_LIFE_CYCLE_STATES)[number] | (string & {});
export type RunResultState = (typeof RUN_RESULT_STATES)[number] | (string & {});
export type RunStatusState = (typeof RUN_STATUS_STATES)[number] | (string & {});
export type TerminationType = (typeof TERMINATION_TYPES)[number] | (string & {});
export type TerminationCode = (typeof TERMINATION_CODES)[number] | (string & {});

/** Life-cycle states after which a run never changes again (unless repaired). */
export const TERMINAL_LIFE_CYCLE_STATES: readonly string[] = ['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'];
export function isTerminalLifeCycleState(state: string | undefined): boolean {
  return state !== undefined && TERMINAL_LIFE_CYCLE_STATES.includes(state);
}

export const RunStateSchema = z.object({
  life_cycle_state: openEnum(RUN_LIFE_CYCLE_STATES).optional(),
  result_state: openEnum(RUN_RESULT_STATES).optional(),
  state_message: z.string().optional(),
  user_cancelled_or_timedout: z.boolean().optional(),
  queue_reason: z.string().optional(),
});

export const TerminationDetailsSchema = z.object({
  code: openEnum(TERMINATION_CODES).optional(),
  type: openEnum(TERMINATION_TYPES).optional(),
  message: z.string().optional(),
});

export const RunStatusSchema = z.object({
  state: openEnum(RUN_STATUS_STATES).optional(),
  termination_details: TerminationDetailsSchema.optional(),
  queue_details: z.object({ code: z.string().optional(), message: z.string().optional() }).optional(),
});

const NotebookTaskSchema = z.object({
  notebook_path: z.string(),
  base_parameters: z.record(z.string(), z.string()).optional(),
  source: z.string().optional(),
});

const DependsOnSchema = z.array(z.object({ task_key: z.string(), outcome: z.string().optional() }));

export const RunTaskSchema = z.object({
  run_id: z.number(),
  task_key: z.string(),
  description: z.string().optional(),
  depends_on: DependsOnSchema.optional(),
  notebook_task: NotebookTaskSchema.optional(),
  state: RunStateSchema.optional(),
  status: RunStatusSchema.optional(),
  start_time: z.number().optional(),
  end_time: z.number().optional(),
  setup_duration: z.number().optional(),
  execution_duration: z.number().optional(),
  cleanup_duration: z.number().optional(),
  run_duration: z.number().optional(),
  attempt_number: z.number().optional(),
  run_page_url: z.string().optional(),
});

export const RunJobParameterSchema = z.object({
  name: z.string(),
  default: z.string().optional(),
  value: z.string().optional(),
});

export const RepairHistoryItemSchema = z.object({
  type: openEnum(['ORIGINAL', 'REPAIR'] as const).optional(),
  id: z.number().optional(),
  start_time: z.number().optional(),
  end_time: z.number().optional(),
  state: RunStateSchema.optional(),
  status: RunStatusSchema.optional(),
  task_run_ids: z.array(z.number()).optional(),
});

export const RunSchema = z.object({
  job_id: z.number().optional(),
  run_id: z.number(),
  number_in_job: z.number().optional(),
  original_attempt_run_id: z.number().optional(),
  creator_user_name: z.string().optional(),
  run_name: z.string().optional(),
  run_page_url: z.string().optional(),
  run_type: openEnum(['JOB_RUN', 'WORKFLOW_RUN', 'SUBMIT_RUN'] as const).optional(),
  trigger: openEnum(['PERIODIC', 'ONE_TIME', 'RETRY', 'RUN_JOB_TASK', 'FILE_ARRIVAL', 'TABLE'] as const).optional(),
  state: RunStateSchema.optional(),
  status: RunStatusSchema.optional(),
  tasks: z.array(RunTaskSchema).optional(),
  job_parameters: z.array(RunJobParameterSchema).optional(),
  repair_history: z.array(RepairHistoryItemSchema).optional(),
  start_time: z.number().optional(),
  end_time: z.number().optional(),
  setup_duration: z.number().optional(),
  execution_duration: z.number().optional(),
  cleanup_duration: z.number().optional(),
  run_duration: z.number().optional(),
  queue_duration: z.number().optional(),
  attempt_number: z.number().optional(),
  has_more: z.boolean().optional(),
  next_page_token: z.string().optional(),
});

export const JobParameterDefinitionSchema = z.object({ name: z.string(), default: z.string() });

export const JobTaskSettingsSchema = z.object({
  task_key: z.string(),
  description: z.string().optional(),
  depends_on: DependsOnSchema.optional(),
  notebook_task: NotebookTaskSchema.optional(),
  timeout_seconds: z.number().optional(),
  max_retries: z.number().optional(),
});

export const JobSettingsSchema = z.object({
  name: z.string().optional(),
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  tasks: z.array(JobTaskSettingsSchema).optional(),
  parameters: z.array(JobParameterDefinitionSchema).optional(),
  max_concurrent_runs: z.number().optional(),
  timeout_seconds: z.number().optional(),
  queue: z.object({ enabled: z.boolean() }).optional(),
  // Read by the cost report (packages/ops optimize): the declared clusters and the schedule.
  job_clusters: z.array(z.object({ job_cluster_key: z.string(), new_cluster: z.looseObject({}).optional() })).optional(),
  schedule: z.object({ quartz_cron_expression: z.string(), timezone_id: z.string().optional(), pause_status: z.string().optional() }).optional(),
  // Read by the local stack to know when the insights job's table-update trigger fires.
  trigger: z
    .object({
      pause_status: z.string().optional(),
      table_update: z
        .object({
          table_names: z.array(z.string()),
          condition: z.string().optional(),
          min_time_between_triggers_seconds: z.number().optional(),
          wait_after_last_change_seconds: z.number().optional(),
        })
        .optional(),
    })
    .optional(),
});

export const JobSchema = z.object({
  job_id: z.number(),
  creator_user_name: z.string().optional(),
  created_time: z.number().optional(),
  settings: JobSettingsSchema.optional(),
  has_more: z.boolean().optional(),
  next_page_token: z.string().optional(),
});

export const ListJobsResponseSchema = z.object({
  jobs: z.array(JobSchema).default([]),
  has_more: z.boolean().default(false),
  next_page_token: z.string().optional(),
  prev_page_token: z.string().optional(),
});

export const ListRunsResponseSchema = z.object({
  runs: z.array(RunSchema).default([]),
  has_more: z.boolean().default(false),
  next_page_token: z.string().optional(),
  prev_page_token: z.string().optional(),
});

export const RunNowResponseSchema = z.object({ run_id: z.number(), number_in_job: z.number().optional() });

export const RepairRunResponseSchema = z.object({ repair_id: z.number() });

export const EmptyResponseSchema = z.object({});

export const RunOutputSchema = z.object({
  metadata: RunSchema.optional(),
  notebook_output: z.object({ result: z.string().optional(), truncated: z.boolean().optional() }).optional(),
  error: z.string().optional(),
  error_trace: z.string().optional(),
  logs: z.string().optional(),
  logs_truncated: z.boolean().optional(),
});

/** Databricks error body: {"error_code": "...", "message": "..."}. */
export const DatabricksErrorBodySchema = z.object({ error_code: z.string().optional(), message: z.string().optional() });

export type RunState = z.infer<typeof RunStateSchema>;
export type RunStatus = z.infer<typeof RunStatusSchema>;
export type TerminationDetails = z.infer<typeof TerminationDetailsSchema>;
export type RunTask = z.infer<typeof RunTaskSchema>;
export type Run = z.infer<typeof RunSchema>;
export type Job = z.infer<typeof JobSchema>;
export type JobSettings = z.infer<typeof JobSettingsSchema>;
export type ListJobsResponse = z.infer<typeof ListJobsResponseSchema>;
export type ListRunsResponse = z.infer<typeof ListRunsResponseSchema>;
export type RunNowResponse = z.infer<typeof RunNowResponseSchema>;
export type RepairRunResponse = z.infer<typeof RepairRunResponseSchema>;
export type RunOutput = z.infer<typeof RunOutputSchema>;

/** Request bodies / query parameters (snake_case as on the wire). */
export interface ListJobsParams {
  name?: string;
  limit?: number;
  offset?: number;
  page_token?: string;
  expand_tasks?: boolean;
}
export interface RunNowRequest {
  job_id: number;
  job_parameters?: Record<string, string>;
  /** At most 64 characters; a repeat returns the existing run (even a failed one). */
  idempotency_token?: string;
  queue?: { enabled: boolean };
}
export interface ListRunsParams {
  job_id?: number;
  active_only?: boolean;
  completed_only?: boolean;
  /** 1..25 */
  limit?: number;
  offset?: number;
  page_token?: string;
  start_time_from?: number;
  start_time_to?: number;
  expand_tasks?: boolean;
}
export interface RepairRunRequest {
  run_id: number;
  rerun_tasks?: string[];
  rerun_all_failed_tasks?: boolean;
  rerun_dependent_tasks?: boolean;
  /** Required by Databricks once a run has been repaired; guards against two concurrent repairs. */
  latest_repair_id?: number;
  job_parameters?: Record<string, string>;
}
