/**
 * The write-ahead interface between broker state and durable storage. The broker records every change to a
 * message (not lock changes) and calls `commit()` before it acknowledges anything to a client.
 */
import type { StoredMessage } from './queue';

/** A subscription rule in JSON-safe form (filters are recompiled on restore). */
export interface RuleSpec {
  name: string;
  sql?: string;
  correlation?: { system: Record<string, string | undefined>; properties: Record<string, string | number | boolean | null> };
  action?: string;
}

export interface Journal {
  putMessage(entityKey: string, message: StoredMessage): void;
  deleteMessage(entityKey: string, seq: number): void;
  /** Highest sequence number handed out by a sending entity (queue or topic). */
  setSequence(entityKey: string, seq: number): void;
  /** A message id seen by duplicate detection, remembered until `expiresAt`. */
  recordMessageId(entityKey: string, messageId: string, expiresAt: number): void;
  /** A session's state (set-session-state); null clears it. */
  putSessionState(entityKey: string, sessionId: string, state: Buffer | null): void;
  /** A subscription's full rule set after add-rule / remove-rule. */
  putRules(entityKey: string, rules: RuleSpec[]): void;
  /** Makes everything recorded so far durable. */
  commit(): void;
  /** Same, calling back once durable instead of blocking (journals that can sync off the event loop). */
  commitAsync?(done: (err: Error | null) => void): void;
  close(): void;
}

/** Memory-only operation (no `--data`). */
export const memoryJournal: Journal = {
  putMessage() {},
  deleteMessage() {},
  setSequence() {},
  recordMessageId() {},
  putSessionState() {},
  putRules() {},
  commit() {},
  close() {},
};

/** What a journal hands back on startup. */
export interface RestoredState {
  messages: Map<string, StoredMessage[]>;
  sequences: Map<string, number>;
  messageIds: Map<string, Map<string, number>>;
  /** entity key → session id → state. */
  sessionStates: Map<string, Map<string, Buffer>>;
  /** subscription key → rules changed at run time (replace the config's rules). */
  rules: Map<string, RuleSpec[]>;
}

export function emptyRestoredState(): RestoredState {
  return { messages: new Map(), sequences: new Map(), messageIds: new Map(), sessionStates: new Map(), rules: new Map() };
}

/**
 * Group commit over a durable journal: `commit()` only marks the work as due; at the end of the current turn of the
 * event loop one fsync covers every operation so far (a client settling 500 messages at once costs one fsync, not
 * 500), run off the event loop when the journal can, while later operations gather for the next one. The broker
 * acknowledges through `whenDurable`, so nothing is acknowledged before it is on disk.
 */
export class GroupCommitJournal implements Journal {
  private due = false;
  private scheduled = false;
  private inFlight = false;
  private closing = false;
  private waiting: (() => void)[] = [];
  private markClosed: () => void = () => {};
  /** Resolves once the inner journal is closed (after an fsync that was in flight at close()). */
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(
    private readonly inner: Journal,
    /** A failed fsync: durability is gone, so the broker must not go on acknowledging. */
    private readonly onError: (err: Error) => void = (err) => {
      throw err;
    },
  ) {}

  putMessage(entityKey: string, message: StoredMessage): void {
    this.inner.putMessage(entityKey, message);
  }
  deleteMessage(entityKey: string, seq: number): void {
    this.inner.deleteMessage(entityKey, seq);
  }
  setSequence(entityKey: string, seq: number): void {
    this.inner.setSequence(entityKey, seq);
  }
  recordMessageId(entityKey: string, messageId: string, expiresAt: number): void {
    this.inner.recordMessageId(entityKey, messageId, expiresAt);
  }
  putSessionState(entityKey: string, sessionId: string, state: Buffer | null): void {
    this.inner.putSessionState(entityKey, sessionId, state);
  }
  putRules(entityKey: string, rules: RuleSpec[]): void {
    this.inner.putRules(entityKey, rules);
  }

  commit(): void {
    this.due = true;
    this.schedule();
  }

  /** Runs `fn` once everything committed so far is durable: at once if nothing is due, else after the group fsync. */
  whenDurable(fn: () => void): void {
    if (!this.due && !this.inFlight) {
      fn();
      return;
    }
    this.waiting.push(fn);
    this.schedule();
  }

  /** Makes everything committed so far durable now, blocking (for operations that must not wait). */
  flush(): void {
    this.due = false;
    this.inner.commit();
    run(this.takeWaiting());
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.inFlight) return; // the fsync in flight closes the journal when it lands
    this.flush();
    this.inner.close();
    this.markClosed();
  }

  private takeWaiting(): (() => void)[] {
    const w = this.waiting;
    this.waiting = [];
    return w;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.closing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startFlush();
    });
  }

  private startFlush(): void {
    if (this.inFlight || this.closing || (!this.due && this.waiting.length === 0)) return;
    if (!this.inner.commitAsync) {
      this.flush();
      return;
    }
    this.due = false;
    const acks = this.takeWaiting();
    this.inFlight = true;
    this.inner.commitAsync((err) => {
      this.inFlight = false;
      if (this.closing) {
        this.flush();
        this.inner.close();
        this.markClosed();
        if (!err) run(acks);
        return;
      }
      if (err) {
        this.onError(err);
        return;
      }
      run(acks);
      // Whatever gathered while this fsync ran goes in the next one.
      if (this.due || this.waiting.length > 0) this.schedule();
    });
  }
}

function run(acks: (() => void)[]): void {
  for (const fn of acks) {
    try {
      fn();
    } catch {
      // An acknowledgement to a peer that went away: nothing left to tell it.
    }
  }
}
