/**
 * The write-ahead interface between broker state and durable storage. The broker records every change to a
 * message (not lock changes) and calls `commit()` before it acknowledges anything to a client.
 */
import type { StoredMessage } from './queue';

export interface Journal {
  putMessage(entityKey: string, message: StoredMessage): void;
  deleteMessage(entityKey: string, seq: number): void;
  /** Highest sequence number handed out by a sending entity (queue or topic). */
  setSequence(entityKey: string, seq: number): void;
  /** A message id seen by duplicate detection, remembered until `expiresAt`. */
  recordMessageId(entityKey: string, messageId: string, expiresAt: number): void;
  /** Makes everything recorded so far durable. */
  commit(): void;
  close(): void;
}

/** Memory-only operation (no `--data`). */
export const memoryJournal: Journal = {
  putMessage() {},
  deleteMessage() {},
  setSequence() {},
  recordMessageId() {},
  commit() {},
  close() {},
};

/** What a journal hands back on startup. */
export interface RestoredState {
  messages: Map<string, StoredMessage[]>;
  sequences: Map<string, number>;
  messageIds: Map<string, Map<string, number>>;
}

export function emptyRestoredState(): RestoredState {
  return { messages: new Map(), sequences: new Map(), messageIds: new Map() };
}

/**
 * Group commit over a durable journal: `commit()` only marks the work as due, and one fsync at the end of the
 * current turn of the event loop covers every operation of that turn (a client settling 500 messages at once costs
 * one fsync, not 500). The broker acknowledges through `whenDurable`, so nothing is acknowledged before it is on disk.
 */
export class GroupCommitJournal implements Journal {
  private due = false;
  private scheduled = false;
  private waiting: (() => void)[] = [];

  constructor(private readonly inner: Journal) {}

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

  commit(): void {
    this.due = true;
    this.schedule();
  }

  /** Runs `fn` once everything committed so far is durable: at once if nothing is due, else after the group fsync. */
  whenDurable(fn: () => void): void {
    if (!this.due) {
      fn();
      return;
    }
    this.waiting.push(fn);
    this.schedule();
  }

  /** Makes everything committed so far durable now (for operations that must not wait for the turn to end). */
  flush(): void {
    this.due = false;
    this.inner.commit();
    const waiting = this.waiting;
    this.waiting = [];
    for (const fn of waiting) {
      try {
        fn();
      } catch {
        // An acknowledgement to a peer that went away: nothing left to tell it.
      }
    }
  }

  close(): void {
    this.flush();
    this.inner.close();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.due || this.waiting.length > 0) this.flush();
    });
  }
}
