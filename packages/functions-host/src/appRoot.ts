import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The Functions app the host serves: the nearest ancestor holding host.json, as `func start` expects; else the cwd. */
export function findAppRoot(start: string = process.cwd()): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'host.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}
