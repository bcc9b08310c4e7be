/**
 * Byte-exact AMQP message sections. A stored message keeps the client's encoded properties, application-properties,
 * body and footer untouched, so every type (bool, uuid, signed ints, floats, symbols, timestamps, decimals) reaches
 * any receiver exactly as it was sent, whatever the sender's language. The broker only rewrites header and
 * message-annotations, and appends to application-properties without re-encoding the entries the client sent.
 */

/** Section descriptor codes (AMQP 1.0 §3.2). */
export const SectionCode = {
  header: 0x70,
  deliveryAnnotations: 0x71,
  messageAnnotations: 0x72,
  properties: 0x73,
  applicationProperties: 0x74,
  data: 0x75,
  amqpSequence: 0x76,
  amqpValue: 0x77,
  footer: 0x78,
} as const;

const SYMBOLIC: Record<string, number> = {
  'amqp:header:list': 0x70,
  'amqp:delivery-annotations:map': 0x71,
  'amqp:message-annotations:map': 0x72,
  'amqp:properties:list': 0x73,
  'amqp:application-properties:map': 0x74,
  'amqp:data:binary': 0x75,
  'amqp:amqp-sequence:list': 0x76,
  'amqp:amqp-value:*': 0x77,
  'amqp:footer:map': 0x78,
};

export class SectionDecodeError extends Error {}

function need(b: Buffer, end: number): void {
  if (end > b.length) throw new SectionDecodeError(`truncated AMQP value (needs ${end} bytes, has ${b.length})`);
}

/** Offset just past the encoded AMQP value starting at `off` (constructor included). */
export function valueEnd(b: Buffer, off: number): number {
  need(b, off + 1);
  const c = b[off]!;
  if (c === 0x00) return valueEnd(b, valueEnd(b, off + 1)); // described: descriptor, then value
  const width = c >> 4;
  let end: number;
  switch (width) {
    case 0x4:
      end = off + 1;
      break;
    case 0x5:
      end = off + 2;
      break;
    case 0x6:
      end = off + 3;
      break;
    case 0x7:
      end = off + 5;
      break;
    case 0x8:
      end = off + 9;
      break;
    case 0x9:
      end = off + 17;
      break;
    case 0xa:
    case 0xc:
    case 0xe:
      need(b, off + 2);
      end = off + 2 + b[off + 1]!;
      break;
    case 0xb:
    case 0xd:
    case 0xf:
      need(b, off + 5);
      end = off + 5 + b.readUInt32BE(off + 1);
      break;
    default:
      throw new SectionDecodeError(`invalid AMQP constructor 0x${c.toString(16)} at offset ${off}`);
  }
  need(b, end);
  return end;
}

function descriptorCode(b: Buffer, off: number): number {
  const c = b[off]!;
  if (c === 0x53) return b[off + 1]!;
  if (c === 0x80) return Number(b.readBigUInt64BE(off + 1) & 0xffffffffn);
  if (c === 0xa3 || c === 0xb3) {
    const start = c === 0xa3 ? off + 2 : off + 5;
    return SYMBOLIC[b.subarray(start, valueEnd(b, off)).toString('latin1')] ?? -1;
  }
  if (c === 0x44) return 0;
  return -1;
}

export interface Section {
  code: number;
  bytes: Buffer;
}

/** Splits an encoded message into its sections (each a slice of `b`). */
export function splitSections(b: Buffer): Section[] {
  const out: Section[] = [];
  let off = 0;
  while (off < b.length) {
    if (b[off] !== 0x00) throw new SectionDecodeError(`expected a described section at offset ${off}`);
    const code = descriptorCode(b, off + 1);
    if (code < SectionCode.header || code > SectionCode.footer) throw new SectionDecodeError(`unknown section descriptor at offset ${off}`);
    const end = valueEnd(b, off);
    out.push({ code, bytes: b.subarray(off, end) });
    off = end;
  }
  return out;
}

