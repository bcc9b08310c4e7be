import type { Command } from 'commander';
import { createTokenProvider } from 'orbiter/shared/databricks/auth';
import { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import { formatReport } from '../optimize/format';
import { liveReport } from '../optimize/live';
import { CliError, ExitCode } from './exitCodes';
import type { CliIO } from './io';
import { cliSettings } from './settings';

export interface OptimizeDeps {
  /** A Jobs API client (tests); default: DATABRICKS_HOST + DATABRICKS_AUTH settings. */
  jobsClient?: DatabricksJobsClient;
  now?: () => Date;
}

/** --since: ISO time, or a relative 7d / 24h / 90m. */
export function parseSince(v: string, now: Date): Date {
  const rel = /^(\d+)([dhm])$/.exec(v.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[rel[2] as 'd' | 'h' | 'm']);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new CliError(`--since expects an ISO time or a duration like 7d, 24h, 90m; got "${v}"`, ExitCode.usage);
  return new Date(t);
}

async function jobsClientFrom(io: CliIO, host: string | undefined): Promise<DatabricksJobsClient> {
  const s = cliSettings(io.cwd, io.env);
  const url = host ?? s['DATABRICKS_HOST'];
  if (!url)
    throw new CliError('no Databricks workspace: pass --host or set DATABRICKS_HOST (the local stack prints its emulator URL)', ExitCode.usage);
  const auth = s['DATABRICKS_AUTH'] ?? 'entra';
  if (auth === 'pat' && !s['DATABRICKS_TOKEN']) throw new CliError('DATABRICKS_AUTH=pat needs DATABRICKS_TOKEN', ExitCode.usage);
  const tokenProvider = await createTokenProvider(auth === 'pat' ? { auth: 'pat', token: s['DATABRICKS_TOKEN']! } : { auth: 'entra' });
  return new DatabricksJobsClient({ host: url, tokenProvider });
}

export function registerOptimize(program: Command, io: CliIO, deps: OptimizeDeps): void {
  const optimize = program.command('optimize').description('performance and cost: run metrics, cost estimates, sizing recommendations');
  optimize
    .command('report')
    .description('per job and task: durations, rows, bytes, queue time, cluster, estimated DBU and cost, recommendations')
    .option('--since <when>', 'runs started at or after (ISO time or 7d / 24h / 90m)', '7d')
    .option('--job <name...>', 'only these job names')
    .option('--host <url>', 'Databricks workspace URL (default: DATABRICKS_HOST)')
    .option('--rates <file>', 'rate table', 'config/cost-rates.json')
    .option('--catalog <file>', 'job catalog (coalescing windows)', 'config/job-catalog.json')
    .option('--json', 'print the report as JSON')
    .action(async (o: { since: string; job?: string[]; host?: string; rates: string; catalog: string; json?: boolean }) => {
      const now = deps.now?.() ?? new Date();
      const since = parseSince(o.since, now);
      const client = deps.jobsClient ?? (await jobsClientFrom(io, o.host));
      const report = await liveReport({
        client,
        root: io.cwd,
        since,
        now,
        ratesPath: o.rates,
        catalogPath: o.catalog,
        ...(o.job ? { jobNames: o.job } : {}),
      });
      if (o.json) io.out(JSON.stringify(report, null, 2));
      else for (const l of formatReport(report)) io.out(l);
    });
}
