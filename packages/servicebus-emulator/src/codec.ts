/**
 * AMQP encoding helpers: turning client transfers into stored messages, adding broker annotations on the way
 * out, batch envelopes, lock-token byte order and AMQP long/uuid conversions.
 */
import { randomUUID } from 'node:crypto';
import rhea, { type Message } from 'rhea';

// rhea exports its helpers on the container prototype, so named imports are undefined at runtime.
const types = rhea.types;
import type { PropertyValue } from './filters';
import type { IncomingMessage } from './namespace';
import { MessageStateCode, type StoredMessage } from './queue';

/** `message-format` of the SDK's batch envelope (each data section holds one encoded message). */
export const BATCH_FORMAT = 0x80013700;

const TYPE_LONG = 0x81;

/** rhea's decode is typed with its low-level message type; the fields are the same. */
export function decodeMessage(b: Buffer): Message {
  return rhea.message.decode(b) as unknown as Message;
}

/** rhea decodes AMQP longs to numbers below 2^53 and to 8-byte big-endian Buffers above. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v) && v.length === 8) return Number(v.readBigInt64BE(0));
  if (v !== null && typeof v === 'object' && 'valueOf' in v) return Number((v as { valueOf(): unknown }).valueOf());
  throw new TypeError(`expected a number, got ${String(v)}`);
}

export function longArray(values: number[]): unknown {
  return types.wrap_array(values, TYPE_LONG, undefined);
}

export function uuidToBuffer(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

export function bufferToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** .NET GUID byte order (first three groups little-endian); the swap is its own inverse. */
function dotnetSwap(b: Buffer): Buffer {
  const o = Buffer.from(b);
  o.writeUInt32LE(b.readUInt32BE(0), 0);
  o.writeUInt16LE(b.readUInt16BE(4), 4);
  o.writeUInt16LE(b.readUInt16BE(6), 6);
  return o;
}

/** Link deliveries carry the lock token as delivery-tag in .NET byte order (the SDK swaps it back). */
export function lockTokenToTag(lockToken: string): Buffer {
  return dotnetSwap(uuidToBuffer(lockToken));
}

function idToString(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.length === 16 ? bufferToUuid(v) : v.toString('hex');
  return String(v);
}

/** Application properties as filters and persistence see them (JSON-safe scalars only). */
function filterableProperties(props: Record<string, unknown> | undefined): Record<string, PropertyValue> {
  const out: Record<string, PropertyValue> = {};
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** Builds the stored form of one client message; assigns a message-id when the client sent none (as Azure does). */
export function toIncoming(message: Message, raw?: Buffer): IncomingMessage {
  let encoded = raw;
  let messageId = idToString(message.message_id);
  if (messageId === undefined) {
    messageId = randomUUID().replace(/-/g, '');
    message.message_id = messageId;
    encoded = undefined;
  }
  const annotations = (message.message_annotations ?? {}) as Record<string, unknown>;
  const scheduled = annotations['x-opt-scheduled-enqueue-time'];
  const scheduledAt = scheduled instanceof Date ? scheduled.getTime() : typeof scheduled === 'number' ? scheduled : undefined;
  return {
    raw: encoded ?? rhea.message.encode(message),
    meta: {
      messageId,
      correlationId: idToString(message.correlation_id),
      subject: message.subject,
      to: message.to,
      replyTo: message.reply_to,
      replyToSessionId: message.reply_to_group_id,
      sessionId: message.group_id,
      contentType: message.content_type,
      applicationProperties: filterableProperties(message.application_properties),
      ttlMs: typeof message.ttl === 'number' && message.ttl > 0 ? message.ttl : undefined,
      scheduledAt,
    },
  };
}

/** Decodes one transfer payload (format 0 = a message; BATCH_FORMAT = an envelope of encoded messages). */
export function decodeTransfer(payload: Message | Buffer, format: number | undefined): IncomingMessage[] {
  if (!Buffer.isBuffer(payload)) return [toIncoming(payload)];
  if (!format) return [toIncoming(decodeMessage(payload), payload)];
  if (format !== BATCH_FORMAT) throw new TypeError(`unsupported message-format ${format}`);
  // The envelope copies the first message's properties; ignore it and enqueue each inner message.
  const envelope = decodeMessage(payload);
  const body = envelope.body as { content?: Buffer | Buffer[]; multiple?: boolean } | undefined;
  const parts = body?.content === undefined ? [] : Array.isArray(body.content) ? body.content : [body.content];
  return parts.map((inner) => toIncoming(decodeMessage(inner), inner));
}

/** Encodes a stored message as the broker hands it out: original sections plus broker annotations. */
export function encodeForClient(msg: StoredMessage, opts: { lockedUntil?: number } = {}): Buffer {
  const m = decodeMessage(msg.raw);
  const annotations: Record<string, unknown> = { ...(m.message_annotations ?? {}) };
  annotations['x-opt-sequence-number'] = types.wrap_long(msg.seq);
  annotations['x-opt-enqueue-sequence-number'] = types.wrap_long(msg.seq);
  annotations['x-opt-enqueued-time'] = new Date(msg.enqueuedAt);
  annotations['x-opt-message-state'] = types.wrap_int(MessageStateCode[msg.state]);
  if (opts.lockedUntil !== undefined) annotations['x-opt-locked-until'] = new Date(opts.lockedUntil);
  m.message_annotations = annotations;
  m.delivery_count = msg.deliveryCount;
  if (Object.keys(msg.propsPatch).length > 0) {
    m.application_properties = { ...(m.application_properties ?? {}), ...msg.propsPatch };
  }
  if (m.message_id === undefined) m.message_id = msg.meta.messageId;
  return rhea.message.encode(m);
}

/** Application properties a client sent with abandon/defer/dead-letter, kept if JSON-safe. */
export function settlementProperties(v: unknown): Record<string, PropertyValue> {
  return v !== null && typeof v === 'object' ? filterableProperties(v as Record<string, unknown>) : {};
}
