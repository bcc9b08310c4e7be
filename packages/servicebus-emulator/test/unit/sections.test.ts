/** Byte-exact sections: what a client encoded is what every receiver gets, whatever the type. */
import { decodeTransfer, encodeForClient } from '../../src/codec';
import { decodeScalar, mapEntries, splitSections, SectionCode } from '../../src/sections';
import type { StoredMessage } from '../../src/queue';

// A message as Python/Java encode it: properties (message-id), application-properties with a boolean as 0x56 0x01,
// a uuid, a signed long and a symbol, and a data body.
const props = Buffer.from('005373c00501a1026964', 'hex'); // list8, 1 field: message-id "id"
const appProps = Buffer.concat([
  Buffer.from('005374c1', 'hex'),
  Buffer.from([0, 8]), // size placeholder, count (4 pairs)
  Buffer.from('a101625601', 'hex'), // "b": boolean(0x56) true
  Buffer.from('a1017598', 'hex'),
  Buffer.alloc(16, 0xab), // "u": uuid
  Buffer.from('a1016c81fffffffffffffff9', 'hex'), // "l": long -7
  Buffer.from('a10173a30378797a', 'hex'), // "s": symbol xyz
]);
appProps[4] = appProps.length - 5;
const body = Buffer.from('0053750a03010203'.replace('0a', 'a0'), 'hex'); // data: vbin8 [1,2,3]
const raw = Buffer.concat([props, appProps, body]);

function stored(r: Buffer): StoredMessage {
  const [m] = decodeTransfer(r, 0);
  return {
    seq: 7,
    raw: m!.raw,
    meta: m!.meta,
    enqueuedAt: 1_700_000_000_000,
    expiresAt: Infinity,
    state: 'active',
    deliveryCount: 2,
    propsPatch: {},
  };
}

test('properties, application-properties and body leave the broker byte for byte', () => {
  const out = splitSections(encodeForClient(stored(raw)));
  expect(out.map((s) => s.code)).toEqual([
    SectionCode.header,
    SectionCode.messageAnnotations,
    SectionCode.properties,
    SectionCode.applicationProperties,
    SectionCode.data,
  ]);
  expect(out[2]!.bytes.equals(props)).toBe(true);
  expect(out[3]!.bytes.equals(appProps)).toBe(true);
  expect(out[4]!.bytes.equals(body)).toBe(true);
});

test('filters see a 0x56 boolean as a boolean, a uuid as text and a signed long as negative', () => {
  const m = stored(raw);
  expect(m.meta.applicationProperties).toEqual({ b: true, u: 'abababab-abab-abab-abab-abababababab', l: -7, s: 'xyz' });
});

test('broker properties are appended without re-encoding the client entries', () => {
  const m = stored(raw);
  m.propsPatch = { DeadLetterReason: 'r' };
  const ap = splitSections(encodeForClient(m)).find((s) => s.code === SectionCode.applicationProperties)!.bytes;
  const entries = mapEntries(ap);
  expect(entries).toHaveLength(5);
  expect(decodeScalar(entries[0]!.value)).toBe(true);
  expect(entries[0]!.value.equals(Buffer.from('5601', 'hex'))).toBe(true);
});

test('a truncated message is refused with a clear error', () => {
  expect(() => decodeTransfer(raw.subarray(0, raw.length - 2), 0)).toThrow(/truncated/);
});
