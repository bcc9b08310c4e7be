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
