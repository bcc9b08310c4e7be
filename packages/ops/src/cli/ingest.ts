import type { Command } from 'commander';
import { sourceIds, type OrbiterConfig, type SourceId } from 'orbiter/shared/config';
import type { CycleOptions, CycleSummary } from 'orbiter/shared/ingest/ingestCycle';
import type { Logger } from 'orbiter/shared/logger';
import { createStorageClients } from 'orbiter/shared/storage/clients';
import { CliError, ExitCode } from './exitCodes';
import type { CliIO } from './io';
import { cliConfig } from './settings';

export interface IngestDeps {
  runIngestionCycle?: (o: CycleOptions) => Promise<CycleSummary>;
  config?: () => OrbiterConfig;
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

export function registerIngest(program: Command, io: CliIO, deps: IngestDeps): void {
  program
    .command('ingest')
    .description('ingestion')
    .command('now')
    .description('run one ingestion cycle now, in this process (settings from local.settings.json and the environment)')
    .option('--source <ids>', `comma-separated sources (${sourceIds.join(',')}); default INGEST_SOURCES`)
    .option('--from <date>', 'backfill first day (YYYY-MM-DD) instead of following the watermarks')
    .option('--to <date>', 'backfill last day (YYYY-MM-DD)')
    .option('--json', 'print the cycle summary as JSON')
    .action(async (o: { source?: string; from?: string; to?: string; json?: boolean }) => {
      if ((o.from === undefined) !== (o.to === undefined)) throw new CliError('--from and --to go together', ExitCode.usage);
      if ((o.from && !isoDate.test(o.from)) || (o.to && !isoDate.test(o.to))) throw new CliError('--from/--to expect YYYY-MM-DD', ExitCode.usage);
      const sources = o.source
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = sources?.filter((s) => !(sourceIds as readonly string[]).includes(s)) ?? [];
      if (unknown.length) throw new CliError(`unknown source(s): ${unknown.join(', ')} (known: ${sourceIds.join(', ')})`, ExitCode.usage);

      const config = deps.config ? deps.config() : cliConfig(io.cwd, io.env);
      const run = deps.runIngestionCycle ?? (await import('orbiter/shared/ingest/ingestCycle')).runIngestionCycle;
      // Library logs are warnings and errors only; progress lines below are the user-facing output.
      const logger: Logger = {
        debug() {},
        info() {},
        warn: (m, meta) => io.err(`warn: ${m}${meta ? ` ${JSON.stringify(meta)}` : ''}`),
        error: (m, meta) => io.err(`error: ${m}${meta ? ` ${JSON.stringify(meta)}` : ''}`),
      };
      const started = Date.now();
      io.err(`ingesting ${(sources ?? config.INGEST_SOURCES).join(', ')}${o.from ? ` ${o.from}..${o.to}` : ''}…`);
      const summary = await run({
        config,
        storage: createStorageClients(config),
        logger,
        ...(sources ? { sources: sources as SourceId[] } : {}),
        ...(o.from && o.to ? { range: { from: o.from, to: o.to } } : {}),
        onProgress: (s, w) =>
          io.err(`  ${s.source}/${s.stream} ${w.start}..${w.end}  records=${s.records} blobs=${s.blobsWritten} (+${s.blobsSkipped} unchanged)`),
      });
      if (o.json) io.out(JSON.stringify(summary, null, 2));
      else {
        for (const s of summary.streams) {
          io.out(
            `${`${s.source}/${s.stream}`.padEnd(22)} windows=${s.windows.length} records=${s.records} landed=${s.landed.length} quarantined=${s.quarantined.length}${s.watermark ? ` watermark=${s.watermark}` : ''}${s.errors.length ? `  ERRORS: ${s.errors.join('; ')}` : ''}`,
          );
        }
      }
      io.err(`done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      if (!summary.ok) throw new CliError('ingestion finished with errors', ExitCode.failure);
    });
}
