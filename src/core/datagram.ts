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
 * Hands the datagrams queued in `from` to `send`, oldest first, each as one
 * contiguous view (a wrapped one is copied out first), and discards each one
 * `send` took. Stops at the first `send` that returns false (the datagram
 * stays queued). Returns the payload bytes sent.
 */
export function sendDatagrams(from: Ring, send: (datagram: Uint8Array) => boolean): number {
  let total = 0;
  while (from.length >= DATAGRAM_HEADER) {
    const size = (from.peek(0) << 8) | from.peek(1);
    let at = from.start + DATAGRAM_HEADER;
    if (at >= from.capacity) at -= from.capacity;
    let view: Uint8Array;
    if (at + size <= from.capacity) {
      view = from.bytes.subarray(at, at + size);
    } else {
      view = new Uint8Array(size); // rare: only a datagram that wraps around the ring's end
      from.copyTo(view, 0, DATAGRAM_HEADER, size);
    }
    if (!send(view)) break;
    from.discard(DATAGRAM_HEADER + size);
    total += size;
  }
  return total;
}
