/**
 * Where the outbox keeps unacknowledged QoS 1/2 publishes across a restart.
 *
 * The store is an append-only log of small binary entries, so flash is never
 * rewritten per message: the outbox appends one entry when a message is
 * queued and one when it is acknowledged or dropped, and now and then (when
 * the log has grown to several times what is live) replaces the whole log
 * with just the live entries. Drivers provide the real stores (a file on
 * Node, `Storage` on Espruino); `MemoryStore` serves the simulator and tests.
 *
 * Entry formats (byte 0 says which):
 *   0, then a whole PUBLISH packet   a message was queued
 *   1, id high, id low               message `id` was acknowledged or dropped
 *   2, id high, id low               QoS 2 message `id` got PUBREC (PUBREL is next)
 */
export const enum Entry {
  ADD = 0,
  DONE = 1,
  RELEASED = 2,
}

export interface OutboxStore {
  /** Calls `entry` with every saved entry, oldest first. The bytes are only valid during the call. */
  load(entry: (bytes: Uint8Array) => void): void;
  /** Appends one entry; it must survive a restart once this returns. `bytes` is only valid during the call. */
  append(bytes: Uint8Array): void;
  /** Replaces the whole log with the entries `write` appends (compaction); atomic where the medium allows. */
  rewrite(write: (append: (bytes: Uint8Array) => void) => void): void;
}

/** A store in RAM: survives tearing down a manager and client (a simulated restart), not a real one. */
export class MemoryStore implements OutboxStore {
  /** The log, oldest first; its size is bounded by the outbox's compaction. */
  entries: Uint8Array[] = [];
  /** Bytes appended over the store's life (what flash wear would be). */
  bytesWritten = 0;

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
