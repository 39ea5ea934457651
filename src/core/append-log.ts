/**
 * An append-only log of small binary entries on some medium (a file on Node,
 * flash through `Storage` on Espruino, RAM in tests): what a protocol that
 * keeps state across a restart writes to. Drivers provide the media; the
 * protocol owns what the entries mean (the MQTT outbox's journal: src/protocols/mqtt/store.ts).
 */
export interface AppendLog {
  /** Calls `entry` with every saved entry, oldest first. The bytes are only valid during the call. */
  load(entry: (bytes: Uint8Array) => void): void;
  /** Appends one entry; it must survive a restart once this returns. `bytes` is only valid during the call. */
  append(bytes: Uint8Array): void;
  /** Replaces the whole log with the entries `write` appends (compaction); atomic where the medium allows. */
  rewrite(write: (append: (bytes: Uint8Array) => void) => void): void;
  /** Compact when the log reaches this many times what it keeps (the user of the log decides the default). */
  readonly compactFactor?: number;
}
