import type { TaskCluster } from '../clusters/spec';
import type { NotebookRunResult } from '../notebookRunner';

/** The emulator's own run records (what it persists); api/views.ts turns them into Jobs API shapes. */

export interface Termination {
  code: string;
  type: string;
  message: string;
}

export interface TaskRecord {
  run_id: number;
  task_key: string;
  depends_on: { task_key: string }[];
  notebook_task?: { notebook_path: string; base_parameters: Record<string, string>; source?: string };
  libraries?: string[];
  unsupported?: string;
  timeout_seconds?: number;
  /** The cluster the task runs on (unset: a Spark of its own). */
  cluster?: TaskCluster;
  /** The cluster and Spark context that ran it (runs/get cluster_instance). */
  cluster_instance?: { cluster_id: string; spark_context_id?: string };
  /** Time spent waiting for the cluster's driver to start. */
  setup_ms?: number;
  life_cycle_state: string;
  result_state?: string;
  state_message: string;
  termination?: Termination;
  start_time: number;
  running_start?: number;
  end_time?: number;
  attempt_number: number;
  output?: NotebookRunResult;
}

export interface RepairRecord {
  type: 'ORIGINAL' | 'REPAIR';
  id?: number;
  start_time: number;
  end_time?: number;
  life_cycle_state?: string;
  result_state?: string;
  state_message?: string;
  termination?: Termination;
  task_run_ids: number[];
}

export interface RunRecord {
  run_id: number;
  job_id: number;
  job_name: string;
  creator_user_name: string;
  idempotency_token?: string;
  job_parameters: Record<string, string>;
  parameter_defaults: { name: string; default: string }[];
  queue_enabled: boolean;
  life_cycle_state: string;
  result_state?: string;
  state_message: string;
  queue_reason?: string;
  termination?: Termination;
  user_cancelled_or_timedout: boolean;
  cancel_requested: boolean;
  created_time: number;
  start_time: number;
  running_start?: number;
  end_time?: number;
  tasks: TaskRecord[];
  repairs: RepairRecord[];
  /** Keys of the tasks the current (or last) execution runs. */
  pending_task_keys?: string[];
  /** JOB_RUN (run-now, schedule, continuous) or SUBMIT_RUN (runs/submit). */
  run_type?: 'JOB_RUN' | 'SUBMIT_RUN';
  /** What started the run: ONE_TIME (API), PERIODIC (schedule), CONTINUOUS / CONTINUOUS_RESTART. */
  trigger?: string;
  /** Legacy notebook_params of run-now (jobs without job parameters): override the tasks' base_parameters. */
  notebook_params?: Record<string, string>;
  /** Task runs replaced by a repair, kept readable (runs/get, runs/get-output) as on Databricks. */
  superseded?: TaskRecord[];
}

export const ACTIVE = new Set(['PENDING', 'RUNNING', 'TERMINATING']);
export const TERMINAL = new Set(['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR']);

/** The termination details Databricks reports for a task run that ended with this result. */
export function taskTermination(t: TaskRecord): Termination {
  switch (t.result_state) {
    case 'SUCCESS':
      return { code: 'SUCCESS', type: 'SUCCESS', message: '' };
    case 'CANCELED':
    case 'UPSTREAM_CANCELED':
      return { code: 'USER_CANCELED', type: 'SUCCESS', message: t.state_message };
    case 'UPSTREAM_FAILED':
      return { code: 'SKIPPED', type: 'CLIENT_ERROR', message: t.state_message };
    default:
      return { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message: t.state_message };
  }
}
