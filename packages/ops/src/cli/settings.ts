import { loadConfig, type OrbiterConfig } from 'orbiter/shared/config';
import { readLocalSettings } from '@orbiter/functions-host/settings';

/** Settings as the functions see them locally: local.settings.json Values (in cwd), overridden by the environment. */
export function cliSettings(cwd: string, env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...readLocalSettings(cwd), ...env };
}

export const cliConfig = (cwd: string, env: Record<string, string | undefined>): OrbiterConfig => loadConfig(cliSettings(cwd, env));
