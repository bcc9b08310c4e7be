import Ajv, { type ErrorObject } from 'ajv';

/** One validation problem, at a dotted path such as `resources.jobs.x.job_clusters[0].new_cluster`. */
export interface SchemaIssue {
  path: string;
  message: string;
}

/** ajv over a JSON Schema, reporting every issue with a readable path (the unknown key itself for extra properties). */
export class JsonSchemaValidator {
  private readonly check: ReturnType<Ajv['compile']>;

  constructor(schema: object) {
    // strict: false because the Databricks schema carries vendor annotations (x-databricks-*, doNotSuggest, …).
    this.check = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }

  validate(value: unknown): SchemaIssue[] {
    if (this.check(value)) return [];
    return (this.check.errors ?? []).map((e) => ({ path: pathOf(e), message: e.message ?? e.keyword }));
  }
}

function pathOf(e: ErrorObject): string {
  const parts = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'additionalProperties') parts.push(String((e.params as { additionalProperty: string }).additionalProperty));
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}
