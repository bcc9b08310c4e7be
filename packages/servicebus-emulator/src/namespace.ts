/**
 * The emulated namespace: resolves entity paths (case-insensitively), assigns sequence numbers, applies
 * duplicate detection, holds topic-level scheduled messages, fans topic messages out to matching
 * subscriptions, forwards (ForwardTo / ForwardDeadLetteredMessagesTo) and routes dead letters.
 * Pure: no sockets or timers; time comes from the injected clock.
 */
import { matchesFilter } from './filters';
import type { NamespaceDef, QueueDef, ReceivableSettings, RuleDef, SubscriptionDef, TopicDef } from './emulator-config';
import { memoryJournal, emptyRestoredState, type Journal, type RestoredState } from './journal';
import { ruleFromSpec, ruleToSpec } from './rule-codec';
import { applyRuleAction, type ActionEffect } from './sql-action';
import { MessageQueue, systemClock, type Clock, type MessageMeta, type StoredMessage } from './queue';

export interface IncomingMessage {
  raw: Buffer;
  meta: MessageMeta;
}

interface Receivable {
  main: MessageQueue;
  deadLetter: MessageQueue;
  /** `$Transfer/$DeadLetterQueue`: exists so clients can open it; the emulator never transfers. */
  transferDeadLetter: MessageQueue;
}

interface SendingEntity {
  key: string;
  name: string;
  duplicateDetection: { enabled: boolean; windowMs: number };
  lastSeq: number;
  seenIds: Map<string, number>;
}

interface QueueEntity extends SendingEntity, Receivable {
  kind: 'queue';
  def: QueueDef;
}

interface SubscriptionEntity extends Receivable {
  def: SubscriptionDef;
  /** Changed by add-rule / remove-rule; none left = the subscription receives nothing (as in Azure). */
  rules: RuleDef[];
}

/** The rule a subscription gets when none is given: `$Default`, a TrueFilter. */
export const DEFAULT_RULE: RuleDef = { name: '$Default', filter: { kind: 'true' }, sqlExpression: '1=1' };

export class RuleError extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

function matchesRules(rules: RuleDef[], m: Parameters<typeof matchesFilter>[1]): boolean {
  return rules.some((r) => matchesFilter(r.filter, m));
}

/** The combined effect of the actions of every matching rule (in rule order); undefined when no rule matches. */
function ruleEffect(rules: RuleDef[], m: Parameters<typeof matchesFilter>[1]): ActionEffect | undefined {
  let effect: ActionEffect | undefined;
  for (const r of rules) {
    if (!matchesFilter(r.filter, m)) continue;
    effect ??= { set: {}, removed: [] };
    if (r.action) applyRuleAction(r.action, m, effect);
  }
  return effect;
}

interface TopicEntity extends SendingEntity {
  kind: 'topic';
  def: TopicDef;
  subscriptions: Map<string, SubscriptionEntity>;
  /** Scheduled messages wait at the topic and fan out when due. */
  scheduled: Map<number, StoredMessage>;
}

export class EntityNotFoundError extends Error {
  override readonly name = 'EntityNotFoundError';
  constructor(readonly path: string) {
    super(`The messaging entity '${path}' could not be found.`);
  }
}

/** Azure refuses a message without SessionId for an entity that requires sessions. */
export class SessionIdRequiredError extends Error {
  override readonly name = 'SessionIdRequiredError';
  constructor(readonly path: string) {
    super(
      `The SessionId was not set on a message, and it cannot be sent to the entity '${path}'. Entities that have session support enabled can only receive messages that have the SessionId set.`,
    );
  }
}

export interface NamespaceOptions {
  clock?: Clock;
  journal?: Journal;
  restored?: RestoredState;
  /** Called (synchronously) when a receivable queue may have messages to hand out. */
  onAvailable?: (queue: MessageQueue) => void;
  /** Reports restored state that no longer matches the config. */
  warn?: (msg: string, meta?: Record<string, unknown>) => void;
}

const FORWARD_HOPS = 4;

export class ServiceBusNamespace {
  private readonly clock: Clock;
  private readonly journal: Journal;
  private readonly onAvailable: (q: MessageQueue) => void;
  private readonly sendable = new Map<string, QueueEntity | TopicEntity>();
  private readonly receivable = new Map<string, MessageQueue>();

