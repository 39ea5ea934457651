/** The session's state machines on a fake connection: QoS 2 receive bookkeeping, the in-flight window, packet identifiers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ring } from '../src/core/ring.js';
import type { Connection } from '../src/core/connection.js';
import { decode, encode, PacketType } from '../src/protocols/mqtt/codec.js';
import type { Decoded, Message, Packet, QoS } from '../src/protocols/mqtt/codec.js';
import { MqttEv } from '../src/protocols/mqtt/events.js';
import { Outbox } from '../src/protocols/mqtt/outbox.js';
import { DropReason } from '../src/protocols/mqtt/events.js';
import { Session } from '../src/protocols/mqtt/session.js';

/** Just enough of a Connection for the session: a send ring and a clock. */
function fakeConnection(sendBytes: number) {
  const unsent = new Ring(sendBytes);
  return {
    unsent,
    canSend: (n: number) => n <= unsent.free,
    send: (d?: string) => d === undefined, // the session only ever asks for a poll: it writes into `unsent` itself
    now: () => 0,
  } as unknown as Connection;
}

/** Puts `c` under the session as its open connection. */
function attach(s: Session, c: Connection): Connection {
  s.conn = c;
  s.open = true;
  return c;
}

function sent(c: Connection): Decoded[] {
  const out: Decoded[] = [];
  for (let p = decode(c.unsent, 1 << 20); p; p = decode(c.unsent, 1 << 20)) out.push(p);
  return out;
}

function session(maxInflight: number, qos2Ranges: number) {
  const delivered: number[] = [];
  const s = new Session(new Outbox({ bytes: 4096, count: 100 }), maxInflight, qos2Ranges, (_s, ev, data) => {
    if (ev === MqttEv.MESSAGE) delivered.push((data as Message).id);
  });
  return { s, delivered };
}

const connack = (sessionPresent: boolean): Packet => ({ type: PacketType.CONNACK, sessionPresent, returnCode: 0 });

const publish2 = (id: number): Message => ({ type: PacketType.PUBLISH, topic: 't', payload: new Uint8Array(0), qos: 2, retain: false, dup: false, id });

test('QoS 2 receive: a resent PUBLISH is delivered once until its PUBREL, matching a plain set (model check)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 60 })), { maxLength: 300 }), (ops) => {
      const { s, delivered } = session(4, 64);
      const c = attach(s, fakeConnection(1 << 16));
      const model = new Set<number>();
      for (const [isPublish, id] of ops) {
        const before = delivered.length;
        if (isPublish) {
          s.handle(publish2(id));
          assert.equal(delivered.length - before, model.has(id) ? 0 : 1, 'PUBLISH ' + id);
          model.add(id);
        } else {
          s.handle({ type: PacketType.PUBREL, id });
          model.delete(id);
        }
        const acks = sent(c);
        assert.equal(acks.length, 1);
        assert.equal(acks[0].type, isPublish ? PacketType.PUBREC : PacketType.PUBCOMP);
      }
    }),
    { numRuns: 300 },
  );
});

test('QoS 2 receive: hundreds of in-sequence identifiers awaiting PUBREL take one range', () => {
  const { s, delivered } = session(4, 2);
  attach(s, fakeConnection(1 << 16));
  for (let id = 100; id < 700; id++) s.handle(publish2(id));
  assert.equal(s.rxRanges, 1);
  for (let id = 100; id < 700; id++) s.handle(publish2(id)); // all resent: none delivered again
  assert.equal(delivered.length, 600);
  for (let id = 100; id < 700; id++) s.handle({ type: PacketType.PUBREL, id });
  assert.equal(s.rxRanges, 0);
});

test('QoS 2 receive: a gap closed by a resend merges the ranges again', () => {
  const { s } = session(4, 8);
  attach(s, fakeConnection(1 << 16));
  for (let id = 1; id <= 10; id++) s.handle(publish2(id));
  s.handle({ type: PacketType.PUBREL, id: 5 });
  s.handle({ type: PacketType.PUBREL, id: 8 });
  assert.equal(s.rxRanges, 3);
  s.handle(publish2(5));
  s.handle(publish2(8));
  assert.equal(s.rxRanges, 1);
});

test('QoS 2 receive: when ranges overflow, an identifier is forgotten, never invented (no loss)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 200 })), { maxLength: 300 }), (ops) => {
      const { s, delivered } = session(4, 2);
      const c = attach(s, fakeConnection(1 << 16));
      const model = new Set<number>();
      for (const [isPublish, id] of ops) {
        const before = delivered.length;
        if (isPublish) {
          s.handle(publish2(id));
          if (!model.has(id)) assert.equal(delivered.length - before, 1, 'a new message is always delivered');
          model.add(id);
        } else {
          s.handle({ type: PacketType.PUBREL, id });
          model.delete(id);
        }
        sent(c);
      }
    }),
    { numRuns: 300 },
  );
});

