import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import axios, { type AxiosInstance } from 'axios';
import { loadBundle, type LoadBundleOptions, type LoadedBundle } from './bundleJobs';
import { startDatabricksEmulator, type DatabricksEmulator, type DatabricksEmulatorOptions } from './emulator';
import type { JobSettings } from './jobSettings';
import { findRepoRoot } from './repoRoot';

const exec = promisify(execFile);

/**
 * A quick deploy of a bundle's jobs into a Databricks workspace through the public APIs only (workspace-files
 * import-file, jobs/create, jobs/reset): the notebooks and wheels the jobs name are uploaded under the bundle's
 * workspace folder, then each job is created or reset by name with its paths pointing there. It skips what tests
 * do not need from `databricks bundle deploy` (sync of unreferenced files, deployment state, permissions, locks),
 * so it takes well under a second; `npm start` and the CLI conformance suite deploy with the official CLI.
 */

export interface LocalDeployOptions extends LoadBundleOptions {
  host: string;
  token: string;
  /** Path of the bundle's databricks.yml. */
  bundlePath: string;
  /** Environment of the artifact build command (e.g. PATH with the bundle's Python first). */
  buildEnv?: Record<string, string | undefined>;
}

export interface LocalDeployResult {
  /** Workspace folder of the deployment (like the CLI's workspace.root_path). */
  rootPath: string;
  /** Job ids by resource key. */
  jobIds: Record<string, number>;
  /** Job ids by job name. */
  jobIdsByName: Record<string, number>;
}

