/**
 * The `<entity>/$management` request/response node: renew-lock, update-disposition, schedule-message,
 * cancel-scheduled-message, peek-message and receive-by-sequence-number, as @azure/service-bus sends them.
 * Replies use the camelCase status keys the SDK checks (statusCode / statusDescription / errorCondition).
 */
import rhea, { type Message } from 'rhea';

const types = rhea.types;
import { bufferToUuid, encodeForClient, longArray, settlementProperties, toIncoming, toNumber, uuidToBuffer } from './codec';
import { EntityNotFoundError, RuleError, type ServiceBusNamespace } from './namespace';
import { decodeRuleDescription, encodeRule } from './rule-codec';
import type { MessageQueue, SessionHold, Settlement } from './queue';
import type { SessionTable } from './sessions';

export interface ManagementReply {
  statusCode: number;
  statusDescription: string;
  errorCondition?: string;
  body?: Record<string, unknown>;
}

const TYPE_TIMESTAMP = 0x83;

class ManagementError extends Error {
  constructor(
    readonly statusCode: number,
    readonly condition: string,
    message: string,
  ) {
    super(message);
  }
}

const lockLost = (): ManagementError =>
  new ManagementError(
    410,
    'com.microsoft:message-lock-lost',
    'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
  );

const sessionLockLost = (sessionId: string): ManagementError =>
  new ManagementError(
    410,
    'com.microsoft:session-lock-lost',
    `The session lock has expired on the MessageSession '${sessionId}'. Accept a new MessageSession.`,
  );

