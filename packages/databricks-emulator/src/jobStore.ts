import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DatabricksErrorResponse } from './api/errors';
import { emulatorSettings, parseJobSettings, type BundleJob, type JobSettings } from './jobSettings';

/**
 * The jobs of the local workspace: created, reset, updated and deleted through the Jobs API (the Databricks CLI's
 * `bundle deploy` does it), stored with their full settings in <dir>/jobs.json. `views` is the live map the run
 * engine reads, so a reset applies to the next run as on Databricks.
 */

interface StoredJob {
  job_id: number;
  creator_user_name: string;
  created_time: number;
  settings: JobSettings;
}

const StateSchema = z.object({
  version: z.literal(1),
  nextId: z.number().int(),
  jobs: z.array(
    z.object({ job_id: z.number().int(), creator_user_name: z.string(), created_time: z.number(), settings: z.record(z.string(), z.unknown()) }),
  ),
});

const invalid = (message: string): DatabricksErrorResponse => new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', message);

function jobId(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (value === undefined || value === null || value === '') throw invalid('Missing required field: job_id');
  if (!Number.isSafeInteger(n)) throw invalid(`Invalid value for job_id: ${JSON.stringify(value)}`);
  return n;
}

const pageToken = (offset: number): string => Buffer.from(String(offset)).toString('base64url');

export class JobStore {
  readonly views = new Map<number, BundleJob>();
  private readonly jobs = new Map<number, StoredJob>();
  private readonly listeners: ((jobId: number) => void)[] = [];
  private readonly changeListeners: ((jobId: number) => void)[] = [];
  private nextId = 100_000_000_001;
  private readonly path: string;

