import type { TableClient } from '@azure/data-tables';
import { restStatus } from '../storage/restStatus';
import { z } from 'zod';
import { OrbiterError } from '../errors';
import { runInput } from '../messages/runRequest';
import { runTaskSchema } from './runTasks';

/**
 * Run records in Azure Table storage (table OrbiterRuns), one entity per Orbiter run, ETag optimistic concurrency.
 * requested → dispatched → running → succeeded | failed | cancelled | skipped
 */
export const runStates = ['requested', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type RunState = (typeof runStates)[number];
export const terminalRunStates: readonly RunState[] = ['succeeded', 'failed', 'cancelled', 'skipped'];

export const runRecordSchema = z.object({
  runId: z.string().min(1),
  dataset: z.string().min(1),
  jobName: z.string().min(1),
  state: z.enum(runStates),
  origin: z.string(),
  inputs: z.array(runInput),
  parameters: z.record(z.string(), z.string()).default({}),
  idempotencyToken: z.string().max(64),
  correlationId: z.string(),
  traceparent: z.string().optional(),
  attempt: z.number().int().min(1).default(1),
  databricksRunId: z.number().int().optional(),
  databricksRunUrl: z.string().optional(),
  lifeCycleState: z.string().optional(),
  resultState: z.string().optional(),
  terminationCode: z.string().optional(),
  terminationType: z.string().optional(),
  error: z.string().optional(),
  requestedAt: z.string(),
  dispatchedAt: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  updatedAt: z.string(),
  /** Time the earliest input landed (for landed → run-now latency). */
  firstLandedAt: z.string().optional(),
  /** Set once the completion event is in the lake and on the topic: a terminal record without it is finished again. */
  completionPublishedAt: z.string().optional(),
  /** The Databricks run's tasks (state, times, rows written and quarantined, exit value), recorded when it ends. */
  tasks: z.array(runTaskSchema).optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export interface StoredRun {
  record: RunRecord;
  etag: string;
}

export interface RunQuery {
  dataset?: string;
  jobName?: string;
  state?: RunState;
  /** ISO time: runs requested at or after. */
  since?: string;
  /** Run ids starting with this (a key-range query: cheap at any table size). */
  runIdPrefix?: string;
  limit?: number;
  /**
   * Newest first (by request time) across pages, through the runs' time index; `state` is then checked on each
   * record, so a page can hold fewer than `limit` runs while a continuation follows. Without it: run-id order.
   */
  newestFirst?: boolean;
  /** Opaque continuation from a previous page. */
  continuationToken?: string;
}

export interface RunStore {
  get(runId: string): Promise<StoredRun | undefined>;
  /** Creates the record; if it already exists, returns the existing one (idempotent). */
  createIfAbsent(record: RunRecord): Promise<{ created: boolean; run: StoredRun }>;
  /** Replaces the record if nobody changed it since `etag`; throws RunConflict otherwise. */
  update(record: RunRecord, etag: string): Promise<StoredRun>;
  list(query: RunQuery): Promise<{ runs: RunRecord[]; continuationToken?: string }>;
  /** The run a Databricks run id belongs to (job notification webhooks only know that id). */
  findByDatabricksRunId(databricksRunId: number): Promise<RunRecord | undefined>;
}

interface RunEntity {
  partitionKey: string;
  rowKey: string;
  dataset: string;
  state: string;
  requestedAt: string;
  jobName: string;
  databricksRunId?: number;
  /**
   * The whole record as JSON: tables cap property count and types, one JSON column keeps the schema in zod. A string
   * property holds at most 32K characters, so a long record (hundreds of inputs) continues in record1, record2, ...
   */
  record: string;
  recordParts?: number;
  [part: `record${number}`]: string;
}

/** Characters per string property (Table storage allows 32K UTF-16 code units; JSON here is ASCII-escaped). */
const PART_CHARS = 30_000;
/** An entity is at most 1 MiB: 15 parts of 60 KB leave room for the indexed columns. */
export const MAX_RECORD_PARTS = 15;

const encode = (r: RunRecord): RunEntity => {
  // \u-escaping non-ASCII keeps characters = UTF-16 units = bytes / 2, so the size checks above hold.
  const json = JSON.stringify(r).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const parts = Math.max(1, Math.ceil(json.length / PART_CHARS));
  if (parts > MAX_RECORD_PARTS) {
    throw new OrbiterError(
      'InvalidArgument',
      `run ${r.runId} is too large to record (${json.length} characters, ${r.inputs.length} inputs; at most ${MAX_RECORD_PARTS * PART_CHARS})`,
    );
  }
  const e: RunEntity = {
    partitionKey: r.runId,
    rowKey: 'run',
    dataset: r.dataset,
    state: r.state,
    requestedAt: r.requestedAt,
    jobName: r.jobName,
    ...(r.databricksRunId !== undefined ? { databricksRunId: r.databricksRunId } : {}),
    record: json.slice(0, PART_CHARS),
    recordParts: parts,
  };
  for (let i = 1; i < parts; i++) e[`record${i}`] = json.slice(i * PART_CHARS, (i + 1) * PART_CHARS);
  return e;
};

/** A run record from its OrbiterRuns entity (for readers that scan the table themselves). */
export const decodeRunEntity = (entity: object): RunRecord => {
  const e = entity as Record<string, unknown>;
  const parts = typeof e['recordParts'] === 'number' ? e['recordParts'] : 1;
  let json = String(e['record']);
  for (let i = 1; i < parts; i++) json += String(e[`record${i}`] ?? '');
  return runRecordSchema.parse(JSON.parse(json));
};

/** Table filter values: single quotes doubled, as OData requires. */
const q = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/**
 * The time index (Azure's index-entity pattern): one small row per run in one partition, RowKey = inverted request
 * time + run id, so a key-ordered scan is newest first. '~' cannot start a run id, so no run's partition collides.
 */
const TIME_INDEX = '~runs-by-time';
const MAX_MS = 9_999_999_999_999;
const invertedTime = (iso: string): string => String(MAX_MS - Date.parse(iso)).padStart(13, '0');
interface TimeIndexEntity {
  partitionKey: string;
  rowKey: string;
  runId: string;
  dataset: string;
  jobName: string;
  requestedAt: string;
}
const timeIndexRow = (r: RunRecord): TimeIndexEntity => ({
  partitionKey: TIME_INDEX,
  rowKey: `${invertedTime(r.requestedAt)}_${r.runId}`,
  runId: r.runId,
  dataset: r.dataset,
  jobName: r.jobName,
  requestedAt: r.requestedAt,
});

export class TableRunStore implements RunStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly table: TableClient) {}

  private ensure(): Promise<void> {
    this.ready ??= this.table.createTable().then(() => undefined);
    return this.ready;
  }

  async get(runId: string): Promise<StoredRun | undefined> {
    await this.ensure();
    try {
      const e = await this.table.getEntity<RunEntity>(runId, 'run');
      return { record: decodeRunEntity(e), etag: e.etag };
    } catch (err) {
      if (restStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async createIfAbsent(record: RunRecord): Promise<{ created: boolean; run: StoredRun }> {
    await this.ensure();
    const parsed = runRecordSchema.parse(record);
    // Index first: an index row whose record was never written is skipped by list(); a record without one is not.
    await this.table.upsertEntity(timeIndexRow(parsed), 'Replace');
    try {
      const res = await this.table.createEntity(encode(parsed));
      return { created: true, run: { record: parsed, etag: res.etag ?? '' } };
    } catch (err) {
      if (restStatus(err) === 409) {
        const existing = await this.get(record.runId);
        if (existing) return { created: false, run: existing };
      }
      throw err;
    }
  }

  async update(record: RunRecord, etag: string): Promise<StoredRun> {
    await this.ensure();
    const parsed = runRecordSchema.parse(record);
    try {
      const res = await this.table.updateEntity(encode(parsed), 'Replace', { etag });
      return { record: parsed, etag: res.etag ?? '' };
    } catch (err) {
      if (restStatus(err) === 412) {
        throw new OrbiterError('RunConflict', `run ${record.runId} was changed concurrently`, { retryable: true, cause: err });
      }
      throw err;
    }
  }

  async findByDatabricksRunId(databricksRunId: number): Promise<RunRecord | undefined> {
    await this.ensure();
    const filter = `RowKey eq 'run' and databricksRunId eq ${Math.trunc(databricksRunId)}`;
    for await (const e of this.table.listEntities<RunEntity>({ queryOptions: { filter } })) return decodeRunEntity(e);
    return undefined;
  }

  async list(query: RunQuery): Promise<{ runs: RunRecord[]; continuationToken?: string }> {
    await this.ensure();
    if (query.newestFirst) return this.listNewestFirst(query);
    const filters = ["RowKey eq 'run'"];
    if (query.dataset) filters.push(`dataset eq ${q(query.dataset)}`);
    if (query.jobName) filters.push(`jobName eq ${q(query.jobName)}`);
    if (query.state) filters.push(`state eq ${q(query.state)}`);
    if (query.since) filters.push(`requestedAt ge ${q(query.since)}`);
    // '~' sorts after every character a run id may hold ([A-Za-z0-9._-]).
    if (query.runIdPrefix) filters.push(`PartitionKey ge ${q(query.runIdPrefix)} and PartitionKey lt ${q(`${query.runIdPrefix}~`)}`);
    const { rows, ...next } = await this.onePage<RunEntity>(filters, query);
    return { runs: rows.map(decodeRunEntity), ...next };
  }

  private async listNewestFirst(query: RunQuery): Promise<{ runs: RunRecord[]; continuationToken?: string }> {
    const filters = [`PartitionKey eq ${q(TIME_INDEX)}`];
    if (query.dataset) filters.push(`dataset eq ${q(query.dataset)}`);
    if (query.jobName) filters.push(`jobName eq ${q(query.jobName)}`);
    // Requested at or after `since` = inverted time at most since's ('~' sorts after the '_' that follows it).
    if (query.since) filters.push(`RowKey lt ${q(`${invertedTime(query.since)}~`)}`);
    if (query.runIdPrefix) filters.push(`runId ge ${q(query.runIdPrefix)} and runId lt ${q(`${query.runIdPrefix}~`)}`);
    const { rows, ...next } = await this.onePage<TimeIndexEntity>(filters, query);
    const records = await Promise.all(rows.map((row) => this.get(row.runId)));
    const runs = records.flatMap((s) => (s && (!query.state || s.record.state === query.state) ? [s.record] : []));
    return { runs, ...next };
  }

  /** One page of entities matching every filter: `limit` (1–1000, default 50) from the query's continuation. */
  private async onePage<T extends object>(filters: string[], query: RunQuery): Promise<{ rows: T[]; continuationToken?: string }> {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 1000);
    const pages = this.table
      .listEntities<T>({ queryOptions: { filter: filters.join(' and ') } })
      .byPage({ maxPageSize: limit, ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}) });
    const first = await pages.next();
    if (first.done) return { rows: [] };
    const page = first.value as T[] & { continuationToken?: string };
    return { rows: [...page], ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
  }
}

/** Reads, changes and writes a run with optimistic concurrency, retrying a few times on a concurrent change. */
export async function mutateRun(
  store: RunStore,
  runId: string,
  change: (r: RunRecord) => RunRecord | undefined,
  attempts = 5,
): Promise<RunRecord | undefined> {
  for (let i = 0; ; i++) {
    const cur = await store.get(runId);
    if (!cur) throw new OrbiterError('NotFound', `run ${runId} not found`);
    const next = change(cur.record);
    if (!next) return cur.record;
    try {
      return (await store.update(next, cur.etag)).record;
    } catch (err) {
      if (i + 1 >= attempts || !(err instanceof OrbiterError && err.code === 'RunConflict')) throw err;
    }
  }
}
