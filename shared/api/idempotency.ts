import { Tables } from '../names';
import type { TableClient } from '@azure/data-tables';
import { restStatus } from '../storage/restStatus';

/** Table of Idempotency-Key records. */
export const IDEMPOTENCY_TABLE = Tables.apiIdempotency;

export interface IdempotencyEntry {
  /** sha256 of the canonical request (dataset, parameters, inputs, range). */
  fingerprint: string;
  runIds: string[];
  createdAt: string;
}

export interface IdempotencyStore {
  get(keyHash: string): Promise<IdempotencyEntry | undefined>;
  /** false when the key was taken meanwhile (then get() it). */
  create(keyHash: string, entry: IdempotencyEntry): Promise<boolean>;
}

export class TableIdempotencyStore implements IdempotencyStore {
  private ready: Promise<void> | undefined;
  constructor(private readonly table: TableClient) {}

  private ensure(): Promise<void> {
    this.ready ??= this.table.createTable().then(() => undefined);
    return this.ready;
  }

  async get(keyHash: string): Promise<IdempotencyEntry | undefined> {
    await this.ensure();
    try {
      const e = await this.table.getEntity<{ fingerprint: string; runIds: string; createdAt: string }>(keyHash, 'key');
      return { fingerprint: e.fingerprint, runIds: JSON.parse(e.runIds) as string[], createdAt: e.createdAt };
    } catch (err) {
      if (restStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async create(keyHash: string, entry: IdempotencyEntry): Promise<boolean> {
    await this.ensure();
    try {
      await this.table.createEntity({
        partitionKey: keyHash,
        rowKey: 'key',
        fingerprint: entry.fingerprint,
        runIds: JSON.stringify(entry.runIds),
        createdAt: entry.createdAt,
      });
      return true;
    } catch (err) {
      if (restStatus(err) === 409) return false;
      throw err;
    }
  }
}

/** In memory, for unit tests. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly entries = new Map<string, IdempotencyEntry>();
  get(keyHash: string): Promise<IdempotencyEntry | undefined> {
    return Promise.resolve(this.entries.get(keyHash));
  }
  create(keyHash: string, entry: IdempotencyEntry): Promise<boolean> {
    if (this.entries.has(keyHash)) return Promise.resolve(false);
    this.entries.set(keyHash, entry);
    return Promise.resolve(true);
  }
}
