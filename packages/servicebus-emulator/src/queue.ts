/**
 * Pure queue semantics for one receivable entity (a queue, a subscription, or a dead-letter sub-queue):
 * peek-lock with lock tokens and expiry, delivery counts and MaxDeliveryCount, TTL, scheduled activation,
 * deferral and peeking. No sockets and no timers: time comes from an injected clock and callers run `sweep()`.
 */
import { randomUUID } from 'node:crypto';
import type { FilterableMessage, PropertyValue } from './filters';
import type { Journal } from './journal';
import { SessionTable, type SessionLock } from './sessions';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type MessageState = 'active' | 'deferred' | 'scheduled';

/** Values of the `x-opt-message-state` annotation. */
export const MessageStateCode: Record<MessageState, number> = { active: 0, deferred: 1, scheduled: 2 };

/** What the broker knows about a message besides its encoded bytes; JSON-serialisable. */
export interface MessageMeta extends FilterableMessage {
  messageId: string;
  /** header.ttl in ms, when the sender set one. */
  ttlMs?: number;
  /** `x-opt-scheduled-enqueue-time` in epoch ms, when set. */
  scheduledAt?: number;
}

export interface StoredMessage {
  seq: number;
  /** The message as the client encoded it (broker annotations are added on the way out). */
  raw: Buffer;
  meta: MessageMeta;
  /** When the message became visible (the scheduled time for scheduled messages). */
  enqueuedAt: number;
  /** Absolute expiry in epoch ms; Infinity when it never expires. */
  expiresAt: number;
  state: MessageState;
  /** Number of previous delivery attempts (AMQP header.delivery-count). */
  deliveryCount: number;
  /** Application properties added by the broker (abandon/defer/dead-letter properties, DeadLetterReason...). */
  propsPatch: Record<string, PropertyValue>;
  /** Application properties a rule action removed from this copy. */
  removedProps?: string[];
  lockToken?: string;
  lockedUntil?: number;
  /** Set while locked through a session receiver: the message lock lives as long as that session lock. */
  sessionLockId?: string;
}

/** Which session a receiver holds (session-enabled entities only). */
export type SessionHold = Pick<SessionLock, 'sessionId' | 'lockId'>;

export type AcceptResult = SessionLock | 'locked' | 'none';

export interface QueueSettings {
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultTtlMs: number;
  deadLetteringOnMessageExpiration: boolean;
  /** Dead-letter sub-queues never expire or dead-letter their messages again. */
  isDeadLetterQueue: boolean;
  /** Receivers hold a session and see only its messages (never set on dead-letter sub-queues). */
  requiresSession: boolean;
}

export interface QueueHooks {
  journal: Journal;
  /** Moves a message (already removed from this queue) to its dead-letter destination. */
  deadLetter(message: StoredMessage): void;
  /** Called when messages may have become available to receivers. */
  available(queue: MessageQueue): void;
}

export type Settlement =
  | { kind: 'complete' }
  | { kind: 'abandon'; properties?: Record<string, PropertyValue> }
  | { kind: 'defer'; properties?: Record<string, PropertyValue> }
  | { kind: 'deadLetter'; reason?: string; description?: string; properties?: Record<string, PropertyValue> };

export type SettleResult = 'ok' | 'lockLost' | 'sessionLockLost';

export const DeadLetterReasons = {
  maxDelivery: 'MaxDeliveryCountExceeded',
  expired: 'TTLExpiredException',
} as const;

export class MessageQueue {
  private readonly messages = new Map<number, StoredMessage>();
  private readonly locks = new Map<string, number>();
  /** Session locks and state; present only when the entity requires sessions. */
  readonly sessions?: SessionTable;

  constructor(
    /** Canonical lower-case entity path, e.g. `run-events/subscriptions/monitor/$deadletterqueue`. */
    readonly key: string,
    readonly settings: QueueSettings,
    private readonly clock: Clock,
    private readonly hooks: QueueHooks,
  ) {
    if (settings.requiresSession) this.sessions = new SessionTable(key, settings.lockDurationMs, clock, hooks.journal);
  }

  get size(): number {
    return this.messages.size;
  }

