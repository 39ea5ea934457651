import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ring } from '../src/core/ring.js';
import { ErrorCode } from '../src/core/events.js';
import { decode, decodeFromServer, encode, PacketType, validTopic } from '../src/protocols/mqtt/codec.js';
import type { Decoded, Packet, QoS } from '../src/protocols/mqtt/codec.js';
import { utf8Decode, utf8Encode, utf8Length } from '../src/protocols/utf8.js';
import { everySplit, feedPieces } from './support/every-split.js';

const te = new TextEncoder();
const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));

function encodeToBytes(p: Packet): Uint8Array {
  const size = encode(p, null);
  assert.ok(size > 0, 'encodable: ' + JSON.stringify(p));
  const r = new Ring(size);
  assert.equal(encode(p, r), size);
  assert.equal(r.length, size);
  return r.bytes;
}

/** A decoded packet as the plain value an encoder input would be (views copied, strings as bytes). */
function normal(p: Packet | Decoded | null): unknown {
  return JSON.parse(
    JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? { bytes: Array.from(v) } : v)),
  );
}
function expected(p: Packet): unknown {
  return JSON.parse(
    JSON.stringify(p, (_k, v) => (typeof v === 'string' && (_k === 'payload' || _k === 'password') ? { bytes: Array.from(te.encode(v)) } : v instanceof Uint8Array ? { bytes: Array.from(v) } : v)),
  );
}

const big = new Uint8Array(300).map((_, i) => (i * 7) & 255);

/** One packet of every type, with the fields that change the encoding exercised. */
const PACKETS: Packet[] = [
  { type: PacketType.CONNECT, clientId: 'dev-1', clean: true, keepalive: 60, will: null, username: null, password: null },
  {
    type: PacketType.CONNECT,
    clientId: '',
    clean: false,
    keepalive: 65535,
    will: { topic: 'status/dev-1', payload: te.encode('gone'), qos: 1, retain: true },
    username: 'üser',
    password: new Uint8Array([0, 255, 1]),
  },
  { type: PacketType.CONNECT, clientId: 'x', clean: true, keepalive: 0, will: { topic: 'w', payload: new Uint8Array(0), qos: 2, retain: false }, username: 'u', password: null },
  { type: PacketType.CONNACK, sessionPresent: true, returnCode: 0 },
  { type: PacketType.CONNACK, sessionPresent: false, returnCode: 5 },
  { type: PacketType.PUBLISH, topic: 'a/b', payload: te.encode('hi'), qos: 0, retain: false, dup: false, id: 0 },
  { type: PacketType.PUBLISH, topic: 'sensors/température/😀', payload: big, qos: 1, retain: true, dup: true, id: 65535 },
  { type: PacketType.PUBLISH, topic: 't', payload: new Uint8Array(0), qos: 2, retain: false, dup: false, id: 1 },
  { type: PacketType.PUBACK, id: 10 },
  { type: PacketType.PUBREC, id: 11 },
  { type: PacketType.PUBREL, id: 12 },
  { type: PacketType.PUBCOMP, id: 13 },
  { type: PacketType.SUBSCRIBE, id: 1, topics: ['a/#', '+/b/+', '#', 'x'], qos: [1, 0, 2, 1] },
  { type: PacketType.SUBACK, id: 1, codes: [1, 0x80, 2, 0] },
  { type: PacketType.UNSUBSCRIBE, id: 2, topics: ['a/#', 'x'] },
  { type: PacketType.UNSUBACK, id: 2 },
  { type: PacketType.PINGREQ },
  { type: PacketType.PINGRESP },
  { type: PacketType.DISCONNECT },
];

