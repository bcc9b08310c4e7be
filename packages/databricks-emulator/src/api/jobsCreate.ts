import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { JobStore } from '../jobs/jobStore';
import { toEmulatorSettings, type EmulatorJobSettings, type NotebookResolver } from '../jobs/jobSettings';
import { QuartzSchedule } from '../jobs/quartz';
import { invalid } from './errors';

/**
 * Notebook paths of jobs created through the API: a local file (with or without .py). Workspace paths
 * (/Workspace/...) are resolved by the workspace files store when it exists; until then they must be local paths.
 */
export const localNotebook: NotebookResolver = (path) => (!/\.(py|ipynb)$/.test(path) && existsSync(`${path}.py`) ? `${path}.py` : path);

/** Settings from an API body, or INVALID_PARAMETER_VALUE naming the offending field. */
export function parseSettings(raw: unknown, resolveNotebook: NotebookResolver = localNotebook): EmulatorJobSettings {
  try {
    return toEmulatorSettings(raw, resolveNotebook);
  } catch (err) {
    if (err instanceof z.ZodError) {
      const issue = err.issues[0]!;
      throw invalid(`Invalid value for ${issue.path.join('.') || 'settings'}: ${issue.message}`);
    }
    throw err;
  }
}

/** jobs/create (minimal: the settings the emulator runs, kept whole for jobs/get). */
export class JobsCreateVerb {
  constructor(
    private readonly jobs: JobStore,
    private readonly now: () => number,
    /** Arms the new job's schedule / continuous trigger. */
    private readonly changed: () => void,
  ) {}

  create(body: Record<string, unknown>): { job_id: number } {
    if (typeof body['name'] !== 'string' && body['name'] !== undefined) throw invalid('Invalid value for name: must be a string');
    const settings = parseSettings(body);
    const keys = new Set<string>();
    for (const t of settings.tasks) {
      if (keys.has(t.task_key)) throw invalid(`Task key ${t.task_key} is used by more than one task.`);
      keys.add(t.task_key);
    }
    for (const t of settings.tasks)
      for (const d of t.depends_on) if (!keys.has(d.task_key)) throw invalid(`Task ${t.task_key} depends on ${d.task_key}, which does not exist.`);
    if (settings.schedule) {
      try {
        new QuartzSchedule(settings.schedule.quartz_cron_expression, settings.schedule.timezone_id);
      } catch (err) {
        throw invalid(`Invalid value for schedule: ${(err as Error).message}`);
      }
    }
    const job = this.jobs.create(settings, this.now());
    this.changed();
    return { job_id: job.job_id };
  }
}
