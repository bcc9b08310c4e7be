/**
 * AMQP encoding helpers: turning client transfers into stored messages, adding broker annotations on the way
 * out, batch envelopes, lock-token byte order and AMQP long/uuid conversions.
 */
import { randomUUID } from 'node:crypto';
import rhea, { type Message } from 'rhea';

// rhea exports its helpers on the container prototype, so named imports are undefined at runtime.
const types = rhea.types;
import type { PropertyValue } from './filters';
import { SectionCode, SectionDecodeError, decodeScalar, decodeStringKey, mapEntries, mapSection, splitSections, type Section } from './sections';
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

/** Application properties read from their encoded form, so a boolean is a boolean however it was encoded. */
function encodedProperties(section: Buffer | undefined): Record<string, PropertyValue> {
  const out: Record<string, PropertyValue> = {};
  if (!section) return out;
  for (const { key, value } of mapEntries(section)) {
    const k = decodeStringKey(key);
    const v = decodeScalar(value);
    if (k !== undefined && v !== undefined && (typeof v !== 'number' || Number.isFinite(v))) out[k] = v;
  }
  return out;
}

/** rhea decodes format-0 transfers itself; keep the bytes it decoded from, so stored sections stay byte-exact. */
const RAW = Symbol('orbiter.raw');
const rheaMessage = rhea.message as unknown as { decode(b: Buffer): unknown; __orbiterRaw?: boolean };
if (!rheaMessage.__orbiterRaw) {
  const decode = rheaMessage.decode.bind(rheaMessage);
  rheaMessage.decode = (b: Buffer) => {
    const m = decode(b) as object;
    Object.defineProperty(m, RAW, { value: Buffer.from(b), enumerable: false });
    return m;
  };
  rheaMessage.__orbiterRaw = true;
}

/** One section encoded by rhea (for the few sections the broker writes itself). */
function encodeSection(fields: Partial<Message>, code: number): Buffer | undefined {
  return splitSections(rhea.message.encode(fields as Message)).find((s) => s.code === code)?.bytes;
}

function sectionOf(sections: Section[], code: number): Buffer | undefined {
  return sections.find((s) => s.code === code)?.bytes;
}

/**
 * Builds the stored form of one encoded client message: its sections are kept as sent. Assigns a message-id when
 * the client sent none (as Azure does), which re-encodes only the properties section.
 */
export function toIncoming(raw: Buffer): IncomingMessage {
  let sections: Section[];
  try {
    sections = splitSections(raw);
  } catch (e) {
    throw new SectionDecodeError(`malformed AMQP message: ${(e as Error).message}`);
  }
  const head = decodeMessage(
    Buffer.concat(sections.filter((s) => s.code !== SectionCode.applicationProperties && s.code < SectionCode.data).map((s) => s.bytes)),
  );
  let encoded = raw;
  let messageId = idToString(head.message_id);
  if (messageId === undefined) {
    messageId = randomUUID().replace(/-/g, '');
    const props = encodeSection({ ...pickProperties(head), message_id: messageId }, SectionCode.properties)!;
    const rest = sections.filter((s) => s.code !== SectionCode.properties);
    const before = rest.filter((s) => s.code < SectionCode.properties).map((s) => s.bytes);
    const after = rest.filter((s) => s.code > SectionCode.properties).map((s) => s.bytes);
    encoded = Buffer.concat([...before, props, ...after]);
  }
  const annotations = (head.message_annotations ?? {}) as Record<string, unknown>;
  const scheduled = annotations['x-opt-scheduled-enqueue-time'];
  const scheduledAt = scheduled instanceof Date ? scheduled.getTime() : typeof scheduled === 'number' ? scheduled : undefined;
  return {
    raw: encoded,
    meta: {
      messageId,
      correlationId: idToString(head.correlation_id),
      subject: head.subject,
      to: head.to,
      replyTo: head.reply_to,
      replyToSessionId: head.reply_to_group_id,
      sessionId: head.group_id,
      contentType: head.content_type,
      applicationProperties: encodedProperties(sectionOf(sections, SectionCode.applicationProperties)),
      ttlMs: typeof head.ttl === 'number' && head.ttl > 0 ? head.ttl : undefined,
      scheduledAt,
    },
  };
}

