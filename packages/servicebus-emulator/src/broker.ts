/**
 * AMQP 1.0 link handling on rhea: SASL (rhea's ANONYMOUS default), `$cbs` put-token, entity sender/receiver
 * links with credit and drain, link dispositions, and routing `$management` requests to ManagementNode.
 * All queue semantics live in ServiceBusNamespace / MessageQueue; this module only speaks the protocol.
 */
import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import rhea, { type Connection, type Container, type Delivery, type EventContext, type Message, type Receiver, type Sender } from 'rhea';
import type { Logger } from './logger';
import { ConnectionClaims, DEFAULT_POLICY, TokenError, covers, verifySasToken, type Right, type SasPolicy } from './auth';
import { decodeTransfer, encodeForClient, lockTokenToTag, settlementProperties } from './codec';
import { ManagementNode } from './management';
import { EntityNotFoundError, ServiceBusNamespace, SessionIdRequiredError, type IncomingMessage } from './namespace';
import type { MessageQueue, SessionHold, Settlement } from './queue';
import { announceSession, holdAttach, releaseAttach, sessionRequest, waitTimeMs } from './session-attach';

const CBS = '$cbs';
const types = rhea.types;

/** rhea's outcome constructors (present at runtime, missing from its typings). */
const outcomes = rhea.message as unknown as {
  accepted(): { described(): unknown };
  released(): { described(): unknown };
  modified(fields: Record<string, unknown>): { described(): unknown };
  rejected(fields: { error: AmqpError }): { described(): unknown };
};

interface AmqpError {
  condition: string;
  description: string;
  /** Always present: Python's client reads error[2] unconditionally and crashes on a two-field error. */
  info: Record<string, unknown>;
}

/** An error as Azure sends it: condition, description and an info map carrying a tracking id. */
export function azureError(condition: string, description: string, info: Record<string, unknown> = {}): AmqpError {
  return { condition, description: `${description} Reference:${randomUUID()}, TrackingId:${randomUUID()}`, info: { ...info } };
}

/** Clients may name an entity by path or by full URI (amqps://host:port/path, sb://host/path); Azure accepts both. */
export function entityPath(address: string): string {
  return address.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*\/?/i, '');
}
const MANAGEMENT_SUFFIX = /\/\$management$/i;
/** Azure Standard tier limit; the SDK sizes batches from the max-message-size we advertise. */
export const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;

/**
 * rhea only decrements link credit when it writes the transfer (later in the tick), so `sendable()` stays true
 * for deliveries it has merely queued. Count the session's queued-but-unsent deliveries against the credit, or
 * one link would swallow (and lock) messages beyond its credit. Conservative when a session carries several links.
 */
function hasUnusedCredit(link: Sender): boolean {
  const l = link as unknown as {
    credit: number;
    session: { outgoing: { next_delivery_id: number; next_pending_delivery: number; available(): boolean } };
  };
  const out = l.session.outgoing;
  return l.credit - (out.next_delivery_id - out.next_pending_delivery) > 0 && out.available();
}

/**
 * rhea only flags a flow as `drain` while credit remains. When queued deliveries use up the last credit during a
 * drain, the client would never see its drain answered (and the SDK closes the link after 200 ms). Our flows for a
 * drained link always carry drain=true; rhea writes them after the pending transfers, so credit is consumed first.
 */
function answerDrainEvenWithoutCredit(link: Sender): void {
  const l = link as unknown as { _draining: boolean; _drained: boolean; credit: number; delivery_count: number; _get_drain(): boolean };
  l._get_drain = function () {
    if (!this._draining || !this._drained) return false;
    this.delivery_count += this.credit;
    this.credit = 0;
    return true;
  };
}

/** The right each management operation needs (Azure: scheduling sends, rules manage, the rest listen). */
function managementRight(operation: string): Right {
  if (/schedule-message|cancel-scheduled-message/.test(operation)) return 'Send';
  if (/rule/.test(operation)) return 'Manage';
  return 'Listen';
}

