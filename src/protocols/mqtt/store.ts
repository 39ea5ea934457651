/**
 * Keeping the outbox's unacknowledged QoS 1/2 publishes across a restart.
 *
 * A store is an append-only log of small binary entries on some medium, so
 * flash is never rewritten per message: one entry when a message is queued,
 * one when it is acknowledged or dropped, one when a QoS 2 message gets
 * PUBREC; now and then (when the log has grown to several times the outbox)
 * the whole log is replaced by just the live entries. Drivers provide the
 * media (a file on Node, `Storage` on Espruino); `MemoryStore` serves the
 * simulator and tests. The replay and compaction code lives here and is only
 * bundled by apps that pass a store.
 *
 * Entry formats (byte 0 says which):
 *   0, then a whole PUBLISH packet   a message was queued
 *   1, id high, id low               message `id` was acknowledged or dropped
 *   2, id high, id low               QoS 2 message `id` got PUBREC (PUBREL is next)
 */
import type { AppendLog } from '../../core/append-log.js';
import { Ring } from '../../core/ring.js';
import { decode, PacketType } from './codec.js';
import type { Message } from './codec.js';
import { Field } from './outbox.js';
import type { Journal, Outbox } from './outbox.js';

export enum Entry {
  ADD = 0,
  DONE = 1,
  RELEASED = 2,
}

/**
 * The MQTT client's `store` option: it restores the outbox and returns the
 * journal it reports to. `outboxStore(log)` makes one over any append-only log
 * a driver provides; an app without a store bundles none of this code.
 */
export interface OutboxStore {
  attach(outbox: Outbox): Journal;
}

/** The client's store over `log` (a driver's medium: NodeFileStore, EspruinoStore, MemoryStore). */
export function outboxStore(log: AppendLog, compactFactor?: number): OutboxStore {
  return {
    attach: function (outbox: Outbox): Journal {
      return journal(outbox, log, compactFactor);
    },
  };
}

/**
 * Replays `store`'s log into `outbox` (every message not done comes back,
 * marked DUP: it may have been sent) and returns the journal that keeps the
 * log from then on, compacting it when it reaches `compactFactor` (default:
 * the store's, else 4) times the outbox's size. A failing store is counted in `outbox.journalErrors`
 * and the outbox goes on in RAM.
 */
export function journal(outbox: Outbox, store: AppendLog, compactFactor?: number): Journal {
  const compactAt = (compactFactor || store.compactFactor || 4) * outbox.capacity;
  const entry = new Uint8Array(3);
  let logBytes = 0;

  const find = function (id: number): number {
    return outbox.scan(function (at) {
      return !outbox.info(at, Field.DONE) && outbox.info(at, Field.ID) === id;
    });
  };
  const compact = function (): void {
    let bytes = 0;
    const buf = outbox.buf;
    store.rewrite(function (append) {
      outbox.scan(function (at) {
        if (outbox.info(at, Field.DONE) || !outbox.info(at, Field.QOS)) return false;
        const state = buf[at];
        const size = outbox.info(at, Field.SIZE);
        buf[at] = Entry.ADD; // the record is its own ADD entry once its state byte reads 0
        try {
          append(buf.subarray(at, at + size));
        } finally {
          buf[at] = state;
        }
        bytes += size;
        if (outbox.info(at, Field.RELEASED)) bytes += put(Entry.RELEASED, outbox.info(at, Field.ID), append);
        return false;
      });
    });
    logBytes = bytes;
  };
  const put = function (kind: Entry, id: number, append: (bytes: Uint8Array) => void): number {
    entry[0] = kind;
    entry[1] = id >> 8;
    entry[2] = id & 255;
    append(entry);
    return 3;
  };
  const log = function (bytes: Uint8Array | null, kind: Entry, id: number): void {
    try {
      if (bytes) {
        store.append(bytes);
        logBytes += bytes.length;
      } else {
        logBytes += put(kind, id, function (e) {
          store.append(e);
        });
      }
      if (logBytes >= compactAt) compact();
    } catch (e) {
      outbox.journalErrors++;
    }
  };

  try {
    store.load(function (e: Uint8Array) {
      logBytes += e.length;
      if (e[0] === Entry.ADD) {
        const r = new Ring(e.subarray(1));
        r.commit(r.capacity); // the entry's bytes are the ring's contents
        const p = decode(r, r.capacity);
        if (!p || p.type !== PacketType.PUBLISH) return; // a torn or foreign entry: skip it
        const m = p as Message;
        m.dup = m.qos > 0;
        outbox.add(m);
        if (m.id) outbox.restoredId = m.id; // identifiers were given in order: the last one is the newest
        return;
      }
      const at = find((e[1] << 8) | e[2]);
      if (at < 0) return;
      if (e[0] === Entry.DONE) outbox.finish(at);
      else if (e[0] === Entry.RELEASED) outbox.release(at);
    });
    if (logBytes >= compactAt) compact();
  } catch (e) {
    outbox.journalErrors++;
  }
  return {
    added: function (record: Uint8Array) {
      log(record, Entry.ADD, 0);
    },
    done: function (id: number) {
      log(null, Entry.DONE, id);
    },
    released: function (id: number) {
      log(null, Entry.RELEASED, id);
    },
  };
}

/** A store in RAM: survives tearing down a manager and client (a simulated restart), not a real one. */
export class MemoryStore implements AppendLog {
  /** The log, oldest first; its size is bounded by compaction. */
  entries: Uint8Array[] = [];
  /** Bytes appended over the store's life (what flash wear would be). */
  bytesWritten = 0;
  /** Compact at this many times the outbox's size (0: the journal's default, 4). */
  compactFactor = 0;

  load(entry: (bytes: Uint8Array) => void): void {
    for (let i = 0; i < this.entries.length; i++) entry(this.entries[i]);
  }

  append(bytes: Uint8Array): void {
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    this.entries.push(copy);
    this.bytesWritten += bytes.length;
  }

  rewrite(write: (append: (bytes: Uint8Array) => void) => void): void {
    const old = this.entries;
    this.entries = [];
    const self = this;
    try {
      write(function (bytes: Uint8Array) {
        self.append(bytes);
      });
    } catch (e) {
      this.entries = old; // a failed compaction keeps the old log, like a rename that never happened
      throw e;
    }
  }
}
