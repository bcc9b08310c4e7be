import type { TableClient } from '@azure/data-tables';
import { OrbiterError } from '../errors';
import { restStatus } from '../storage/restStatus';

export interface Watermark {
  /** First day not yet completely ingested (ISO date). */
  nextStart: string;
  etag: string;
}

export interface WatermarkStore {
  get(source: string, stream: string): Promise<Watermark | undefined>;
  /** Advances the watermark and returns its new ETag; `etag` from get() makes it fail if someone else moved it meanwhile. */
  set(source: string, stream: string, nextStart: string, etag?: string): Promise<string>;
}

interface WatermarkEntity {
  partitionKey: string;
  rowKey: string;
  nextStart: string;
  updatedAt: string;
}

/** Watermarks in Azure Table storage with ETag optimistic concurrency. */
export class TableWatermarkStore implements WatermarkStore {
  constructor(
    private readonly table: TableClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(source: string, stream: string): Promise<Watermark | undefined> {
    try {
      const e = await this.table.getEntity<WatermarkEntity>(source, stream);
      return { nextStart: e.nextStart, etag: e.etag };
    } catch (err) {
      if (restStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async set(source: string, stream: string, nextStart: string, etag?: string): Promise<string> {
    const entity: WatermarkEntity = { partitionKey: source, rowKey: stream, nextStart, updatedAt: this.now().toISOString() };
    try {
      const res = etag ? await this.table.updateEntity(entity, 'Replace', { etag }) : await this.table.createEntity(entity);
      return res.etag ?? '';
    } catch (err) {
      if (restStatus(err) === 409 || restStatus(err) === 412) {
        throw new OrbiterError('WatermarkConflict', `watermark ${source}/${stream} was moved by another run`, { cause: err });
      }
      throw err;
    }
  }
}
