import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { WorkspaceStore } from './workspaceStore';

const exec = promisify(execFile);

/** A library a task names cannot be installed; the task fails as on Databricks (library installation error). */
export class LibraryInstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LibraryInstallError';
  }
}

// Checks that every requirement the wheel declares is met by the interpreter's own environment: pip installs a
// wheel's dependencies from PyPI on a cluster; locally they must come from notebooks/requirements.txt.
const CHECK_REQUIREMENTS = `
import sys, importlib.metadata as md
from pip._vendor.packaging.requirements import Requirement
bad = []
for dist in md.distributions(path=[sys.argv[1]]):
    for spec in dist.requires or []:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            found = md.version(req.name)
        except md.PackageNotFoundError:
            bad.append(f"{spec} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(found, prereleases=True):
            bad.append(f"{spec} (found {found})")
print("; ".join(bad))
sys.exit(1 if bad else 0)
`;

export interface WheelInstallerOptions {
  /** The interpreter the notebooks run with (its site-packages is the cluster's preinstalled environment). */
  python: string;
  /** Installed wheels, one folder per wheel content hash (shareable between emulators on one machine). */
  cacheDir: string;
  workspace: WorkspaceStore;
  /** Pruning of the cache after each new install (defaults: LIBRARY_CACHE_RETENTION). */
  retention?: LibraryCacheRetention;
}

/**
 * Which installed wheels the cache keeps. Every deploy of changed notebook code is a new wheel, so without pruning
 * the cache only grows (a workstation had 75 of them after a few days of work). A wheel a task used lately stays,
 * however many newer ones there are: a warm cluster or another emulator sharing the cache may still import from it.
 */
export interface LibraryCacheRetention {
  /** Wheels kept by recency of use, newest first. */
  keep: number;
  /** A wheel used within this long is never removed. */
  minIdleMs: number;
}

export const LIBRARY_CACHE_RETENTION: LibraryCacheRetention = { keep: 8, minIdleMs: 24 * 60 * 60_000 };

const INSTALLED_MARKER = '.installed';
const WHEEL_DIR = /^[0-9a-f]{24}$/;
const TMP_DIR = /^[0-9a-f]{24}\.tmp-\d+$/;

/**
 * Removes installed wheels beyond `keep` most recently used and idle for longer than `minIdleMs` (last use = the
 * marker's modification time, renewed by every task that installs it), and leftovers of installs a killed process
 * left half done. Returns the folder names removed. Never throws: a cache it cannot tidy still works.
 */
export async function pruneLibraryCache(
  cacheDir: string,
  retention: LibraryCacheRetention = LIBRARY_CACHE_RETENTION,
  now: number = Date.now(),
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return [];
  }
  const used: { name: string; at: number }[] = [];
  const stale: string[] = [];
  for (const name of names) {
    if (TMP_DIR.test(name)) {
      const at = await stat(join(cacheDir, name)).then(
        (s) => s.mtimeMs,
        () => now,
      );
      if (now - at > retention.minIdleMs) stale.push(name);
    } else if (WHEEL_DIR.test(name)) {
      const at = await stat(join(cacheDir, name, INSTALLED_MARKER)).then(
        (s) => s.mtimeMs,
        () => Number.NaN,
      );
      // A wheel folder without its marker is another process's rename in flight, or not ours: left alone.
      if (!Number.isNaN(at)) used.push({ name, at });
    }
  }
  used.sort((a, b) => b.at - a.at);
  stale.push(
    ...used
      .slice(retention.keep)
      .filter((u) => now - u.at > retention.minIdleMs)
      .map((u) => u.name),
  );
  const removed: string[] = [];
  for (const name of stale) {
    try {
      await rm(join(cacheDir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      /* in use or gone: the next prune tries again */
    }
  }
  return removed;
}

/**
 * Installs a task's wheels (workspace paths, as the CLI deploys them) into per-wheel folders put on the notebook
 * process's PYTHONPATH, over the shared environment: the notebook imports the package from the wheel alone, so a
 * module missing from the wheel, or a dependency it does not declare correctly, fails the run as on Databricks.
 */
export class WheelInstaller {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly options: WheelInstallerOptions) {}

  /** Returns the folders to put on PYTHONPATH, in library order. */
  async install(libraries: string[]): Promise<string[]> {
    const dirs: string[] = [];
    for (const path of libraries) {
      if (!path.startsWith('/') || path.startsWith('/Volumes/') || path.startsWith('/dbfs/'))
        throw new LibraryInstallError(`Library ${path}: the local workspace installs wheels from workspace files only`);
      const local = this.options.workspace.localPath(path);
      if (!local || !existsSync(local)) throw new LibraryInstallError(`Library installation failed: ${path} does not exist in the workspace`);
      const content = await readFile(local);
      const hash = createHash('sha256').update(content).digest('hex').slice(0, 24);
      let job = this.pending.get(hash);
      if (!job) {
        job = this.installOnce(hash, local, path);
        this.pending.set(hash, job);
        // Only concurrent installs are shared: a failure is retried by the next run (the environment may have changed).
        job.catch(() => undefined).finally(() => this.pending.delete(hash));
      }
      dirs.push(await job);
    }
    return dirs;
  }

  private async installOnce(hash: string, wheel: string, workspacePath: string): Promise<string> {
    const dir = join(this.options.cacheDir, hash);
    const marker = join(dir, INSTALLED_MARKER);
    if (existsSync(marker)) {
      // Renews the wheel's last use, which pruning goes by; a failure only makes it look older.
      const now = new Date();
      await utimes(marker, now, now).catch(() => undefined);
      return dir;
    }
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    try {
      await exec(
        this.options.python,
        ['-m', 'pip', 'install', '--no-deps', '--no-index', '--disable-pip-version-check', '--quiet', '--target', tmp, wheel],
        {
          maxBuffer: 4 * 1024 * 1024,
        },
      );
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      const detail = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').slice(-3).join(' ');
      throw new LibraryInstallError(`Library installation failed for ${workspacePath} (${basename(wheel)}): ${detail}`);
    }
    try {
      await exec(this.options.python, ['-c', CHECK_REQUIREMENTS, tmp]);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      const unmet = ((err as { stdout?: string }).stdout ?? '').trim() || (err as Error).message;
      throw new LibraryInstallError(
        `Library installation failed for ${workspacePath}: requirements not met by the local environment: ${unmet}. ` +
          'Databricks would install them from PyPI; locally they come from notebooks/requirements.txt.',
      );
    }
    await writeFile(join(tmp, INSTALLED_MARKER), workspacePath);
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another emulator sharing the cache installed the same wheel meanwhile: use that one.
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(marker)) throw err;
    }
    await pruneLibraryCache(this.options.cacheDir, this.options.retention);
    return dir;
  }
}