function echoOutcome(
  outcome: 'accepted' | 'released' | 'modified' | 'rejected',
  state: { delivery_failed?: boolean; undeliverable_here?: boolean; message_annotations?: unknown },
): { described(): unknown } {
  switch (outcome) {
    case 'accepted':
      return outcomes.accepted();
    case 'released':
      return outcomes.released();
    case 'modified':
      return outcomes.modified({
        delivery_failed: state.delivery_failed,
        undeliverable_here: state.undeliverable_here,
        message_annotations: state.message_annotations,
      });
    case 'rejected':
      // Without the client's error: a rejected outcome that carries an error reports a failed settlement.
      return (rhea.message as unknown as { rejected(f: object): { described(): unknown } }).rejected({});
  }
}

interface Consumer {
  link: Sender;
  queue: MessageQueue;
  mode: 'peekLock' | 'receiveAndDelete';
  /** The session a session receiver holds. */
  session?: SessionHold;
}

/** A next-available session receiver whose attach waits for a session to become free. */
interface WaitingReceiver {
  link: Sender;
  queue: MessageQueue;
  timer: NodeJS.Timeout;
}

/** How long a next-available receiver waits when the client names no timeout (Azure's default server wait). */
const DEFAULT_SESSION_WAIT_MS = 60_000;

/** rhea keeps outgoing deliveries as plain objects; we only need to flag them settled on both sides (P2). */
type OutgoingDelivery = Delivery & { remote_settled: boolean; remote_state?: unknown };

export interface BrokerOptions {
  namespace: ServiceBusNamespace;
  logger: Logger;
  maxMessageSize?: number;
  /**
   * Runs an acknowledgement once the state it acknowledges is durable (group commit: one fsync per turn of the
   * event loop). Default: at once, for a memory-only broker or a journal that syncs on every commit.
   */
  whenDurable?: (ack: () => void) => void;
  /** Makes committed state durable now (receiveAndDelete removes a message durably before sending it). */
  flushNow?: () => void;
  /** SAS policies put-token checks against. Default: RootManageSharedAccessKey / SAS_KEY_VALUE (as Microsoft's emulator). */
  policies?: SasPolicy[];
  /** Interface to bind; default loopback only. */
  host?: string;
  now?: () => number;
}

export class AmqpBroker {
  private readonly container: Container;
  private readonly ns: ServiceBusNamespace;
  private readonly management: ManagementNode;
  private readonly logger: Logger;
  private readonly maxMessageSize: number;
  private readonly whenDurable: (ack: () => void) => void;
  private readonly flushNow: () => void;
  private readonly consumers = new Map<string, Consumer[]>();
  private readonly byLink = new WeakMap<Sender, Consumer>();
  private readonly deliveryLocks = new WeakMap<object, { queue: MessageQueue; lockToken: string }>();
  private readonly pumpScheduled = new Set<string>();
  private readonly sockets = new Set<net.Socket>();
  private readonly roundRobin = new Map<string, number>();
  private readonly waiting = new Map<string, WaitingReceiver[]>();
  private readonly connections = new Set<Connection>();
  private readonly claims = new WeakMap<Connection, ConnectionClaims>();
  private readonly policies: SasPolicy[];
  private readonly host: string;
  private readonly now: () => number;
  private server?: net.Server;
  private closed = false;

  constructor(opts: BrokerOptions) {
    this.ns = opts.namespace;
    this.logger = opts.logger;
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.whenDurable = opts.whenDurable ?? ((ack) => ack());
    this.flushNow = opts.flushNow ?? (() => {});
    this.management = new ManagementNode(this.ns);
    this.policies = opts.policies ?? [DEFAULT_POLICY];
    this.host = opts.host ?? '127.0.0.1';
    this.now = opts.now ?? Date.now;
    // autoaccept off: every incoming transfer gets an explicit outcome (P5); modified must not double as released (P4).
    this.container = rhea.create_container({ id: 'orbiter-servicebus-emulator', autoaccept: false, treat_modified_as_released: false });
    this.wire();
  }

