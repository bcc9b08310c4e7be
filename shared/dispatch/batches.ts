import { createHash } from 'node:crypto';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { RunInput } from '../messages/runRequest';
import { restStatus } from '../storage/restStatus';

/**
 * Coalescing batches in Table storage (OrbiterBatches): one partition per dataset and window, one row per input.
 * Rows are written idempotently (a redelivered request rewrites the same row) and stamped with the run that took
 * them, so a flush replayed after a crash picks the same unassigned set and hence the same idempotency token.
 */
export interface BatchItem {
  key: string;
  input: RunInput;
  requestId: string;
  correlationId: string;
  traceparent?: string;
  landedAt?: string;
  /** When the dispatcher added it (rewritten by a redelivery): tells a burst that is still arriving. */
  acceptedAt?: string;
  runId?: string;
}

export type FlushState = 'scheduled' | 'done';

export interface BatchStore {
  add(dataset: string, bucket: number, item: Omit<BatchItem, 'key' | 'runId'>): Promise<void>;
  /** Same as `add` for many items of one batch, in as few storage calls as the store allows. */
  addMany(dataset: string, bucket: number, items: Omit<BatchItem, 'key' | 'runId'>[]): Promise<void>;
  items(dataset: string, bucket: number): Promise<BatchItem[]>;
  assign(dataset: string, bucket: number, keys: string[], runId: string): Promise<void>;
  /** The batch's flush marker: absent until a flush is scheduled, `done` once a flush has run. */
  flushState(dataset: string, bucket: number): Promise<FlushState | undefined>;
  /** Creates the marker as `scheduled`; false if it already existed (someone else schedules the flush). */
  claimFlush(dataset: string, bucket: number): Promise<boolean>;
  markFlushed(dataset: string, bucket: number): Promise<void>;
  /** Remembers a batch whose flush waits for a free run slot (maxRunsInFlight), so a finishing run can release it. */
  markDeferred(dataset: string, bucket: number): Promise<void>;
  clearDeferred(dataset: string, bucket: number): Promise<void>;
  /** Buckets of a dataset waiting for a run slot, oldest first. */
  deferredBuckets(dataset: string): Promise<number[]>;
}

const FLUSH_ROW = '~flush';

export function inputKey(i: RunInput): string {
  return createHash('sha256').update(`${i.container}/${i.path}|${i.etag}`).digest('hex').slice(0, 40);
}

const pk = (dataset: string, bucket: number): string => `${dataset}|${bucket}`;
/** One partition per dataset lists its deferred batches (row key: the bucket, zero-padded so it sorts). */
const deferredPk = (dataset: string): string => `${dataset}|deferred`;
const bucketRow = (bucket: number): string => String(bucket).padStart(15, '0');

export class TableBatchStore implements BatchStore {
  private ready: Promise<void> | undefined;
  constructor(private readonly table: TableClient) {}

  private ensure(): Promise<void> {
    this.ready ??= this.table.createTable().then(() => undefined);
    return this.ready;
  }

  async add(dataset: string, bucket: number, item: Omit<BatchItem, 'key' | 'runId'>): Promise<void> {
    await this.ensure();
    // Merge keeps a runId already stamped on the row when a request is redelivered after its flush.
    await this.table.upsertEntity(rowFor(dataset, bucket, item), 'Merge');
  }

  async addMany(dataset: string, bucket: number, items: Omit<BatchItem, 'key' | 'runId'>[]): Promise<void> {
    await this.ensure();
    // One row per input: a transaction may not touch an entity twice, so duplicates (the same input in two
    // requests of one delivery) collapse to the last one, which is what sequential upserts would have left.
    const rows = new Map<string, ReturnType<typeof rowFor>>();
    for (const item of items) {
      const row = rowFor(dataset, bucket, item);
      rows.set(row.rowKey, row);
    }
    const all = [...rows.values()];
    // Entity group transactions: one partition (this batch), at most 100 upsert-merges each, all or nothing.
    // A redelivery rewrites the same rows; Merge keeps a runId already stamped by a flush.
    const chunks: TransactionAction[][] = [];
    for (let i = 0; i < all.length; i += MAX_TRANSACTION_ACTIONS) {
      chunks.push(all.slice(i, i + MAX_TRANSACTION_ACTIONS).map((row): TransactionAction => ['upsert', row, 'Merge']));
    }
    await Promise.all(chunks.map((actions) => this.table.submitTransaction(actions)));
  }

