import type { ClusterRecord } from '../clusters/registry';

/** Clusters API ClusterDetails of a local job cluster (cluster_source JOB; the driver is this machine). */
export function clusterView(c: ClusterRecord): Record<string, unknown> {
  return {
    ...c.spec,
    cluster_id: c.cluster_id,
    cluster_name: c.cluster_name,
    cluster_source: 'JOB',
    state: c.state,
    state_message: c.state_message,
    start_time: c.start_time,
    last_activity_time: c.last_activity_time,
    ...(c.terminated_time !== undefined ? { terminated_time: c.terminated_time } : {}),
    ...(c.termination_reason ? { termination_reason: c.termination_reason } : {}),
    ...(c.spark_context_id ? { spark_context_id: Number(c.spark_context_id) } : {}),
    autotermination_minutes: c.autotermination_minutes,
    cluster_cores: c.cores,
    spark_conf: { ...(c.spec['spark_conf'] ?? {}), 'spark.master': `local[${c.cores}]` },
    driver: { host_private_ip: '127.0.0.1', node_id: c.cluster_id },
    default_tags: { Vendor: 'Databricks', Creator: 'local-emulator', ClusterName: c.cluster_name, ClusterId: c.cluster_id, JobId: String(c.job_id) },
  };
}
