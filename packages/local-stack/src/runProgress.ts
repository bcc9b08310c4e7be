import { exitSummary } from 'orbiter/shared/runs/runTasks';
import type { RunRecord } from 'orbiter/shared/runs/runStore';

/** What the progress view needs of the Databricks run of an Orbiter run (runs/get and runs/get-output). */
export interface RunsReader {
  getRun(runId: number): Promise<{
    tasks?: {
      run_id: number;
      task_key: string;
      state?: { life_cycle_state?: string; result_state?: string };
      start_time?: number;
      end_time?: number;
    }[];
  }>;
  getRunOutput(runId: number): Promise<{ notebook_output?: { result?: string } }>;
}

export interface TaskProgress {
  key: string;
  state: string;
  elapsedMs: number;
  rows?: number;
}

export interface RunProgress {
  runId: string;
  dataset: string;
  state: string;
  elapsedMs: number;
  tasks: TaskProgress[];
}

/** Rows a task wrote, from its notebook's exit value: silver's merged candidates, gold's table rows. */
export function rowsWritten(exitValue: string | undefined): number | undefined {
  return exitSummary(exitValue).rowsWritten;
}

const TERMINAL_TASK = new Set(['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR']);

/** Reads per-task progress of each run from the workspace; exit values are read once per finished task. */
export class ProgressReader {
  private readonly rows = new Map<number, number | undefined>();

  constructor(
    private readonly databricks: RunsReader,
    private readonly now: () => number = Date.now,
  ) {}

  async read(runs: RunRecord[]): Promise<RunProgress[]> {
    const out: RunProgress[] = [];
    for (const r of [...runs].sort((a, b) => a.dataset.localeCompare(b.dataset))) {
      const start = Date.parse(r.startedAt ?? r.dispatchedAt ?? r.requestedAt);
      const end = r.endedAt ? Date.parse(r.endedAt) : this.now();
      const tasks: TaskProgress[] = [];
      if (r.databricksRunId !== undefined) {
        const run = await this.databricks.getRun(r.databricksRunId).catch(() => undefined);
        for (const t of run?.tasks ?? []) {
          const life = t.state?.life_cycle_state ?? 'PENDING';
          const done = TERMINAL_TASK.has(life);
          if (done && t.state?.result_state === 'SUCCESS' && !this.rows.has(t.run_id)) {
            const output = await this.databricks.getRunOutput(t.run_id).catch(() => undefined);
            if (output) this.rows.set(t.run_id, rowsWritten(output.notebook_output?.result));
          }
          const rows = this.rows.get(t.run_id);
          tasks.push({
            key: t.task_key,
            state: done ? (t.state?.result_state ?? life) : life,
            elapsedMs: t.start_time && life !== 'PENDING' ? Math.max(0, (t.end_time || this.now()) - t.start_time) : 0,
            ...(rows !== undefined ? { rows } : {}),
          });
        }
      }
      out.push({ runId: r.runId, dataset: r.dataset, state: r.state, elapsedMs: Math.max(0, end - start), tasks });
    }
    return out;
  }
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(0)}s`;

function taskText(t: TaskProgress): string {
  return `${t.key} ${t.state.toLowerCase()}${t.elapsedMs > 0 ? ` ${secs(t.elapsedMs)}` : ''}${t.rows !== undefined ? ` ${t.rows} rows` : ''}`;
}

/** One line per run: dataset, state, elapsed, then each task's state, elapsed and rows written. */
export function progressLines(runs: RunProgress[]): string[] {
  const width = Math.max(0, ...runs.map((r) => r.dataset.length));
  return runs.map(
    (r) => `  ${r.dataset.padEnd(width)}  ${r.state.padEnd(10)} ${secs(r.elapsedMs).padStart(5)}  ${r.tasks.map(taskText).join(' | ')}`,
  );
}

/** What the wait is on, for a person watching a long wait. */
export function waitingFor(runs: RunProgress[]): string {
  if (runs.length === 0) return 'waiting for the dispatcher to request the first Databricks run';
  const running = runs.flatMap((r) => r.tasks.filter((t) => t.state === 'RUNNING').map((t) => `${r.dataset}/${t.key} (${secs(t.elapsedMs)})`));
  if (running.length > 0) return `waiting for notebook task${running.length > 1 ? 's' : ''} ${running.join(', ')}`;
  const open = runs.filter((r) => !['succeeded', 'failed', 'cancelled', 'skipped'].includes(r.state));
  if (open.length > 0)
    return `waiting for ${open.length} run${open.length > 1 ? 's' : ''} to start (${open.map((r) => `${r.dataset} ${r.state}`).join(', ')})`;
  return 'waiting for late runs (coalescing window) before finishing';
}

/** A progress bar over tasks: finished tasks of all tasks known so far. */
export function progressBar(runs: RunProgress[], width = 30): string {
  const tasks = runs.flatMap((r) => r.tasks);
  const done = tasks.filter((t) => !['PENDING', 'RUNNING', 'QUEUED', 'BLOCKED', 'TERMINATING'].includes(t.state)).length;
  const total = Math.max(tasks.length, 1);
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${tasks.length} tasks`;
}

export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Shows run progress: on a terminal a block redrawn in place with a progress bar; otherwise (CI logs) a line per
 * run whenever it changes, and a "still waiting for" line every `quietMs` without changes.
 */
export class ProgressView {
  private drawn = 0;
  private last = new Map<string, string>();
  private lastPrint: number;

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
    private readonly quietMs = 15_000,
  ) {
    this.lastPrint = now();
  }

  show(runs: RunProgress[], elapsedMs: number): void {
    const lines = progressLines(runs);
    if (this.out.isTTY) {
      const block = [`${progressBar(runs)}  ${secs(elapsedMs)}  ${waitingFor(runs)}`, ...lines];
      const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
      this.out.write(`${up}${block.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
      this.drawn = block.length;
      return;
    }
    let changed = false;
    runs.forEach((r, i) => {
      const text = lines[i]!;
      // Elapsed seconds alone do not make a change worth a line.
      const key = text.replace(/\d+s\b/g, '');
      if (this.last.get(r.runId) !== key) {
        this.last.set(r.runId, key);
        this.out.write(`${text}\n`);
        changed = true;
      }
    });
    if (changed) this.lastPrint = this.now();
    else if (this.now() - this.lastPrint >= this.quietMs) {
      this.out.write(`  ... ${secs(elapsedMs)}: ${waitingFor(runs)}\n`);
      this.lastPrint = this.now();
    }
  }
}
