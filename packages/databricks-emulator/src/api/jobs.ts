import type { JobStore } from '../jobs/jobStore';
import { page, pageWindow, toBool, toInt } from './params';
import type { ApiViews } from './views';

/** jobs/list and jobs/get. */
export class JobsVerbs {
  constructor(
    private readonly jobs: JobStore,
    private readonly views: ApiViews,
  ) {}

  list(q: Record<string, unknown>): unknown {
    const { offset, limit } = pageWindow(q, 20, 100);
    const name = typeof q['name'] === 'string' ? q['name'].toLowerCase() : undefined;
    const expand = toBool(q['expand_tasks'], 'expand_tasks');
    const all = this.jobs
      .all()
      .filter((j) => name === undefined || j.settings.name.toLowerCase() === name)
      .sort((a, b) => a.settings.name.localeCompare(b.settings.name));
    return page(all, offset, limit, 'jobs', (j) => this.views.job(j, expand));
  }

  get(q: Record<string, unknown>): unknown {
    return this.views.job(this.jobs.get(toInt(q['job_id'], 'job_id', true)), true);
  }
}
