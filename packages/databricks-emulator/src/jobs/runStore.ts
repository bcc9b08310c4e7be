import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from './records';

interface PersistedState {
  version: 1;
  nextId: number;
  runs: RunRecord[];
}

/**
 * Runs by id, task runs by id (→ their parent run), idempotency tokens, and the id sequence; optionally kept in
 * <workDir>/databricks-emulator-state.json (written to a temp file and renamed, so a crash never leaves half a file).
 */
export class RunStore {
  readonly runs = new Map<number, RunRecord>();
  private readonly taskOwner = new Map<number, number>();
  private readonly tokens = new Map<string, number>();
  private nextId = 1001;
  private readonly statePath: string | undefined;

  constructor(workDir: string, persist: boolean) {
    mkdirSync(workDir, { recursive: true });
    this.statePath = persist ? join(workDir, 'databricks-emulator-state.json') : undefined;
  }

  id(): number {
    return this.nextId++;
  }

  add(run: RunRecord): void {
    this.runs.set(run.run_id, run);
    for (const t of [...run.tasks, ...(run.superseded ?? [])]) this.taskOwner.set(t.run_id, run.run_id);
    if (run.idempotency_token) this.tokens.set(run.idempotency_token, run.run_id);
  }

  /** Forgets a run, its task runs and its idempotency token (runs/delete). */
  delete(run: RunRecord): void {
    this.runs.delete(run.run_id);
    for (const t of [...run.tasks, ...(run.superseded ?? [])]) this.taskOwner.delete(t.run_id);
    if (run.idempotency_token && this.tokens.get(run.idempotency_token) === run.run_id) this.tokens.delete(run.idempotency_token);
    this.save();
  }

  /** Records that a task run (e.g. a repair's fresh attempt) belongs to run `runId`. */
  own(taskRunId: number, runId: number): void {
    this.taskOwner.set(taskRunId, runId);
  }

  run(runId: number): RunRecord | undefined {
    return this.runs.get(runId);
  }

  /** The run that owns task run `taskRunId`, if it is one. */
  ownerOf(taskRunId: number): RunRecord | undefined {
    const owner = this.taskOwner.get(taskRunId);
    return owner === undefined ? undefined : this.runs.get(owner);
  }

  byToken(token: string): number | undefined {
    return this.tokens.get(token);
  }

  save(): void {
    if (!this.statePath) return;
    const state: PersistedState = { version: 1, nextId: this.nextId, runs: [...this.runs.values()] };
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.statePath);
  }

  /** Loads the persisted runs (if any) and returns them. */
  load(): RunRecord[] {
    if (!this.statePath || !existsSync(this.statePath)) return [];
    const state = JSON.parse(readFileSync(this.statePath, 'utf8')) as PersistedState;
    this.nextId = Math.max(this.nextId, state.nextId);
    for (const run of state.runs) this.add(run);
    return state.runs;
  }
}
