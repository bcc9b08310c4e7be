import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { sourceIds, type SourceId } from 'orbiter/shared/config';
import { readStackSettings } from '@orbiter/ops/cli/stackSettings';

/** `--source a,b`: known source ids, each once; an unknown one is named with the known ones. */
export function parseSources(value: string): SourceId[] {
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new InvalidArgumentError(`name at least one source (${sourceIds.join(', ')})`);
  const unknown = ids.filter((s) => !(sourceIds as readonly string[]).includes(s));
  if (unknown.length) throw new InvalidArgumentError(`unknown source(s): ${unknown.join(', ')} (known: ${sourceIds.join(', ')})`);
  return [...new Set(ids)] as SourceId[];
}

/**
 * What `--reset` clears: the stack's state, all of it under the data folder (Azurite blobs and tables — so the raw
 * lake, run records and ingestion watermarks —, the Service Bus journal, the Databricks workspace and runs, the local
 * lake, telemetry, charts). The function key and the Delta jars stay: they are setup, not state.
 */
export const resetStateDirs = ['azurite', 'servicebus', 'databricks', 'lake', 'telemetry', 'charts'] as const;

/**
 * Clears the state folders under `dataDir`, refusing a data folder that is not a dedicated one (the filesystem root,
 * the home folder, the repository itself) and a stack that is still running on it. Returns the folders removed.
 */
export function resetState(dataDir: string, repoRoot: string, alive?: (pid: number) => boolean): string[] {
  const dir = resolve(dataDir);
  const forbidden = [resolve('/'), resolve(homedir()), resolve(repoRoot)];
  if (forbidden.includes(dir)) throw new Error(`--reset refuses data folder ${dir}: use a dedicated folder (default .orbiter)`);
  const running = readStackSettings(dir, alive);
  if (running.kind === 'ok') throw new Error(`--reset: a local stack (pid ${running.settings.pid}) is running on ${dir}; stop it first (Ctrl-C)`);
  const removed: string[] = [];
  for (const name of resetStateDirs) {
    const target = join(dir, name);
    const rel = relative(dir, target);
    // Defence in depth: only ever a direct child of the data folder.
    if (rel !== name || isAbsolute(rel)) throw new Error(`--reset: ${target} is outside ${dir}`);
    if (!existsSync(target)) continue;
    rmSync(target, { recursive: true, force: true });
    removed.push(target);
  }
  return removed;
}
