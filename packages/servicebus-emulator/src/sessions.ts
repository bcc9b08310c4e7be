/**
 * Session bookkeeping for one session-enabled queue or subscription: exclusive session locks (one receiver holds a
 * session until it closes or the lock expires) and session state. Pure: time from the injected clock; state changes
 * go to the journal, locks do not (like message locks, they are lost on restart).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from './queue';
import type { Journal } from './journal';

export interface SessionLock {
  sessionId: string;
  /** Identifies one acceptance: a lock that expired and was taken again by someone else has a new id. */
  lockId: string;
  lockedUntil: number;
}

interface SessionRecord {
  id: string;
  state: Buffer | null;
  stateUpdatedAt: number;
  lock?: { id: string; until: number };
}

export class SessionTable {
  private readonly sessions = new Map<string, SessionRecord>();

  constructor(
    private readonly entityKey: string,
    private readonly lockDurationMs: number,
    private readonly clock: Clock,
    private readonly journal: Journal,
  ) {}

  /** Puts back a persisted state (no journal write). */
  restoreState(sessionId: string, state: Buffer): void {
    this.record(sessionId).state = state;
  }

  isLocked(sessionId: string): boolean {
    const lock = this.sessions.get(sessionId)?.lock;
    return lock !== undefined && lock.until > this.clock.now();
  }

  /** The live lock with this id, or undefined (released, expired or replaced). */
  live(lock: { sessionId: string; lockId: string }): SessionLock | undefined {
    const r = this.sessions.get(lock.sessionId);
    if (!r?.lock || r.lock.id !== lock.lockId || r.lock.until <= this.clock.now()) return undefined;
    return { sessionId: r.id, lockId: r.lock.id, lockedUntil: r.lock.until };
  }

  /** Whoever holds the session now (management requests name the session, not the lock). */
  holder(sessionId: string): Pick<SessionLock, 'sessionId' | 'lockId'> | undefined {
    const r = this.sessions.get(sessionId);
    return r?.lock && r.lock.until > this.clock.now() ? { sessionId, lockId: r.lock.id } : undefined;
  }

  /** Locks a session for one receiver; undefined when another receiver holds it. */
  acquire(sessionId: string): SessionLock | undefined {
    if (this.isLocked(sessionId)) return undefined;
    const r = this.record(sessionId);
    r.lock = { id: randomUUID(), until: this.clock.now() + this.lockDurationMs };
    return { sessionId, lockId: r.lock.id, lockedUntil: r.lock.until };
  }

  /** Ends a receiver's hold on its session (link closed); a lock someone else took since is left alone. */
  release(lock: { sessionId: string; lockId: string }): void {
    const r = this.sessions.get(lock.sessionId);
    if (r?.lock?.id === lock.lockId) delete r.lock;
  }

  /** Extends whoever holds the session; undefined when nobody does (the lock is lost). */
  renew(sessionId: string): number | undefined {
    const r = this.sessions.get(sessionId);
    if (!r?.lock || r.lock.until <= this.clock.now()) return undefined;
    r.lock.until = this.clock.now() + this.lockDurationMs;
    return r.lock.until;
  }

  /** Locks whose time ran out since the last call; they are cleared. */
  takeExpired(): SessionLock[] {
    const now = this.clock.now();
    const expired: SessionLock[] = [];
    for (const r of this.sessions.values()) {
      if (r.lock && r.lock.until <= now) {
        expired.push({ sessionId: r.id, lockId: r.lock.id, lockedUntil: r.lock.until });
        delete r.lock;
      }
    }
    return expired;
  }

  getState(sessionId: string): Buffer | null {
    return this.sessions.get(sessionId)?.state ?? null;
  }

  setState(sessionId: string, state: Buffer | null): void {
    const r = this.record(sessionId);
    r.state = state;
    r.stateUpdatedAt = this.clock.now();
    this.journal.putSessionState(this.entityKey, sessionId, state);
  }

  /** Sessions whose state changed after `since` (epoch ms). */
  withStateUpdatedAfter(since: number): string[] {
    return [...this.sessions.values()].filter((r) => r.state !== null && r.stateUpdatedAt > since).map((r) => r.id);
  }

  private record(sessionId: string): SessionRecord {
    let r = this.sessions.get(sessionId);
    if (!r) this.sessions.set(sessionId, (r = { id: sessionId, state: null, stateUpdatedAt: 0 }));
    return r;
  }
}
