import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const localSettingsFile = z.object({ IsEncrypted: z.boolean().optional(), Values: z.record(z.string(), z.string()).default({}) });

/** local.settings.json `Values`, as `func start` reads them (the file is git-ignored; an example is committed). */
export function readLocalSettings(repoRoot: string): Record<string, string> {
  const file = join(repoRoot, 'local.settings.json');
  return existsSync(file) ? readSettingsFile(file) : {};
}

/** The `Values` of a file in local.settings.json's shape, validated. */
export function readSettingsFile(file: string): Record<string, string> {
  const parsed = localSettingsFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.Values;
}

/**
 * The environment the functions see locally: the stack's own endpoints, overridden by local.settings.json, overridden
 * by the process environment (as the real host lets app settings win). In replay mode the NASA URLs point at the
 * replay server whatever else says.
 */
export function mergeSettings(
  stackDefaults: Record<string, string>,
  localSettings: Record<string, string>,
  env: Record<string, string | undefined>,
  replayUrls: Record<string, string> | undefined,
): Record<string, string> {
  const fromEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { ...stackDefaults, ...localSettings, ...fromEnv, ...(replayUrls ?? {}) };
}
