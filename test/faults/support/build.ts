import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The processes the suite kills (functions host, Service Bus emulator) run compiled JavaScript, like `npm start`.
 * They are compiled once into .orbiter/faults-build (not dist/, which a running `npm start` may be using), and again
 * only when a source under functions/, shared/ or local/ is newer than the last build. Type errors are `npm run
 * typecheck`'s business: this emit skips the checker.
 */
const sourceDirs = ['functions', 'shared', 'local', 'config'];

function newestSource(repoRoot: string): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'runner') walk(p);
      } else if (/\.(ts|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of sourceDirs) if (existsSync(join(repoRoot, d))) walk(join(repoRoot, d));
  return Math.max(newest, statSync(join(repoRoot, 'tsconfig.json')).mtimeMs);
}

export function ensureFaultsBuild(repoRoot: string): string {
  const outDir = join(repoRoot, '.orbiter', 'faults-build');
  const stamp = join(outDir, '.built-from');
  const want = String(newestSource(repoRoot));
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return outDir;
  // One builder at a time (jest may run several suite files in parallel workers).
  const lock = `${outDir}.lock`;
  mkdirSync(join(repoRoot, '.orbiter'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return outDir;
      // A lock left by a killed builder is stale after 2 minutes.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.json'), '--noCheck', '--outDir', outDir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    writeFileSync(stamp, want);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return outDir;
}