  constructor(
    dir: string,
    private readonly userName: string,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'jobs.json');
    this.load();
  }

  /** Called after a job is deleted (its permissions go with it). */
  onDelete(listener: (jobId: number) => void): void {
    this.listeners.push(listener);
  }

  /** Called after a job is created, reset, updated or deleted (the scheduler re-arms its triggers). */
  onChange(listener: (jobId: number) => void): void {
    this.changeListeners.push(listener);
  }

  /** A job id no job will get (one-time runs' hidden jobs), kept across restarts. */
  reserveId(): number {
    const id = this.nextId++;
    this.save();
    return id;
  }

  has(id: number): boolean {
    return this.jobs.has(id);
  }

  create(body: Record<string, unknown>): { job_id: number } {
    const { access_control_list: _acl, ...rest } = body;
    const settings = parseJobSettings(rest, 'settings');
    const job: StoredJob = { job_id: this.nextId++, creator_user_name: this.userName, created_time: this.now(), settings };
    this.put(job);
    return { job_id: job.job_id };
  }

  /** jobs/reset: new_settings replace every setting. */
  reset(body: Record<string, unknown>): Record<string, never> {
    const job = this.job(body['job_id']);
    this.put({ ...job, settings: parseJobSettings(body['new_settings'], 'new_settings') });
    return {};
  }

  /** jobs/update: top-level fields of new_settings replace the stored ones; fields_to_remove are dropped. */
  update(body: Record<string, unknown>): Record<string, never> {
    const job = this.job(body['job_id']);
    const next: Record<string, unknown> = { ...job.settings, ...((body['new_settings'] as Record<string, unknown> | undefined) ?? {}) };
    const remove = body['fields_to_remove'];
    if (remove !== undefined && (!Array.isArray(remove) || remove.some((f) => typeof f !== 'string')))
      throw invalid('fields_to_remove must be a list of field names');
    for (const f of (remove as string[] | undefined) ?? []) delete next[f];
    this.put({ ...job, settings: parseJobSettings(next, 'new_settings') });
    return {};
  }

  delete(body: Record<string, unknown>): Record<string, never> {
    const job = this.job(body['job_id']);
    this.jobs.delete(job.job_id);
    this.views.delete(job.job_id);
    this.save();
    for (const l of this.listeners) l(job.job_id);
    for (const l of this.changeListeners) l(job.job_id);
    return {};
  }

  get(q: Record<string, unknown>): unknown {
    return this.api(this.job(q['job_id']), true);
  }

  list(q: Record<string, unknown>): unknown {
    const limit = q['limit'] === undefined || q['limit'] === '' ? 20 : Number(q['limit']);
    if (!Number.isInteger(limit) || limit < 0 || limit > 100) throw invalid(`limit must be between 0 and 100 (got ${String(q['limit'])})`);
    let offset = q['offset'] === undefined || q['offset'] === '' ? 0 : Number(q['offset']);
    if (typeof q['page_token'] === 'string' && q['page_token'] !== '') {
      const decoded = Buffer.from(q['page_token'], 'base64url').toString('utf8');
      if (!/^\d+$/.test(decoded)) throw invalid('Invalid page_token');
      offset = Number(decoded);
    }
    if (!Number.isInteger(offset) || offset < 0) throw invalid('offset must be >= 0');
    const size = limit === 0 ? 20 : limit;
    const name = typeof q['name'] === 'string' ? q['name'] : undefined;
    const expand = q['expand_tasks'] === true || q['expand_tasks'] === 'true';
    const all = [...this.jobs.values()]
      .filter((j) => name === undefined || (j.settings.name ?? 'Untitled') === name)
      .sort((a, b) => (a.settings.name ?? '').localeCompare(b.settings.name ?? '') || a.job_id - b.job_id);
    const page = all.slice(offset, offset + size);
    const hasMore = offset + size < all.length;
    return {
      ...(page.length > 0 ? { jobs: page.map((j) => this.api(j, expand)) } : {}),
      has_more: hasMore,
      ...(hasMore ? { next_page_token: pageToken(offset + size) } : {}),
      ...(offset > 0 ? { prev_page_token: pageToken(Math.max(0, offset - size)) } : {}),
    };
  }

  private job(id: unknown): StoredJob {
    const n = jobId(id);
    const job = this.jobs.get(n);
    if (!job) throw invalid(`Job ${n} does not exist.`);
    return job;
  }

  private put(job: StoredJob): void {
    this.jobs.set(job.job_id, job);
    this.views.set(job.job_id, { job_id: job.job_id, settings: emulatorSettings(job.settings) });
    this.save();
    for (const l of this.changeListeners) l(job.job_id);
  }

  /** jobs/get and jobs/list: the stored settings, with the defaults Databricks fills in. */
  private api(job: StoredJob, withTasks: boolean): unknown {
    const { tasks, job_clusters, schedule, continuous, ...rest } = job.settings as JobSettings & { job_clusters?: unknown };
    return {
      job_id: job.job_id,
      creator_user_name: job.creator_user_name,
      run_as_user_name: job.creator_user_name,
      created_time: job.created_time,
      settings: {
        name: 'Untitled',
        email_notifications: {},
        webhook_notifications: {},
        timeout_seconds: 0,
        edit_mode: 'EDITABLE',
        max_concurrent_runs: 1,
        format: 'MULTI_TASK',
        // Jobs created through API 2.2 queue unless told otherwise.
        queue: { enabled: true },
        ...rest,
        // pause_status is filled in (UNPAUSED) when it was left out.
        ...(schedule ? { schedule: { ...schedule, pause_status: schedule.pause_status ?? 'UNPAUSED' } } : {}),
        ...(continuous ? { continuous: { ...continuous, pause_status: continuous.pause_status ?? 'UNPAUSED' } } : {}),
        ...(withTasks && tasks ? { tasks } : {}),
        ...(withTasks && job_clusters ? { job_clusters } : {}),
      },
    };
  }

  private save(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, nextId: this.nextId, jobs: [...this.jobs.values()] }));
    renameSync(tmp, this.path);
  }

  private load(): void {
    if (!existsSync(this.path)) return;
    const parsed = StateSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
    if (!parsed.success) throw new Error(`${this.path} is not a jobs file: ${parsed.error.message}`);
    this.nextId = parsed.data.nextId;
    for (const j of parsed.data.jobs) {
      const job = { ...j, settings: parseJobSettings(j.settings, 'settings') };
      this.jobs.set(job.job_id, job);
      this.views.set(job.job_id, { job_id: job.job_id, settings: emulatorSettings(job.settings) });
    }
  }
}
