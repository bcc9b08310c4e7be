/**
 * A small JSON Schema validator for the keywords the Databricks bundle schema uses ($ref to local $defs, type,
 * properties, additionalProperties, required, items, enum, pattern, oneOf, anyOf). It exists because no JSON-schema
 * library is a dependency yet (ajv is the intended replacement). Any other assertion keyword fails loudly, so a
 * schema update can never make validation silently weaker.
 */
export interface SchemaIssue {
  path: string;
  message: string;
}

type Schema = Record<string, unknown> | boolean;

/** Annotation-only keywords: they never make a document invalid. */
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$defs',
  '$comment',
  'description',
  'markdownDescription',
  'title',
  'default',
  'examples',
  'deprecated',
  'deprecationMessage',
  'doNotSuggest',
  'enumDescriptions',
  'x-databricks-launch-stage',
  'x-databricks-preview',
  'readOnly',
]);
const ASSERTIONS = new Set(['$ref', 'type', 'properties', 'additionalProperties', 'required', 'items', 'enum', 'pattern', 'oneOf', 'anyOf']);

export class JsonSchemaValidator {
  private readonly patterns = new Map<string, RegExp>();

  constructor(private readonly root: Record<string, unknown>) {}

  validate(value: unknown): SchemaIssue[] {
    return this.check(this.root, value, '');
  }

  private resolve(ref: string): Schema {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref} (only local refs)`);
    let node: unknown = this.root;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !(key in node)) {
        // $defs keys may themselves contain "/" (e.g. "github.com"); the schema nests them, so a miss is a bad ref.
        throw new Error(`unresolvable $ref ${ref}`);
      }
      node = (node as Record<string, unknown>)[key];
    }
    return node as Schema;
  }

  private regex(pattern: string): RegExp {
    let re = this.patterns.get(pattern);
    if (!re) {
      re = new RegExp(pattern, 'u'); // the schema uses \p{L}, which needs the unicode flag
      this.patterns.set(pattern, re);
    }
    return re;
  }

  private check(schema: Schema, value: unknown, path: string): SchemaIssue[] {
    if (schema === true) return [];
    if (schema === false) return [{ path, message: 'is not allowed here' }];
    for (const key of Object.keys(schema)) {
      if (!ANNOTATIONS.has(key) && !ASSERTIONS.has(key)) throw new Error(`unsupported JSON Schema keyword "${key}" at ${path || '(root)'}`);
    }
    const issues: SchemaIssue[] = [];
    const s = schema;
    if (typeof s.$ref === 'string') issues.push(...this.check(this.resolve(s.$ref), value, path));
    if (s.type !== undefined && !matchesType(s.type as string | string[], value)) {
      return [...issues, { path, message: `expected ${String(s.type)}, got ${describe(value)}` }];
    }
    if (Array.isArray(s.enum) && !s.enum.some((e) => e === value)) {
      issues.push({ path, message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}; got ${JSON.stringify(value)}` });
    }
    if (typeof s.pattern === 'string' && typeof value === 'string' && !this.regex(s.pattern).test(value)) {
      issues.push({ path, message: `does not match ${s.pattern}` });
    }
    if (isObject(value)) issues.push(...this.checkObject(s, value, path));
    if (Array.isArray(value) && s.items !== undefined) {
      value.forEach((item, i) => issues.push(...this.check(s.items as Schema, item, `${path}[${i}]`)));
    }
    if (Array.isArray(s.anyOf)) {
      const results = (s.anyOf as Schema[]).map((sub) => this.check(sub, value, path));
      if (!results.some((r) => r.length === 0)) issues.push(...closest(results, path, 'anyOf'));
    }
    if (Array.isArray(s.oneOf)) {
      const results = (s.oneOf as Schema[]).map((sub) => this.check(sub, value, path));
      const passing = results.filter((r) => r.length === 0).length;
      if (passing === 0) issues.push(...closest(results, path, 'oneOf'));
      else if (passing > 1) issues.push({ path, message: `matches ${passing} alternatives of oneOf, expected exactly one` });
    }
    return issues;
  }

  private checkObject(s: Record<string, unknown>, value: Record<string, unknown>, path: string): SchemaIssue[] {
    const issues: SchemaIssue[] = [];
    const props = (isObject(s.properties) ? s.properties : {}) as Record<string, Schema>;
    if (Array.isArray(s.required)) {
      for (const name of s.required as string[]) if (!(name in value)) issues.push({ path, message: `is missing required property "${name}"` });
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (key in props) issues.push(...this.check(props[key]!, child, childPath));
      else if (s.additionalProperties === false) issues.push({ path: childPath, message: 'is not a known property' });
      else if (isObject(s.additionalProperties) || typeof s.additionalProperties === 'boolean') {
        issues.push(...this.check(s.additionalProperties as Schema, child, childPath));
      }
    }
    return issues;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function matchesType(type: string | string[], value: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => {
    switch (t) {
      case 'object':
        return isObject(value);
      case 'array':
        return Array.isArray(value);
      case 'string':
        return typeof value === 'string';
      case 'boolean':
        return typeof value === 'boolean';
      case 'integer':
        return typeof value === 'number' && Number.isInteger(value);
      case 'number':
        return typeof value === 'number';
      case 'null':
        return value === null;
      default:
        throw new Error(`unsupported type "${t}"`);
    }
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;
}

/** For a failed oneOf/anyOf, report the alternative that got furthest (fewest issues), which reads like the real cause. */
function closest(results: SchemaIssue[][], path: string, keyword: string): SchemaIssue[] {
  // An alternative of the wrong type fails with one issue at `path`; one of the right type explains the real cause.
  const wrongType = (r: SchemaIssue[]) => r.length === 1 && r[0]!.path === path && r[0]!.message.startsWith('expected ');
  const candidates = results.filter((r) => !wrongType(r));
  const pool = candidates.length > 0 ? candidates : results;
  const best = pool.reduce((a, b) => (b.length < a.length ? b : a));
  if (candidates.length === 0) return [{ path, message: `matches no alternative of ${keyword} (${results.map((r) => r[0]?.message).join(' | ')})` }];
  return best;
}
