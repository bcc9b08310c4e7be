import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The part of a Jobs API new_cluster the emulator reads (the rest is stored as given and returned by clusters/get). */
export const ClusterSpecSchema = z.looseObject({
  spark_version: z.string().optional(),
  node_type_id: z.string().optional(),
  num_workers: z.int().min(0).optional(),
  autoscale: z.looseObject({ min_workers: z.int().min(0).optional(), max_workers: z.int().min(0) }).optional(),
  autotermination_minutes: z.int().min(0).optional(),
});
export type ClusterSpec = z.infer<typeof ClusterSpecSchema>;

/** A task's cluster: a job cluster (shared by the tasks naming its key) or the task's own new_cluster. */
export interface TaskCluster {
  /** job_cluster_key, or `task:<task_key>` for a task's own new_cluster. */
  key: string;
  spec: ClusterSpec;
}

/**
 * Local cores of a cluster: one per worker (autoscale: its ceiling), at least one (a single-node cluster), at most
 * the machine's.
 */
export function localCores(spec: ClusterSpec, machineCores: number): number {
  const workers = spec.autoscale?.max_workers ?? spec.num_workers ?? 1;
  return Math.max(1, Math.min(workers, Math.max(1, machineCores)));
}

/** Clusters with the same spec can serve each other's runs in warm mode. */
export function specHash(spec: ClusterSpec): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(spec)))
    .digest('hex')
    .slice(0, 16);
}
