/** Ring: unit cases and fast-check properties against a plain array model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ring } from '../src/core/ring.js';

test('wraps around and keeps FIFO order', () => {
  const r = new Ring(8);
  assert.equal(r.write(new Uint8Array([1, 2, 3, 4, 5, 6])), 6);
  assert.equal(r.discard(4), 4);
  assert.equal(r.write(new Uint8Array([7, 8, 9, 10, 11, 12])), 6, 'wraps');
  assert.equal(r.write(new Uint8Array([13])), 0, 'full: nothing more goes in');
  const out = new Uint8Array(8);
  assert.equal(r.read(out), 8);
  assert.deepEqual([...out], [5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(r.length, 0);
});

test('commit of a negative count gives back the newest bytes, across the wrap', () => {
  const r = new Ring(8);
  r.writeString('xxxxxx');
  r.discard(5);
  r.writeString('abcdefg'); // x a b | c d e f g  (wraps after 3)
  assert.equal(r.commit(-3), 2, 'it answers where the tail is now');
  assert.equal(r.toBinaryString(), 'xabcd');
  assert.equal(r.commit(0), 2);
  r.writeString('XYZ');
  assert.equal(r.toBinaryString(), 'xabcdXYZ');
});

test('indexOf finds bytes and sequences across the wrap', () => {
  const r = new Ring(8);
  r.writeString('xxxxxx');
  r.discard(5);
  r.writeString('ab\r\n\r\nc'); // x a b | \r \n \r \n c  (wraps after 3)
  assert.equal(r.find('\r\n\r\n'), 3);
  assert.equal(r.find(0x63), 7);
  assert.equal(r.find('\n\r', 4), 4);
  assert.equal(r.find('\n\r', 5), -1);
  assert.equal(r.find('zz'), -1);
  assert.equal(r.find(new Uint8Array([0x0a, 0x63])), 6);
});

test('never allocates: the storage is the one given at construction', () => {
  const storage = new Uint8Array(16);
  const r = new Ring(storage.subarray(4, 12));
  r.writeString('hello world');
  assert.equal(r.length, 8);
  assert.equal(r.bytes.buffer, storage.buffer);
  assert.equal(String.fromCharCode(...storage.subarray(4, 12)), 'hello wo');
});

type Op =
  | { kind: 'write'; bytes: number[] }
  | { kind: 'writeString'; text: string }
  | { kind: 'read'; n: number }
  | { kind: 'discard'; n: number }
  | { kind: 'indexOf'; needle: number[]; from: number }
  | { kind: 'peek'; at: number }
  | { kind: 'copyTo'; offset: number; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), bytes: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 20 }) }),
  fc.record({ kind: fc.constant('writeString' as const), text: fc.string({ maxLength: 10, unit: fc.constantFrom('\x00', '\x01', '\x02', 'a') }) }),
  fc.record({ kind: fc.constant('read' as const), n: fc.nat(20) }),
  fc.record({ kind: fc.constant('discard' as const), n: fc.integer({ min: -2, max: 20 }) }),
  fc.record({ kind: fc.constant('indexOf' as const), needle: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), from: fc.nat(16) }),
  fc.record({ kind: fc.constant('peek' as const), at: fc.integer({ min: -1, max: 20 }) }),
  fc.record({ kind: fc.constant('copyTo' as const), offset: fc.nat(20), n: fc.nat(20) }),
);

function modelIndexOf(model: number[], needle: number[], from: number): number {
  for (let i = from; i + needle.length <= model.length; i++) {
    let ok = true;
    for (let k = 0; k < needle.length; k++) if (model[i + k] !== needle[k]) ok = false;
    if (ok) return i;
  }
  return -1;
}

test('property: every operation matches an array model, wrap-around included', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 17 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
      const r = new Ring(capacity);
      const storage = r.bytes;
      let model: number[] = [];
      for (const o of ops) {
        switch (o.kind) {
          case 'write': {
            const n = r.write(new Uint8Array(o.bytes));
            const fit = Math.min(o.bytes.length, capacity - model.length);
            assert.equal(n, fit);
            model = model.concat(o.bytes.slice(0, fit));
            break;
          }
          case 'writeString': {
            const n = r.writeString(o.text);
            const fit = Math.min(o.text.length, capacity - model.length);
            assert.equal(n, fit);
            for (let i = 0; i < fit; i++) model.push(o.text.charCodeAt(i));
            break;
          }
          case 'read': {
            const out = new Uint8Array(o.n);
            const n = r.read(out);
            assert.deepEqual([...out.subarray(0, n)], model.slice(0, n));
            assert.equal(n, Math.min(o.n, model.length));
            model = model.slice(n);
            break;
          }
          case 'discard': {
            const n = r.discard(o.n);
            assert.equal(n, Math.max(0, Math.min(o.n, model.length)));
            model = model.slice(n);
            break;
          }
          case 'indexOf': {
            const want = o.needle.length === 1 ? modelIndexOf(model, o.needle, o.from) : modelIndexOf(model, o.needle, o.from);
            assert.equal(r.find(o.needle.length === 1 ? o.needle[0] : new Uint8Array(o.needle), o.from), want);
            assert.equal(r.find(String.fromCharCode(...o.needle), o.from), want);
            break;
          }
          case 'peek':
            assert.equal(r.peek(o.at), o.at >= 0 && o.at < model.length ? model[o.at] : -1);
            break;
          case 'copyTo': {
            const out = new Uint8Array(o.n);
            const n = r.copyTo(out, 0, o.offset, o.n);
            assert.deepEqual([...out.subarray(0, n)], model.slice(o.offset, o.offset + o.n));
            break;
          }
        }
        assert.equal(r.length, model.length);
        assert.equal(r.free, capacity - model.length);
        assert.equal(r.bytes, storage, 'same storage, never reallocated');
        const run = r.contiguous();
        assert.deepEqual([...run], model.slice(0, run.length));
        assert.ok(run.length > 0 || model.length === 0);
      }
    }),
    { numRuns: 400 },
  );
});
