import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketType } from '../src/protocols/mqtt/codec.js';
import type { PublishPacket, QoS } from '../src/protocols/mqtt/codec.js';
import { Field, Outbox } from '../src/protocols/mqtt/outbox.js';
import { DropReason } from '../src/protocols/mqtt/events.js';
import type { OutboxOptions } from '../src/protocols/mqtt/outbox.js';
import { journal, MemoryStore } from '../src/protocols/mqtt/store.js';
import type { AppendLog } from '../src/core/append-log.js';

function pub(topic: string, size: number, qos: QoS, id: number): PublishPacket {
  return { type: PacketType.PUBLISH, topic: topic, payload: new Uint8Array(size).fill(topic.length), qos: qos, retain: false, dup: false, id: qos ? id : 0 };
}

interface Drop {
  reason: DropReason;
  topic: string;
  id: number;
}

function outbox(o: OutboxOptions & { store?: AppendLog; compactFactor?: number }): { ob: Outbox; drops: Drop[] } {
  const ob = new Outbox(o);
  if (o.store) ob.journal = journal(ob, o.store, o.compactFactor);
  const drops: Drop[] = [];
  ob.sink = { report: (_ev, d) => drops.push({ reason: d.reason, topic: d.topic, id: d.id }) };
  return { ob, drops };
}

/** Topics of the live records, oldest first. */
function live(ob: Outbox): string[] {
  const out: string[] = [];
  ob.scan((at) => {
    if (!(ob.buf[at] & 1)) out.push(ob.topic(at));
    return false;
  });
  return out;
}

/** Sends (and completes) everything in order; returns the topics. */
function drain(ob: Outbox): string[] {
  const out: string[] = [];
  for (let at = ob.next(); at >= 0; at = ob.next()) {
    out.push(ob.topic(at));
    ob.advance();
    ob.finish(at);
  }
  return out;
}

test('records go out in order through many wrap-arounds, and the space comes back', () => {
  const { ob, drops } = outbox({ bytes: 100, count: 100 });
  let n = 0;
  const sent: string[] = [];
  for (let round = 0; round < 200; round++) {
    const batch = 1 + (round % 4);
    for (let k = 0; k < batch; k++) assert.ok(ob.add(pub('t' + n++, (round * 7 + k * 3) % 11, 0, 0)) >= 0);
    sent.push(...drain(ob));
    assert.equal(ob.used, 0);
    assert.equal(ob.count, 0);
  }
  assert.deepEqual(sent, Array.from({ length: n }, (_, i) => 't' + i));
  assert.equal(drops.length, 0);
  assert.ok(ob.mostUsed <= 100);
});

test('full by count: drop-oldest drops the oldest, each drop counted and reported', () => {
  const { ob, drops } = outbox({ bytes: 1000, count: 3 });
  for (let i = 0; i < 5; i++) ob.add(pub('m' + i, 1, 1, i + 1));
  assert.deepEqual(live(ob), ['m2', 'm3', 'm4']);
  assert.deepEqual(drops, [
    { reason: DropReason.OLDEST, topic: 'm0', id: 1 },
    { reason: DropReason.OLDEST, topic: 'm1', id: 2 },
  ]);
  assert.equal(ob.dropCount, 2);
});

test('full by bytes: drop-oldest frees as many as the new record needs', () => {
  const { ob, drops } = outbox({ bytes: 60, count: 100 });
  for (let i = 0; i < 4; i++) ob.add(pub('m' + i, 7, 0, 0)); // 1 + 2 + 2+2 + 7 = 14 bytes each
  assert.equal(ob.used, 56);
  ob.add(pub('big', 30, 0, 0)); // 38 bytes: the three oldest must go
  assert.deepEqual(live(ob), ['m3', 'big']);
  assert.deepEqual(
    drops.map((d) => d.topic),
    ['m0', 'm1', 'm2'],
  );
});

test('refuse-new keeps the oldest and refuses (and counts) the new', () => {
  const { ob, drops } = outbox({ bytes: 1000, count: 2, refuseNew: true });
  assert.ok(ob.add(pub('a', 1, 1, 1)) >= 0);
  assert.ok(ob.add(pub('b', 1, 1, 2)) >= 0);
  assert.equal(ob.add(pub('c', 1, 1, 3)), -2);
  assert.deepEqual(live(ob), ['a', 'b']);
  assert.deepEqual(drops, [{ reason: DropReason.REFUSED, topic: 'c', id: 3 }]);
});

