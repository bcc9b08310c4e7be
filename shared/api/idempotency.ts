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
  /** How many times the key expired and was claimed again (0 at first use); run ids derive from it. */
  generation: number;
}

/** A stored entry and its version, for replacing an expired one. */
export type StoredIdempotencyEntry = IdempotencyEntry & { etag: string };

export interface IdempotencyStore {
  get(keyHash: string): Promise<StoredIdempotencyEntry | undefined>;
  /** false when the key was taken meanwhile (then get() it). */
  create(keyHash: string, entry: IdempotencyEntry): Promise<boolean>;
  /** Replaces the entry if it is still the version `etag`; false when another request replaced it first. */
  replace(keyHash: string, entry: IdempotencyEntry, etag: string): Promise<boolean>;
}

export class TableIdempotencyStore implements IdempotencyStore {
  private ready: Promise<void> | undefined;
  constructor(private readonly table: TableClient) {}

  private ensure(): Promise<void> {
    this.ready ??= this.table.createTable().then(() => undefined);
    return this.ready;
  }

  async get(keyHash: string): Promise<StoredIdempotencyEntry | undefined> {
    await this.ensure();
    try {
      const e = await this.table.getEntity<{ fingerprint: string; runIds: string; createdAt: string; generation?: number }>(keyHash, 'key');
      return {
        fingerprint: e.fingerprint,
        runIds: JSON.parse(e.runIds) as string[],
        createdAt: e.createdAt,
        generation: e.generation ?? 0, // rows written before keys expired
        etag: e.etag,
      };
    } catch (err) {
      if (restStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async create(keyHash: string, entry: IdempotencyEntry): Promise<boolean> {
    await this.ensure();
    try {
      await this.table.createEntity(row(keyHash, entry));
      return true;
    } catch (err) {
      if (restStatus(err) === 409) return false;
      throw err;
    }
  }

  async replace(keyHash: string, entry: IdempotencyEntry, etag: string): Promise<boolean> {
    await this.ensure();
    try {
      await this.table.updateEntity(row(keyHash, entry), 'Replace', { etag });
      return true;
    } catch (err) {
      if (restStatus(err) === 412 || restStatus(err) === 404) return false;
      throw err;
    }
  }
}

function row(keyHash: string, entry: IdempotencyEntry) {
  return {
    partitionKey: keyHash,
    rowKey: 'key',
    fingerprint: entry.fingerprint,
    runIds: JSON.stringify(entry.runIds),
    createdAt: entry.createdAt,
    generation: entry.generation,
  };
}

/** In memory, for unit tests. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly entries = new Map<string, StoredIdempotencyEntry>();
  private version = 0;
  get(keyHash: string): Promise<StoredIdempotencyEntry | undefined> {
    return Promise.resolve(this.entries.get(keyHash));
  }
  create(keyHash: string, entry: IdempotencyEntry): Promise<boolean> {
    if (this.entries.has(keyHash)) return Promise.resolve(false);
    this.entries.set(keyHash, { ...entry, etag: String(++this.version) });
    return Promise.resolve(true);
  }
  replace(keyHash: string, entry: IdempotencyEntry, etag: string): Promise<boolean> {
    if (this.entries.get(keyHash)?.etag !== etag) return Promise.resolve(false);
    this.entries.set(keyHash, { ...entry, etag: String(++this.version) });
    return Promise.resolve(true);
  }
}