test('encodes exact bytes for known vectors', () => {
  const cases: [Packet, string][] = [
    [{ type: PacketType.CONNECT, clientId: 'c', clean: true, keepalive: 60, will: null, username: null, password: null }, '10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63'],
    [{ type: PacketType.CONNACK, sessionPresent: true, returnCode: 0 }, '20 02 01 00'],
    [{ type: PacketType.PUBLISH, topic: 'a/b', payload: 'hi', qos: 1, retain: false, dup: false, id: 10 }, '32 09 00 03 61 2f 62 00 0a 68 69'],
    [{ type: PacketType.PUBLISH, topic: 'a', payload: 'x', qos: 2, retain: true, dup: true, id: 1 }, '3d 06 00 01 61 00 01 78'],
    [{ type: PacketType.PUBACK, id: 10 }, '40 02 00 0a'],
    [{ type: PacketType.PUBREL, id: 10 }, '62 02 00 0a'],
    [{ type: PacketType.SUBSCRIBE, id: 1, topics: ['a/#'], qos: [1] }, '82 08 00 01 00 03 61 2f 23 01'],
    [{ type: PacketType.SUBACK, id: 1, codes: [1, 0x80] }, '90 04 00 01 01 80'],
    [{ type: PacketType.UNSUBSCRIBE, id: 2, topics: ['a/#'] }, 'a2 07 00 02 00 03 61 2f 23'],
    [{ type: PacketType.UNSUBACK, id: 2 }, 'b0 02 00 02'],
    [{ type: PacketType.PINGREQ }, 'c0 00'],
    [{ type: PacketType.PINGRESP }, 'd0 00'],
    [{ type: PacketType.DISCONNECT }, 'e0 00'],
  ];
  for (const [p, bytes] of cases) assert.deepEqual(Array.from(encodeToBytes(p)), Array.from(hex(bytes)), JSON.stringify(p));
  // Remaining length across the varint's byte boundaries: 127 | 128 and 16383 | 16384.
  for (const [rl, head] of [
    [127, '7f'],
    [128, '80 01'],
    [16383, 'ff 7f'],
    [16384, '80 80 01'],
    [2097152, '80 80 80 01'],
  ] as [number, string][]) {
    const p: Packet = { type: PacketType.PUBLISH, topic: 't', payload: new Uint8Array(rl - 3), qos: 0, retain: false, dup: false, id: 0 };
    const b = encodeToBytes(p);
    assert.deepEqual(Array.from(b.subarray(1, 1 + hex(head).length)), Array.from(hex(head)));
    const r = new Ring(b.length);
    r.write(b);
    const d = decode(r, b.length);
    assert.ok(d && d.type === PacketType.PUBLISH && (d.payload as Uint8Array).length === rl - 3 && d.topic === 't');
  }
});

test('every packet type round-trips', () => {
  const types = new Set<number>();
  for (const p of PACKETS) {
    const b = encodeToBytes(p);
    const r = new Ring(b.length);
    r.write(b);
    const d = decode(r, b.length);
    assert.deepEqual(normal(d), expected(p));
    assert.equal(r.length, 0, 'consumed');
    types.add(p.type);
  }
  assert.equal(types.size, 14);
});

/**
 * Decodes `b` written in pieces cut at `cuts` into a ring that starts
 * `offset` bytes in (so most vectors also wrap past its end); nothing may be
 * consumed before the packet is whole.
 */
function decodeInPieces(b: Uint8Array, cuts: number[], offset: number): unknown {
  const r = new Ring(b.length + 2);
  r.start = offset; // empty, but starting here
  let got: Decoded | null = null;
  feedPieces(r, b, cuts, () => {
    if (got) return true;
    const held = r.length;
    got = decode(r, b.length + 2);
    if (!got) assert.equal(r.length, held, 'nothing consumed before the packet is whole');
    return true;
  });
  assert.equal(r.length, 0);
  return normal(got);
}

test('every split point of every vector decodes the same packet, also wrapped around the ring end', () => {
  for (const p of PACKETS) {
    const b = encodeToBytes(p);
    const want = expected(p);
    const got = everySplit(b.length, (cuts) => [0, 3, b.length - 1].map((offset) => decodeInPieces(b, cuts, offset)), JSON.stringify(want));
    assert.deepEqual(got, [want, want, want]);
  }
});

