import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseJobSettings, type JobSettings } from './jobSettings';

/**
 * Reads a Databricks Asset Bundle (databricks.yml + `include:` files) for one target the way `databricks bundle
 * deploy` composes it: ${var.*} resolved (BUNDLE_VAR_<name> env, target variables, defaults), target `resources`
 * merged over the top level (tasks by task_key, parameters by name), relative notebook and wheel paths resolved
 * against the file that names them. It gives the Jobs API settings `localDeploy` creates through jobs/create: the
 * fast path for tests; `npm start` deploys with the official CLI.
 */

/** A job's settings as the bundle defines them; notebook_path and whl values are absolute local paths. */
export interface BundleJobSettings {
  /** Resource key in the bundle (resources.jobs.<key>). */
  key: string;
  settings: JobSettings;
}

export interface BundleArtifact {
  /** Absolute folder the build runs in. */
  path: string;
  build?: string;
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
  jobs: BundleJobSettings[];
  artifacts: BundleArtifact[];
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

/** Resolves relative notebook and wheel paths of every job in `resources` against `fileDir` (in place). */
function resolveNotebookPaths(resources: unknown, fileDir: string): void {
  if (!isObj(resources) || !isObj(resources['jobs'])) return;
  const local = (p: string): string => (p.startsWith('${') || isAbsolute(p) ? p : resolve(fileDir, p));
  for (const job of Object.values(resources['jobs'])) {
    if (!isObj(job) || !Array.isArray(job['tasks'])) continue;
    for (const task of job['tasks']) {
      if (!isObj(task)) continue;
      const nb = task['notebook_task'];
      if (isObj(nb) && typeof nb['notebook_path'] === 'string') nb['notebook_path'] = local(nb['notebook_path']);
      for (const lib of Array.isArray(task['libraries']) ? task['libraries'] : [])
        if (isObj(lib) && typeof lib['whl'] === 'string') lib['whl'] = local(lib['whl']);
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
  const jobs: BundleJobSettings[] = [];
  for (const [key, rawJob] of Object.entries(jobsDoc)) {
    // Variables may themselves reference variables (complex ones too); three passes cover the bundle's nesting.
    const resolvedJob = substitute(substitute(substitute(rawJob, lookup), lookup), lookup);
    try {
      jobs.push({ key, settings: parseJobSettings(resolvedJob, `resources.jobs.${key}`) });
    } catch (err) {
      throw new Error(`${mainPath}: ${(err as Error).message}`);
    }
  }
  const names = new Set<string>();
  for (const j of jobs) {
    const name = j.settings.name ?? j.key;
    if (names.has(name)) throw new Error(`${mainPath}: two jobs are named "${name}"`);
    names.add(name);
  }
  const artifacts: BundleArtifact[] = Object.values(isObj(main['artifacts']) ? main['artifacts'] : {})
    .filter(isObj)
    .map((a) => ({
      path: resolve(root, typeof a['path'] === 'string' ? a['path'] : '.'),
      ...(typeof a['build'] === 'string' ? { build: a['build'] } : {}),
    }));
  return { name: bundleName, target: targetName, root, jobs, artifacts };
}