  /** Starts listening (port 0 = ephemeral) on the configured interface (loopback by default); resolves with the bound port. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = this.container.listen({
        port,
        host: this.host,
        autoaccept: false,
        treat_modified_as_released: false,
      } as never) as unknown as net.Server;
      this.server = server;
      server.on('connection', (s: net.Socket) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        server.on('error', (e) => this.logger.error('servicebus emulator listener error', { error: String(e) }));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.closed = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    // rhea re-arms a connection's heartbeat timer on every write, even after its socket is gone; clear them so an
    // in-process emulator (tests, local stack) does not keep Node alive after close().
    for (const c of this.connections) {
      const timers = c as unknown as { heartbeat_out?: NodeJS.Timeout; heartbeat_in?: NodeJS.Timeout; abort_idle?: NodeJS.Timeout };
      for (const t of [timers.heartbeat_out, timers.heartbeat_in, timers.abort_idle]) if (t) clearTimeout(t);
    }
    this.connections.clear();
  }

  /** Called by the namespace when a queue may have messages; pumps once per tick per queue. */
  notifyAvailable(queue: MessageQueue): void {
    if (this.closed || this.pumpScheduled.has(queue.key) || !(this.consumers.has(queue.key) || this.waiting.has(queue.key))) return;
    this.pumpScheduled.add(queue.key);
    setImmediate(() => {
      this.pumpScheduled.delete(queue.key);
      this.serveWaiting(queue);
      this.pump(queue.key);
    });
  }

  private wire(): void {
    const c = this.container;
    c.on('connection_open', (ctx: EventContext) => this.connections.add(ctx.connection));
    c.on('sender_open', (ctx: EventContext) => this.onSenderOpen(ctx.sender!, ctx.connection));
    c.on('receiver_open', (ctx: EventContext) => this.onReceiverOpen(ctx.receiver!, ctx.connection));
    c.on('message', (ctx: EventContext) => this.onMessage(ctx));
    c.on('sendable', (ctx: EventContext) => this.pumpLink(ctx.sender!));
    c.on('sender_flow', (ctx: EventContext) => this.pumpLink(ctx.sender!));
    c.on('sender_draining', (ctx: EventContext) => this.onDraining(ctx.sender!));
    for (const outcome of ['accepted', 'released', 'modified', 'rejected'] as const) {
      c.on(outcome, (ctx: EventContext) => this.onDisposition(ctx.delivery as OutgoingDelivery, outcome));
    }
    c.on('sender_close', (ctx: EventContext) => {
      this.stopWaiting(ctx.sender!);
      this.removeConsumer(ctx.sender!);
    });
    c.on('disconnected', (ctx: EventContext) => this.dropConnection(ctx.connection));
    c.on('connection_close', (ctx: EventContext) => this.dropConnection(ctx.connection));
    // Unhandled link/connection errors would otherwise be thrown by rhea and crash the broker (P7).
    for (const ev of ['error', 'connection_error', 'session_error', 'sender_error', 'receiver_error', 'protocol_error']) {
      c.on(ev, (ctx: unknown) => {
        const err = ctx instanceof Error ? ctx : (ctx as EventContext | undefined)?.connection?.error;
        const meta = { event: ev, error: err ? String((err as Error).message ?? err) : undefined };
        // 'error' also carries exceptions thrown by our own handlers: those are bugs, log them loudly.
        if (ev === 'error') this.logger.error('servicebus emulator error', meta);
        else this.logger.debug('servicebus emulator peer error', meta);
      });
    }
  }

  private claimsOf(connection: Connection): ConnectionClaims {
    let c = this.claims.get(connection);
    if (!c) this.claims.set(connection, (c = new ConnectionClaims()));
    return c;
  }

  /** Refuses a link the connection's tokens do not authorise, with the condition and wording Azure uses. */
  private authorised(link: Sender | Receiver, connection: Connection, path: string, right: Right): boolean {
    if (this.claimsOf(connection).allows(path, right, this.now())) return true;
    link.close(
      azureError('amqp:unauthorized-access', `Unauthorized access. '${right}' claim(s) are required to perform this operation. Resource: '${path}'.`),
    );
    return false;
  }

  private notFound(link: Sender | Receiver, connection: Connection, path: string): void {
    const host = (connection as unknown as { remote?: { open?: { hostname?: string } } }).remote?.open?.hostname ?? 'localhost';
    link.close({ condition: 'amqp:not-found', description: `The messaging entity 'sb://${host}/${path}' could not be found.` });
  }

