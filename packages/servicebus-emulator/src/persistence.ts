/**
 * Durable broker state for `--data <dir>`: an append-only JSON-lines log, fsync'd on every commit (i.e. before
 * the broker acknowledges a send or settlement), replayed and compacted into a fresh log on startup and whenever
 * it grows well beyond the live state. A torn last line (crash mid-write) is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Journal, RestoredState, RuleSpec } from './journal';
import { emptyRestoredState } from './journal';
import type { StoredMessage } from './queue';

const LOG_NAME = 'servicebus.log';
const LOCK_NAME = 'servicebus.lock';

/** Data directories opened by this process (a lock file alone cannot tell our own stale lock from a live one). */
const openInThisProcess = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One broker per data directory: two writers appending to one log would corrupt it. Stale locks are taken over. */
function acquireLock(dir: string): void {
  const key = path.resolve(dir);
  const lockFile = path.join(dir, LOCK_NAME);
  if (openInThisProcess.has(key)) throw new Error(`Service Bus emulator data directory ${dir} is already open in this process`);
  try {
    fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const pid = Number(fs.readFileSync(lockFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
      throw new Error(`Service Bus emulator data directory ${dir} is in use by process ${pid}`);
    }
    fs.writeFileSync(lockFile, String(process.pid));
  }
  openInThisProcess.add(key);
}

function releaseLock(dir: string): void {
  openInThisProcess.delete(path.resolve(dir));
  fs.rmSync(path.join(dir, LOCK_NAME), { force: true });
}
const COMMIT = JSON.stringify({ t: 'c' });

type LogRecord =
  | { t: 'put'; k: string; m: SerializedMessage }
  | { t: 'del'; k: string; s: number }
  | { t: 'seq'; k: string; s: number }
  | { t: 'dup'; k: string; id: string; x: number }
  /** Session state (base64), or null when cleared. */
  | { t: 'ss'; k: string; id: string; v: string | null }
  /** A subscription's rules, replacing any earlier record. */
  | { t: 'rules'; k: string; r: RuleSpec[] }
  /** Closes a commit: records after the last marker belong to a torn write and are ignored on replay. */
  | { t: 'c' };

interface SerializedMessage {
  seq: number;
  raw: string;
  meta: StoredMessage['meta'];
  enqueuedAt: number;
  expiresAt: number | null;
  state: StoredMessage['state'];
  deliveryCount: number;
  propsPatch: StoredMessage['propsPatch'];
  removedProps?: string[];
}

function serialize(m: StoredMessage): SerializedMessage {
  return {
    seq: m.seq,
    raw: m.raw.toString('base64'),
    meta: m.meta,
    enqueuedAt: m.enqueuedAt,
    expiresAt: Number.isFinite(m.expiresAt) ? m.expiresAt : null,
    state: m.state,
    deliveryCount: m.deliveryCount,
    propsPatch: m.propsPatch,
    ...(m.removedProps ? { removedProps: m.removedProps } : {}),
  };
}

function deserialize(s: SerializedMessage): StoredMessage {
  return {
    seq: s.seq,
    raw: Buffer.from(s.raw, 'base64'),
    meta: s.meta,
    enqueuedAt: s.enqueuedAt,
    expiresAt: s.expiresAt ?? Infinity,
    state: s.state,
    deliveryCount: s.deliveryCount,
    propsPatch: s.propsPatch,
    ...(s.removedProps ? { removedProps: s.removedProps } : {}),
  };
}

/** Live state mirrored by the journal so it can compact itself without asking the broker. */
interface Live {
  messages: Map<string, Map<number, string>>;
  sequences: Map<string, number>;
  messageIds: Map<string, Map<string, number>>;
  /** entity key → session id → its latest `ss` record line. */
  sessions: Map<string, Map<string, string>>;
  /** subscription key → its latest `rules` record line. */
  rules: Map<string, string>;
}

export class FileJournal implements Journal {
  private pending: string[] = [];
  private readonly dirtySequences = new Map<string, number>();
  private appendedSinceCompaction = 0;
  private closed = false;
  /** fsyncs in flight (commitAsync). */
  private syncing = 0;

  private constructor(
    private readonly dir: string,
    private fd: number,
    private readonly live: Live,
    private readonly now: () => number,
  ) {}

  /** Opens (creating if needed) the log in `dir`, replays it, compacts it, and returns the restored state. */
  static open(dir: string, now: () => number = Date.now): { journal: FileJournal; state: RestoredState } {
    fs.mkdirSync(dir, { recursive: true });
    acquireLock(dir);
    try {
      return FileJournal.load(dir, now);
    } catch (e) {
      releaseLock(dir);
      throw e;
    }
  }

  private static load(dir: string, now: () => number): { journal: FileJournal; state: RestoredState } {
    const file = path.join(dir, LOG_NAME);
    const live: Live = { messages: new Map(), sequences: new Map(), messageIds: new Map(), sessions: new Map(), rules: new Map() };
    if (fs.existsSync(file)) replay(fs.readFileSync(file, 'utf8'), live);
    const t = now();
    for (const ids of live.messageIds.values()) for (const [id, x] of ids) if (x <= t) ids.delete(id);
    const journal = new FileJournal(dir, -1, live, now);
    journal.compact();
    const state = emptyRestoredState();
    for (const [k, msgs] of live.messages) {
      state.messages.set(
        k,
        [...msgs.values()].map((line) => deserialize((JSON.parse(line) as { m: SerializedMessage }).m)).sort((a, b) => a.seq - b.seq),
      );
    }
    for (const [k, s] of live.sequences) state.sequences.set(k, s);
    for (const [k, ids] of live.messageIds) state.messageIds.set(k, new Map(ids));
    for (const [k, lines] of live.sessions) {
      const states = new Map<string, Buffer>();
      for (const line of lines.values()) {
        const rec = JSON.parse(line) as { id: string; v: string | null };
        if (rec.v !== null) states.set(rec.id, Buffer.from(rec.v, 'base64'));
      }
      state.sessionStates.set(k, states);
    }
    for (const [k, line] of live.rules) state.rules.set(k, (JSON.parse(line) as { r: RuleSpec[] }).r);
    return { journal, state };
  }

  putMessage(entityKey: string, message: StoredMessage): void {
    const line = JSON.stringify({ t: 'put', k: entityKey, m: serialize(message) } satisfies LogRecord);
    let msgs = this.live.messages.get(entityKey);
    if (!msgs) this.live.messages.set(entityKey, (msgs = new Map<number, string>()));
    msgs.set(message.seq, line);
    this.pending.push(line);
  }

  deleteMessage(entityKey: string, seq: number): void {
    this.live.messages.get(entityKey)?.delete(seq);
    this.pending.push(JSON.stringify({ t: 'del', k: entityKey, s: seq } satisfies LogRecord));
  }

  setSequence(entityKey: string, seq: number): void {
    this.live.sequences.set(entityKey, seq);
    this.dirtySequences.set(entityKey, seq);
  }

  recordMessageId(entityKey: string, messageId: string, expiresAt: number): void {
    let ids = this.live.messageIds.get(entityKey);
    if (!ids) this.live.messageIds.set(entityKey, (ids = new Map<string, number>()));
    ids.set(messageId, expiresAt);
    this.pending.push(JSON.stringify({ t: 'dup', k: entityKey, id: messageId, x: expiresAt } satisfies LogRecord));
  }

  putSessionState(entityKey: string, sessionId: string, state: Buffer | null): void {
    const line = JSON.stringify({ t: 'ss', k: entityKey, id: sessionId, v: state === null ? null : state.toString('base64') } satisfies LogRecord);
    setSessionLine(this.live, entityKey, sessionId, state === null ? undefined : line);
    this.pending.push(line);
  }

  putRules(entityKey: string, rules: RuleSpec[]): void {
    const line = JSON.stringify({ t: 'rules', k: entityKey, r: rules } satisfies LogRecord);
    this.live.rules.set(entityKey, line);
    this.pending.push(line);
  }

  commit(): void {
    if (!this.append()) return;
    fs.fsyncSync(this.fd);
    this.compactIfDue();
  }

  /**
   * Appends what is pending now and calls back once it is on disk: the fsync runs on libuv's thread pool, so the
   * event loop (and a broker sharing the process with its clients) keeps going meanwhile.
   */
  commitAsync(done: (err: Error | null) => void): void {
    if (!this.append()) {
      done(null);
      return;
    }
    this.syncing++;
    fs.fsync(this.fd, (err) => {
      this.syncing--;
      if (!err) this.compactIfDue();
      done(err);
    });
  }

  /** Writes pending records to the log (page cache); false when there was nothing to write. */
  private append(): boolean {
    if (this.closed || (this.pending.length === 0 && this.dirtySequences.size === 0)) return false;
    // Sequence high-water marks go first so a replay never hands out a number twice.
    const lines = [...this.dirtySequences].map(([k, s]) => JSON.stringify({ t: 'seq', k, s } satisfies LogRecord));
    lines.push(...this.pending, COMMIT);
    this.pending = [];
    this.dirtySequences.clear();
    fs.writeSync(this.fd, lines.join('\n') + '\n');
    this.appendedSinceCompaction += lines.length;
    return true;
  }

  private compactIfDue(): void {
    // Never while an fsync is in flight: compaction swaps the file descriptor under it.
    if (this.syncing === 0 && this.appendedSinceCompaction > 10_000 && this.appendedSinceCompaction > 4 * this.liveCount()) this.compact();
  }

  close(): void {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    fs.closeSync(this.fd);
    releaseLock(this.dir);
  }

  private liveCount(): number {
    let n = 0;
    for (const m of this.live.messages.values()) n += m.size;
    return n;
  }

  /** Writes the live state to a new file, fsyncs it, and atomically replaces the log. */
  private compact(): void {
    const file = path.join(this.dir, LOG_NAME);
    const tmp = `${file}.tmp`;
    const t = this.now();
    const lines: string[] = [];
    for (const [k, s] of this.live.sequences) lines.push(JSON.stringify({ t: 'seq', k, s } satisfies LogRecord));
    for (const [k, ids] of this.live.messageIds) {
      for (const [id, x] of ids) {
        if (x <= t) ids.delete(id);
        else lines.push(JSON.stringify({ t: 'dup', k, id, x } satisfies LogRecord));
      }
    }
    for (const msgs of this.live.messages.values()) lines.push(...msgs.values());
    for (const states of this.live.sessions.values()) lines.push(...states.values());
    lines.push(...this.live.rules.values());
    lines.push(COMMIT);
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, lines.join('\n') + '\n');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    if (this.fd >= 0) fs.closeSync(this.fd);
    fs.renameSync(tmp, file);
    const dirFd = fs.openSync(this.dir, 'r');
    fs.fsyncSync(dirFd);
    fs.closeSync(dirFd);
    this.fd = fs.openSync(file, 'a');
    this.appendedSinceCompaction = 0;
  }
}

