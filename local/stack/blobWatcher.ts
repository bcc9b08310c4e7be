import { createHash } from 'node:crypto';
import { RestError, type TableClient } from '@azure/data-tables';
import type { ContainerClient } from '@azure/storage-blob';
import axios from 'axios';
import { ensureError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { blobCreatedEvent } from '../host/eventGrid';

/**
 * Stands in for Event Grid locally: watches Azurite containers and raises a BlobCreated notification at the host's
 * blobs webhook for every new or changed blob. A receipt per (blob, ETag), written only after the host accepted the
 * event, makes delivery at-least-once across restarts and never twice for the same version.
 */
export interface WatchTarget {
  container: ContainerClient;
  functionName: string;
}

export class BlobWatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly receipts = new Set<string>();
  private readonly failures = new Map<string, { count: number; nextAt: number }>();
  private scanning: Promise<void> | undefined;
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
      /** Notifications in flight at once (default 16). */
      concurrency?: number;
    },
  ) {}

  static receiptKey(container: string, name: string, etag: string): string {
    return createHash('sha256').update(`${container}/${name}|${etag}`).digest('hex');
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.scanning = this.scanOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.opts.logger.warn('blob watcher scan failed', { error: ensureError(err).message }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs ?? 500);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scanning;
  }

  /** One pass over every watched container; returns how many notifications were delivered. */
  async scanOnce(): Promise<number> {
    if (!this.loaded) await this.loadReceipts();
    const pending: { t: WatchTarget; name: string; etag: string; length: number; key: string }[] = [];
    for (const t of this.opts.targets) {
      if (!(await t.container.exists())) continue;
      for await (const b of t.container.listBlobsFlat()) {
        const etag = b.properties.etag ?? '';
        const key = BlobWatcher.receiptKey(t.container.containerName, b.name, etag);
        if (this.receipts.has(key)) continue;
        const fail = this.failures.get(key);
        if (fail && Date.now() < fail.nextAt) continue;
        pending.push({ t, name: b.name, etag, length: b.properties.contentLength ?? 0, key });
      }
    }
    // Several notifications in flight at once, as Event Grid delivers them.
    let delivered = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pending.length) {
        const p = pending[next++]!;
        if (await this.deliver(p.t, p.name, p.etag, p.length)) {
          await this.writeReceipt(p.t.container.containerName, p.key, p.name, p.etag);
          this.failures.delete(p.key);
          delivered++;
        } else {
          const count = (this.failures.get(p.key)?.count ?? 0) + 1;
          this.failures.set(p.key, { count, nextAt: Date.now() + Math.min(60_000, 500 * 2 ** count) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 16, pending.length) }, worker));
    return delivered;
  }

  private async deliver(t: WatchTarget, name: string, etag: string, length: number): Promise<boolean> {
    const event = blobCreatedEvent({ accountUrl: this.opts.accountUrl, container: t.container.containerName, name, etag, contentLength: length });
    try {
      const res = await axios.post(`${this.opts.hostUrl}/runtime/webhooks/blobs`, [event], {
        params: { functionName: `Host.Functions.${t.functionName}`, code: this.opts.functionKey },
        headers: { 'aeg-event-type': 'Notification', 'content-type': 'application/json' },
        validateStatus: () => true,
        timeout: 120_000,
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

  private async writeReceipt(container: string, key: string, name: string, etag: string): Promise<void> {
    try {
      await this.opts.receiptsTable.createEntity({ partitionKey: container, rowKey: key, blob: name, etag, deliveredAt: new Date().toISOString() });
    } catch (err) {
      if (!(err instanceof RestError && err.statusCode === 409)) throw err;
    }
    this.receipts.add(key);
  }
}
