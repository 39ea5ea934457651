/** The in-place ring operations the HTTP and WebSocket codecs share, against a plain array model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ring } from '../src/core/ring.js';
import { bytesText, ringMove, ringText, ringView } from '../src/core/bytes.js';

/** A ring of `cap` bytes holding `held`, with its start moved to `start` (so the contents may wrap). */
function ringWith(cap: number, start: number, held: number[]): Ring {
  const r = new Ring(cap);
  const pad = new Uint8Array(start % cap);
  r.write(pad);
  r.discard(pad.length);
  r.write(Uint8Array.from(held));
  return r;
}

const arb = fc
  .integer({ min: 1, max: 40 })
  .chain((cap) => fc.record({ cap: fc.constant(cap), start: fc.nat({ max: cap - 1 }), held: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: cap }) }));

test('ringText and ringView read the held bytes, whether or not they wrap', () => {
  fc.assert(
    fc.property(arb, fc.nat(), ({ cap, start, held }, k) => {
      const r = ringWith(cap, start, held);
      const len = held.length ? k % (held.length + 1) : 0;
      assert.equal(ringText(r, 0, len), String.fromCharCode(...held.slice(0, len)));
      const v = ringView(r, len);
      assert.deepEqual([...v], held.slice(0, len));
      assert.equal(r.length, held.length);
      assert.equal(r.toBinaryString(), String.fromCharCode(...held), 'rotation keeps every held byte in order');
    }),
  );
});

test('ringMove copies held bytes to an earlier offset, overlapping or not, and leaves the rest', () => {
  fc.assert(
    fc.property(arb, fc.nat(), fc.nat(), fc.nat(), ({ cap, start, held }, a, b, c) => {
      const r = ringWith(cap, start, held);
      const from = held.length ? a % (held.length + 1) : 0;
      const to = b % (from + 1);
      const n = c % (held.length - from + 1);
      ringMove(r, to, from, n);
      const want = held.slice(0, to).concat(held.slice(from, from + n), held.slice(to + n));
      assert.equal(r.toBinaryString(), String.fromCharCode(...want));
      assert.equal(r.length, held.length);
    }),
  );
});

test('bytesText handles more than 256 bytes (Espruino apply limit) in pieces', () => {
  const b = new Uint8Array(1000).map((_, i) => i & 255);
  assert.equal(bytesText(b, 3, 1000), Buffer.from(b.subarray(3)).toString('latin1'));
});