/** Applies complete commits only; a torn final commit was never acknowledged to any client. */
function replay(text: string, live: Live): void {
  const lines = text.split('\n');
  let batch: { rec: LogRecord; line: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    let rec: LogRecord;
    try {
      rec = JSON.parse(line) as LogRecord;
    } catch {
      if (lines.slice(i + 1).some((l) => l.trim())) throw new Error(`corrupt Service Bus emulator log at line ${i + 1}`);
      return;
    }
    if (rec.t !== 'c') {
      batch.push({ rec, line });
      continue;
    }
    for (const b of batch) apply(b.rec, b.line, live);
    batch = [];
  }
}

function apply(rec: LogRecord, line: string, live: Live): void {
  switch (rec.t) {
    case 'put': {
      let msgs = live.messages.get(rec.k);
      if (!msgs) live.messages.set(rec.k, (msgs = new Map<number, string>()));
      msgs.set(rec.m.seq, line);
      break;
    }
    case 'del':
      live.messages.get(rec.k)?.delete(rec.s);
      break;
    case 'seq':
      live.sequences.set(rec.k, Math.max(rec.s, live.sequences.get(rec.k) ?? 0));
      break;
    case 'dup': {
      let ids = live.messageIds.get(rec.k);
      if (!ids) live.messageIds.set(rec.k, (ids = new Map<string, number>()));
      ids.set(rec.id, rec.x);
      break;
    }
    case 'ss':
      setSessionLine(live, rec.k, rec.id, rec.v === null ? undefined : line);
      break;
    case 'rules':
      live.rules.set(rec.k, line);
      break;
    case 'c':
      break;
  }
}

/** Keeps the latest state line per session; a cleared state leaves nothing to compact. */
function setSessionLine(live: Live, entityKey: string, sessionId: string, line: string | undefined): void {
  let states = live.sessions.get(entityKey);
  if (!states) live.sessions.set(entityKey, (states = new Map<string, string>()));
  if (line === undefined) states.delete(sessionId);
  else states.set(sessionId, line);
}
