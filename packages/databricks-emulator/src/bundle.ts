import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { JobSettingsSchema, toEmulatorSettings, type EmulatorJob } from './jobs/jobSettings';

/**
 * Loads job definitions from a Databricks Asset Bundle (databricks.yml + `include:` files) the way
 * `databricks bundle deploy` would see them for one target: ${var.*} resolved (BUNDLE_VAR_<name> env, target
 * variables, defaults), target `resources` merged over the top level (tasks by task_key, parameters by name),
 * and relative notebook paths resolved against the file that names them.
 */

export type { EmulatorJobSettings, EmulatorTask } from './jobs/jobSettings';

/** A job read from a bundle. */
export interface BundleJob extends EmulatorJob {
  key: string;
}

export interface LoadBundleOptions {
  target?: string;
  /** Overrides like `--var name=value`; win over BUNDLE_VAR_* and target values. */
  variables?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
}

export interface LoadedBundle {
  name: string;
  target: string | undefined;
  root: string;
  jobs: BundleJob[];
}

type Doc = Record<string, unknown>;

function isObj(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readYaml(path: string): Doc {
  const doc: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (doc === null || doc === undefined) return {};
  if (!isObj(doc)) throw new Error(`${path}: a bundle file must be a YAML mapping`);
  return doc;
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '.git' || name === '.databricks') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(root, full, out);
    else out.push(relative(root, full).split(sep).join('/'));
  }
  return out;
}

function expandInclude(root: string, pattern: string): string[] {
  if (!/[*?]/.test(pattern)) return [resolve(root, pattern)];
  const re = globToRegExp(pattern.replace(/^\.\//, ''));
  return walk(root)
    .filter((p) => re.test(p))
    .sort()
    .map((p) => resolve(root, p));
}

/** Resolves relative notebook paths of every job in `resources` against `fileDir` (in place). */
function resolveNotebookPaths(resources: unknown, fileDir: string): void {
  if (!isObj(resources) || !isObj(resources['jobs'])) return;
  for (const job of Object.values(resources['jobs'])) {
    if (!isObj(job) || !Array.isArray(job['tasks'])) continue;
    for (const task of job['tasks']) {
      const nb = isObj(task) ? task['notebook_task'] : undefined;
      if (isObj(nb) && typeof nb['notebook_path'] === 'string') {
        const p = nb['notebook_path'];
        if (!p.startsWith('${') && !isAbsolute(p)) nb['notebook_path'] = resolve(fileDir, p);
      }
    }
  }
}

function mergeByKey(base: unknown[], over: unknown[], key: string): unknown[] {
  const out = base.map((x) => x);
  for (const item of over) {
    const k = isObj(item) ? item[key] : undefined;
    const i = k === undefined ? -1 : out.findIndex((x) => isObj(x) && x[key] === k);
    if (i >= 0) out[i] = deepMerge(out[i], item);
    else out.push(item);
  }
  return out;
}

function deepMerge(base: unknown, over: unknown, path: string[] = []): unknown {
  if (Array.isArray(base) && Array.isArray(over)) {
    const last = path[path.length - 1];
    if (last === 'tasks') return mergeByKey(base, over, 'task_key');
    if (last === 'parameters' || last === 'job_clusters') return mergeByKey(base, over, last === 'parameters' ? 'name' : 'job_cluster_key');
    return over;
  }
  if (isObj(base) && isObj(over)) {
    const out: Doc = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v, [...path, k]) : v;
    return out;
  }
  return over === undefined ? base : over;
}

function substitute(value: unknown, lookup: (ref: string) => unknown): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Za-z0-9_.-]+)\}$/.exec(value);
    if (whole) {
      const v = lookup(whole[1]!);
      return v === undefined ? value : v;
    }
    return value.replace(/\$\{([A-Za-z0-9_.-]+)\}/g, (m, ref: string) => {
      const v = lookup(ref);
      return v === undefined || isObj(v) || Array.isArray(v) ? m : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, lookup));
  if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, lookup)]));
  return value;
}

/** A stable 48-bit id from the job name (fits a JS number like Databricks' int64 ids in practice). */
export function jobIdFor(name: string): number {
  return parseInt(createHash('sha256').update(name).digest('hex').slice(0, 12), 16);
}

