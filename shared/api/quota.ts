import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { restStatus } from '../storage/restStatus';
import { ApiError } from './problem';

/**
 * Per-caller rate limit of run creation: a token bucket holding at most one minute's quota, refilled continuously.
 * A run costs one token, a backfill one per window it may fan out to. The buckets live in Table storage (ETag
 * concurrency), so the limit holds across every instance of the Function App, not per instance.
 */
export interface Bucket {
  tokens: number;
  /** ms since epoch of `tokens`. */
  at: number;
}

/** Takes `cost` tokens from the bucket refilled up to `now`, or says how long until they are there. */
export function takeTokens(
  bucket: Bucket | undefined,
  cost: number,
  perMinute: number,
  now: number,
): { ok: true; bucket: Bucket } | { ok: false; retryAfterS: number } {
  const perMs = perMinute / 60_000;
  const tokens = Math.min(perMinute, (bucket?.tokens ?? perMinute) + Math.max(0, now - (bucket?.at ?? now)) * perMs);
  if (tokens >= cost) return { ok: true, bucket: { tokens: tokens - cost, at: now } };
  return { ok: false, retryAfterS: Math.max(1, Math.ceil((cost - tokens) / perMs / 1000)) };
}

/** Where buckets are kept: read with a version, write only if unchanged (false = someone else wrote first). */
export interface BucketStore {
  get(caller: string): Promise<{ bucket: Bucket; etag: string } | undefined>;
  put(caller: string, bucket: Bucket, etag: string | undefined): Promise<boolean>;
}

export interface RunQuota {
  /** Charges `cost` runs to `caller`; throws a 429 ApiError (Retry-After) when the quota is spent. */
  charge(caller: string, cost: number): Promise<void>;
}

const tooMany = (retryAfterS: number, detail: string): ApiError =>
  new ApiError(429, 'rate-limited', detail, [], { 'retry-after': String(retryAfterS) });

/**
 * The token bucket over a BucketStore. One instance charges a caller one request at a time (its own requests never
 * conflict); a write lost to another instance is retried after a short jittered pause, and a caller still racing
 * after that is told to retry.
 */
export class BucketRunQuota implements RunQuota {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: BucketStore,
    private readonly perMinute: number,
    private readonly now: () => Date,
  ) {}

  charge(caller: string, cost: number): Promise<void> {
    if (cost > this.perMinute) {
      return Promise.reject(
        new ApiError(422, 'over-quota', `this request would start ${cost} runs; the quota is ${this.perMinute} per minute: split it`, [
          { field: 'to', message: `at most ${this.perMinute} runs per request` },
        ]),
      );
    }
    const prev = this.chains.get(caller) ?? Promise.resolve();
    const next = prev.then(
      () => this.chargeNow(caller, cost),
      () => this.chargeNow(caller, cost),
    );
    const tail = next.catch(() => undefined);
    this.chains.set(caller, tail);
    void tail.then(() => {
      if (this.chains.get(caller) === tail) this.chains.delete(caller);
    });
    return next;
  }

  private async chargeNow(caller: string, cost: number): Promise<void> {
    for (let i = 0; i < 6; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, Math.random() * 20 * i));
      const cur = await this.store.get(caller);
      const t = takeTokens(cur?.bucket, cost, this.perMinute, this.now().getTime());
      if (!t.ok) throw tooMany(t.retryAfterS, `run quota of ${this.perMinute} per minute spent; retry in ${t.retryAfterS} s`);
      if (await this.store.put(caller, t.bucket, cur?.etag)) return;
    }
    throw tooMany(1, 'too many concurrent requests from this caller; retry in 1 s');
  }
}

interface BucketEntity {
  partitionKey: string;
  rowKey: string;
  tokens: number;
  at: number;
}

/** Buckets in the idempotency table's `~quota` partition, one row per caller (hashed: ids may hold any character). */
export class TableBucketStore implements BucketStore {
  private ready: Promise<void> | undefined;
  constructor(private readonly table: TableClient) {}

  private ensure(): Promise<void> {
    this.ready ??= this.table.createTable().then(() => undefined);
    return this.ready;
  }

  private static row(caller: string): string {
    return createHash('sha256').update(caller).digest('hex');
  }

  async get(caller: string): Promise<{ bucket: Bucket; etag: string } | undefined> {
    await this.ensure();
    try {
      const e = await this.table.getEntity<BucketEntity>('~quota', TableBucketStore.row(caller));
      return { bucket: { tokens: Number(e.tokens), at: Number(e.at) }, etag: e.etag };
    } catch (err) {
      if (restStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async put(caller: string, bucket: Bucket, etag: string | undefined): Promise<boolean> {
    await this.ensure();
    const entity: BucketEntity = { partitionKey: '~quota', rowKey: TableBucketStore.row(caller), tokens: bucket.tokens, at: bucket.at };
    try {
      if (etag) await this.table.updateEntity(entity, 'Replace', { etag });
      else await this.table.createEntity(entity);
      return true;
    } catch (err) {
      const s = restStatus(err);
      if (s === 409 || s === 412 || s === 404) return false;
      throw err;
    }
  }
}

/** In memory with the same versioning rules, for unit tests. */
export class MemoryBucketStore implements BucketStore {
  private readonly rows = new Map<string, { bucket: Bucket; etag: string }>();
  private n = 0;
  get(caller: string): Promise<{ bucket: Bucket; etag: string } | undefined> {
    return Promise.resolve(this.rows.get(caller));
  }
  put(caller: string, bucket: Bucket, etag: string | undefined): Promise<boolean> {
    if (this.rows.get(caller)?.etag !== etag) return Promise.resolve(false);
    this.rows.set(caller, { bucket, etag: `q${++this.n}` });
    return Promise.resolve(true);
  }
}