function sessionIdOf(body: Record<string, unknown>): string | undefined {
  const v = body['session-id'];
  if (v === undefined || v === null) return undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

function requiredSessionId(body: Record<string, unknown>): string {
  const id = sessionIdOf(body);
  if (id === undefined) throw new ManagementError(400, 'amqp:invalid-field', "'session-id' is required");
  return id;
}

/** .NET's DateTime.MaxValue in epoch ms: get-message-sessions asks for sessions with messages when given it. */
const DATETIME_MAX_MS = 253402300799999;

function lockTokens(body: Record<string, unknown>): string[] {
  const tokens = body['lock-tokens'];
  if (!Array.isArray(tokens)) throw new ManagementError(400, 'amqp:invalid-field', "'lock-tokens' is required");
  return tokens.map((t) => (Buffer.isBuffer(t) ? bufferToUuid(t) : String(t)));
}

function sequenceNumbers(body: Record<string, unknown>): number[] {
  const seqs = body['sequence-numbers'];
  if (!Array.isArray(seqs)) throw new ManagementError(400, 'amqp:invalid-field', "'sequence-numbers' is required");
  return seqs.map(toNumber);
}

export class ManagementNode {
  constructor(private readonly ns: ServiceBusNamespace) {}

  /** Handles one request addressed to `<entityPath>/$management`. Never throws. */
  handle(entityPath: string, request: Message): ManagementReply {
    const operation = String(request.application_properties?.['operation'] ?? '');
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      return this.dispatch(entityPath, operation, body);
    } catch (e) {
      if (e instanceof ManagementError) return { statusCode: e.statusCode, statusDescription: e.message, errorCondition: e.condition };
      if (e instanceof RuleError) {
        return {
          statusCode: e.status,
          statusDescription: e.message,
          errorCondition: e.status === 409 ? 'com.microsoft:entity-already-exists' : 'amqp:not-found',
        };
      }
      if (e instanceof EntityNotFoundError) return { statusCode: 404, statusDescription: e.message, errorCondition: 'amqp:not-found' };
      return { statusCode: 500, statusDescription: (e as Error).message, errorCondition: 'amqp:internal-error' };
    }
  }

  private receiver(entityPath: string): MessageQueue {
    const q = this.ns.receiver(entityPath);
    if (!q) throw new EntityNotFoundError(entityPath);
    return q;
  }

  private sessionsOf(entityPath: string): { queue: MessageQueue; sessions: SessionTable } {
    const queue = this.receiver(entityPath);
    if (!queue.sessions) {
      throw new ManagementError(400, 'amqp:not-allowed', `The entity '${entityPath}' does not require sessions: session operations are not allowed.`);
    }
    return { queue, sessions: queue.sessions };
  }

  /** The session a request names, which must be held by some receiver (Azure: by the caller). */
  private heldSession(entityPath: string, body: Record<string, unknown>): { queue: MessageQueue; sessions: SessionTable; id: string } {
    const { queue, sessions } = this.sessionsOf(entityPath);
    const id = requiredSessionId(body);
    if (!sessions.isLocked(id)) throw sessionLockLost(id);
    return { queue, sessions, id };
  }

  private dispatch(entityPath: string, operation: string, body: Record<string, unknown>): ManagementReply {
    switch (operation) {
      case 'com.microsoft:renew-lock': {
        const q = this.receiver(entityPath);
        const expirations = lockTokens(body).map((t) => {
          const until = q.renewLock(t);
          if (until === undefined) throw lockLost();
          return until;
        });
        return ok({ expirations: types.wrap_array(expirations, TYPE_TIMESTAMP, undefined) });
      }
      case 'com.microsoft:update-disposition': {
        const q = this.receiver(entityPath);
        const settlement = toSettlement(body);
        for (const token of lockTokens(body)) {
          if (q.settle(token, settlement) === 'lockLost') throw lockLost();
        }
        return ok();
      }
      case 'com.microsoft:schedule-message': {
        const entries = body['messages'];
        if (!Array.isArray(entries)) throw new ManagementError(400, 'amqp:invalid-field', "'messages' is required");
        const incoming = entries.map((e) => {
          const encoded = (e as Record<string, unknown>)['message'];
          if (!Buffer.isBuffer(encoded)) throw new ManagementError(400, 'amqp:invalid-field', "'message' must be binary");
          return toIncoming(encoded);
        });
        const seqs = this.ns.schedule(entityPath, incoming);
        return ok({ 'sequence-numbers': longArray(seqs) });
      }
      case 'com.microsoft:cancel-scheduled-message': {
        if (!this.ns.isSendable(entityPath)) throw new EntityNotFoundError(entityPath);
        this.ns.cancelScheduled(entityPath, sequenceNumbers(body));
        return ok();
      }
      case 'com.microsoft:peek-message': {
        const q = this.receiver(entityPath);
        const from = toNumber(body['from-sequence-number'] ?? 1);
        const count = toNumber(body['message-count'] ?? 1);
        const found = q.peek(from, count, sessionIdOf(body));
        if (found.length === 0) return { statusCode: 204, statusDescription: 'No messages' };
        return ok({ messages: found.map((m) => types.wrap_map({ message: types.wrap_binary(encodeForClient(m)) })) });
      }
      case 'com.microsoft:receive-by-sequence-number': {
        const q = this.receiver(entityPath);
        const mode = toNumber(body['receiver-settle-mode'] ?? 1) === 0 ? 'receiveAndDelete' : 'peekLock';
        let hold: SessionHold | undefined;
        if (q.sessions) {
          const { id } = this.heldSession(entityPath, body);
          hold = q.sessions.holder(id);
        }
        const messages = sequenceNumbers(body).map((seq) => {
          const m = q.receiveDeferred(seq, mode, hold);
          if (!m)
            throw new ManagementError(
              404,
              'com.microsoft:message-not-found',
              `Failed to lock one or more specified messages. Sequence number ${seq} was not found or is not deferred.`,
            );
          const entry: Record<string, unknown> = { message: types.wrap_binary(encodeForClient(m, { lockedUntil: m.lockedUntil })) };
          if (m.lockToken !== undefined) entry['lock-token'] = types.wrap_uuid(uuidToBuffer(m.lockToken));
          return types.wrap_map(entry);
        });
        return ok({ messages });
      }
      case 'com.microsoft:add-rule': {
        const name = body['rule-name'];
        if (typeof name !== 'string' || name === '') throw new ManagementError(400, 'amqp:invalid-field', "'rule-name' is required");
        let rule;
        try {
          rule = decodeRuleDescription(name, body['rule-description']);
        } catch (e) {
          throw new ManagementError(400, 'amqp:invalid-field', (e as Error).message);
        }
        this.ns.addRule(entityPath, rule);
        return ok();
      }
      case 'com.microsoft:remove-rule': {
        const name = body['rule-name'];
        if (typeof name !== 'string' || name === '') throw new ManagementError(400, 'amqp:invalid-field', "'rule-name' is required");
        this.ns.removeRule(entityPath, name);
        return ok();
      }
      case 'com.microsoft:enumerate-rules': {
        const skip = toNumber(body['skip'] ?? 0);
        const top = toNumber(body['top'] ?? 2147483647);
        const page = this.ns.rules(entityPath).slice(skip, skip + top);
        if (page.length === 0) return { statusCode: 204, statusDescription: 'No rules' };
        return ok({ rules: page.map((r) => types.wrap_map({ 'rule-description': encodeRule(r) })) });
      }
      case 'com.microsoft:renew-session-lock': {
        const { sessions, id } = this.heldSession(entityPath, body);
        const until = sessions.renew(id);
        if (until === undefined) throw sessionLockLost(id);
        return ok({ expiration: new Date(until) });
      }
      case 'com.microsoft:set-session-state': {
        const { sessions, id } = this.heldSession(entityPath, body);
        const state = body['session-state'];
        if (state !== null && state !== undefined && !Buffer.isBuffer(state)) {
          throw new ManagementError(400, 'amqp:invalid-field', "'session-state' must be binary or null");
        }
        sessions.setState(id, state ?? null);
        return ok();
      }
      case 'com.microsoft:get-session-state': {
        const { sessions, id } = this.heldSession(entityPath, body);
        const state = sessions.getState(id);
        return ok({ 'session-id': id, 'session-state': state === null ? null : types.wrap_binary(state) });
      }
      case 'com.microsoft:get-message-sessions': {
        const { queue, sessions } = this.sessionsOf(entityPath);
        const since = body['last-updated-time'];
        const sinceMs = since instanceof Date ? since.getTime() : since === undefined ? DATETIME_MAX_MS : toNumber(since);
        const ids = sinceMs >= DATETIME_MAX_MS ? queue.sessionIdsWithMessages() : sessions.withStateUpdatedAfter(sinceMs);
        const skip = toNumber(body['skip'] ?? 0);
        const top = toNumber(body['top'] ?? ids.length);
        const page = ids.sort().slice(skip, skip + top);
        if (page.length === 0) return { statusCode: 204, statusDescription: 'No sessions' };
        return ok({ skip: types.wrap_int(skip + page.length), 'sessions-ids': page });
      }
      default:
        return {
          statusCode: 501,
          statusDescription: `Operation '${operation}' is not supported by the emulator.`,
          errorCondition: 'amqp:not-implemented',
        };
    }
  }
}

function ok(body?: Record<string, unknown>): ManagementReply {
  return { statusCode: 200, statusDescription: 'OK', body };
}

function toSettlement(body: Record<string, unknown>): Settlement {
  const properties = settlementProperties(body['properties-to-modify']);
  switch (body['disposition-status']) {
    case 'completed':
      return { kind: 'complete' };
    case 'abandoned':
      return { kind: 'abandon', properties };
    case 'defered': // sic: the SDK's spelling
    case 'deferred':
      return { kind: 'defer', properties };
    case 'suspended': {
      const reason = body['deadletter-reason'];
      const description = body['deadletter-description'];
      return {
        kind: 'deadLetter',
        reason: typeof reason === 'string' ? reason : undefined,
        description: typeof description === 'string' ? description : undefined,
        properties,
      };
    }
    default:
      throw new ManagementError(400, 'amqp:invalid-field', `unknown disposition-status '${String(body['disposition-status'])}'`);
  }
}
