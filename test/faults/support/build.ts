import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The processes the suite kills (functions host, Service Bus emulator) run compiled JavaScript, like `npm start`:
 * `tsc -b tsconfig.build.json` (incremental, so a no-op when nothing changed) builds each package's dist/. Returns
 * the repository root; the scripts are packages/<name>/dist/main.js.
 */
export function ensureFaultsBuild(repoRoot: string): string {
  // One builder at a time (jest may run several suite files in parallel workers).
  const lock = join(repoRoot, '.orbiter', 'faults-build.lock');
  mkdirSync(join(repoRoot, '.orbiter'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed builder is stale after 2 minutes.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(repoRoot, 'tsconfig.build.json')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return repoRoot;
}