  /**
   * Enqueues a message whose sequence number is already assigned. Scheduled messages stay invisible until due.
   * Does not commit: callers (the namespace's send/schedule/sweep, or a settlement that dead-letters) commit once
   * for the whole operation, so a batch costs one fsync.
   */
  add(input: Omit<StoredMessage, 'enqueuedAt' | 'expiresAt' | 'state' | 'lockToken' | 'lockedUntil'> & { enqueuedAt?: number }): StoredMessage {
    const now = this.clock.now();
    const scheduled = input.meta.scheduledAt !== undefined && input.meta.scheduledAt > now;
    const enqueuedAt = scheduled ? (input.meta.scheduledAt as number) : (input.enqueuedAt ?? now);
    const msg: StoredMessage = {
      seq: input.seq,
      raw: input.raw,
      meta: input.meta,
      deliveryCount: input.deliveryCount,
      propsPatch: input.propsPatch,
      ...(input.removedProps ? { removedProps: input.removedProps } : {}),
      enqueuedAt,
      expiresAt: this.expiryFor(input.meta, enqueuedAt),
      state: scheduled ? 'scheduled' : 'active',
    };
    this.messages.set(msg.seq, msg);
    this.hooks.journal.putMessage(this.key, msg);
    if (!scheduled) this.hooks.available(this);
    return msg;
  }

  /** Puts back a message loaded from disk (no journal write; locks were lost with the old process). */
  restore(msg: StoredMessage): void {
    delete msg.lockToken;
    delete msg.lockedUntil;
    this.messages.set(msg.seq, msg);
  }

  /** peekLock: locks the next available message with a fresh token (of the held session, on session entities). */
  lockNext(session?: SessionHold): StoredMessage | undefined {
    const msg = this.nextAvailable(session);
    if (msg) this.lock(msg, session);
    this.hooks.journal.commit();
    return msg;
  }

  /** receiveAndDelete: removes the next available message (durably, before the caller sends it). */
  takeNext(session?: SessionHold): StoredMessage | undefined {
    const msg = this.nextAvailable(session);
    if (msg) this.remove(msg);
    this.hooks.journal.commit();
    return msg;
  }

  /**
   * Locks a session for one receiver: the named one (even without messages, as Azure allows), or the session of the
   * oldest available message no one holds. 'locked': another receiver holds the named session; 'none': nothing to take.
   */
  acceptSession(requested: string | undefined): AcceptResult {
    const sessions = this.sessions;
    if (!sessions) throw new Error(`entity '${this.key}' does not require sessions`);
    if (requested !== undefined) return sessions.acquire(requested) ?? 'locked';
    const now = this.clock.now();
    for (const msg of [...this.messages.values()].sort((a, b) => a.seq - b.seq)) {
      const id = msg.meta.sessionId;
      if (id === undefined || sessions.isLocked(id)) continue;
      this.activateIfDue(msg, now);
      if (msg.state !== 'active' || this.isLocked(msg) || this.expireIfDue(msg)) continue;
      this.hooks.journal.commit();
      return sessions.acquire(id) ?? 'none';
    }
    this.hooks.journal.commit();
    return 'none';
  }

  /** A session receiver went away: its session is free again and its locked messages go back to the queue. */
  releaseSession(hold: SessionHold): void {
    if (!this.sessions?.live(hold)) return;
    this.sessions.release(hold);
    this.expireSessionMessageLocks(hold.lockId);
    this.hooks.journal.commit();
    this.hooks.available(this);
  }

  /** Session ids that have messages here (get-message-sessions for active sessions). */
  sessionIdsWithMessages(): string[] {
    const ids = new Set<string>();
    for (const m of this.messages.values()) if (m.meta.sessionId !== undefined) ids.add(m.meta.sessionId);
    return [...ids];
  }

  settle(lockToken: string, settlement: Settlement): SettleResult {
    const msg = this.lockedMessage(lockToken);
    if (!msg) {
      this.hooks.journal.commit();
      return this.sessions ? 'sessionLockLost' : 'lockLost';
    }
    this.unlock(msg);
    switch (settlement.kind) {
      case 'complete':
        this.remove(msg);
        break;
      case 'abandon':
        Object.assign(msg.propsPatch, settlement.properties ?? {});
        this.countFailedDelivery(msg);
        break;
      case 'defer':
        Object.assign(msg.propsPatch, settlement.properties ?? {});
        msg.deliveryCount += 1;
        msg.state = 'deferred';
        this.hooks.journal.putMessage(this.key, msg);
        break;
      case 'deadLetter':
        if (this.settings.isDeadLetterQueue) {
          // A dead-letter queue has no dead-letter queue: leave the message where it is.
          this.hooks.journal.putMessage(this.key, msg);
          this.hooks.available(this);
          break;
        }
        this.moveToDeadLetter(msg, settlement.reason, settlement.description, settlement.properties);
        break;
    }
    this.hooks.journal.commit();
    return 'ok';
  }

