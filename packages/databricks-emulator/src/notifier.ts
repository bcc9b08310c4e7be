import axios from 'axios';
import { sleep } from 'orbiter/shared/http/retry';
import type { Logger } from 'orbiter/shared/logger';
import type { JobNotification } from './jobs/executor';

/** Posts job notifications in the background, in order, with a few retries (Databricks retries webhooks too). */
export class WebhookNotifier {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly attempts = 3,
  ) {}

  send(notification: JobNotification): void {
    if (!this.url) return;
    this.chain = this.chain.then(() => this.post(notification));
  }

  /** Resolves when every queued notification was delivered or given up. */
  drain(): Promise<void> {
    return this.chain;
  }

  private async post(notification: JobNotification): Promise<void> {
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        const res = await axios.post(this.url, notification, { timeout: 5000, validateStatus: () => true });
        if (res.status < 300) return;
        this.logger.warn('job notification rejected', { status: res.status, event: notification.event_type, runId: notification.run.run_id });
        if (res.status < 500 && res.status !== 429) return;
      } catch (err) {
        this.logger.warn('job notification failed', { err: String(err), event: notification.event_type, runId: notification.run.run_id });
      }
      if (attempt < this.attempts) await sleep(200 * 2 ** (attempt - 1));
    }
  }
}
