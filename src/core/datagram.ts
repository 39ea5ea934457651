/**
 * How datagrams cross a ring, for the drivers' datagram sockets: one whole
 * datagram per read into `recv`; in `unsent`, each datagram stored behind its
 * 2-byte length so datagrams never merge.
 */
import type { Address } from './address.js';
import type { Ring } from './ring.js';

/** Bytes in front of each datagram in `unsent`: its length, big-endian. */
export const DATAGRAM_HEADER = 2;

export interface Datagram {
  bytes: Uint8Array;
  from: Address;
}

/**
 * Moves the oldest datagram of `queue` into `into` whole and makes its sender
 * the socket's `remote` (where replies go). Returns its size; 0 when there is
 * none or it does not fit yet (it stays queued); -1 when it can never fit the
 * ring, in which case it is dropped.
 */
export function takeDatagram(queue: Datagram[], into: Ring, socket: { remote: Address }): number {
  const head = queue[0];
  if (!head) return 0;
  if (head.bytes.length > into.capacity) {
    queue.shift();
    return -1;
  }
  if (head.bytes.length > into.free) return 0;
  queue.shift();
  socket.remote = head.from;
  return into.write(head.bytes);
}

/**
 * The oldest datagram queued in `from` as one contiguous view (a wrapped one
 * is copied out first), or null when none is queued. It stays queued: the
 * caller discards `DATAGRAM_HEADER + view.length` once it is sent. A plain
 * loop over this needs no callback (on Espruino each function object costs RAM).
 */
export function nextDatagram(from: Ring): Uint8Array | null {
  if (from.length < DATAGRAM_HEADER) return null;
  const size = (from.peek(0) << 8) | from.peek(1);
  let at = from.start + DATAGRAM_HEADER;
  if (at >= from.capacity) at -= from.capacity;
  if (at + size <= from.capacity) return from.bytes.subarray(at, at + size);
  const view = new Uint8Array(size); // rare: only a datagram that wraps around the ring's end
  from.copyTo(view, 0, DATAGRAM_HEADER, size);
  return view;
}

/**
 * Hands the datagrams queued in `from` to `send`, oldest first (each as
 * nextDatagram gives it), and discards each one `send` took. Stops at the
 * first `send` that returns false (the datagram stays queued). Returns the
 * payload bytes sent. (The Node and simulator drivers; the Espruino one loops
 * over nextDatagram itself.)
 */
export function sendDatagrams(from: Ring, send: (datagram: Uint8Array) => boolean): number {
  let total = 0;
  let view: Uint8Array | null;
  while ((view = nextDatagram(from)) !== null) {
    if (!send(view)) break;
    from.discard(DATAGRAM_HEADER + view.length);
    total += view.length;
  }
  return total;
}
