import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { ContainerClient } from '@azure/storage-blob';
import axios from 'axios';
import { ensureError } from 'orbiter/shared/errors';
import type { Logger } from 'orbiter/shared/logger';
import { blobCreatedEvent } from './eventGrid';

/**
 * Stands in for Event Grid locally: watches Azurite containers and raises a BlobCreated notification at the host's
 * blobs webhook for every new or changed blob. A receipt per (blob, ETag), written only after the host accepted the
 * event, makes delivery at-least-once across restarts and never twice for the same version.
 */
export interface WatchTarget {
  container: ContainerClient;
  functionName: string;
}

/** Table storage's limit on the operations of one entity group transaction. */
const RECEIPTS_PER_TRANSACTION = 100;

interface Pending {
  t: WatchTarget;
  name: string;
  etag: string;
  length: number;
  key: string;
}

export class BlobWatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly receipts = new Set<string>();
  /** Receipts of delivered events not yet written to the table (written in transactions, per container). */
  private unwritten: { container: string; key: string; name: string; etag: string; deliveredAt: string }[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly failures = new Map<string, { count: number; nextAt: number }>();
  /** Blob versions being delivered, or waiting for a free delivery slot. */
  private readonly inFlight = new Set<string>();
  private queue: { p: Pending; settle: (delivered: boolean) => void }[] = [];
  private workers = 0;
  private readonly idle = new Set<() => void>();
  private scanning: Promise<void> | undefined;
  /** Kept-alive connections to the host: a burst is thousands of notifications. */
  private readonly agent = new Agent({ keepAlive: true });
  private loaded = false;
  private stopped = false;

  constructor(
    private readonly opts: {
      targets: WatchTarget[];
      receiptsTable: TableClient;
      hostUrl: string;
      functionKey: string;
      accountUrl: string;
      logger: Logger;
      intervalMs?: number;
      /** Notifications in flight at once (default 32). */
      concurrency?: number;
    },
  ) {}

  static receiptKey(container: string, name: string, etag: string): string {
    return createHash('sha256').update(`${container}/${name}|${etag}`).digest('hex');
  }

  /**
   * Polls every intervalMs. A poll only lists and queues what is new: deliveries run in the background, so blobs
   * landing while a burst is being delivered are picked up by the next poll instead of waiting for the whole burst.
   */
  start(): void {
    const interval = this.opts.intervalMs ?? 500;
    const tick = (): void => {
      if (this.stopped) return;
      const started = Date.now();
      this.scanning = this.findNew()
        .then((found) => {
          for (const p of found) void this.enqueue(p);
          return this.writeReceipts();
        })
        .catch((err: unknown) => this.opts.logger.warn('blob watcher scan failed', { error: ensureError(err).message }))
        .finally(() => {
          // A poll every `interval` from start to start (a slow listing eats into the wait, never below a fifth of it).
          if (!this.stopped) this.timer = setTimeout(tick, Math.max(interval / 5, interval - (Date.now() - started)));
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scanning;
    // Queued but not started: no receipt, so the next start delivers them. Started ones finish first.
    for (const q of this.queue.splice(0)) {
      this.inFlight.delete(q.p.key);
      q.settle(false);
    }
    if (this.workers > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
    await this.writeReceipts().catch((err: unknown) =>
      this.opts.logger.warn('blob watcher receipts not written', { error: ensureError(err).message }),
    );
    this.agent.destroy();
  }

  /** One pass over every watched container, waiting for its deliveries; returns how many notifications were delivered. */
  async scanOnce(): Promise<number> {
    const found = await this.findNew();
    const delivered = (await Promise.all(found.map((p) => this.enqueue(p)))).filter(Boolean).length;
    await this.writeReceipts();
    return delivered;
  }

  /** Blob versions with no receipt, not being delivered and not backing off after a failed delivery. */
  private async findNew(): Promise<Pending[]> {
    if (!this.loaded) await this.loadReceipts();
    const found: Pending[] = [];
    for (const t of this.opts.targets) {
      if (!(await t.container.exists())) continue;
      for await (const b of t.container.listBlobsFlat()) {
        const etag = b.properties.etag ?? '';
        const key = BlobWatcher.receiptKey(t.container.containerName, b.name, etag);
        if (this.receipts.has(key) || this.inFlight.has(key)) continue;
        const fail = this.failures.get(key);
        if (fail && Date.now() < fail.nextAt) continue;
        found.push({ t, name: b.name, etag, length: b.properties.contentLength ?? 0, key });
      }
    }
    return found;
  }

  /** Queues one delivery; several run at once, as Event Grid delivers them. Resolves with whether it was accepted. */
  private enqueue(p: Pending): Promise<boolean> {
    this.inFlight.add(p.key);
    const done = new Promise<boolean>((settle) => this.queue.push({ p, settle }));
    while (this.workers < (this.opts.concurrency ?? 32) && this.queue.length > 0) {
      this.workers++;
      void this.work().finally(() => {
        this.workers--;
        if (this.workers === 0) for (const resolve of this.idle) resolve();
        if (this.workers === 0) this.idle.clear();
      });
    }
    return done;
  }

  private async work(): Promise<void> {
    for (let q = this.queue.shift(); q; q = this.queue.shift()) {
      const { p } = q;
      const ok = await this.deliver(p.t, p.name, p.etag, p.length);
      if (ok) {
        this.receipts.add(p.key);
        this.unwritten.push({
          container: p.t.container.containerName,
          key: p.key,
          name: p.name,
          etag: p.etag,
          deliveredAt: new Date().toISOString(),
        });
        if (this.unwritten.length >= RECEIPTS_PER_TRANSACTION) void this.writeReceipts().catch(() => undefined);
        this.failures.delete(p.key);
      } else {
        const count = (this.failures.get(p.key)?.count ?? 0) + 1;
        this.failures.set(p.key, { count, nextAt: Date.now() + Math.min(60_000, 500 * 2 ** count) });
      }
      this.inFlight.delete(p.key);
      q.settle(ok);
    }
  }

  private async deliver(t: WatchTarget, name: string, etag: string, length: number): Promise<boolean> {
    const event = blobCreatedEvent({ accountUrl: this.opts.accountUrl, container: t.container.containerName, name, etag, contentLength: length });
    try {
      const res = await axios.post(`${this.opts.hostUrl}/runtime/webhooks/eventgrid`, [event], {
        params: { functionName: `Host.Functions.${t.functionName}`, code: this.opts.functionKey },
        headers: { 'aeg-event-type': 'Notification', 'content-type': 'application/json' },
        validateStatus: () => true,
        timeout: 120_000,
        httpAgent: this.agent,
      });
      if (res.status >= 200 && res.status < 300) return true;
      this.opts.logger.warn('blob event not accepted; will retry', { blob: name, status: res.status });
      return false;
    } catch (err) {
      this.opts.logger.warn('blob event delivery failed; will retry', { blob: name, error: ensureError(err).message });
      return false;
    }
  }

  private async loadReceipts(): Promise<void> {
    await this.opts.receiptsTable.createTable();
    for await (const e of this.opts.receiptsTable.listEntities<{ rowKey: string }>({ queryOptions: { select: ['RowKey'] } })) {
      this.receipts.add(e.rowKey);
    }
    this.loaded = true;
  }

  /**
   * Writes the receipts of delivered events, up to 100 per table transaction (one partition per container). Until a
   * receipt is written, a restarted watcher delivers that version again (at least once; the run request's MessageId
   * makes the broker drop the copy). Upserts, so a receipt written twice is harmless.
   */
  private writeReceipts(): Promise<void> {
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        while (this.unwritten.length > 0) {
          const container = this.unwritten[0]!.container;
          const chunk = this.unwritten.filter((r) => r.container === container).slice(0, RECEIPTS_PER_TRANSACTION);
          const actions = chunk.map((r): TransactionAction => [
            'upsert',
            { partitionKey: r.container, rowKey: r.key, blob: r.name, etag: r.etag, deliveredAt: r.deliveredAt },
            'Merge',
          ]);
          await this.opts.receiptsTable.submitTransaction(actions);
          const done = new Set(chunk);
          this.unwritten = this.unwritten.filter((r) => !done.has(r));
        }
      });
    return this.writing;
  }
}
