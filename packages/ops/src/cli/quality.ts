import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createStorageClients } from 'orbiter/shared/storage/clients';
import { localMonitoringData, type WatermarkRow } from '../alerts/data';
import { formatQuality, qualityView, readQuality } from '../dashboard/quality';
import { CliError, ExitCode } from './exitCodes';
import type { CliIO } from './io';
import { cliConfig, cliDataDir } from './settings';

export interface QualityDeps {
  /** The ingestion watermarks (default: Table OrbiterWatermarks of the configured storage). */
  watermarks?: () => Promise<WatermarkRow[]>;
  now?: () => Date;
}

/** The latest watermark per source among its streams. */
export function watermarkPerSource(rows: WatermarkRow[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const w of rows) if (w.nextStart && (!out.has(w.source) || w.nextStart > out.get(w.source)!)) out.set(w.source, w.nextStart);
  return out;
}

export function registerQuality(program: Command, io: CliIO, deps: QualityDeps): void {
  program
    .command('quality')
    .description('data quality per source: rows in bronze/silver/gold, quarantined rows and top reasons, watermark lag')
    .option('--file <path>', "data_quality.json of the visual insights job (default: the local stack's <data>/charts/data_quality.json)")
    .option('--json', 'print as JSON')
    .action(async (o: { file?: string; json?: boolean }) => {
      if (o.file && basename(o.file) !== 'data_quality.json')
        throw new CliError(`--file must name a data_quality.json (got ${o.file})`, ExitCode.usage);
      const dir = o.file ? dirname(resolve(io.cwd, o.file)) : join(cliDataDir(io.cwd, io.env), 'charts');
      const file = readQuality(dir);
      if (!file)
        throw new CliError(
          `no data-quality figures in ${join(dir, 'data_quality.json')}: the visual insights job writes them after the pipelines (npm start -- --once)`,
          ExitCode.notFound,
        );
      let marks = new Map<string, string>();
      try {
        const read = deps.watermarks ?? (() => localMonitoringData({ storage: createStorageClients(cliConfig(io.cwd, io.env)) }).watermarks());
        marks = watermarkPerSource(await read());
      } catch (err) {
        io.err(`orbiter: watermarks not read (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): lag not shown`);
      }
      const view = qualityView(file, marks, (deps.now ?? (() => new Date()))());
      if (o.json) return io.out(JSON.stringify(view, null, 2));
      for (const l of formatQuality(view)) io.out(l);
    });
}