  constructor(defs: NamespaceDef, opts: NamespaceOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.journal = opts.journal ?? memoryJournal;
    this.onAvailable = opts.onAvailable ?? (() => {});
    for (const def of defs.queues) {
      const key = def.name.toLowerCase();
      const entity: QueueEntity = {
        kind: 'queue',
        key,
        name: def.name,
        def,
        duplicateDetection: def.duplicateDetection,
        lastSeq: 0,
        seenIds: new Map(),
        ...this.receivableFor(key, def),
      };
      this.sendable.set(key, entity);
    }
    for (const def of defs.topics) {
      const key = def.name.toLowerCase();
      const subscriptions = new Map<string, SubscriptionEntity>();
      for (const sub of def.subscriptions) {
        const subKey = `${key}/subscriptions/${sub.name.toLowerCase()}`;
        subscriptions.set(sub.name.toLowerCase(), {
          def: sub,
          rules: sub.rules.length > 0 ? [...sub.rules] : [DEFAULT_RULE],
          ...this.receivableFor(subKey, sub),
        });
      }
      this.sendable.set(key, {
        kind: 'topic',
        key,
        name: def.name,
        def,
        duplicateDetection: def.duplicateDetection,
        lastSeq: 0,
        seenIds: new Map(),
        subscriptions,
        scheduled: new Map(),
      });
    }
    this.restore(opts.restored ?? emptyRestoredState(), opts.warn ?? (() => {}));
  }

  /** Canonical key of a path: lower case, no leading/trailing slashes. */
  static keyOf(path: string): string {
    return path.replace(/^\/+|\/+$/g, '').toLowerCase();
  }

  /** A queue, subscription or one of their dead-letter sub-queues. */
  receiver(path: string): MessageQueue | undefined {
    return this.receivable.get(ServiceBusNamespace.keyOf(path));
  }

  /** True when `path` names a queue or topic (the things one can send to). */
  isSendable(path: string): boolean {
    return this.sendable.has(ServiceBusNamespace.keyOf(path));
  }

  /** True for any address a client may legitimately authorise or attach to (entity, sub-queue, `$management`). */
  exists(path: string): boolean {
    const key = ServiceBusNamespace.keyOf(path).replace(/\/\$management$/, '');
    return this.sendable.has(key) || this.receivable.has(key);
  }

  /** Sends messages to a queue or topic: dedupe, sequence numbers, scheduling, fan-out and forwarding. */
  send(path: string, messages: IncomingMessage[]): void {
    const entity = this.sendingEntity(path);
    this.checkSessionIds(entity, messages);
    for (const m of messages) {
      if (this.isDuplicate(entity, m.meta.messageId)) continue;
      this.route(entity, m, this.nextSeq(entity), 0);
    }
    this.journal.commit();
  }

  /** schedule-message: returns the sequence number of each message, in order. */
  schedule(path: string, messages: IncomingMessage[]): number[] {
    const entity = this.sendingEntity(path);
    this.checkSessionIds(entity, messages);
    const seqs = messages.map((m) => {
      const seq = this.nextSeq(entity);
      // As Azure: a scheduled duplicate gets its sequence number and is dropped, like a sent one. (Kept, same-id
      // copies in flight together fool the SDK's lock renewer, keyed by MessageId, into renewing settled locks.)
      if (!this.isDuplicate(entity, m.meta.messageId)) this.route(entity, m, seq, 0);
      return seq;
    });
    this.journal.commit();
    return seqs;
  }

  /** cancel-scheduled-message; returns the sequence numbers that were not scheduled (already active or unknown). */
  cancelScheduled(path: string, seqs: number[]): number[] {
    const entity = this.sendingEntity(path);
    const missing: number[] = [];
    for (const seq of seqs) {
      let cancelled = false;
      if (entity.kind === 'topic') {
        if (entity.scheduled.delete(seq)) {
          this.journal.deleteMessage(entity.key, seq);
          cancelled = true;
        }
      } else {
        cancelled = entity.main.cancelScheduled(seq);
      }
      if (!cancelled) missing.push(seq);
    }
    this.journal.commit();
    return missing;
  }

  /** The rules of `<topic>/Subscriptions/<sub>`, in the order they were added. */
  rules(path: string): RuleDef[] {
    return [...this.subscription(path).rules];
  }

  /** add-rule: names are unique per subscription (case-insensitive, as entity names). */
  addRule(path: string, rule: RuleDef): void {
    const sub = this.subscription(path);
    if (sub.rules.some((r) => r.name.toLowerCase() === rule.name.toLowerCase())) {
      throw new RuleError(409, `The messaging entity '${path}/Rules/${rule.name}' already exists.`);
    }
    sub.rules.push(rule);
    this.saveRules(sub);
  }

  removeRule(path: string, name: string): void {
    const sub = this.subscription(path);
    const rest = sub.rules.filter((r) => r.name.toLowerCase() !== name.toLowerCase());
    if (rest.length === sub.rules.length) throw new RuleError(404, `The messaging entity '${path}/Rules/${name}' could not be found.`);
    sub.rules = rest;
    this.saveRules(sub);
  }

  private saveRules(sub: SubscriptionEntity): void {
    this.journal.putRules(sub.main.key, sub.rules.map(ruleToSpec));
    this.journal.commit();
  }

