import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The project the emulator serves: the nearest ancestor whose package.json declares npm workspaces (the repository
 * root, from src/ and dist/ alike), else the nearest holding a package.json, else the working directory.
 */
export function findRepoRoot(start: string = __dirname): string {
  let nearest: string | undefined;
  for (let dir = start; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      nearest ??= dir;
      if ((JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown }).workspaces) return dir;
    }
    if (dirname(dir) === dir) return nearest ?? process.cwd();
  }
}