function expandWheelGlob(pattern: string): string[] {
  const dir = dirname(pattern);
  const re = new RegExp(
    `^${basename(pattern)
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => re.test(f))
        .sort()
        .map((f) => `${dir}${sep}${f}`)
    : [];
}

/**
 * The lock file that serialises builds in a bundle folder on this machine: the quick deploy and the CLI's
 * `bundle deploy` (packages/local-stack/src/bundleDeploy.ts) both build the wheel into <folder>/dist.
 */
export function artifactLock(folder: string): string {
  return join(tmpdir(), `orbiter-artifact-${createHash('sha256').update(folder).digest('hex').slice(0, 16)}.lock`);
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['dist', 'build', 'tests', '.databricks', '__pycache__'].includes(entry.name) || entry.name.endsWith('.egg-info')) continue;
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The wheels a library glob names, built by the bundle's artifact when none is newer than the artifact's sources.
 * Builds are serialised per artifact folder (flock) and the wheels copied aside, so parallel test workers neither
 * build twice nor read a wheel being rewritten.
 */
async function wheelsFor(bundle: LoadedBundle, pattern: string, env: Record<string, string | undefined>): Promise<string[]> {
  const artifact = bundle.artifacts.find((a) => pattern.startsWith(`${a.path}${sep}`) && a.build);
  const fresh = (): string[] => {
    const found = expandWheelGlob(pattern);
    if (!artifact) return found;
    const sources = newestSource(artifact.path);
    return found.length > 0 && found.every((w) => statSync(w).mtimeMs >= sources) ? found : [];
  };
  const lock = artifactLock(artifact?.path ?? dirname(pattern));
  const copyDir = mkdtempSync(join(tmpdir(), 'orbiter-wheels-'));
  // Under the lock: check freshness, build if needed, copy the wheels out.
  const script = `${artifact?.build ? `fresh=${fresh().length > 0 ? 1 : 0}; [ "$fresh" = 1 ] || { ${artifact.build}; } >&2 && ` : ''}cp ${JSON.stringify(dirname(pattern))}/${basename(pattern)} ${JSON.stringify(copyDir)}/`;
  try {
    await exec('flock', [lock, 'bash', '-c', script], {
      cwd: artifact?.path ?? dirname(pattern),
      env: { ...process.env, ...env },
      maxBuffer: 8 * 1024 * 1024,
    });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr ?? (err as Error).message;
    throw new Error(`no wheel for ${pattern}${artifact?.build ? ` (artifact build "${artifact.build}" in ${artifact.path})` : ''}: ${detail}`, {
      cause: err,
    });
  }
  return readdirSync(copyDir)
    .sort()
    .map((f) => join(copyDir, f));
}

async function upload(api: AxiosInstance, workspacePath: string, file: string): Promise<void> {
  await api.post('/api/2.0/workspace/mkdirs', { path: dirname(workspacePath) });
  await api.post(`/api/2.0/workspace-files/import-file/${encodeURIComponent(workspacePath.replace(/^\//, ''))}`, readFileSync(file), {
    params: { overwrite: true },
    headers: { 'Content-Type': 'application/octet-stream' },
  });
}

/** PATH with the bundle's build environment first (scripts/setup-bundle-python.sh), when it exists. */
function defaultBuildEnv(): Record<string, string | undefined> {
  const bin = join(findRepoRoot(), '.orbiter', 'bundle-python', 'bin');
  return existsSync(bin) ? { PATH: `${bin}:${process.env['PATH'] ?? ''}` } : {};
}

export async function deployBundleJobs(options: LocalDeployOptions): Promise<LocalDeployResult> {
  const bundle = loadBundle(options.bundlePath, options);
  const api = axios.create({ baseURL: options.host, headers: { Authorization: `Bearer ${options.token}` }, timeout: 30_000 });
  const me = (await api.get<{ userName: string }>('/api/2.0/preview/scim/v2/Me')).data.userName;
  const rootPath = `/Workspace/Users/${me}/.bundle/${bundle.name}/${bundle.target ?? 'default'}`;
  const uploaded = new Map<string, string>();
  const inWorkspace = async (local: string, kind: 'file' | 'wheel'): Promise<string> => {
    const known = uploaded.get(local);
    if (known) return known;
    const target =
      kind === 'wheel'
        ? `${rootPath}/artifacts/.internal/${basename(local)}`
        : `${rootPath}/files/${relative(bundle.root, local).split(sep).join('/')}`;
    await upload(api, target, local);
    // A notebook source file becomes a notebook named without its extension, as in `bundle deploy`.
    const path =
      kind === 'file' && /\.py$/.test(local) && readFileSync(local, 'utf8').startsWith('# Databricks notebook source')
        ? target.replace(/\.py$/, '')
        : target;
    uploaded.set(local, path);
    return path;
  };

  const builtWheels = new Map<string, string[]>();
  const jobIds: Record<string, number> = {};
  const jobIdsByName: Record<string, number> = {};
  for (const { key, settings } of bundle.jobs) {
    const tasks = [];
    for (const task of settings.tasks ?? []) {
      const out: Record<string, unknown> = { ...task };
      if (task.notebook_task) {
        const file = task.notebook_task.notebook_path;
        // As the CLI: a local notebook reference names an existing file, extension included.
        if (!/\.(py|sql|scala|r|ipynb)$/i.test(file) || !existsSync(file))
          throw new Error(
            `${options.bundlePath}: job ${key} task ${task.task_key}: notebook ${file} not found (a path with its extension, .py etc.)`,
          );
        out['notebook_task'] = { ...task.notebook_task, notebook_path: await inWorkspace(file, 'file') };
      }
      if (task.libraries) {
        const libraries = [];
        for (const lib of task.libraries) {
          if (typeof lib.whl !== 'string' || !lib.whl.includes('*')) {
            libraries.push(typeof lib.whl === 'string' && existsSync(lib.whl) ? { whl: await inWorkspace(lib.whl, 'wheel') } : lib);
            continue;
          }
          let wheels = builtWheels.get(lib.whl);
          if (!wheels) {
            wheels = await wheelsFor(bundle, lib.whl, options.buildEnv ?? defaultBuildEnv());
            builtWheels.set(lib.whl, wheels);
          }
          for (const w of wheels) libraries.push({ whl: await inWorkspace(w, 'wheel') });
        }
        out['libraries'] = libraries;
      }
      tasks.push(out);
    }
    const body: JobSettings = { ...settings, ...(settings.tasks ? { tasks } : {}) } as JobSettings;
    const name = settings.name ?? key;
    const existing = (await api.get<{ jobs?: { job_id: number }[] }>('/api/2.2/jobs/list', { params: { name } })).data.jobs ?? [];
    let id: number;
    if (existing[0]) {
      id = existing[0].job_id;
      await api.post('/api/2.2/jobs/reset', { job_id: id, new_settings: body });
    } else {
      id = (await api.post<{ job_id: number }>('/api/2.2/jobs/create', body)).data.job_id;
    }
    jobIds[key] = id;
    jobIdsByName[name] = id;
  }
  return { rootPath, jobIds, jobIdsByName };
}

export interface EmulatorWithBundle {
  emulator: DatabricksEmulator;
  deployed: LocalDeployResult;
}

/** Starts the emulator and quick-deploys a bundle's jobs into it (tests, bench, the fault harness). */
export async function startEmulatorWithBundle(
  options: DatabricksEmulatorOptions,
  bundle: Omit<LocalDeployOptions, 'host' | 'token'>,
): Promise<EmulatorWithBundle> {
  const emulator = await startDatabricksEmulator(options);
  try {
    return { emulator, deployed: await deployBundleJobs({ ...bundle, host: emulator.url, token: emulator.token }) };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}
