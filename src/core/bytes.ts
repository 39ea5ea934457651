/**
 * Small in-place operations on rings and byte arrays that the HTTP and
 * WebSocket codecs share; they live beside Ring so that neither protocol
 * imports the other's internals. None of them allocates a byte buffer:
 * messages stay in the connection's receive ring, the only buffer there is.
 */
import type { Ring } from './ring.js';

/** Espruino's `fromCharCode.apply` takes at most 256 arguments. */
const APPLY_MAX = 256;

/** Bytes `bytes[from, to)` as a binary string (one char per byte). */
export function bytesText(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let at = from; at < to; at += APPLY_MAX) {
    const end = at + APPLY_MAX < to ? at + APPLY_MAX : to;
    s += String.fromCharCode.apply(null, bytes.subarray(at, end) as any);
  }
  return s;
}

/** `len` held bytes of `ring` from `offset`, as a binary string. */
export function ringText(ring: Ring, offset: number, len: number): string {
  let i = ring.start + offset;
  if (i >= ring.capacity) i -= ring.capacity;
  const first = ring.capacity - i;
  if (len <= first) return bytesText(ring.bytes, i, i + len);
  return bytesText(ring.bytes, i, ring.capacity) + bytesText(ring.bytes, 0, len - first);
}

function reverse(bytes: Uint8Array, from: number, to: number): void {
  for (let a = from, b = to - 1; a < b; a++, b--) {
    const t = bytes[a];
    bytes[a] = bytes[b];
    bytes[b] = t;
  }
}

/**
 * A view of the first `len` held bytes. When they wrap around the end of the
 * ring's storage the ring is rotated in place first (three reversals, no
 * scratch buffer), so the view is always one contiguous run.
 */
export function ringView(ring: Ring, len: number): Uint8Array {
  if (ring.start + len > ring.capacity) {
    const bytes = ring.bytes;
    const cap = ring.capacity;
    const s = ring.start;
    reverse(bytes, 0, s);
    reverse(bytes, s, cap);
    reverse(bytes, 0, cap);
    ring.start = 0;
  }
  return ring.bytes.subarray(ring.start, ring.start + len);
}

/**
 * Copies `n` held bytes at offset `from` to the earlier offset `to`, first
 * byte first (the two runs may overlap), and leaves the rest as it was.
 * Codecs close a gap of framing bytes this way: the payload that follows a
 * gap moves up over it, once, and what is held before the gap stays put.
 */
export function ringMove(ring: Ring, to: number, from: number, n: number): void {
  const bytes = ring.bytes;
  const cap = ring.capacity;
  let src = ring.start + from;
  if (src >= cap) src -= cap;
  let dst = ring.start + to;
  if (dst >= cap) dst -= cap;
  for (; n > 0; n--) {
    bytes[dst] = bytes[src];
    if (++src === cap) src = 0;
    if (++dst === cap) dst = 0;
  }
}

/** Index in the ring's storage of the held byte at `offset`. */
export function ringIndex(ring: Ring, offset: number): number {
  const i = ring.start + offset;
  return i >= ring.capacity ? i - ring.capacity : i;
}