test('back-to-back packets in one chunk come out one per call', () => {
  const all = PACKETS.map(encodeToBytes);
  const total = all.reduce((n, b) => n + b.length, 0);
  const r = new Ring(total);
  for (const b of all) r.write(b);
  for (const p of PACKETS) assert.deepEqual(normal(decode(r, 1000)), expected(p));
  assert.equal(decode(r, 1000), null);
});

test('a packet over the limit is refused from its fixed header, before its body arrives', () => {
  const r = new Ring(1024);
  r.write(hex('30 ff ff 7f')); // PUBLISH declaring 2,097,151 bytes; only the header is here
  const d = decode(r, 1024);
  assert.ok(d && d.type === 0);
  assert.equal(d.code, ErrorCode.TOO_BIG);
  assert.equal(r.length, 4);
  // Exactly at the limit is fine; one byte more is not.
  const p: Packet = { type: PacketType.PUBLISH, topic: 't', payload: new Uint8Array(100), qos: 0, retain: false, dup: false, id: 0 };
  const b = encodeToBytes(p);
  const at = new Ring(b.length);
  at.write(b, 0, 3);
  assert.equal(decode(at, b.length), null);
  const over = new Ring(b.length);
  over.write(b, 0, 3);
  const refused = decode(over, b.length - 1);
  assert.ok(refused && refused.type === 0 && refused.code === ErrorCode.TOO_BIG);
});

test('a client decoder hands over a PUBLISH over the limit once its head is held, for the caller to skip; any split gives the same result', () => {
  fc.assert(
    fc.property(qos, fc.integer({ min: 65, max: 2000 }), fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 20 }), (q, n, chunks) => {
      const packets: Packet[] = [
        { type: PacketType.PUBACK, id: 7 },
        { type: PacketType.PUBLISH, topic: 'big/one', payload: new Uint8Array(n).fill(0x30), qos: q, retain: true, dup: q > 0, id: q ? 300 : 0 },
        { type: PacketType.PUBLISH, topic: 'after', payload: 'ok', qos: 1, retain: false, dup: false, id: 301 },
      ];
      const input = Uint8Array.from(packets.flatMap((p) => Array.from(encodeToBytes(p))));
      const r = new Ring(64);
      const out: unknown[] = [];
      let skip = 0;
      let at = 0;
      for (let k = 0; at < input.length; k++) {
        at += r.write(input, at, Math.min(chunks[k % chunks.length], input.length - at));
        for (;;) {
          if (skip > 0) skip -= r.discard(skip); // as the client does
          if (skip > 0) break;
          const d = decodeFromServer(r, 64);
          if (d === null) break;
          assert.notEqual(d.type, 0, JSON.stringify(d));
          if (d.type === PacketType.PUBLISH && d.size) skip = d.size;
          out.push(normal(d));
        }
      }
      const head = Object.assign(expected(packets[1]) as object, { payload: { bytes: [] }, size: encode(packets[1], null) });
      assert.deepEqual(out, [expected(packets[0]), head, expected(packets[2])]);
      assert.equal(r.length, 0);
    }),
    { numRuns: 300 },
  );
  // A server's decoder still refuses it from the fixed header; a head that could never fit the ring is refused by a client's too.
  const p: Packet = { type: PacketType.PUBLISH, topic: 't', payload: new Uint8Array(100), qos: 1, retain: false, dup: false, id: 1 };
  const r = new Ring(64);
  r.write(encodeToBytes(p), 0, 10);
  assert.equal((decode(r, 64) as { code: number }).code, ErrorCode.TOO_BIG);
  const huge = new Ring(64);
  huge.write(hex('32 a0 8d 06 ff ff 61 61'));
  assert.equal((decodeFromServer(huge, 64) as { code: number }).code, ErrorCode.TOO_BIG);
  assert.equal(huge.length, 8, 'nothing consumed');
  const wrong = new Ring(64);
  wrong.write(hex('32 c8 01 00 ff 61 61')); // remaining length 200, topic length 255
  assert.equal((decodeFromServer(wrong, 64) as { code: number }).code, ErrorCode.PROTOCOL);
});