  /** The client opened a receiver: a CBS/management reply link, or an entity receiver (we send). */
  private onSenderOpen(link: Sender, connection: Connection): void {
    const address = entityPath(link.source?.address ?? '');
    // A refused attach answers with a null source (the node we would send from), then the detach with the error:
    // that is what clients expect before reading the error (Python reports it as the matching exception).
    link.set_target(link.target);
    if (address === CBS || MANAGEMENT_SUFFIX.test(address)) {
      link.set_source(link.source);
      return;
    }
    const queue = this.ns.receiver(address);
    if (!queue) {
      this.notFound(link, connection, address);
      return;
    }
    if (!this.authorised(link, connection, address, 'Listen')) return;
    const request = sessionRequest(link.source);
    if (request.kind !== 'none' && !queue.sessions) {
      // Refuse rather than hand a session receiver every session's messages (Azure's answer).
      link.close(
        azureError(
          'amqp:not-allowed',
          `It is not possible for an entity that does not require sessions to create a session receiver. Entity: '${address}'.`,
        ),
      );
      return;
    }
    if (request.kind === 'none' && queue.sessions) {
      link.close(
        azureError(
          'amqp:not-allowed',
          `It is not possible for an entity that requires sessions to create a non-sessionful message receiver. Entity: '${address}'.`,
        ),
      );
      return;
    }
    if (request.kind === 'none') {
      link.set_source(link.source);
      this.addConsumer(link, queue);
      return;
    }
    const accepted = queue.acceptSession(request.kind === 'named' ? request.sessionId : undefined);
    if (accepted === 'locked') {
      link.close(
        azureError(
          'com.microsoft:session-cannot-be-locked',
          `The requested session '${request.kind === 'named' ? request.sessionId : ''}' cannot be accepted. It may be locked by another receiver.`,
        ),
      );
      return;
    }
    if (accepted === 'none') {
      this.waitForSession(link, queue);
      return;
    }
    announceSession(link, accepted.sessionId, accepted.lockedUntil);
    this.addConsumer(link, queue, accepted);
  }

  /** Holds a next-available receiver's attach until a session frees up or its wait runs out (then com.microsoft:timeout). */
  private waitForSession(link: Sender, queue: MessageQueue): void {
    holdAttach(link);
    const waitMs = waitTimeMs(link, DEFAULT_SESSION_WAIT_MS);
    const timer = setTimeout(() => {
      if (!this.stopWaiting(link)) return;
      link.close(
        azureError('com.microsoft:timeout', `The operation did not complete within the allotted timeout of ${waitMs} ms: no session is available.`),
      );
      releaseAttach(link);
    }, waitMs);
    timer.unref();
    const list = this.waiting.get(queue.key) ?? [];
    list.push({ link, queue, timer });
    this.waiting.set(queue.key, list);
  }

  /** Forgets a waiting receiver (it timed out, got a session, or went away); false when it was not waiting. */
  private stopWaiting(link: Sender): boolean {
    for (const [key, list] of this.waiting) {
      const w = list.find((x) => x.link === link);
      if (!w) continue;
      clearTimeout(w.timer);
      const rest = list.filter((x) => x !== w);
      if (rest.length) this.waiting.set(key, rest);
      else this.waiting.delete(key);
      if (!link.is_open()) releaseAttach(link); // the client gave up: answer its attach before rhea's detach goes out
      return true;
    }
    return false;
  }

  /** Messages arrived or a session was released: hand sessions to waiting receivers, oldest first. */
  private serveWaiting(queue: MessageQueue): void {
    const list = this.waiting.get(queue.key);
    while (list && list.length > 0) {
      const w = list[0]!;
      const accepted = queue.acceptSession(undefined);
      if (accepted === 'none' || accepted === 'locked') return;
      this.stopWaiting(w.link);
      announceSession(w.link, accepted.sessionId, accepted.lockedUntil);
      releaseAttach(w.link);
      this.addConsumer(w.link, queue, accepted);
    }
  }