  private subscription(path: string): SubscriptionEntity {
    const m = /^([^/]+)\/subscriptions\/([^/]+)$/.exec(ServiceBusNamespace.keyOf(path));
    const topic = m ? this.sendable.get(m[1]!) : undefined;
    const sub = topic?.kind === 'topic' ? topic.subscriptions.get(m![2]!) : undefined;
    if (!sub) throw new EntityNotFoundError(path);
    return sub;
  }

  /** Every time-driven transition: topic schedules, locks, scheduled activation, TTL. Cheap when idle. */
  sweep(): void {
    const now = this.clock.now();
    for (const entity of this.sendable.values()) {
      if (entity.kind === 'topic') {
        for (const msg of entity.scheduled.values()) {
          if ((msg.meta.scheduledAt ?? 0) > now) continue;
          entity.scheduled.delete(msg.seq);
          this.journal.deleteMessage(entity.key, msg.seq);
          this.fanOut(entity, { raw: msg.raw, meta: msg.meta }, msg.seq, 0);
        }
      }
      for (const [k, x] of entity.seenIds) if (x <= now) entity.seenIds.delete(k);
    }
    for (const q of this.receivable.values()) q.sweep();
    this.journal.commit();
  }

  /** Refuses the whole send (nothing enqueued) when a message without SessionId would land in a session entity. */
  private checkSessionIds(entity: QueueEntity | TopicEntity, messages: IncomingMessage[]): void {
    for (const m of messages) {
      if (m.meta.sessionId !== undefined) continue;
      if (entity.kind === 'queue' && entity.def.forwardTo === undefined && entity.def.requiresSession) throw new SessionIdRequiredError(entity.name);
      if (entity.kind === 'topic') {
        for (const sub of entity.subscriptions.values()) {
          if (sub.def.requiresSession && matchesRules(sub.rules, m.meta))
            throw new SessionIdRequiredError(`${entity.name}/Subscriptions/${sub.def.name}`);
        }
      }
    }
  }

  private receivableFor(key: string, settings: ReceivableSettings): Receivable {
    const hooks = (deadLetter: (m: StoredMessage) => void) => ({
      journal: this.journal,
      deadLetter,
      available: (q: MessageQueue) => this.onAvailable(q),
    });
    const dlqSettings = { ...settings, isDeadLetterQueue: true, requiresSession: false };
    const deadLetter = new MessageQueue(
      `${key}/$deadletterqueue`,
      dlqSettings,
      this.clock,
      hooks(() => {}),
    );
    const transferDeadLetter = new MessageQueue(
      `${key}/$transfer/$deadletterqueue`,
      dlqSettings,
      this.clock,
      hooks(() => {}),
    );
    const main = new MessageQueue(
      key,
      { ...settings, isDeadLetterQueue: false },
      this.clock,
      hooks((m) => this.deadLetter(settings, deadLetter, m)),
    );
    for (const q of [main, deadLetter, transferDeadLetter]) this.receivable.set(q.key, q);
    return { main, deadLetter, transferDeadLetter };
  }

  private deadLetter(settings: ReceivableSettings, dlq: MessageQueue, m: StoredMessage): void {
    if (settings.forwardDeadLetteredMessagesTo !== undefined) {
      const target = this.sendingEntity(settings.forwardDeadLetteredMessagesTo);
      const meta = { ...m.meta, scheduledAt: undefined };
      this.route(target, { raw: m.raw, meta }, this.nextSeq(target), 1, m.propsPatch);
      return;
    }
    dlq.add({
      seq: m.seq,
      raw: m.raw,
      meta: { ...m.meta, scheduledAt: undefined },
      deliveryCount: m.deliveryCount,
      propsPatch: m.propsPatch,
      ...(m.removedProps ? { removedProps: m.removedProps } : {}),
    });
  }

  private sendingEntity(path: string): QueueEntity | TopicEntity {
    const entity = this.sendable.get(ServiceBusNamespace.keyOf(path));
    if (!entity) throw new EntityNotFoundError(path);
    return entity;
  }

  private nextSeq(entity: SendingEntity): number {
    entity.lastSeq += 1;
    this.journal.setSequence(entity.key, entity.lastSeq);
    return entity.lastSeq;
  }

  /** Duplicate detection on MessageId within the configured window; duplicates are accepted and dropped. */
  private isDuplicate(entity: SendingEntity, messageId: string): boolean {
    if (!entity.duplicateDetection.enabled) return false;
    const now = this.clock.now();
    const until = entity.seenIds.get(messageId);
    if (until !== undefined && until > now) return true;
    const expiresAt = now + entity.duplicateDetection.windowMs;
    entity.seenIds.set(messageId, expiresAt);
    this.journal.recordMessageId(entity.key, messageId, expiresAt);
    return false;
  }