/** The encoded key/value entries of a map section (each pair as one slice, key first). */
export function mapEntries(section: Buffer): { key: Buffer; value: Buffer }[] {
  let off = valueEnd(section, 1); // skip the 0x00 and the descriptor
  const c = section[off]!;
  let count: number;
  if (c === 0xc1) {
    count = section[off + 2]!;
    off += 3;
  } else if (c === 0xd1) {
    count = section.readUInt32BE(off + 5);
    off += 9;
  } else if (c === 0x40) {
    return [];
  } else {
    throw new SectionDecodeError(`expected a map, got constructor 0x${c.toString(16)}`);
  }
  const entries: { key: Buffer; value: Buffer }[] = [];
  for (let i = 0; i < count; i += 2) {
    const keyEnd = valueEnd(section, off);
    const valEnd = valueEnd(section, keyEnd);
    entries.push({ key: section.subarray(off, keyEnd), value: section.subarray(keyEnd, valEnd) });
    off = valEnd;
  }
  return entries;
}

/** Builds a map section (described by `code`) from encoded entries. */
export function mapSection(code: number, entries: { key: Buffer; value: Buffer }[]): Buffer {
  const content = Buffer.concat(entries.flatMap((e) => [e.key, e.value]));
  const count = entries.length * 2;
  const head =
    content.length + 1 <= 255 && count <= 255
      ? Buffer.from([0x00, 0x53, code, 0xc1, content.length + 1, count])
      : (() => {
          const h = Buffer.alloc(12);
          h.set([0x00, 0x53, code, 0xd1]);
          h.writeUInt32BE(content.length + 4, 4);
          h.writeUInt32BE(count, 8);
          return h;
        })();
  return Buffer.concat([head, content]);
}

/** A string key as AMQP encodes it (str8/str32 utf8), for comparing and building application-property keys. */
export function encodeStringKey(key: string): Buffer {
  const s = Buffer.from(key, 'utf8');
  if (s.length <= 255) return Buffer.concat([Buffer.from([0xa1, s.length]), s]);
  const h = Buffer.alloc(5);
  h[0] = 0xb1;
  h.writeUInt32BE(s.length, 1);
  return Buffer.concat([h, s]);
}

/** The string value of an encoded str8/str32/sym8/sym32 key, or undefined for other types. */
export function decodeStringKey(key: Buffer): string | undefined {
  const c = key[0];
  if (c === 0xa1 || c === 0xa3) return key.subarray(2).toString('utf8');
  if (c === 0xb1 || c === 0xb3) return key.subarray(5).toString('utf8');
  return undefined;
}

/** A filterable scalar: what SQL filters compare (bool stays bool whatever its encoding; uuids as canonical text). */
export type Scalar = string | number | boolean | null;

/**
 * Decodes one encoded scalar the way Service Bus filters see it. Unlike rhea, a `boolean` encoded as 0x56 stays a
 * boolean (Python and Java send it that way), uuids become their canonical text, timestamps epoch ms.
 * Returns undefined for compound or described values (filters cannot compare those).
 */
export function decodeScalar(v: Buffer): Scalar | undefined {
  const c = v[0]!;
  switch (c) {
    case 0x40:
      return null;
    case 0x41:
      return true;
    case 0x42:
      return false;
    case 0x56:
      return v[1] !== 0;
    case 0x43:
    case 0x44:
      return 0;
    case 0x50:
      return v[1]!;
    case 0x51:
      return v.readInt8(1);
    case 0x52:
      return v[1]!;
    case 0x53:
      return v[1]!;
    case 0x54:
      return v.readInt8(1);
    case 0x55:
      return v.readInt8(1);
    case 0x60:
      return v.readUInt16BE(1);
    case 0x61:
      return v.readInt16BE(1);
    case 0x70:
      return v.readUInt32BE(1);
    case 0x71:
      return v.readInt32BE(1);
    case 0x72:
      return v.readFloatBE(1);
    case 0x73:
      return v.readUInt32BE(1); // char (UTF-32 code point)
    case 0x80:
      return Number(v.readBigUInt64BE(1));
    case 0x81:
      return Number(v.readBigInt64BE(1));
    case 0x82:
      return v.readDoubleBE(1);
    case 0x83:
      return Number(v.readBigInt64BE(1));
    case 0x98: {
      const h = v.subarray(1, 17).toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    }
    case 0xa1:
    case 0xa3:
      return v.subarray(2).toString('utf8');
    case 0xb1:
    case 0xb3:
      return v.subarray(5).toString('utf8');
    default:
      return undefined;
  }
}