  /** Extends a held lock; undefined when the lock is lost. */
  renewLock(lockToken: string): number | undefined {
    const msg = this.lockedMessage(lockToken);
    this.hooks.journal.commit();
    if (!msg) return undefined;
    if (msg.sessionLockId !== undefined) return msg.lockedUntil; // a session message's lock is its session's
    msg.lockedUntil = this.clock.now() + this.settings.lockDurationMs;
    return msg.lockedUntil;
  }

  /** Receives a deferred message by sequence number (peekLock locks it, receiveAndDelete removes it). */
  receiveDeferred(seq: number, mode: 'peekLock' | 'receiveAndDelete', session?: SessionHold): StoredMessage | undefined {
    const msg = this.messages.get(seq);
    if (msg) this.expireIfDue(msg);
    const current = this.messages.get(seq);
    let result: StoredMessage | undefined;
    const inSession = !this.sessions || (session !== undefined && current?.meta.sessionId === session.sessionId);
    if (current && inSession && current.state === 'deferred' && !this.isLocked(current)) {
      if (mode === 'peekLock') this.lock(current, session);
      else this.remove(current);
      result = current;
    }
    this.hooks.journal.commit();
    return result;
  }

  /** Messages with seq >= fromSeq in sequence order, including locked, deferred and scheduled ones. */
  peek(fromSeq: number, count: number, sessionId?: string): StoredMessage[] {
    for (const msg of [...this.messages.values()]) this.expireIfDue(msg);
    this.hooks.journal.commit();
    return [...this.messages.values()]
      .filter((m) => m.seq >= fromSeq && (sessionId === undefined || m.meta.sessionId === sessionId))
      .sort((a, b) => a.seq - b.seq)
      .slice(0, count);
  }

  /** Removes a scheduled message; false when it is not (or no longer) scheduled here. */
  cancelScheduled(seq: number): boolean {
    const msg = this.messages.get(seq);
    if (!msg || msg.state !== 'scheduled') return false;
    this.remove(msg);
    this.hooks.journal.commit();
    return true;
  }

  /** Applies every time-driven transition that is due: lock expiry, scheduled activation, TTL expiry. */
  sweep(): void {
    const now = this.clock.now();
    for (const lost of this.sessions?.takeExpired() ?? []) this.expireSessionMessageLocks(lost.lockId);
    for (const msg of this.messages.values()) {
      if (msg.lockedUntil !== undefined && !this.isLocked(msg)) this.expireLock(msg);
      this.activateIfDue(msg, now);
      this.expireIfDue(msg);
    }
    this.hooks.journal.commit();
  }

  /** Read-only view for diagnostics and unit tests. */
  get(seq: number): StoredMessage | undefined {
    return this.messages.get(seq);
  }

  private expiryFor(meta: MessageMeta, enqueuedAt: number): number {
    if (this.settings.isDeadLetterQueue) return Infinity;
    const ttl = Math.min(meta.ttlMs ?? Infinity, this.settings.defaultTtlMs);
    return enqueuedAt + ttl;
  }

  /** On a session entity, only the held session's messages, and nothing once its lock is lost. */
  private nextAvailable(session?: SessionHold): StoredMessage | undefined {
    if (this.sessions && (!session || !this.sessions.live(session))) return undefined;
    const now = this.clock.now();
    for (const msg of this.messages.values()) {
      if (session && msg.meta.sessionId !== session.sessionId) continue;
      if (msg.lockedUntil !== undefined) {
        if (this.isLocked(msg)) continue;
        this.expireLock(msg);
      }
      this.activateIfDue(msg, now);
      if (msg.state !== 'active' || msg.lockedUntil !== undefined) continue;
      if (this.expireIfDue(msg)) continue;
      return msg;
    }
    return undefined;
  }