  async items(dataset: string, bucket: number): Promise<BatchItem[]> {
    await this.ensure();
    const out: BatchItem[] = [];
    const filter = `PartitionKey eq '${pk(dataset, bucket).replace(/'/g, "''")}' and RowKey ne '${FLUSH_ROW}'`;
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      out.push({
        key: String(e['rowKey']),
        input: JSON.parse(String(e['input'])) as RunInput,
        requestId: String(e['requestId'] ?? ''),
        correlationId: String(e['correlationId'] ?? ''),
        ...(typeof e['traceparent'] === 'string' ? { traceparent: e['traceparent'] } : {}),
        ...(typeof e['landedAt'] === 'string' ? { landedAt: e['landedAt'] } : {}),
        ...(typeof e['acceptedAt'] === 'string' ? { acceptedAt: e['acceptedAt'] } : {}),
        ...(typeof e['runId'] === 'string' && e['runId'] ? { runId: e['runId'] } : {}),
      });
    }
    return out;
  }

  async assign(dataset: string, bucket: number, keys: string[], runId: string): Promise<void> {
    await this.ensure();
    // Stamped in transactions of up to 100 rows (one partition) instead of one call per row.
    const unique = [...new Set(keys)];
    const chunks: TransactionAction[][] = [];
    for (let i = 0; i < unique.length; i += MAX_TRANSACTION_ACTIONS) {
      chunks.push(
        unique
          .slice(i, i + MAX_TRANSACTION_ACTIONS)
          .map((k): TransactionAction => ['update', { partitionKey: pk(dataset, bucket), rowKey: k, runId }, 'Merge']),
      );
    }
    await Promise.all(chunks.map((actions) => this.table.submitTransaction(actions)));
  }

  async flushState(dataset: string, bucket: number): Promise<FlushState | undefined> {
    await this.ensure();
    try {
      const e = await this.table.getEntity<{ state: string }>(pk(dataset, bucket), FLUSH_ROW);
      return e.state === 'done' ? 'done' : 'scheduled';
    } catch (err) {
      if (restStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async claimFlush(dataset: string, bucket: number): Promise<boolean> {
    await this.ensure();
    try {
      await this.table.createEntity({ partitionKey: pk(dataset, bucket), rowKey: FLUSH_ROW, state: 'scheduled' });
      return true;
    } catch (err) {
      if (restStatus(err) === 409) return false;
      throw err;
    }
  }

  async markFlushed(dataset: string, bucket: number): Promise<void> {
    await this.ensure();
    await this.table.upsertEntity({ partitionKey: pk(dataset, bucket), rowKey: FLUSH_ROW, state: 'done' }, 'Merge');
  }

  async markDeferred(dataset: string, bucket: number): Promise<void> {
    await this.ensure();
    await this.table.upsertEntity({ partitionKey: deferredPk(dataset), rowKey: bucketRow(bucket), bucket }, 'Replace');
  }

  async clearDeferred(dataset: string, bucket: number): Promise<void> {
    await this.ensure();
    try {
      await this.table.deleteEntity(deferredPk(dataset), bucketRow(bucket));
    } catch (err) {
      if (restStatus(err) !== 404) throw err;
    }
  }

  async deferredBuckets(dataset: string): Promise<number[]> {
    await this.ensure();
    const out: number[] = [];
    const filter = `PartitionKey eq '${deferredPk(dataset).replace(/'/g, "''")}'`;
    for await (const e of this.table.listEntities<{ bucket?: number }>({ queryOptions: { filter } })) out.push(Number(e.bucket ?? e.rowKey));
    return out.sort((a, b) => a - b);
  }
}

/** Table storage's limit on the operations of one entity group transaction. */
export const MAX_TRANSACTION_ACTIONS = 100;

function rowFor(dataset: string, bucket: number, item: Omit<BatchItem, 'key' | 'runId'>) {
  return {
    partitionKey: pk(dataset, bucket),
    rowKey: inputKey(item.input),
    input: JSON.stringify(item.input),
    requestId: item.requestId,
    correlationId: item.correlationId,
    ...(item.traceparent ? { traceparent: item.traceparent } : {}),
    ...(item.landedAt ? { landedAt: item.landedAt } : {}),
    ...(item.acceptedAt ? { acceptedAt: item.acceptedAt } : {}),
  };
}
