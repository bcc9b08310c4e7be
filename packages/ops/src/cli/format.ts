import type { ApiRun } from './apiClient';

export const durationText = (ms: number | undefined): string => {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

export const runDurationMs = (r: ApiRun): number | undefined => {
  const start = r.startedAt ?? r.dispatchedAt;
  return start && r.endedAt ? Date.parse(r.endedAt) - Date.parse(start) : undefined;
};

/** Fixed-width columns for terminals; --json gives machine output instead. */
export function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

export function runDetails(r: ApiRun): string[] {
  const out = [
    `run        ${r.runId}`,
    `dataset    ${r.dataset}`,
    `job        ${r.jobName}`,
    `state      ${r.state}${r.resultState ? ` (${r.resultState})` : ''}`,
    `requested  ${r.requestedAt}`,
  ];
  if (r.dispatchedAt) out.push(`dispatched ${r.dispatchedAt}`);
  if (r.startedAt) out.push(`started    ${r.startedAt}`);
  if (r.endedAt) out.push(`ended      ${r.endedAt}  (${durationText(runDurationMs(r))})`);
  if (r.attempt !== undefined) out.push(`attempt    ${r.attempt}`);
  if (r.databricksRunUrl) out.push(`databricks ${r.databricksRunUrl}`);
  if (r.error) out.push(`error      ${r.error}`);
  const params = Object.entries(r.parameters ?? {});
  if (params.length) out.push(`parameters ${params.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const inputs = r.inputs ?? [];
  out.push(`inputs     ${inputs.length === 0 ? '(whole dataset)' : inputs.length}`);
  for (const i of inputs.slice(0, 20)) out.push(`  ${i.container}/${i.path}`);
  if (inputs.length > 20) out.push(`  … ${inputs.length - 20} more`);
  if (r.tasks?.length) out.push('tasks', ...taskLines(r.tasks));
  return out;
}

/** The task graph: one line per task (state, duration, rows written and quarantined, what it waits for). */
export function taskLines(tasks: NonNullable<ApiRun['tasks']>): string[] {
  const rows = tasks.map((t) => [
    t.taskKey,
    t.state,
    durationText(t.durationMs),
    t.rowsWritten === undefined ? '' : String(t.rowsWritten),
    t.quarantined ? String(t.quarantined) : '',
    t.dependsOn.length ? `after ${t.dependsOn.join(', ')}` : '',
  ]);
  const lines = table(
    ['  TASK', 'STATE', 'DURATION', 'ROWS', 'QUARANTINED', ''],
    rows.map((r) => [`  ${r[0]}`, ...r.slice(1)]),
  );
  for (const t of tasks) {
    for (const [reason, n] of Object.entries(t.quarantineReasons ?? {})) lines.push(`  ${t.taskKey} quarantined ${n}: ${reason}`);
    if (t.error) lines.push(`  ${t.taskKey} error: ${t.error}`);
  }
  return lines;
}