  private route(
    entity: QueueEntity | TopicEntity,
    m: IncomingMessage,
    seq: number,
    hops: number,
    propsPatch: StoredMessage['propsPatch'] = {},
  ): void {
    if (entity.kind === 'queue') {
      if (entity.def.forwardTo !== undefined && hops < FORWARD_HOPS) {
        const target = this.sendingEntity(entity.def.forwardTo);
        this.route(target, m, this.nextSeq(target), hops + 1, propsPatch);
        return;
      }
      entity.main.add({ seq, raw: m.raw, meta: m.meta, deliveryCount: 0, propsPatch: { ...propsPatch } });
      return;
    }
    if (m.meta.scheduledAt !== undefined && m.meta.scheduledAt > this.clock.now()) {
      const msg: StoredMessage = {
        seq,
        raw: m.raw,
        meta: m.meta,
        enqueuedAt: m.meta.scheduledAt,
        expiresAt: Infinity,
        state: 'scheduled',
        deliveryCount: 0,
        propsPatch: { ...propsPatch },
      };
      entity.scheduled.set(seq, msg);
      this.journal.putMessage(entity.key, msg);
      return;
    }
    this.fanOut(entity, m, seq, hops, propsPatch);
  }

  /** Copies a topic message into every subscription whose rules match; no match = accepted and dropped. */
  private fanOut(topic: TopicEntity, m: IncomingMessage, seq: number, hops: number, propsPatch: StoredMessage['propsPatch'] = {}): void {
    const filterable = { ...m.meta, applicationProperties: { ...m.meta.applicationProperties, ...propsPatch } };
    for (const sub of topic.subscriptions.values()) {
      const effect = ruleEffect(sub.rules, filterable);
      if (!effect) continue;
      if (sub.def.forwardTo !== undefined && hops < FORWARD_HOPS) {
        const target = this.sendingEntity(sub.def.forwardTo);
        this.route(target, m, this.nextSeq(target), hops + 1, propsPatch);
        continue;
      }
      const patch = { ...propsPatch, ...effect.set };
      for (const r of effect.removed) delete patch[r];
      const meta = effect.removed.length || Object.keys(effect.set).length ? actedMeta(m.meta, effect) : m.meta;
      sub.main.add({
        seq,
        raw: m.raw,
        meta,
        deliveryCount: 0,
        propsPatch: patch,
        ...(effect.removed.length ? { removedProps: effect.removed } : {}),
      });
    }
  }

  private restore(state: RestoredState, warn: (msg: string, meta?: Record<string, unknown>) => void): void {
    for (const [key, specs] of state.rules) {
      const m = /^([^/]+)\/subscriptions\/([^/]+)$/.exec(key);
      const topic = m ? this.sendable.get(m[1]!) : undefined;
      const sub = topic?.kind === 'topic' ? topic.subscriptions.get(m![2]!) : undefined;
      if (!sub) {
        warn('dropping persisted rules of a subscription no longer in the config', { entity: key });
        continue;
      }
      sub.rules = specs.map(ruleFromSpec);
    }
    for (const [key, seq] of state.sequences) {
      const e = this.sendable.get(key);
      if (e) e.lastSeq = Math.max(e.lastSeq, seq);
    }
    for (const [key, ids] of state.messageIds) {
      const e = this.sendable.get(key);
      if (e) for (const [id, x] of ids) e.seenIds.set(id, x);
    }
    for (const [key, states] of state.sessionStates) {
      const sessions = this.receivable.get(key)?.sessions;
      if (!sessions) {
        warn('dropping persisted session state of an entity without sessions in the config', { entity: key, count: states.size });
        continue;
      }
      for (const [id, st] of states) sessions.restoreState(id, st);
    }
    for (const [key, msgs] of state.messages) {
      const q = this.receivable.get(key);
      const topic = this.sendable.get(key);
      if (!q && topic?.kind !== 'topic') {
        warn('dropping persisted messages of an entity no longer in the config', { entity: key, count: msgs.length });
        continue;
      }
      for (const m of msgs) {
        if (q) q.restore(m);
        else if (topic?.kind === 'topic') topic.scheduled.set(m.seq, m);
        const owner = this.sendable.get(key.split('/')[0]!);
        if (owner) owner.lastSeq = Math.max(owner.lastSeq, m.seq);
      }
    }
  }
}

/** The copy's filterable view after a rule action, so filters on forwarded copies see the new values. */
function actedMeta(meta: MessageMeta, effect: ActionEffect): MessageMeta {
  const applicationProperties = { ...meta.applicationProperties, ...effect.set };
  for (const r of effect.removed) delete applicationProperties[r];
  return { ...meta, applicationProperties };
}