const PROPERTY_FIELDS = [
  'message_id',
  'user_id',
  'to',
  'subject',
  'reply_to',
  'correlation_id',
  'content_type',
  'content_encoding',
  'absolute_expiry_time',
  'creation_time',
  'group_id',
  'group_sequence',
  'reply_to_group_id',
] as const;

function pickProperties(m: Message): Partial<Message> {
  const out: Record<string, unknown> = {};
  const src = m as unknown as Record<string, unknown>;
  for (const f of PROPERTY_FIELDS) if (src[f] !== undefined) out[f] = src[f];
  return out;
}

/** Decodes one transfer payload (format 0 = a message; BATCH_FORMAT = an envelope of encoded messages). */
export function decodeTransfer(payload: Message | Buffer, format: number | undefined): IncomingMessage[] {
  if (!Buffer.isBuffer(payload)) {
    const raw = (payload as unknown as Record<symbol, Buffer | undefined>)[RAW];
    return [toIncoming(raw ?? rhea.message.encode(payload))];
  }
  if (!format) return [toIncoming(payload)];
  if (format !== BATCH_FORMAT) throw new TypeError(`unsupported message-format ${format}`);
  // The envelope copies the first message's properties; ignore it and enqueue each inner message.
  const envelope = decodeMessage(payload);
  const body = envelope.body as { content?: Buffer | Buffer[]; multiple?: boolean } | undefined;
  const parts = body?.content === undefined ? [] : Array.isArray(body.content) ? body.content : [body.content];
  return parts.map((inner) => toIncoming(inner));
}

/** Replaces or appends map entries by string key, leaving the other entries' bytes untouched. */
function mergeMap(code: number, section: Buffer | undefined, additions: Buffer | undefined, removed: string[] = []): Buffer | undefined {
  if (!additions && removed.length === 0) return section;
  const added = additions ? mapEntries(additions) : [];
  const dropped = new Set([...added.map((e) => decodeStringKey(e.key)), ...removed]);
  const kept = section ? mapEntries(section).filter((e) => !dropped.has(decodeStringKey(e.key))) : [];
  return mapSection(code, [...kept, ...added]);
}

/**
 * Encodes a stored message as the broker hands it out: the client's properties, application-properties, body and
 * footer byte for byte; a fresh header (delivery-count) and the broker's annotations merged into the client's.
 */
export function encodeForClient(msg: StoredMessage, opts: { lockedUntil?: number } = {}): Buffer {
  const sections = splitSections(msg.raw);
  const headerIn = sectionOf(sections, SectionCode.header);
  const header = headerIn ? decodeMessage(headerIn) : ({} as Message);
  const headerOut = encodeSection(
    {
      durable: header.durable,
      priority: header.priority,
      ttl: header.ttl,
      first_acquirer: header.first_acquirer,
      delivery_count: msg.deliveryCount,
    },
    SectionCode.header,
  );
  const annotations: Record<string, unknown> = {
    'x-opt-sequence-number': types.wrap_long(msg.seq),
    'x-opt-enqueue-sequence-number': types.wrap_long(msg.seq),
    'x-opt-enqueued-time': new Date(msg.enqueuedAt),
    'x-opt-message-state': types.wrap_int(MessageStateCode[msg.state]),
  };
  if (opts.lockedUntil !== undefined) annotations['x-opt-locked-until'] = new Date(opts.lockedUntil);
  const ma = mergeMap(
    SectionCode.messageAnnotations,
    sectionOf(sections, SectionCode.messageAnnotations),
    encodeSection({ message_annotations: annotations }, SectionCode.messageAnnotations),
  );
  const patch =
    Object.keys(msg.propsPatch).length > 0 ? encodeSection({ application_properties: msg.propsPatch }, SectionCode.applicationProperties) : undefined;
  const ap = mergeMap(SectionCode.applicationProperties, sectionOf(sections, SectionCode.applicationProperties), patch, msg.removedProps);
  const out: Buffer[] = [headerOut!, ma!];
  const props = sectionOf(sections, SectionCode.properties);
  if (props) out.push(props);
  if (ap) out.push(ap);
  for (const s of sections) if (s.code >= SectionCode.data) out.push(s.bytes);
  return Buffer.concat(out);
}

/** Application properties a client sent with abandon/defer/dead-letter, kept if JSON-safe. */
export function settlementProperties(v: unknown): Record<string, PropertyValue> {
  return v !== null && typeof v === 'object' ? filterableProperties(v as Record<string, unknown>) : {};
}