  private addConsumer(link: Sender, queue: MessageQueue, session?: SessionHold): void {
    const remote = (link as unknown as { remote: { attach: { snd_settle_mode?: number; rcv_settle_mode?: number } } }).remote.attach;
    const local = (link as unknown as { local: { attach: { snd_settle_mode?: number; rcv_settle_mode?: number } } }).local.attach;
    // Echo the settle modes: rhea only pre-settles when our local snd-settle-mode is `settled`.
    local.snd_settle_mode = remote.snd_settle_mode;
    local.rcv_settle_mode = remote.rcv_settle_mode;
    answerDrainEvenWithoutCredit(link);
    const consumer: Consumer = { link, queue, mode: remote.snd_settle_mode === 1 ? 'receiveAndDelete' : 'peekLock' };
    if (session) consumer.session = { sessionId: session.sessionId, lockId: session.lockId };
    this.byLink.set(link, consumer);
    const list = this.consumers.get(queue.key) ?? [];
    list.push(consumer);
    this.consumers.set(queue.key, list);
  }

  /** The client opened a sender: CBS/management request link, or an entity sender (we receive). */
  private onReceiverOpen(link: Receiver, connection: Connection): void {
    const address = entityPath(link.target?.address ?? '');
    link.set_source(link.source); // refused attaches answer with a null target (see onSenderOpen)
    if (address === CBS || MANAGEMENT_SUFFIX.test(address)) {
      link.set_target(link.target);
      return;
    }
    if (!this.ns.isSendable(address)) {
      if (this.ns.receiver(address)) {
        link.close({ condition: 'amqp:not-allowed', description: `Cannot send to '${address}': it is not a queue or topic.` });
      } else {
        this.notFound(link, connection, address);
      }
      return;
    }
    if (!this.authorised(link, connection, address, 'Send')) return;
    link.set_target(link.target);
    // Required by the SDK: batches are sized from the max-message-size of our attach (P1).
    (link as unknown as { local: { attach: { max_message_size: number } } }).local.attach.max_message_size = this.maxMessageSize;
  }

  private onMessage(ctx: EventContext): void {
    const link = ctx.receiver!;
    const delivery = ctx.delivery!;
    const address = entityPath(link.target?.address ?? '');
    try {
      if (address === CBS) {
        this.onCbs(link, ctx.message!);
        delivery.accept();
      } else if (MANAGEMENT_SUFFIX.test(address)) {
        this.onManagement(link, address.replace(MANAGEMENT_SUFFIX, ''), ctx.message!);
        delivery.accept();
      } else {
        this.onSend(address, ctx, delivery);
      }
    } catch (e) {
      this.logger.error('servicebus emulator failed to handle a transfer', { address, error: String(e) });
      delivery.reject(azureError('amqp:internal-error', String(e)));
    }
  }

  private onSend(address: string, ctx: EventContext, delivery: Delivery): void {
    const format = (ctx as unknown as { format?: number }).format;
    const payload = ctx.message as unknown as Message | Buffer;
    let messages: IncomingMessage[];
    try {
      messages = decodeTransfer(payload, format);
    } catch (e) {
      delivery.reject(azureError('amqp:decode-error', String(e)));
      return;
    }
    const tooBig = messages.find((m) => m.raw.length > this.maxMessageSize);
    if (tooBig) {
      delivery.reject(
        azureError(
          'amqp:link:message-size-exceeded',
          `The received message (delivery-id:${delivery.id}, size:${tooBig.raw.length} bytes) exceeds the limit (${this.maxMessageSize} bytes) currently allowed on the link.`,
        ),
      );
      return;
    }
    try {
      this.ns.send(address, messages); // durable before we accept (when --data is set)
    } catch (e) {
      if (e instanceof EntityNotFoundError) {
        delivery.reject(azureError('amqp:not-found', e.message));
        return;
      }
      if (e instanceof SessionIdRequiredError) {
        delivery.reject(azureError('amqp:not-allowed', e.message));
        return;
      }
      throw e;
    }
    this.whenDurable(() => delivery.accept());
  }

