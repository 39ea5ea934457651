/** Recording handlers: what each connection saw, and proof that handlers run only inside poll(). */
import type { Connection, AnyHandler } from '../../src/core/connection.js';
import { Ev } from '../../src/core/events.js';
import type { Manager } from '../../src/core/manager.js';

export const EV_NAMES = ['ERROR', 'ACCEPT', 'CONNECT', 'RECV', 'SEND', 'POLL', 'TIMER', 'CLOSE'];

export interface Entry {
  conn: number;
  ev: string;
  data: unknown;
  at: number;
}

/** Wraps mgr.poll so handlers can check they are inside it. */
export function watchPolls(mgr: Manager): { inside(): boolean; count(): number } {
  const original = mgr.poll.bind(mgr);
  let depth = 0;
  let count = 0;
  mgr.poll = function () {
    depth++;
    count++;
    try {
      original();
    } finally {
      depth--;
    }
  };
  return { inside: () => depth > 0, count: () => count };
}

export class Trace {
  readonly entries: Entry[] = [];
  outsidePoll = 0;
  private readonly watch: { inside(): boolean };

  constructor(readonly mgr: Manager) {
    this.watch = watchPolls(mgr);
  }

  /** A handler that records every event, then calls `then`. */
  handler(then?: AnyHandler): AnyHandler {
    return (c: Connection, ev: number, data: any) => {
      if (!this.watch.inside()) this.outsidePoll++;
      const copy = ev === Ev.ERROR || ev === Ev.ACCEPT ? JSON.parse(JSON.stringify(data)) : data;
      this.entries.push({ conn: c.id, ev: EV_NAMES[ev] || String(ev), data: copy, at: c.now() });
      if (then) then(c, ev, data);
    };
  }

  /** Event names seen by one connection, POLLs left out unless asked. */
  names(conn: number, withPolls?: boolean): string[] {
    return this.entries.filter((e) => e.conn === conn && (withPolls || e.ev !== 'POLL')).map((e) => e.ev);
  }

  of(conn: number, ev: string): Entry[] {
    return this.entries.filter((e) => e.conn === conn && e.ev === ev);
  }

  conns(): number[] {
    const ids: number[] = [];
    for (const e of this.entries) if (ids.indexOf(e.conn) < 0) ids.push(e.conn);
    return ids;
  }
}

export function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** Takes everything in c.recv as a binary string. */
export function drain(c: Connection): string {
  const s = c.recv.toBinaryString();
  c.recv.discard(s.length);
  return s;
}
