/** The one rule every driver follows when it hands a queued datagram to the manager. */
import type { Address } from './address.js';
import type { Ring } from './ring.js';

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