  /** put-token: any token is accepted for an existing entity; unknown entities get the 404 the SDK maps to MessagingEntityNotFound. */
  private onCbs(link: Receiver, req: Message): void {
    const props = req.application_properties ?? {};
    const audience = String(props['name'] ?? '');
    const path = entityPath(audience);
    let status = 202;
    let description = 'Accepted';
    // Judge the token by its content, not its declared type: Python declares SAS tokens as 'jwt' and Azure accepts it.
    const token = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : String(req.body ?? '');
    if (props['operation'] !== 'put-token') {
      status = 400;
      description = `Unsupported CBS operation '${String(props['operation'])}'.`;
    } else if (!token.startsWith('SharedAccessSignature ')) {
      status = 401;
      description = 'InvalidToken: this emulator verifies Shared Access Signatures only (no Microsoft Entra tokens).';
    } else {
      try {
        const grant = verifySasToken(token, this.policies, this.now());
        if (!covers(grant.resource, audience)) {
          throw new TokenError(401, `InvalidAudience: the token's resource '${grant.resource}' does not cover '${audience}'.`);
        }
        this.claimsOf(link.connection).add(grant);
      } catch (e) {
        if (!(e instanceof TokenError)) throw e;
        status = e.status;
        description = e.message;
      }
    }
    if (status === 202 && !this.ns.exists(path)) {
      // Azure answers put-token for a missing entity with 404 (Python surfaces it as an authentication error).
      status = 404;
      description = `The messaging entity '${audience}' could not be found.`;
    }
    // status-code is an AMQP int: Java's client casts it to Integer (a uint fails the cast).
    this.reply(link, req, { 'status-code': types.wrap_int(status), 'status-description': description });
  }

  private onManagement(link: Receiver, path: string, req: Message): void {
    const operation = String(req.application_properties?.['operation'] ?? '');
    const right = managementRight(operation);
    const r = this.claimsOf(link.connection).allows(`${path}/$management`, right, this.now())
      ? this.management.handle(path, req)
      : {
          statusCode: 401,
          statusDescription: `Unauthorized access. '${right}' claim(s) are required to perform this operation. Resource: '${path}'.`,
          errorCondition: 'com.microsoft:unauthorized-access',
          body: undefined,
        };
    const props: Record<string, unknown> = { statusCode: types.wrap_int(r.statusCode), statusDescription: r.statusDescription };
    if (r.errorCondition !== undefined) props['errorCondition'] = r.errorCondition;
    this.reply(link, req, props, r.body);
  }

  /**
   * Where a reply goes: the link named by reply-to (JS names its CBS receiver), the link whose target is reply-to
   * (JS management), else the paired link: the client's receiver in the same session whose source is the node the
   * request was sent to (Python sends CBS requests without reply-to). Replies are pre-settled, as Azure sends them,
   * so they never hold a slot in the session's outgoing window.
   */
  private reply(requestLink: Receiver, req: Message, applicationProperties: Record<string, unknown>, body?: unknown): void {
    const replyTo = req.reply_to;
    const node = requestLink.target?.address;
    const connection = requestLink.connection;
    const session = (requestLink as unknown as { session: unknown }).session;
    const sender =
      (replyTo !== undefined ? connection.find_sender((s: Sender) => s.name === replyTo || s.target?.address === replyTo) : undefined) ??
      connection.find_sender((s: Sender) => (s as unknown as { session: unknown }).session === session && s.source?.address === node);
    if (!sender) {
      this.logger.warn('servicebus emulator: no reply link', { replyTo, node });
      return;
    }
    const msg = { correlation_id: req.message_id ?? req.correlation_id, application_properties: applicationProperties } as Message;
    if (body !== undefined) msg.body = body;
    this.whenDurable(() => {
      if (!sender.is_open()) return;
      const d = sender.send(msg) as unknown as { settled: boolean };
      d.settled = true;
    });
  }

  private pumpLink(link: Sender): void {
    const consumer = this.byLink.get(link);
    if (consumer) this.pump(consumer.queue.key);
  }

  private onDraining(link: Sender): void {
    this.pumpLink(link);
    // Answer the drain at once (P3): the SDK closes the link if no drained flow comes back within 200 ms.
    link.set_drained(true);
  }