test('publishing: the in-flight window bounds what is sent, acks let the rest through in order', () => {
  const { s } = session(3, 8);
  const c = attach(s, fakeConnection(1 << 16));
  s.handle(connack(false));
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(s.publish('w', 'x' + i, 1, false));
  assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  let out = sent(c);
  assert.deepEqual(out.map((p) => (p as Message).id), [1, 2, 3]);
  assert.equal(s.flying, 3);
  s.handle({ type: PacketType.PUBACK, id: 2 });
  s.handle({ type: PacketType.PUBACK, id: 1 });
  out = sent(c);
  assert.deepEqual(out.map((p) => (p as Message).id), [4, 5]);
  s.handle({ type: PacketType.PUBACK, id: 99 }); // unknown: ignored
  s.handle({ type: PacketType.PUBCOMP, id: 3 }); // wrong ack for QoS 1: ignored
  assert.equal(s.flying, 3);
  assert.deepEqual(sent(c), []);
});

test('publishing QoS 2: PUBREC turns the record into PUBREL, which is what a reconnect resends', () => {
  const { s } = session(4, 8);
  const c = attach(s, fakeConnection(1 << 16));
  s.handle(connack(false));
  s.publish('q2', 'a', 2, false);
  s.publish('q2', 'b', 2, false);
  sent(c);
  s.handle({ type: PacketType.PUBREC, id: 1 });
  assert.deepEqual(sent(c), [{ type: PacketType.PUBREL, id: 1 }]);
  const c2 = attach(s, fakeConnection(1 << 16));
  s.handle(connack(true)); // reconnected, session kept
  const again = sent(c2);
  assert.equal(again.length, 2);
  assert.deepEqual(again[0], { type: PacketType.PUBREL, id: 1 });
  assert.equal(again[1].type, PacketType.PUBLISH);
  assert.equal((again[1] as Message).dup, true);
  assert.equal((again[1] as Message).id, 2);
  s.handle({ type: PacketType.PUBCOMP, id: 1 });
  s.handle({ type: PacketType.PUBREC, id: 2 });
  s.handle({ type: PacketType.PUBCOMP, id: 2 });
  assert.equal(s.outbox.live, 0);
});

test('subscription identifiers never collide with a publish in flight', () => {
  const { s } = session(8, 8);
  const c = attach(s, fakeConnection(1 << 16));
  s.handle(connack(false));
  for (let i = 0; i < 5; i++) s.publish('t', 'x', 1, false);
  s.subscribe('a/#', 1);
  const out = sent(c);
  const pubIds = out.filter((p) => p.type === PacketType.PUBLISH).map((p) => (p as Message).id);
  const sub = out.find((p) => p.type === PacketType.SUBSCRIBE) as { id: number };
  assert.equal(pubIds.indexOf(sub.id), -1);
});

test('one send-ring limit for every QoS: the QoS 0 fast path stops where QoS 1/2 stop, leaving room for an ack', () => {
  const CAP = 256;
  /** What happens to a publish whose packet is `size` bytes, sent on an idle connection: 'sent' or the drop reason. */
  const outcome = (qos: QoS, size: number): string => {
    let dropped = '';
    const s = new Session(new Outbox({ bytes: 4096, count: 100 }), 4, 8, (_s, ev, data) => {
      if (ev === MqttEv.DROPPED) dropped = 'dropped ' + (data as { reason: number }).reason;
    });
    const c = attach(s, fakeConnection(CAP));
    s.handle(connack(false));
    const head = encode({ type: PacketType.PUBLISH, topic: 't', payload: '', qos, retain: false, dup: false, id: 1 }, null);
    const payload = 'x'.repeat(size - head - 1); // one more byte of remaining length (over 127) for these sizes
    assert.equal(encode({ type: PacketType.PUBLISH, topic: 't', payload, qos, retain: false, dup: false, id: 1 }, null), size);
    s.publish('t', payload, qos, false);
    return dropped || (c.unsent.length === size ? 'sent' : 'held ' + c.unsent.length);
  };
  let largest = 0;
  for (let size = CAP - 12; size <= CAP; size++) {
    const q0 = outcome(0, size);
    assert.equal(outcome(1, size), q0, size + ' bytes: QoS 1 and QoS 0 alike');
    assert.equal(outcome(2, size), q0, size + ' bytes: QoS 2 and QoS 0 alike');
    if (q0 === 'sent') largest = size;
    else assert.equal(q0, 'dropped ' + DropReason.TOO_BIG, size + ' bytes');
  }
  assert.equal(largest, CAP - 8, 'a publish leaves 8 bytes of the send ring free, so an ack or PINGREQ fits behind it');
});
