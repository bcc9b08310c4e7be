import { z } from 'zod';

/** Request fields a job parameter can be fed from (the dispatcher supplies them per run). */
export const PARAMETER_SOURCES = ['dataset', 'lakeRoot', 'inputManifest', 'runId', 'traceparent'] as const;
export type ParameterSource = (typeof PARAMETER_SOURCES)[number];

/** Job parameters every Orbiter pipeline job takes (docs/contracts.md, Notebooks). */
export const REQUIRED_JOB_PARAMETERS = ['source', 'lake_root', 'input_manifest', 'orbiter_run_id', 'traceparent'] as const;

/** Termination types worth retrying: the platform failed, not the request. CLIENT_ERROR is never retried. */
export const RETRYABLE_TERMINATION_TYPES = ['CLOUD_FAILURE', 'INTERNAL_ERROR'] as const;

const jobParameterName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a parameter name ([A-Za-z_][A-Za-z0-9_]*, ≤ 64 chars)');

export const ParameterMappingSchema = z.union([z.strictObject({ from: z.enum(PARAMETER_SOURCES) }), z.strictObject({ value: z.string() })]);

/** A parameter callers may set through the HTTP API; described so a zod schema can be built from it. */
export const UserParameterSchema = z
  .strictObject({
    name: jobParameterName,
    description: z.string().optional(),
    type: z.enum(['string', 'integer', 'boolean', 'date', 'enum']),
    pattern: z.string().optional(),
    maxLength: z.int().positive().optional(),
    values: z.array(z.string()).min(1).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.type === 'enum' && !p.values) ctx.addIssue({ code: 'custom', path: ['values'], message: 'required when type is "enum"' });
    if (p.pattern !== undefined) {
      try {
        new RegExp(p.pattern);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'is not a valid regular expression' });
      }
    }
  });

const attemptsSchema = z.strictObject({ maxAttempts: z.int().min(1).max(20) });

export const RetryPolicySchema = z.strictObject({
  /** Termination type → how many attempts in total (first run included). */
  retryOn: z.record(z.string(), attemptsSchema).superRefine((rec, ctx) => {
    for (const key of Object.keys(rec)) {
      if (key === 'CLIENT_ERROR') {
        ctx.addIssue({ code: 'custom', path: [key], message: 'CLIENT_ERROR is never retried: the run failed because of its own code or input' });
      } else if (!(RETRYABLE_TERMINATION_TYPES as readonly string[]).includes(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is not a retryable termination type (allowed: ${RETRYABLE_TERMINATION_TYPES.join(', ')})`,
        });
      }
    }
  }),
  /** repair: re-run the failed tasks of the same run (keeps the run id); new-run: run-now again. */
  strategy: z.enum(['repair', 'new-run']),
  backoff: z.strictObject({ initialSeconds: z.number().min(0), maxSeconds: z.number().min(0) }).refine((b) => b.maxSeconds >= b.initialSeconds, {
    message: 'maxSeconds must be >= initialSeconds',
    path: ['maxSeconds'],
  }),
});

const datasetFields = {
  job: z.strictObject({
    /** Databricks job name; resolved to an id via jobs/list and cached. */
    name: z.string().min(1).max(4096),
    /** Optional pin, skipping the lookup. */
    id: z.int().positive().optional(),
  }),
  jobParameters: z.record(jobParameterName, ParameterMappingSchema),
  userParameters: z.array(UserParameterSchema),
  /** Requests for one job landing within this many seconds are coalesced into one run. */
  coalescingWindowSeconds: z.number().min(0).max(3600),
  maxRunsInFlight: z.int().min(1).max(1000),
  retryPolicy: RetryPolicySchema,
};

export const CatalogDatasetSchema = z.strictObject(datasetFields);

/** The file: defaults merged under every dataset entry (a dataset's own keys win; jobParameters merge by name). */
export const JobCatalogFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  defaults: z.strictObject(datasetFields).partial().default({}),
  datasets: z.record(
    z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'dataset names are lower-case ([a-z][a-z0-9-]*)'),
    z.strictObject(datasetFields).partial(),
  ),
});

export type ParameterMapping = z.infer<typeof ParameterMappingSchema>;
export type UserParameter = z.infer<typeof UserParameterSchema>;
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;
export type CatalogDataset = z.infer<typeof CatalogDatasetSchema> & { dataset: string };
export type JobCatalogFile = z.infer<typeof JobCatalogFileSchema>;

export interface JobCatalog {
  readonly version: 1;
  readonly datasets: Readonly<Record<string, CatalogDataset>>;
}
