import { Command, CommanderError } from 'commander';
import { OrbiterError } from 'orbiter/shared/errors';
import { ORBITER_VERSION } from 'orbiter/shared/version';
import type { BusFactory } from './bus';
import { registerDlq } from './dlq';
import { registerEvents } from './events';
import { CliError, ExitCode } from './exitCodes';
import { registerIngest, type IngestDeps } from './ingest';
import type { CliIO } from './io';
import { registerOptimize, type OptimizeDeps } from './optimize';
import { registerQuality, type QualityDeps } from './quality';
import { registerRuns, type RunsDeps } from './runs';

export interface CliDeps extends RunsDeps, IngestDeps, OptimizeDeps {
  bus?: BusFactory;
  quality?: QualityDeps;
}

const EXIT_CODES_HELP = `
Exit codes:
  0 ok   1 failure   2 usage / invalid request   3 not found   4 conflict
  5 unauthorized   6 unavailable / timed out`;

export function buildProgram(io: CliIO, deps: CliDeps = {}): Command {
  const program = new Command('orbiter')
    .description('Orbiter command line: runs, ingestion, run events, dead letters, data quality and cost/sizing')
    .version(ORBITER_VERSION)
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  registerRuns(program, io, deps);
  registerIngest(program, io, deps);
  registerEvents(program, io, deps);
  registerDlq(program, io, deps);
  registerOptimize(program, io, deps);
  registerQuality(program, io, deps.quality ?? {});
  // Sub-commands inherit the exit override and output, so usage errors surface as CommanderError (exit 2).
  const apply = (c: Command): void => {
    for (const sub of c.commands) {
      sub.exitOverride().configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
      apply(sub);
    }
  };
  apply(program);
  return program;
}

/** Runs the CLI and returns its exit code (never calls process.exit, so tests can call it). */
export async function runCli(argv: readonly string[], io: CliIO, deps: CliDeps = {}): Promise<number> {
  const program = buildProgram(io, deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      // A CliError thrown inside an option parser arrives wrapped by commander.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof CliError) {
      io.err(`orbiter: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof OrbiterError) {
      io.err(`orbiter: ${err.message}`);
      return err.code === 'ConfigInvalid' || err.code === 'InvalidArgument'
        ? ExitCode.usage
        : err.code === 'NotFound'
          ? ExitCode.notFound
          : ExitCode.failure;
    }
    io.err(`orbiter: ${err instanceof Error ? err.message : String(err)}`);
    return ExitCode.failure;
  }
}
