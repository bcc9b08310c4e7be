import type { RunRecord, TaskRecord } from './jobs/records';

/**
 * The workspace's run pages, in place of the Databricks UI: `run_page_url` (`<host>/?o=0#job/<job>/run/<run>`) opens
 * the run list, whose script follows the fragment to `/jobs/<job>/runs/<run>`; each task links its stdout/stderr.
 * Read-only HTML for the person at this machine, so it is served without the API token (a browser cannot send it)
 * but only to a loopback Host (DNS rebinding guard, shared/http/hostCheck.ts); everything shown is escaped.
 */

const escapeHtml = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const runPagePath = (jobId: number, runId: number): string => `/jobs/${jobId}/runs/${runId}`;
export const taskLogHref = (jobId: number, runId: number, taskKey: string): string =>
  `${runPagePath(jobId, runId)}/tasks/${encodeURIComponent(taskKey)}/log`;

export type RunPageRoute =
  { kind: 'index' } | { kind: 'run'; jobId: number; runId: number } | { kind: 'log'; jobId: number; runId: number; taskKey: string };

/** Which run page a GET path asks for, or undefined when it is not one (the API handles it). */
export function runPageRoute(path: string): RunPageRoute | undefined {
  if (path === '' || path === '/') return { kind: 'index' };
  const m = /^\/jobs\/(\d{1,15})\/runs\/(\d{1,15})(?:\/tasks\/([A-Za-z0-9_.%-]{1,300})\/log)?$/.exec(path);
  if (!m) return undefined;
  const jobId = Number(m[1]);
  const runId = Number(m[2]);
  if (m[3] === undefined) return { kind: 'run', jobId, runId };
  let taskKey: string;
  try {
    taskKey = decodeURIComponent(m[3]);
  } catch {
    return undefined;
  }
  return { kind: 'log', jobId, runId, taskKey };
}

const time = (ms: number | undefined): string => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '');
const secs = (start: number | undefined, end: number | undefined, now: number): string =>
  start ? `${Math.max(0, Math.round(((end ?? now) - start) / 1000))} s` : '';
const stateOf = (life: string, result: string | undefined): string => result ?? life;

const STYLE =
  'body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}' +
  'pre{background:#f6f6f6;padding:8px;white-space:pre-wrap;max-width:100em}.SUCCESS{color:#176d2c}.FAILED,.INTERNAL_ERROR,.TIMEDOUT{color:#b00020}.CANCELED,.SKIPPED{color:#777}';

const page = (title: string, body: string): string =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;

function taskRow(run: RunRecord, t: TaskRecord, now: number): string {
  const state = stateOf(t.life_cycle_state, t.result_state);
  const out = t.output?.error ?? t.output?.notebook_output ?? '';
  return (
    `<tr><td>${escapeHtml(t.task_key)}</td><td>${escapeHtml(t.depends_on.map((d) => d.task_key).join(', '))}</td>` +
    `<td class="${escapeHtml(state)}">${escapeHtml(state)}</td><td>${escapeHtml(time(t.start_time))}</td>` +
    `<td>${escapeHtml(secs(t.running_start ?? t.start_time, t.end_time, now))}</td>` +
    `<td>${escapeHtml(t.cluster_instance?.cluster_id ?? '')}</td>` +
    `<td><a href="${escapeHtml(taskLogHref(run.job_id, run.run_id, t.task_key))}">log</a></td>` +
    `<td>${out ? `<pre>${escapeHtml(out.length > 4000 ? `${out.slice(0, 4000)}…` : out)}</pre>` : ''}${t.state_message ? escapeHtml(t.state_message) : ''}</td></tr>`
  );
}

