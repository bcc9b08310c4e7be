import { z } from 'zod';
import { OrbiterError } from '../errors';
import type { CatalogDataset, ParameterSource, UserParameter } from './schema';

/** The input_manifest job parameter (docs/contracts.md): the blobs a run must process, with the ETags seen at landing. */
export const InputManifestSchema = z.object({
  files: z.array(z.object({ container: z.string().min(1), path: z.string().min(1), etag: z.string().optional() })),
});
export type InputManifest = z.infer<typeof InputManifestSchema>;

/** What the dispatcher knows about one run; mapped to job parameters by the catalog. */
export interface JobParameterInputs {
  dataset: string;
  lakeRoot: string;
  inputManifest: InputManifest;
  runId: string;
  traceparent?: string;
  /** Caller-supplied values, validated against the dataset's userParameters. */
  userParameters?: Record<string, unknown>;
}

/** A zod schema for the user parameters a dataset allows (unknown names rejected). */
export function userParametersSchema(entry: Pick<CatalogDataset, 'userParameters'>): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const p of entry.userParameters) shape[p.name] = userParameterType(p).optional();
  return z.strictObject(shape);
}

function userParameterType(p: UserParameter): z.ZodType {
  let t: z.ZodType;
  switch (p.type) {
    case 'integer': {
      let n = z.int();
      if (p.minimum !== undefined) n = n.min(p.minimum);
      if (p.maximum !== undefined) n = n.max(p.maximum);
      t = n;
      break;
    }
    case 'boolean':
      t = z.boolean();
      break;
    case 'date':
      t = z.iso.date();
      break;
    case 'enum':
      t = z.enum((p.values ?? []) as [string, ...string[]]);
      break;
    default: {
      let s = z.string();
      if (p.pattern !== undefined) s = s.regex(new RegExp(p.pattern));
      if (p.maxLength !== undefined) s = s.max(p.maxLength);
      t = s;
    }
  }
  return p.description ? t.describe(p.description) : t;
}

/** Job parameters (all strings, as Databricks takes them) for one run of `entry`'s job. */
export function buildJobParameters(entry: CatalogDataset, inputs: JobParameterInputs): Record<string, string> {
  const manifest = InputManifestSchema.parse(inputs.inputManifest);
  const values: Record<ParameterSource, string> = {
    dataset: inputs.dataset,
    lakeRoot: inputs.lakeRoot,
    inputManifest: JSON.stringify(manifest),
    runId: inputs.runId,
    traceparent: inputs.traceparent ?? '',
  };
  const out: Record<string, string> = {};
  for (const [name, mapping] of Object.entries(entry.jobParameters)) {
    out[name] = 'from' in mapping ? values[mapping.from] : mapping.value;
  }
  const user = userParametersSchema(entry).safeParse(inputs.userParameters ?? {});
  if (!user.success) {
    const list = user.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new OrbiterError('InvalidArgument', `Invalid parameters for dataset ${entry.dataset}: ${list}`, { details: { dataset: entry.dataset } });
  }
  for (const p of entry.userParameters) {
    const v = user.data[p.name] ?? p.default;
    if (v !== undefined) out[p.name] = String(v);
  }
  return out;
}
