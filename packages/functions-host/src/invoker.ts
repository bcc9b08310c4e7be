import type { InvocationContext } from '@azure/functions';
import { ensureError } from 'orbiter/shared/errors';
import type { Logger } from 'orbiter/shared/logger';
import { makeContext } from './invocation';

export interface InvocationOutcome {
  ok: boolean;
  result?: unknown;
  error?: Error;
  durationMs: number;
  /** Batch invocations: messages delivered. */
  messages?: number;
}

/** Runs function invocations: a context per call, the outcome recorded, and the work in flight tracked for stop(). */
export class Invoker {
  /** Every invocation so far (the stack prints, tests assert). */
  readonly invocations: { name: string; outcome: InvocationOutcome }[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly logger: Logger) {}

  async invoke(
    name: string,
    triggerMetadata: Record<string, unknown>,
    run: (ctx: InvocationContext) => Promise<unknown>,
    annotate: (o: InvocationOutcome) => InvocationOutcome = (o) => o,
  ): Promise<InvocationOutcome> {
    const ctx = makeContext(name, this.logger, triggerMetadata);
    const started = Date.now();
    let outcome: InvocationOutcome;
    try {
      const result = await run(ctx);
      outcome = { ok: true, result, durationMs: Date.now() - started };
    } catch (err) {
      const error = ensureError(err);
      this.logger.error(`Executed 'Functions.${name}' (Failed)`, { error: error.message });
      outcome = { ok: false, error, durationMs: Date.now() - started };
    }
    outcome = annotate(outcome);
    this.invocations.push({ name, outcome });
    return outcome;
  }

  /** Work started outside a caller's await (timer ticks, batches, HTTP requests): stop() waits for it. */
  track<T>(p: Promise<T>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