  /** Hands available messages to links with credit, round-robin across competing consumers. */
  private pump(queueKey: string): void {
    const list = this.consumers.get(queueKey);
    if (this.closed || !list || list.length === 0) return;
    let start = this.roundRobin.get(queueKey) ?? 0;
    for (;;) {
      let sent = false;
      for (let i = 0; i < list.length; i++) {
        const idx = (start + i) % list.length;
        const consumer = list[idx]!;
        if (!consumer.link.is_open() || !hasUnusedCredit(consumer.link)) continue;
        const msg = consumer.mode === 'peekLock' ? consumer.queue.lockNext(consumer.session) : consumer.queue.takeNext(consumer.session);
        if (!msg) {
          if (consumer.session) continue; // other receivers hold other sessions
          this.roundRobin.set(queueKey, idx);
          return;
        }
        if (consumer.mode === 'peekLock') {
          const payload = encodeForClient(msg, { lockedUntil: msg.lockedUntil });
          const d = consumer.link.send(payload, lockTokenToTag(msg.lockToken!), 0);
          this.deliveryLocks.set(d, { queue: consumer.queue, lockToken: msg.lockToken! });
        } else {
          this.flushNow(); // removed durably before it leaves
          consumer.link.send(encodeForClient(msg), lockTokenToTag(randomUUID()), 0);
        }
        start = idx + 1;
        sent = true;
      }
      if (!sent) break;
    }
    this.roundRobin.set(queueKey, start % list.length);
  }

  /** A link settlement from the client: apply it and always answer with a settled disposition. */
  private onDisposition(delivery: OutgoingDelivery | undefined, outcome: 'accepted' | 'released' | 'modified' | 'rejected'): void {
    if (!delivery) return;
    const info = this.deliveryLocks.get(delivery);
    if (!info) return; // replies on CBS/management links, or pre-settled deliveries
    this.deliveryLocks.delete(delivery);
    const state = (delivery.remote_state ?? {}) as {
      undeliverable_here?: boolean;
      message_annotations?: Record<string, unknown>;
      error?: { condition?: string; description?: string; info?: Record<string, unknown> };
    };
    let settlement: Settlement;
    switch (outcome) {
      case 'accepted':
        settlement = { kind: 'complete' };
        break;
      case 'released':
        settlement = { kind: 'abandon' };
        break;
      case 'modified':
        settlement = state.undeliverable_here
          ? { kind: 'defer', properties: settlementProperties(state.message_annotations) }
          : { kind: 'abandon', properties: settlementProperties(state.message_annotations) };
        break;
      case 'rejected': {
        const info = { ...(state.error?.info ?? {}) };
        const reason = info['DeadLetterReason'];
        const description = info['DeadLetterErrorDescription'];
        delete info['DeadLetterReason'];
        delete info['DeadLetterErrorDescription'];
        settlement = {
          kind: 'deadLetter',
          reason: typeof reason === 'string' ? reason : undefined,
          description: typeof description === 'string' ? description : undefined,
          properties: settlementProperties(info),
        };
        break;
      }
    }
    const result = info.queue.settle(info.lockToken, settlement);
    // Confirm with the outcome the client sent (clients check it is echoed); a lost lock is a rejection.
    const reply =
      result === 'ok'
        ? echoOutcome(outcome, state)
        : outcomes.rejected({
            error:
              result === 'sessionLockLost'
                ? azureError('com.microsoft:session-lock-lost', 'The session lock has expired on the MessageSession. Accept a new MessageSession.')
                : azureError(
                    'com.microsoft:message-lock-lost',
                    'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
                  ),
          });
    this.whenDurable(() => {
      delivery.update(true, reply.described());
      // Mark settled on both sides so rhea drops it from the session buffer (otherwise it stalls at 2048, P2).
      delivery.remote_settled = true;
    });
  }

  private removeConsumer(link: Sender): void {
    const consumer = this.byLink.get(link);
    if (!consumer) return;
    this.byLink.delete(link);
    if (consumer.session) consumer.queue.releaseSession(consumer.session);
    const list = (this.consumers.get(consumer.queue.key) ?? []).filter((c) => c !== consumer);
    if (list.length) this.consumers.set(consumer.queue.key, list);
    else this.consumers.delete(consumer.queue.key);
  }

  private dropConnection(connection: Connection): void {
    if (!this.closed) this.connections.delete(connection); // while closing, close() still needs it to clear timers
    for (const list of [...this.consumers.values()]) {
      for (const c of list) if (c.link.connection === connection) this.removeConsumer(c.link);
    }
    for (const list of [...this.waiting.values()]) {
      for (const w of list) if (w.link.connection === connection) this.stopWaiting(w.link);
    }
  }
}