test('a record larger than the whole outbox is refused as too big', () => {
  const { ob, drops } = outbox({ bytes: 50, count: 10 });
  ob.add(pub('keep', 1, 0, 0));
  assert.equal(ob.add(pub('huge', 100, 0, 0)), -2);
  assert.deepEqual(live(ob), ['keep'], 'nothing else was dropped for it');
  assert.equal(drops[0].reason, DropReason.TOO_BIG);
  assert.equal(ob.add(pub('a/+', 1, 0, 0)), -1, 'invalid: not a drop');
  assert.equal(ob.dropCount, 1);
});

test('latest-per-topic replaces unsent values, never ones in flight', () => {
  const { ob, drops } = outbox({ bytes: 1000, count: 10, latestPerTopic: true });
  ob.add(pub('temp', 1, 1, 1));
  const first = ob.next();
  ob.advance(); // temp#1 is in flight now
  ob.add(pub('hum', 1, 1, 2));
  ob.add(pub('temp', 2, 1, 3));
  ob.add(pub('temp', 3, 1, 4));
  ob.add(pub('hum', 4, 1, 5));
  assert.deepEqual(live(ob), ['temp', 'temp', 'hum']);
  assert.deepEqual(
    drops.map((d) => [d.reason, d.id]),
    [
      [DropReason.REPLACED, 3],
      [DropReason.REPLACED, 2],
    ],
  );
  ob.finish(first);
  const ids: number[] = [];
  for (let at = ob.next(); at >= 0; at = ob.next()) {
    ids.push(ob.info(at, Field.ID));
    ob.advance();
  }
  assert.deepEqual(ids, [4, 5]);
});

test('acknowledged out of order: tombstones wait for the head, bytes come back when it passes', () => {
  const { ob } = outbox({ bytes: 200, count: 10 });
  const at: number[] = [];
  for (let i = 0; i < 4; i++) at.push(ob.add(pub('m' + i, 5, 1, i + 1)));
  for (let i = 0; i < 4; i++) ob.advance();
  const full = ob.used;
  ob.finish(at[2]);
  ob.finish(at[1]);
  assert.equal(ob.used, full, 'the head (m0) is still live');
  assert.equal(ob.live, 2);
  ob.finish(at[0]);
  assert.deepEqual(live(ob), ['m3']);
  assert.equal(ob.count, 1);
  assert.ok(ob.used < full / 3);
});

test('rewind: after a reconnect everything unfinished is sent again, in order, DUP set', () => {
  const { ob } = outbox({ bytes: 300, count: 10 });
  for (let i = 0; i < 3; i++) ob.add(pub('m' + i, 2, 1, i + 1));
  for (let at = ob.next(); at >= 0; at = ob.next()) {
    ob.advance();
    ob.setDup(at);
  }
  ob.finish(ob.scan((x) => ob.info(x, Field.ID) === 2));
  ob.rewind();
  const again: [number, boolean][] = [];
  for (let at = ob.next(); at >= 0; at = ob.next()) {
    again.push([ob.info(at, Field.ID), (ob.buf[at + 1] & 8) !== 0]);
    ob.advance();
  }
  assert.deepEqual(again, [
    [1, true],
    [3, true],
  ]);
});