  private isLocked(msg: StoredMessage): boolean {
    if (msg.lockedUntil === undefined) return false;
    if (msg.sessionLockId !== undefined && msg.meta.sessionId !== undefined && this.sessions) {
      const live = this.sessions.live({ sessionId: msg.meta.sessionId, lockId: msg.sessionLockId });
      if (live) msg.lockedUntil = live.lockedUntil; // follows renewals of the session lock
      return live !== undefined;
    }
    return msg.lockedUntil > this.clock.now();
  }

  private lock(msg: StoredMessage, session?: SessionHold): void {
    msg.lockToken = randomUUID();
    const held = session && this.sessions?.live(session);
    if (held) {
      msg.sessionLockId = held.lockId;
      msg.lockedUntil = held.lockedUntil;
    } else {
      msg.lockedUntil = this.clock.now() + this.settings.lockDurationMs;
    }
    this.locks.set(msg.lockToken, msg.seq);
  }

  private unlock(msg: StoredMessage): void {
    if (msg.lockToken !== undefined) this.locks.delete(msg.lockToken);
    delete msg.lockToken;
    delete msg.lockedUntil;
    delete msg.sessionLockId;
  }

  /** Messages locked under a session lock that ended count a failed delivery, as an expired lock does. */
  private expireSessionMessageLocks(lockId: string): void {
    for (const msg of [...this.messages.values()]) if (msg.sessionLockId === lockId) this.expireLock(msg);
  }

  /** The message still held under this token, or undefined (unknown, replaced or expired: lock lost). */
  private lockedMessage(lockToken: string): StoredMessage | undefined {
    const seq = this.locks.get(lockToken.toLowerCase());
    const msg = seq === undefined ? undefined : this.messages.get(seq);
    if (!msg || msg.lockToken !== lockToken.toLowerCase()) return undefined;
    if (!this.isLocked(msg)) {
      this.expireLock(msg);
      return undefined;
    }
    return msg;
  }

  private expireLock(msg: StoredMessage): void {
    this.unlock(msg);
    this.countFailedDelivery(msg);
  }

  /** An abandoned or timed-out delivery: count it, and dead-letter once MaxDeliveryCount is reached. */
  private countFailedDelivery(msg: StoredMessage): void {
    msg.deliveryCount += 1;
    if (!this.settings.isDeadLetterQueue && msg.deliveryCount >= this.settings.maxDeliveryCount) {
      this.moveToDeadLetter(
        msg,
        DeadLetterReasons.maxDelivery,
        `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
      );
      return;
    }
    this.hooks.journal.putMessage(this.key, msg);
    if (msg.state === 'active') this.hooks.available(this);
  }

  private activateIfDue(msg: StoredMessage, now: number): void {
    if (msg.state !== 'scheduled' || (msg.meta.scheduledAt ?? 0) > now) return;
    msg.state = 'active';
    msg.enqueuedAt = msg.meta.scheduledAt ?? now;
    msg.expiresAt = this.expiryFor(msg.meta, msg.enqueuedAt);
    this.hooks.journal.putMessage(this.key, msg);
    this.hooks.available(this);
  }

  /** TTL: expired messages are never delivered or peeked; a held lock postpones expiry. Returns true if removed. */
  private expireIfDue(msg: StoredMessage): boolean {
    if (msg.state === 'scheduled' || this.isLocked(msg) || msg.expiresAt > this.clock.now()) return false;
    if (this.settings.deadLetteringOnMessageExpiration) {
      this.moveToDeadLetter(msg, DeadLetterReasons.expired, 'The message expired and was dead lettered.');
    } else {
      this.remove(msg);
    }
    return true;
  }

  private moveToDeadLetter(
    msg: StoredMessage,
    reason: string | undefined,
    description: string | undefined,
    properties?: Record<string, PropertyValue>,
  ): void {
    this.remove(msg);
    Object.assign(msg.propsPatch, properties ?? {});
    if (reason !== undefined) msg.propsPatch['DeadLetterReason'] = reason;
    if (description !== undefined) msg.propsPatch['DeadLetterErrorDescription'] = description;
    this.hooks.deadLetter(msg);
  }

  private remove(msg: StoredMessage): void {
    this.unlock(msg);
    this.messages.delete(msg.seq);
    this.hooks.journal.deleteMessage(this.key, msg.seq);
  }
}