/** The page of one run: state, times, parameters, and its task graph with each task's state, duration, log and output. */
export function renderRunPage(run: RunRecord, now: number): string {
  const state = stateOf(run.life_cycle_state, run.result_state);
  const params = Object.entries(run.job_parameters)
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v.length > 300 ? `${v.slice(0, 300)}…` : v)}</td></tr>`)
    .join('');
  return page(
    `${run.job_name} run ${run.run_id}`,
    `<p><a href="/">all runs</a></p><h1>${escapeHtml(run.job_name)} — run ${escapeHtml(run.run_id)}</h1>` +
      `<p>job ${escapeHtml(run.job_id)} · state <b class="${escapeHtml(state)}">${escapeHtml(state)}</b>` +
      `${run.state_message ? ` · ${escapeHtml(run.state_message)}` : ''} · started ${escapeHtml(time(run.start_time))} UTC · ` +
      `duration ${escapeHtml(secs(run.start_time, run.end_time, now))}</p>` +
      `<h2>Tasks</h2><table><thead><tr><th>task</th><th>depends on</th><th>state</th><th>started (UTC)</th><th>duration</th><th>cluster</th><th>logs</th><th>output</th></tr></thead><tbody>` +
      run.tasks.map((t) => taskRow(run, t, now)).join('') +
      `</tbody></table>` +
      (params ? `<h2>Job parameters</h2><table><tbody>${params}</tbody></table>` : ''),
  );
}

/**
 * The run list; its script opens the run a classic run_page_url names in its fragment (`#job/<job>/run/<run>`),
 * which never reaches the server. The script only reads digits out of the fragment.
 */
export function renderRunIndex(runs: RunRecord[]): string {
  const rows = runs
    .map((r) => {
      const state = stateOf(r.life_cycle_state, r.result_state);
      return `<tr><td><a href="${escapeHtml(runPagePath(r.job_id, r.run_id))}">${escapeHtml(r.run_id)}</a></td><td>${escapeHtml(r.job_name)}</td><td class="${escapeHtml(state)}">${escapeHtml(state)}</td><td>${escapeHtml(time(r.start_time))}</td></tr>`;
    })
    .join('');
  const follow =
    "<script>(function(){var m=/^#job\\/(\\d+)\\/run\\/(\\d+)$/.exec(location.hash);if(m)location.replace('/jobs/'+m[1]+'/runs/'+m[2]);})();</script>";
  return page(
    'Runs — local Databricks workspace',
    `${follow}<h1>Runs</h1><p>Local Databricks emulator: the newest ${runs.length} job runs.</p><table><thead><tr><th>run</th><th>job</th><th>state</th><th>started (UTC)</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

export interface RunPageDeps {
  record(runId: number): RunRecord | undefined;
  recent(limit: number): RunRecord[];
  /** The task's stdout/stderr (tail), undefined before it wrote any. */
  taskLog(run: RunRecord, task: TaskRecord): string | undefined;
  now(): number;
}

export interface PageResponse {
  status: number;
  contentType: string;
  body: string;
}

const html = (status: number, body: string): PageResponse => ({ status, contentType: 'text/html; charset=utf-8', body });
const text = (status: number, body: string): PageResponse => ({ status, contentType: 'text/plain; charset=utf-8', body });

/** The response to a run page route: the page, the log as plain text, or a 404 that says what was not found. */
export function runPageResponse(route: RunPageRoute, deps: RunPageDeps): PageResponse {
  if (route.kind === 'index') return html(200, renderRunIndex(deps.recent(200)));
  const run = deps.record(route.runId);
  if (!run || run.job_id !== route.jobId)
    return html(
      404,
      page('Run not found', `<h1>Run ${escapeHtml(route.runId)} of job ${escapeHtml(route.jobId)} not found</h1><p><a href="/">all runs</a></p>`),
    );
  if (route.kind === 'run') return html(200, renderRunPage(run, deps.now()));
  const task = run.tasks.find((t) => t.task_key === route.taskKey);
  if (!task) return text(404, `run ${run.run_id} has no task ${route.taskKey}`);
  return text(200, deps.taskLog(run, task) ?? `(task ${task.task_key} has written no output yet)`);
}
