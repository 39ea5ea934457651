/** The every-split-point harness: an incremental parser must give the same result however its input is cut. */
import assert from 'node:assert/strict';
import type { Ring } from '../../src/core/ring.js';

/**
 * Writes `input` into `ring` in pieces cut at `cuts` (ascending offsets),
 * calling `drain` after every write; false as soon as `drain` returns false
 * (the parser stopped), true once all of it went in.
 */
export function feedPieces(ring: Ring, input: Uint8Array, cuts: number[], drain: () => boolean): boolean {
  let at = 0;
  for (const edge of cuts.concat([input.length])) {
    while (at < edge) {
      const n = ring.write(input, at, edge - at);
      at += n;
      if (!drain()) return false;
      // a parser that cannot go on with a full ring must have said so
      if (n === 0 && ring.free === 0) throw new Error('parser stalled with a full ring');
    }
    if (!drain()) return false;
  }
  return true;
}

/**
 * Runs `parse` on `length` bytes whole, then cut at each single point, then
 * byte by byte, and asserts every run gives what the whole run gave (deep
 * equality); returns that.
 */
export function everySplit<T>(length: number, parse: (cuts: number[]) => T, what = ''): T {
  const whole = parse([]);
  const label = what ? ' of ' + what : '';
  for (let k = 1; k < length; k++) assert.deepEqual(parse([k]), whole, 'split at ' + k + label);
  const ones: number[] = [];
  for (let k = 1; k < length; k++) ones.push(k);
  assert.deepEqual(parse(ones), whole, 'byte by byte' + label);
  return whole;
}