test('malformed input is a protocol error value, never an exception', () => {
  const bad: [string, string][] = [
    ['00 00', 'reserved type 0'],
    ['f0 00', 'reserved type 15'],
    ['36 03 00 01 61', 'QoS 3'],
    ['38 03 00 01 61', 'DUP on QoS 0'],
    ['60 02 00 01', 'PUBREL flags 0'],
    ['80 06 00 01 00 01 61 00', 'SUBSCRIBE flags 0'],
    ['a0 05 00 01 00 01 61', 'UNSUBSCRIBE flags 0'],
    ['41 02 00 01', 'PUBACK flags set'],
    ['21 02 00 00', 'CONNACK flags set'],
    ['20 02 02 00', 'CONNACK reserved ack bits'],
    ['20 02 00 06', 'CONNACK unknown return code'],
    ['30 ff ff ff ff 01', 'remaining length over 4 bytes'],
    ['30 04 00 02 c0 80', 'overlong UTF-8 in topic'],
    ['30 05 00 03 ed a0 80', 'surrogate in topic'],
    ['30 04 00 02 61 00', 'U+0000 in topic'],
    ['30 03 00 01 ff', 'invalid UTF-8 byte'],
    ['30 04 00 02 e2 82', 'truncated UTF-8'],
    ['30 05 00 03 61 2f 2b', 'wildcard + in topic name'],
    ['30 03 00 01 23', 'wildcard # in topic name'],
    ['30 02 00 00', 'empty topic'],
    ['30 03 00 05 61', 'topic longer than packet'],
    ['32 03 00 01 61', 'QoS 1 without packet identifier'],
    ['32 05 00 01 61 00 00', 'packet identifier 0'],
    ['40 02 00 00', 'PUBACK id 0'],
    ['40 03 00 01 00', 'PUBACK wrong length'],
    ['c0 01 00', 'PINGREQ with a body'],
    ['e0 01 00', 'DISCONNECT with a body'],
    ['82 02 00 01', 'SUBSCRIBE without filters'],
    ['82 06 00 01 00 01 61 03', 'SUBSCRIBE QoS 3'],
    ['82 06 00 01 00 01 61 04', 'SUBSCRIBE reserved bits'],
    ['82 07 00 01 00 03 61 23 62', 'bad filter a#b'],
    ['82 0a 00 01 00 01 61 01 00 02 61 62', 'last filter without its QoS'],
    ['a2 02 00 01', 'UNSUBSCRIBE without filters'],
    ['90 03 00 01 03', 'SUBACK code 3'],
    ['90 02 00 01', 'SUBACK without codes'],
    ['10 0d 00 04 4d 51 54 54 03 02 00 3c 00 01 63', 'protocol level 3'],
    ['10 0d 00 04 4d 51 49 54 04 02 00 3c 00 01 63', 'protocol name'],
    ['10 0d 00 04 4d 51 54 54 04 03 00 3c 00 01 63', 'reserved CONNECT flag'],
    ['10 0d 00 04 4d 51 54 54 04 42 00 3c 00 01 63', 'password without user name'],
    ['10 0d 00 04 4d 51 54 54 04 22 00 3c 00 01 63', 'will retain without will'],
    ['10 0d 00 04 4d 51 54 54 04 1e 00 3c 00 01 63', 'will QoS 3'],
    ['10 0e 00 04 4d 51 54 54 04 02 00 3c 00 01 63 00', 'bytes left over'],
  ];
  for (const [bytes, why] of bad) {
    const b = hex(bytes);
    const r = new Ring(64);
    r.write(b);
    let d: Decoded | null = null;
    assert.doesNotThrow(() => {
      d = decode(r, 64);
    }, why);
    const e = d as Decoded | null;
    assert.ok(e !== null && e.type === 0, why + ': got ' + JSON.stringify(normal(e)));
    assert.equal(e.code, ErrorCode.PROTOCOL, why);
    assert.equal(r.length, b.length, why + ': nothing consumed');
  }
});