export function loadBundle(bundlePath: string, options: LoadBundleOptions = {}): LoadedBundle {
  const mainPath = resolve(bundlePath);
  const root = dirname(mainPath);
  const main = readYaml(mainPath);
  resolveNotebookPaths(main['resources'], root);
  let merged: Doc = { ...main };

  const includes = Array.isArray(main['include']) ? main['include'].filter((x): x is string => typeof x === 'string') : [];
  for (const pattern of includes) {
    for (const file of expandInclude(root, pattern)) {
      if (!existsSync(file)) throw new Error(`${mainPath}: included file ${file} does not exist`);
      const doc = readYaml(file);
      resolveNotebookPaths(doc['resources'], dirname(file));
      merged = deepMerge(merged, { resources: doc['resources'] ?? {}, variables: doc['variables'] ?? {} }) as Doc;
    }
  }

  const targets = isObj(main['targets']) ? main['targets'] : {};
  const targetName = options.target ?? Object.entries(targets).find(([, t]) => isObj(t) && t['default'] === true)?.[0] ?? Object.keys(targets)[0];
  if (options.target !== undefined && !(options.target in targets)) throw new Error(`${mainPath}: target "${options.target}" is not defined`);
  const target = targetName !== undefined && isObj(targets[targetName]) ? targets[targetName] : {};
  if (isObj(target['resources'])) {
    resolveNotebookPaths(target['resources'], root);
    merged = deepMerge(merged, { resources: target['resources'] }) as Doc;
  }

  const bundleName = isObj(main['bundle']) && typeof main['bundle']['name'] === 'string' ? main['bundle']['name'] : 'bundle';
  const varDefs = isObj(merged['variables']) ? merged['variables'] : {};
  const targetVars = isObj(target['variables']) ? target['variables'] : {};
  const env = options.env ?? process.env;
  const variable = (name: string): unknown => {
    if (options.variables && name in options.variables) return options.variables[name];
    const fromEnv = env[`BUNDLE_VAR_${name}`];
    if (fromEnv !== undefined) return fromEnv;
    if (name in targetVars) {
      const t = targetVars[name];
      return isObj(t) && 'default' in t ? t['default'] : t;
    }
    const def = varDefs[name];
    return isObj(def) ? def['default'] : def;
  };
  const lookup = (ref: string): unknown => {
    if (ref.startsWith('var.')) return variable(ref.slice(4));
    if (ref === 'bundle.name') return bundleName;
    if (ref === 'bundle.target' || ref === 'bundle.environment') return targetName;
    // Files sync to workspace.file_path, i.e. the bundle root; locally that is the directory itself.
    if (ref === 'workspace.file_path') return root;
    return undefined;
  };

  const resources = isObj(merged['resources']) ? merged['resources'] : {};
  const jobsDoc = isObj(resources['jobs']) ? resources['jobs'] : {};
  const jobs: BundleJob[] = [];
  for (const [key, rawJob] of Object.entries(jobsDoc)) {
    // Variables may themselves reference variables; two passes cover that without loops.
    const resolvedJob = substitute(substitute(rawJob, lookup), lookup);
    const parsed = JobSettingsSchema.safeParse(resolvedJob);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `resources.jobs.${key}.${i.path.join('.')}: ${i.message}`).join('; ');
      throw new Error(`${mainPath}: ${where}`);
    }
    if (!isObj(resolvedJob) || typeof resolvedJob['name'] !== 'string') throw new Error(`${mainPath}: resources.jobs.${key}.name: required`);
    const settings = toEmulatorSettings(resolvedJob, (path) => (!/\.(py|ipynb)$/.test(path) && existsSync(`${path}.py`) ? `${path}.py` : path));
    jobs.push({ key, job_id: jobIdFor(settings.name), settings });
  }
  const names = new Set<string>();
  for (const j of jobs) {
    if (names.has(j.settings.name)) throw new Error(`${mainPath}: two jobs are named "${j.settings.name}"`);
    names.add(j.settings.name);
  }
  return { name: bundleName, target: targetName, root, jobs };
}
