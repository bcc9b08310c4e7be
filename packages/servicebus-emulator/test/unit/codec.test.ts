/** AMQP encoding details the SDK depends on. */
import rhea from 'rhea';
import { BATCH_FORMAT, decodeMessage, decodeTransfer, encodeForClient, lockTokenToTag, toNumber } from '../../src/codec';
import type { StoredMessage } from '../../src/queue';

test('lock tokens travel as delivery tags in .NET GUID byte order', () => {
  const tag = lockTokenToTag('00112233-4455-6677-8899-aabbccddeeff');
  expect(tag.toString('hex')).toBe('33221100554477668899aabbccddeeff');
});

test('AMQP longs decode from numbers or 8-byte big-endian buffers', () => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(2n ** 53n + 2n);
  expect(toNumber(b)).toBe(2 ** 53 + 2);
  expect(toNumber(42)).toBe(42);
});

test('a batch envelope is unpacked into its inner messages; the envelope is ignored', () => {
  const inner = [
    rhea.message.encode({ message_id: 'one', body: rhea.message.data_section(Buffer.from('"a"')) }),
    rhea.message.encode({ message_id: 'two', body: rhea.message.data_section(Buffer.from('"b"')) }),
  ];
  const envelope = rhea.message.encode({
    message_id: 'one', // the SDK copies the first message's properties onto the envelope
    body: rhea.message.data_sections(inner),
  });
  const decoded = decodeTransfer(envelope, BATCH_FORMAT);
  expect(decoded.map((m) => m.meta.messageId)).toEqual(['one', 'two']);
  expect(decoded[1]!.raw.equals(inner[1]!)).toBe(true); // stored exactly as the client encoded it
});

test('a message without message-id gets one assigned, and it is part of the stored bytes', () => {
  const [m] = decodeTransfer({ body: 'x' }, 0);
  expect(m!.meta.messageId).toMatch(/^[0-9a-f]{32}$/);
  expect(decodeMessage(m!.raw).message_id).toBe(m!.meta.messageId);
});

test('outgoing messages carry the broker annotations, delivery count and added properties', () => {
  const raw = rhea.message.encode({ message_id: 'm', application_properties: { a: 1 }, body: 'hello' });
  const stored: StoredMessage = {
    seq: 7,
    raw,
    meta: { messageId: 'm', applicationProperties: { a: 1 } },
    enqueuedAt: 1_700_000_000_000,
    expiresAt: Infinity,
    state: 'deferred',
    deliveryCount: 2,
    propsPatch: { DeadLetterReason: 'r' },
  };
  const out = decodeMessage(encodeForClient(stored, { lockedUntil: 1_700_000_060_000 }));
  const ann = out.message_annotations as Record<string, unknown>;
  expect(ann['x-opt-sequence-number']).toBe(7);
  expect(ann['x-opt-enqueued-time']).toEqual(new Date(1_700_000_000_000));
  expect(ann['x-opt-locked-until']).toEqual(new Date(1_700_000_060_000));
  expect(ann['x-opt-message-state']).toBe(1);
  expect(out.delivery_count).toBe(2);
  expect(out.application_properties).toEqual({ a: 1, DeadLetterReason: 'r' });
  expect(out.body).toBe('hello');
});
