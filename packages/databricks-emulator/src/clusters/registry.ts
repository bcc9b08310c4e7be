import { specHash, localCores, type ClusterSpec, type TaskCluster } from './spec';

export interface ClusterReason {
  code: string;
  type: string;
  parameters: Record<string, string>;
}

/** A local job cluster: one Spark driver process (see ./clusterRunner.ts) and what clusters/get reports. */
export interface ClusterRecord {
  cluster_id: string;
  cluster_name: string;
  job_cluster_key: string;
  job_id: number;
  spec: ClusterSpec;
  spec_hash: string;
  cores: number;
  state: 'PENDING' | 'RUNNING' | 'TERMINATED';
  state_message: string;
  start_time: number;
  last_activity_time: number;
  terminated_time?: number;
  termination_reason?: ClusterReason;
  spark_context_id?: string;
  /** The run it serves now (warm mode: the last run it served; undefined once released). */
  run_id?: number;
  /** Tasks on it now (running or queued at its driver). */
  active_tasks: number;
  autotermination_minutes: number;
}

export interface ClusterRegistryOptions {
  now: () => number;
  machineCores: number;
  /** Ends a cluster's driver (the runner owns the processes). */
  stopDriver: (clusterId: string) => Promise<void>;
  /**
   * Keep a cluster running after its run ends, for the next run with the same cluster spec, until it has been idle
   * for autotermination_minutes (the spec's, else this default). Unset: a job cluster ends with its run, as on
   * Databricks.
   */
  warm?: { autoterminationMinutes: number; maxPerSpec: number };
}

/**
 * The workspace's job clusters: one per job_cluster_key per run (or, in warm mode, reused across runs with the
 * same spec), terminated when the run ends or after idling. Serves clusters/get and clusters/list.
 */
export class ClusterRegistry {
  private readonly clusters = new Map<string, ClusterRecord>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private readonly stopping = new Set<Promise<void>>();
  private seq = 0;

  constructor(private readonly options: ClusterRegistryOptions) {}

  /**
   * The cluster a task of `run` runs on; call taskDone when the task ends. Per run: the run's cluster for that key,
   * else a new one. Warm: any cluster with the same spec, preferring an idle one, a new one while fewer than
   * maxPerSpec exist, else the least busy (its driver queues the task) — so concurrent runs share warm drivers.
   */
  assign(run: { run_id: number; job_id: number }, cluster: TaskCluster): ClusterRecord {
    const chosen = this.pick(run, cluster);
    clearTimeout(this.idleTimers.get(chosen.cluster_id));
    this.idleTimers.delete(chosen.cluster_id);
    Object.assign(chosen, { run_id: run.run_id, last_activity_time: this.options.now() });
    chosen.active_tasks++;
    return chosen;
  }

  /** A task on the cluster ended: an idle warm cluster starts counting towards autotermination. */
  taskDone(clusterId: string): void {
    const c = this.clusters.get(clusterId);
    if (!c || c.state === 'TERMINATED') return;
    c.active_tasks = Math.max(0, c.active_tasks - 1);
    c.last_activity_time = this.options.now();
    if (!this.options.warm || c.active_tasks > 0) return;
    if (c.state === 'PENDING') return this.terminate(c, { code: 'SPARK_STARTUP_FAILURE', type: 'CLIENT_ERROR', parameters: {} });
    this.armIdle(c);
  }

  private pick(run: { run_id: number; job_id: number }, cluster: TaskCluster): ClusterRecord {
    const live = [...this.clusters.values()].filter((c) => c.state !== 'TERMINATED');
    const hash = specHash(cluster.spec);
    if (this.options.warm) {
      const same = live.filter((c) => c.spec_hash === hash).sort((a, b) => a.active_tasks - b.active_tasks);
      const idle = same.find((c) => c.active_tasks === 0);
      if (idle) return idle;
      if (same.length >= this.options.warm.maxPerSpec && same[0]) return same[0];
    } else {
      const mine = live.find((c) => c.run_id === run.run_id && c.job_cluster_key === cluster.key);
      if (mine) return mine;
    }
    return this.create(run, cluster, hash);
  }

  private create(run: { run_id: number; job_id: number }, cluster: TaskCluster, hash: string): ClusterRecord {
    const now = this.options.now();
    const d = new Date(now);
    const pad = (n: number): string => String(n).padStart(2, '0');
    const id = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}-local${++this.seq}`;
    const record: ClusterRecord = {
      cluster_id: id,
      cluster_name: `job-${run.job_id}-run-${run.run_id}-${cluster.key}`,
      job_cluster_key: cluster.key,
      job_id: run.job_id,
      spec: cluster.spec,
      spec_hash: hash,
      cores: localCores(cluster.spec, this.options.machineCores),
      state: 'PENDING',
      state_message: 'Starting the local Spark driver.',
      start_time: now,
      last_activity_time: now,
      run_id: run.run_id,
      active_tasks: 0,
      autotermination_minutes: cluster.spec.autotermination_minutes || this.options.warm?.autoterminationMinutes || 0,
    };
    this.clusters.set(id, record);
    return record;
  }

  /** The driver answered (first start, or a restart after a crash: a new spark_context_id). */
  running(clusterId: string, sparkContextId: string): void {
    const c = this.clusters.get(clusterId);
    if (!c || c.state === 'TERMINATED') return;
    Object.assign(c, { state: 'RUNNING', state_message: '', spark_context_id: sparkContextId, last_activity_time: this.options.now() });
  }

  /** The run ended: its clusters terminate (warm mode: they stay, and idle out through taskDone). */
  releaseRun(runId: number): void {
    if (this.options.warm) return;
    for (const c of this.clusters.values())
      if (c.run_id === runId && c.state !== 'TERMINATED') this.terminate(c, { code: 'JOB_FINISHED', type: 'SUCCESS', parameters: {} });
  }

  private armIdle(c: ClusterRecord): void {
    const minutes = c.autotermination_minutes;
    const timer = setTimeout(
      () => this.terminate(c, { code: 'INACTIVITY', type: 'SUCCESS', parameters: { inactivity_duration_min: String(minutes) } }),
      minutes * 60_000,
    );
    timer.unref();
    this.idleTimers.set(c.cluster_id, timer);
  }

  /** Terminates every cluster and waits for their drivers to stop (emulator shutdown). */
  async close(): Promise<void> {
    for (const c of this.clusters.values())
      if (c.state !== 'TERMINATED') this.terminate(c, { code: 'USER_REQUEST', type: 'SUCCESS', parameters: { username: 'local-emulator' } });
    while (this.stopping.size > 0) await Promise.allSettled([...this.stopping]);
  }

  get(clusterId: string): ClusterRecord | undefined {
    return this.clusters.get(clusterId);
  }

  list(): ClusterRecord[] {
    return [...this.clusters.values()].sort((a, b) => b.start_time - a.start_time);
  }

  private terminate(c: ClusterRecord, reason: ClusterReason): void {
    clearTimeout(this.idleTimers.get(c.cluster_id));
    this.idleTimers.delete(c.cluster_id);
    Object.assign(c, { state: 'TERMINATED', state_message: '', terminated_time: this.options.now(), termination_reason: reason });
    c.run_id = undefined;
    const stopping = this.options.stopDriver(c.cluster_id).catch(() => undefined);
    this.stopping.add(stopping);
    void stopping.finally(() => this.stopping.delete(stopping));
  }
}