test('a client decoder refuses the packets only a server receives, and takes the rest', () => {
  for (const p of PACKETS) {
    const b = encodeToBytes(p);
    const r = new Ring(b.length);
    r.write(b);
    const d = decodeFromServer(r, b.length);
    const serverOnly = [PacketType.CONNECT, PacketType.SUBSCRIBE, PacketType.UNSUBSCRIBE, PacketType.PINGREQ, PacketType.DISCONNECT].indexOf(p.type) >= 0;
    if (serverOnly) assert.ok(d && d.type === 0 && d.code === ErrorCode.PROTOCOL, 'type ' + p.type);
    else assert.deepEqual(normal(d), expected(p));
  }
});

test('encode refuses what MQTT forbids and writes nothing when the ring lacks room', () => {
  const bad: Packet[] = [
    { type: PacketType.PUBLISH, topic: 'a/+', payload: 'x', qos: 0, retain: false, dup: false, id: 0 },
    { type: PacketType.PUBLISH, topic: '', payload: 'x', qos: 0, retain: false, dup: false, id: 0 },
    { type: PacketType.PUBLISH, topic: 'a', payload: 'x', qos: 1, retain: false, dup: false, id: 0 },
    { type: PacketType.PUBLISH, topic: 'a', payload: 'x', qos: 0, retain: false, dup: true, id: 0 },
    { type: PacketType.PUBLISH, topic: 'a', payload: 'x', qos: 3 as QoS, retain: false, dup: false, id: 1 },
    { type: PacketType.PUBLISH, topic: 'a\ud800', payload: 'x', qos: 0, retain: false, dup: false, id: 0 },
    { type: PacketType.PUBLISH, topic: 'a\u0000', payload: 'x', qos: 0, retain: false, dup: false, id: 0 },
    { type: PacketType.PUBLISH, topic: 'a', payload: '\udc00', qos: 0, retain: false, dup: false, id: 0 },
    { type: PacketType.SUBSCRIBE, id: 1, topics: ['a/#/b'], qos: [0] },
    { type: PacketType.SUBSCRIBE, id: 1, topics: ['a+'], qos: [0] },
    { type: PacketType.SUBSCRIBE, id: 1, topics: [], qos: [] },
    { type: PacketType.UNSUBSCRIBE, id: 70000, topics: ['a'] },
    { type: PacketType.CONNECT, clientId: 'c', clean: true, keepalive: 60, will: null, username: null, password: 'p' },
    { type: PacketType.CONNECT, clientId: 'c', clean: true, keepalive: 70000, will: null, username: null, password: null },
    { type: PacketType.SUBACK, id: 1, codes: [3] },
  ];
  for (const p of bad) assert.equal(encode(p, null), -1, JSON.stringify(p));
  const r = new Ring(8);
  r.write(new Uint8Array(3));
  assert.equal(encode({ type: PacketType.PUBLISH, topic: 'abc', payload: 'xy', qos: 0, retain: false, dup: false, id: 0 }, r), 0);
  assert.equal(r.length, 3);
  // A room below the ring's free space is a limit too: 9 bytes do not go into 10 when only 8 are allowed.
  const pub: Packet = { type: PacketType.PUBLISH, topic: 'abc', payload: 'xy', qos: 0, retain: false, dup: false, id: 0 };
  const roomy = new Ring(10);
  assert.equal(encode(pub, roomy, 8), 0);
  assert.equal(roomy.length, 0);
  assert.equal(encode(pub, roomy, 9), 9);
});

