import { join } from 'node:path';
import { loadConfig, type OrbiterConfig } from 'orbiter/shared/config';
import { isOrbiterError, OrbiterError } from 'orbiter/shared/errors';
import { readLocalSettings } from '@orbiter/functions-host/settings';
import { pidAlive, readStackSettings, stackSettingsPath, type StackSettingsRead } from './stackSettings';

/** The local stack's data folder as the CLI sees it: $ORBITER_DATA_DIR, else .orbiter in the working directory. */
export const cliDataDir = (cwd: string, env: Record<string, string | undefined>): string => env['ORBITER_DATA_DIR'] || join(cwd, '.orbiter');

/**
 * Settings as the functions see them locally: what the running local stack published (its ports, connection strings,
 * replay URLs), overridden by local.settings.json Values (in cwd), overridden by the environment. So nothing has to be
 * written by hand while `npm start` runs, and anything set explicitly still wins.
 */
export function cliSettings(
  cwd: string,
  env: Record<string, string | undefined>,
  alive: (pid: number) => boolean = pidAlive,
): Record<string, string | undefined> {
  const stack = readStackSettings(cliDataDir(cwd, env), alive);
  return { ...(stack.kind === 'ok' ? stack.settings.Values : {}), ...readLocalSettings(cwd), ...env };
}

/** A hint for a missing setting: start the local stack, or why its published settings were not used. */
export function stackHint(cwd: string, env: Record<string, string | undefined>, alive: (pid: number) => boolean = pidAlive): string {
  const r: StackSettingsRead = readStackSettings(cliDataDir(cwd, env), alive);
  switch (r.kind) {
    case 'ok':
      return `the running local stack's settings (${r.file}) do not set it`;
    case 'stale':
      return `the local stack that wrote ${r.file} (pid ${r.pid}) is no longer running: start it with npm start`;
    case 'invalid':
      return `${r.file} is not a local stack settings file (${r.reason})`;
    default:
      return `start the local stack (npm start), which publishes its settings in ${stackSettingsPath(cliDataDir(cwd, env))}, or set it in local.settings.json or the environment`;
  }
}

export function cliConfig(cwd: string, env: Record<string, string | undefined>, alive: (pid: number) => boolean = pidAlive): OrbiterConfig {
  try {
    return loadConfig(cliSettings(cwd, env, alive));
  } catch (err) {
    if (!isOrbiterError(err, 'ConfigInvalid')) throw err;
    throw new OrbiterError('ConfigInvalid', `${err.message}\n(${stackHint(cwd, env, alive)})`, { cause: err });
  }
}
