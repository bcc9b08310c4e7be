import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The local host's function key: ORBITER_FUNCTION_KEY when set, otherwise generated once and kept in a git-ignored
 * file, so curl examples keep working across restarts.
 */
export function resolveFunctionKey(envKey: string | undefined, keyFile: string): { key: string; origin: 'env' | 'file' | 'generated' } {
  if (envKey) return { key: envKey, origin: 'env' };
  if (existsSync(keyFile)) {
    const key = readFileSync(keyFile, 'utf8').trim();
    if (key.length >= 16) return { key, origin: 'file' };
  }
  const key = randomBytes(24).toString('base64url');
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  return { key, origin: 'generated' };
}