test('topic names and filters are validated per MQTT rules', () => {
  for (const t of ['a', 'a/b', '/', '//', 'a/', 'sport/tennis/player1', '$SYS/x', ' ']) assert.ok(validTopic(t, false), t);
  for (const t of ['', 'a/+', '#', 'a#']) assert.ok(!validTopic(t, false), t);
  for (const f of ['#', '+', '+/+', 'a/#', '/+/', 'sport/+/player1', '+/#', 'a//#']) assert.ok(validTopic(f, true), f);
  for (const f of ['', 'a#', 'a/#/b', 'a+', '+a', 'a/b+', '##', '#/']) assert.ok(!validTopic(f, true), f);
});

test('UTF-8: round trips every plane, refuses what MQTT forbids', () => {
  for (const s of ['', 'abc', 'é', '€', '😀', 'a\u007fb', '\uffff', '\ud83d\ude00x', 'ＡＢＣ', '\u0001']) {
    const b = utf8Encode(s);
    assert.ok(b, s);
    assert.deepEqual(Array.from(b), Array.from(te.encode(s)));
    assert.equal(utf8Length(s), b.length);
    assert.equal(utf8Decode(b), s);
  }
  for (const s of ['\u0000', '\ud800', 'a\udc00', '\ud800\ud800']) {
    assert.equal(utf8Length(s), -1, JSON.stringify(s));
    assert.equal(utf8Encode(s), null);
  }
  for (const bytes of ['c0 80', 'c1 bf', 'e0 80 80', 'ed a0 80', 'f4 90 80 80', 'f5 80 80 80', '80', 'e2 28 a1', 'e2 82', '00', 'f0 80 80 80']) {
    assert.equal(utf8Decode(hex(bytes)), null, bytes);
  }
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const n = utf8Length(s);
      if (s.indexOf('\u0000') >= 0) return n === -1;
      const b = utf8Encode(s);
      return b !== null && utf8Decode(b) === s && b.length === te.encode(s).length;
    }),
  );
});

// ------------------------------------------------------------------ properties

const topicName = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 40 })
  .filter((s) => utf8Length(s) > 0 && validTopic(s, false));
const topicFilter = fc
  .array(fc.oneof(fc.constant('+'), fc.string({ unit: 'binary', maxLength: 8 }).filter((s) => s.indexOf('/') < 0 && s.indexOf('+') < 0 && s.indexOf('#') < 0 && utf8Length(s) >= 0)), { minLength: 1, maxLength: 5 })
  .chain((levels) => fc.boolean().map((hash) => levels.join('/') + (hash ? '/#' : '')))
  .filter((s) => validTopic(s, true));
const qos = fc.constantFrom<QoS>(0, 1, 2);
const id = fc.integer({ min: 1, max: 65535 });
const bytes = fc.uint8Array({ maxLength: 400 });
const text = fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => utf8Length(s) >= 0);

const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({
    type: fc.constant(PacketType.CONNECT as const),
    clientId: text,
    clean: fc.boolean(),
    keepalive: fc.integer({ min: 0, max: 65535 }),
    will: fc.option(fc.record({ topic: topicName, payload: bytes, qos: qos, retain: fc.boolean() }), { nil: null }),
    username: fc.option(text, { nil: null }),
    password: fc.option(bytes, { nil: null }),
  }).map((p) => (p.username === null ? { ...p, password: null } : p)),
  fc.record({ type: fc.constant(PacketType.CONNACK as const), sessionPresent: fc.boolean(), returnCode: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ type: fc.constant(PacketType.PUBLISH as const), topic: topicName, payload: bytes, qos: qos, retain: fc.boolean(), dup: fc.boolean(), id: id }).map((p) =>
    p.qos === 0 ? { ...p, dup: false, id: 0 } : p,
  ),
  fc.record({ type: fc.constantFrom(PacketType.PUBACK, PacketType.PUBREC, PacketType.PUBREL, PacketType.PUBCOMP, PacketType.UNSUBACK), id: id }),
  fc.array(fc.tuple(topicFilter, qos), { minLength: 1, maxLength: 5 }).chain((subs) =>
    id.map((i) => ({ type: PacketType.SUBSCRIBE as const, id: i, topics: subs.map((s) => s[0]), qos: subs.map((s) => s[1]) })),
  ),
  fc.record({ type: fc.constant(PacketType.SUBACK as const), id: id, codes: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 8 }) }),
  fc.record({ type: fc.constant(PacketType.UNSUBSCRIBE as const), id: id, topics: fc.array(topicFilter, { minLength: 1, maxLength: 5 }) }),
  fc.record({ type: fc.constantFrom(PacketType.PINGREQ, PacketType.PINGRESP, PacketType.DISCONNECT) }),
) as fc.Arbitrary<Packet>;

