import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The nearest ancestor holding package.json (works from sources and from dist/). */
export function findRepoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
