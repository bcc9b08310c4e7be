import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';

/** Loads notebooks/databricks.yml and its includes the way the Databricks CLI composes them (offline). */
export const REPO_ROOT = resolve(__dirname, '../../../..');
export const BUNDLE_DIR = join(REPO_ROOT, 'notebooks');
export const BUNDLE_FILE = join(BUNDLE_DIR, 'databricks.yml');
// ORBITER_BUNDLE_SCHEMA overrides the default (a git worktree elsewhere than beside ../shared).
export const BUNDLE_SCHEMA_FILE = resolve(
  process.env['ORBITER_BUNDLE_SCHEMA'] ?? resolve(REPO_ROOT, '../shared/schemas/databricks-bundle.schema.json'),
);

export type Doc = Record<string, unknown>;

export interface BundleFile {
  /** Path relative to the bundle root. */
  file: string;
  doc: Doc;
}

export function readYaml(path: string): Doc {
  const doc: unknown = parse(readFileSync(path, 'utf8'));
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${path}: expected a YAML mapping`);
  return doc as Doc;
}

/** Expands an include pattern; only "*" within the last path segment is supported (all the bundle uses). */
export function expandInclude(pattern: string, baseDir = BUNDLE_DIR): string[] {
  const dir = join(baseDir, dirname(pattern));
  const last = pattern.split('/').pop() ?? '';
  const re = new RegExp(`^${last.split('*').map(escapeRegex).join('[^/]*')}$`);
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => relative(baseDir, join(dir, f)));
}

function escapeRegex(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** The root document and each included file, parsed. */
export function loadBundleFiles(): BundleFile[] {
  const root = readYaml(BUNDLE_FILE);
  const includes = (root.include as string[] | undefined) ?? [];
  const files: BundleFile[] = [{ file: 'databricks.yml', doc: root }];
  for (const pattern of includes) for (const file of expandInclude(pattern)) files.push({ file, doc: readYaml(join(BUNDLE_DIR, file)) });
  return files;
}

export interface ResolvedJob {
  key: string;
  /** Bundle file that defines the job, relative to the bundle root. */
  file: string;
  job: Doc;
}

/** All jobs of the bundle (by resource key); a key defined twice is an error, as in the CLI. */
export function collectJobs(files: BundleFile[]): ResolvedJob[] {
  const jobs: ResolvedJob[] = [];
  const seen = new Set<string>();
  for (const { file, doc } of files) {
    const resources = (doc.resources ?? {}) as Doc;
    for (const [key, job] of Object.entries((resources.jobs ?? {}) as Record<string, Doc>)) {
      if (seen.has(key)) throw new Error(`job resource key ${key} is defined twice (second time in ${file})`);
      seen.add(key);
      jobs.push({ key, file, job });
    }
  }
  return jobs;
}

/**
 * Variable values for a target: top-level defaults, then the target's overrides, then `provided` (what a deployer
 * passes with --var / BUNDLE_VAR_*). A variable left without a value is reported, as `bundle validate` would.
 */
export function targetVariables(root: Doc, target: string, provided: Record<string, unknown> = {}): Record<string, unknown> {
  const declared = (root.variables ?? {}) as Record<string, Doc>;
  const targetDoc = ((root.targets ?? {}) as Record<string, Doc>)[target];
  if (!targetDoc) throw new Error(`no target ${target}`);
  const values: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(declared)) if ('default' in v) values[name] = v.default;
  for (const [name, v] of Object.entries((targetDoc.variables ?? {}) as Record<string, unknown>)) {
    if (!(name in declared)) throw new Error(`target ${target} sets undeclared variable ${name}`);
    values[name] = v !== null && typeof v === 'object' && 'default' in (v as Doc) ? (v as Doc).default : v;
  }
  Object.assign(values, provided);
  const missing = Object.keys(declared).filter((n) => !(n in values));
  if (missing.length > 0) throw new Error(`target ${target}: no value for variable(s) ${missing.join(', ')}`);
  return values;
}

const VAR_REF = /\$\{var\.([A-Za-z0-9_-]+)\}/g;

/**
 * Substitutes ${var.*}; a string that is exactly one reference takes the variable's own type (numbers stay numbers,
 * complex variables stay objects, with the references inside them resolved too).
 */
export function resolveVars<T>(value: T, vars: Record<string, unknown>): T {
  if (typeof value === 'string') {
    const whole = /^\$\{var\.([A-Za-z0-9_-]+)\}$/.exec(value);
    if (whole) return resolveVars(lookup(vars, whole[1]!), vars) as T;
    return value.replace(VAR_REF, (_, name: string) => String(lookup(vars, name))) as T;
  }
  if (Array.isArray(value)) return value.map((v) => resolveVars(v, vars)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveVars(v, vars)])) as T;
  }
  return value;
}

function lookup(vars: Record<string, unknown>, name: string): unknown {
  if (!(name in vars)) throw new Error(`reference to undeclared variable var.${name}`);
  return vars[name];
}