test('property: decode(encode(x)) = x, whatever the split and ring position', () => {
  fc.assert(
    fc.property(packetArb, fc.nat(), fc.nat(), (p, splitSeed, offsetSeed) => {
      const b = encodeToBytes(p);
      const r = new Ring(b.length + 7);
      const offset = offsetSeed % r.capacity;
      r.start = offset;
      const split = splitSeed % (b.length + 1);
      r.write(b, 0, split);
      const first = decode(r, r.capacity);
      if (split < b.length) {
        if (first !== null) return false;
        r.write(b, split);
      }
      const d = split < b.length ? decode(r, r.capacity) : first;
      assert.deepEqual(normal(d), expected(p));
      return r.length === 0;
    }),
    { numRuns: 2000 },
  );
});

test('property: encode measures exactly what it writes', () => {
  fc.assert(
    fc.property(packetArb, (p) => {
      const n = encode(p, null);
      const r = new Ring(n + 10);
      return encode(p, r) === n && r.length === n;
    }),
  );
});

// ------------------------------------------------------------------ fuzz

/** Feeds `input` through a ring of `limit` bytes as a connection would; checks the decoder's promises. */
function feed(input: Uint8Array, limit: number, chunk: number): void {
  const r = new Ring(limit + 16);
  let at = 0;
  while (at < input.length) {
    at += r.write(input, at, Math.min(chunk, input.length - at));
    for (;;) {
      const d = decode(r, limit);
      if (d === null) {
        // Waiting for more: the packet it waits for fits the limit, so nothing past it is held for one packet.
        assert.ok(r.length < limit, 'held ' + r.length + ' bytes waiting, limit ' + limit);
        break;
      }
      if (d.type === 0) {
        assert.ok(d.code === ErrorCode.PROTOCOL || d.code === ErrorCode.TOO_BIG);
        r.clear(); // the connection would be closed; start afresh
        break;
      }
    }
  }
}

test('fuzz: random bytes never throw and never buffer past the limit', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.integer({ min: 8, max: 300 }), fc.integer({ min: 1, max: 64 }), (input, limit, chunk) => {
      feed(input, limit, chunk);
    }),
    { numRuns: 3000 },
  );
});

test('fuzz: mutated valid packets never throw and never buffer past the limit', () => {
  fc.assert(
    fc.property(
      fc.array(packetArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'set', 'insert', 'delete')), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 16, max: 700 }),
      fc.integer({ min: 1, max: 50 }),
      (packets, mutations, limit, chunk) => {
        const parts = packets.map(encodeToBytes);
        let b = Array.from(parts.reduce((acc, x) => Uint8Array.from([...acc, ...x]), new Uint8Array(0)));
        for (const [pos, val, kind] of mutations) {
          const i = pos % (b.length + 1);
          if (kind === 'flip' && i < b.length) b[i] ^= 1 << (val & 7);
          else if (kind === 'set' && i < b.length) b[i] = val;
          else if (kind === 'insert') b.splice(i, 0, val);
          else if (kind === 'delete' && i < b.length) b.splice(i, 1);
        }
        feed(Uint8Array.from(b), limit, chunk);
      },
    ),
    { numRuns: 3000 },
  );
});
