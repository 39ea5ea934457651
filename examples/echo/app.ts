/** The echo app: whatever a client sends comes back. The same code runs on every driver. */
import { Ev } from '../../src/core/events.js';
import type { Connection } from '../../src/core/connection.js';
import type { Manager } from '../../src/core/manager.js';

export function echoHandler(c: Connection, ev: number, data: any): void {
  if (ev === Ev.RECV) {
    // Move what fits into the send ring; what does not stays in recv for the next SEND.
    moveAcross(c);
  } else if (ev === Ev.SEND) {
    moveAcross(c);
  }
}

function moveAcross(c: Connection): void {
  const recv = c.recv;
  const out = c.unsent;
  while (recv.length > 0 && out.free > 0) {
    const run = recv.contiguousLength();
    const n = out.write(recv.bytes, recv.start, run < out.free ? run : out.free);
    recv.discard(n);
  }
}

/** Listens for echo clients on `url` (default port 8000). */
export function startEcho(mgr: Manager, url?: string): Connection | null {
  return mgr.listen(url || 'tcp://0.0.0.0:8000', echoHandler);
}
