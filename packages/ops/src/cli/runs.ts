import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { RunApiClient, type ApiRun } from './apiClient';
import { CliError, ExitCode } from './exitCodes';
import { durationText, runDetails, runDurationMs, table } from './format';
import type { CliIO } from './io';
import { cliDataDir, cliSettings } from './settings';

const terminal = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RunsDeps {
  fetch?: typeof fetch;
  /** Poll interval of --wait (default 2000 ms). */
  pollMs?: number;
}

interface ApiOpts {
  api?: string;
  key?: string;
}

/**
 * --key, else ORBITER_FUNCTION_KEY (environment, local.settings.json or the running local stack's settings), else the
 * key the local stack generated into its data folder.
 */
export function functionKey(o: ApiOpts, io: CliIO): string | undefined {
  if (o.key) return o.key;
  const fromSettings = cliSettings(io.cwd, io.env)['ORBITER_FUNCTION_KEY'];
  if (fromSettings) return fromSettings;
  const file = join(cliDataDir(io.cwd, io.env), 'function-key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

const DEFAULT_API = 'http://127.0.0.1:7071/api';

/** --api, else ORBITER_API_URL (environment, local.settings.json, or the running local stack's own host port). */
export const apiUrl = (o: ApiOpts, io: CliIO): string => o.api ?? cliSettings(io.cwd, io.env)['ORBITER_API_URL'] ?? DEFAULT_API;

const client = (o: ApiOpts, io: CliIO, deps: RunsDeps): RunApiClient => new RunApiClient(apiUrl(o, io), functionKey(o, io), deps.fetch ?? fetch);

const parseParam = (v: string, prev: Record<string, string>): Record<string, string> => {
  const i = v.indexOf('=');
  if (i <= 0) throw new CliError(`--param expects key=value, got "${v}"`, ExitCode.usage);
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
};

/** Polls a run until it is terminal, printing each state change to stderr; exit 1 unless it succeeded. */
async function waitFor(api: RunApiClient, runId: string, io: CliIO, pollMs: number, timeoutS: number): Promise<ApiRun> {
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  const started = Date.now();
  for (;;) {
    const r = await api.get(runId);
    if (r.state !== last) {
      io.err(`[${durationText(Date.now() - started) || '0s'}] ${runId} ${r.state}${r.resultState ? ` (${r.resultState})` : ''}`);
      last = r.state;
    }
    if (terminal.has(r.state)) return r;
    if (Date.now() > deadline) throw new CliError(`run ${runId} still ${r.state} after ${timeoutS}s`, ExitCode.unavailable);
    await sleep(pollMs);
  }
}

export function registerRuns(program: Command, io: CliIO, deps: RunsDeps): void {
  const runs = program
    .command('runs')
    .description('list, show, request and cancel pipeline runs (Run API)')
    .option('--api <url>', `Run API base URL (default: $ORBITER_API_URL, the running local stack's, then ${DEFAULT_API})`)
    .option('--key <key>', "function key (default: $ORBITER_FUNCTION_KEY, the running local stack's, then .orbiter/function-key)");
  const apiOpts = (): ApiOpts => runs.opts<ApiOpts>();

  runs
    .command('list')
    .description('list runs, newest first (--since narrows to recent runs)')
    .option('--dataset <dataset>')
    .option('--state <state>', 'requested|dispatched|running|succeeded|failed|cancelled|skipped')
    .option('--since <iso>', 'runs requested at or after (ISO time)')
    .option('--limit <n>', 'page size', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new CliError('--limit expects a positive integer', ExitCode.usage);
      return n;
    })
    .option('--cursor <cursor>', 'next page (printed after a page)')
    .option('--json', 'print the API response as JSON')
    .action(async (o: { dataset?: string; state?: string; since?: string; limit?: number; cursor?: string; json?: boolean }) => {
      const page = await client(apiOpts(), io, deps).list({
        ...(o.dataset ? { dataset: o.dataset } : {}),
        ...(o.state ? { state: o.state } : {}),
        ...(o.since ? { since: o.since } : {}),
        ...(o.limit ? { limit: o.limit } : {}),
        ...(o.cursor ? { cursor: o.cursor } : {}),
      });
      if (o.json) return io.out(JSON.stringify(page, null, 2));
      if (page.runs.length === 0) io.err('no runs');
      else {
        const rows = page.runs.map((r) => [
          r.runId,
          r.dataset,
          r.state + (r.resultState && r.resultState !== 'SUCCESS' ? `/${r.resultState}` : ''),
          r.requestedAt,
          durationText(runDurationMs(r)),
          String(r.inputs?.length ?? ''),
        ]);
        for (const l of table(['RUN', 'DATASET', 'STATE', 'REQUESTED', 'DURATION', 'INPUTS'], rows)) io.out(l);
      }
      if (page.nextCursor) io.err(`more: --cursor ${page.nextCursor}`);
    });

  runs
    .command('show <runId>')
    .description('show one run')
    .option('--json', 'print the API response as JSON')
    .action(async (runId: string, o: { json?: boolean }) => {
      const r = await client(apiOpts(), io, deps).get(runId);
      for (const l of o.json ? [JSON.stringify(r, null, 2)] : runDetails(r)) io.out(l);
    });

  runs
    .command('logs <runId>')
    .description("print the tasks' logs (stdout/stderr), exit value and error, read through the Jobs API runs/get-output")
    .option('--task <key>', 'only this task (e.g. silver)')
    .option('--json', 'print the API response as JSON')
    .action(async (runId: string, o: { task?: string; json?: boolean }) => {
      const logs = await client(apiOpts(), io, deps).logs(runId, o.task);
      if (o.json) return io.out(JSON.stringify(logs, null, 2));
      for (const t of logs.tasks) {
        io.out(`=== ${t.taskKey} (${t.state}, Databricks run ${t.databricksRunId}) ===`);
        if (t.logsTruncated) io.out('[… earlier lines cut: only the tail is kept]');
        io.out(t.logs !== undefined ? t.logs.replace(/\n$/, '') : '(no logs)');
        if (t.output !== undefined) io.out(`--- exit value: ${t.output}`);
        if (t.error) io.out(`--- error: ${t.error}`);
        if (t.errorTrace) io.out(t.errorTrace.replace(/\n$/, ''));
      }
    });

  runs
    .command('request <dataset>')
    .description('request a pipeline run of a dataset (whole dataset, or a backfill --from/--to)')
    .option('--param <key=value>', 'job parameter (repeatable)', parseParam, {} as Record<string, string>)
    .option('--from <date>', 'backfill first day (YYYY-MM-DD)')
    .option('--to <date>', 'backfill last day (YYYY-MM-DD)')
    .option('--wait', 'wait until the run(s) finish; exit 1 if one did not succeed')
    .option('--timeout <seconds>', 'with --wait: give up after (exit 6)', (v) => Number(v), 3600)
    .option('--json', 'print the API response as JSON')
    .action(
      async (dataset: string, o: { param: Record<string, string>; from?: string; to?: string; wait?: boolean; timeout: number; json?: boolean }) => {
        if ((o.from === undefined) !== (o.to === undefined)) throw new CliError('--from and --to go together', ExitCode.usage);
        const api = client(apiOpts(), io, deps);
        const res = await api.request({
          dataset,
          ...(Object.keys(o.param).length ? { parameters: o.param } : {}),
          ...(o.from && o.to ? { from: o.from, to: o.to } : {}),
        });
        if (o.json) io.out(JSON.stringify(res, null, 2));
        else {
          for (const r of res.runs) io.out(`${r.runId}  ${r.state}${r.window ? `  ${r.window.start}..${r.window.end}` : ''}  inputs=${r.inputs}`);
          for (const w of res.skippedWindows ?? []) io.err(`skipped ${w.start}..${w.end}: no landed data`);
        }
        if (!o.wait) return;
        let failed = 0;
        for (const r of res.runs) {
          const done = await waitFor(api, r.runId, io, deps.pollMs ?? 2000, o.timeout);
          if (done.state !== 'succeeded') failed++;
        }
        if (failed) throw new CliError(`${failed} of ${res.runs.length} run(s) did not succeed`, ExitCode.failure);
      },
    );

  runs
    .command('cancel <runId>')
    .description('cancel a run (Databricks cancel when it is already submitted)')
    .option('--json', 'print the API response as JSON')
    .action(async (runId: string, o: { json?: boolean }) => {
      const r = await client(apiOpts(), io, deps).cancel(runId);
      io.out(o.json ? JSON.stringify(r, null, 2) : `${r.runId}  ${r.state}${r.cancelRequested ? '  (cancel sent to Databricks)' : ''}`);
    });
}