test('model check: random adds, sends, acks, drops and reconnects keep order and accounting', () => {
  type Op = { kind: 'add'; size: number; qos: QoS } | { kind: 'send' } | { kind: 'ack'; pick: number } | { kind: 'rewind' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), size: fc.integer({ min: 0, max: 40 }), qos: fc.constantFrom<QoS>(0, 1, 2) }) },
    { weight: 3, arbitrary: fc.constant({ kind: 'send' as const }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('ack' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'rewind' as const }) },
  );
  fc.assert(
    fc.property(fc.integer({ min: 40, max: 400 }), fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 150 }), (bytes, count, ops) => {
      const { ob, drops } = outbox({ bytes, count });
      // The model: live messages oldest first; `sent` ones are in flight (at is their record).
      const model: { topic: string; qos: QoS; sent: boolean; at: number }[] = [];
      let seq = 0;
      for (const o of ops) {
        if (o.kind === 'add') {
          const topic = 'm' + seq++;
          const before = drops.length;
          const at = ob.add(pub(topic, o.size, o.qos, seq));
          for (let i = before; i < drops.length; i++) {
            if (drops[i].reason === DropReason.TOO_BIG) continue;
            assert.equal(drops[i].topic, model[0].topic, 'drops take the oldest');
            model.shift();
          }
          if (at >= 0) model.push({ topic, qos: o.qos, sent: false, at });
          else assert.equal(drops[drops.length - 1].reason, DropReason.TOO_BIG);
        } else if (o.kind === 'send') {
          const at = ob.next();
          const want = model.find((m) => !m.sent);
          if (!want) {
            assert.equal(at, -1);
            continue;
          }
          assert.equal(ob.topic(at), want.topic, 'sent in order');
          ob.advance();
          if (want.qos === 0) {
            ob.finish(at);
            model.splice(model.indexOf(want), 1);
          } else {
            want.sent = true;
            want.at = at;
          }
        } else if (o.kind === 'ack') {
          const flying = model.filter((m) => m.sent);
          if (flying.length === 0) continue;
          const m = flying[o.pick % flying.length];
          ob.finish(m.at);
          model.splice(model.indexOf(m), 1);
        } else {
          ob.rewind();
          for (const m of model) m.sent = false;
        }
        assert.deepEqual(live(ob), model.map((m) => m.topic));
        assert.equal(ob.live, model.length);
        assert.ok(ob.live <= count);
        assert.ok(ob.used <= bytes && ob.used >= 0);
        assert.ok(ob.mostUsed <= bytes);
      }
      // Everything left drains in order and gives every byte back.
      ob.rewind();
      for (let at = ob.next(); at >= 0; at = ob.next()) {
        ob.advance();
        ob.finish(at);
      }
      return ob.used === 0 && ob.count === 0 && ob.live === 0;
    }),
    { numRuns: 500 },
  );
});

test('store: a new outbox on the same store gets back every unfinished QoS 1/2 message, marked DUP, PUBREC state kept', () => {
  const store = new MemoryStore();
  const a = outbox({ bytes: 400, count: 20, store }).ob;
  const at: number[] = [];
  for (let i = 0; i < 6; i++) at.push(a.add(pub('m' + i, 3, (i % 2 ? 2 : 1) as QoS, 100 + i)));
  a.add(pub('zero', 1, 0, 0)); // QoS 0 is not persisted
  a.finish(at[0]);
  a.finish(at[3]);
  a.release(at[1]);
  const b = outbox({ bytes: 400, count: 20, store }).ob;
  assert.deepEqual(live(b), ['m1', 'm2', 'm4', 'm5']);
  const restored: [number, boolean, boolean][] = [];
  b.scan((x) => {
    if (!(b.buf[x] & 1)) restored.push([b.info(x, Field.ID), (b.buf[x + 1] & 8) !== 0, b.info(x, Field.RELEASED) === 1]);
    return false;
  });
  assert.deepEqual(restored, [
    [101, true, true],
    [102, true, false],
    [104, true, false],
    [105, true, false],
  ]);
  assert.equal(b.restoredId, 105);
});

test('store: the log is compacted, so it stays bounded however many messages pass', () => {
  const store = new MemoryStore();
  const { ob } = outbox({ bytes: 200, count: 50, store, compactFactor: 2 });
  for (let i = 0; i < 2000; i++) {
    const at = ob.add(pub('m' + i, 10, 1, (i % 65535) + 1));
    if (i % 3 !== 0) {
      ob.advance();
      ob.finish(at);
    }
    const logBytes = store.entries.reduce((n, e) => n + e.length, 0);
    assert.ok(logBytes <= 3 * 200 + 30, 'log bytes ' + logBytes);
  }
  assert.ok(store.bytesWritten > 20000, 'appended all along');
  const again = outbox({ bytes: 200, count: 50, store }).ob;
  assert.deepEqual(live(again), live(ob));
});

test('store: a failing store is counted and the outbox carries on in RAM', () => {
  const broken: AppendLog = {
    load() {},
    append() {
      throw new Error('flash full');
    },
    rewrite() {
      throw new Error('flash full');
    },
  };
  const { ob } = outbox({ bytes: 200, count: 10, store: broken });
  assert.ok(ob.add(pub('a', 1, 1, 1)) >= 0);
  assert.equal(ob.journalErrors, 1);
  assert.deepEqual(live(ob), ['a']);
});
