/**
 * The contract between the manager and a runtime (Node, Espruino, the simulator).
 *
 * Shaped like ECMA-419 sockets: tiny, and `write` says how much it accepted.
 * Every `*Sink` method is called from a driver callback and must only record
 * what happened and ask for a poll; the manager does the work inside `poll()`.
 */
import type { Address } from './address.js';
import type { ErrorCode } from './events.js';
import type { Ring } from './ring.js';

/** What a driver tells a sink (`sink.notify(what, a, b)`), with the arguments each one takes. */
export enum SinkEvent {
  /** An outbound connect finished: `a` is 0 on success, else an ErrorCode. */
  CONNECTED = 0,
  /** Bytes (or a datagram) wait to be read. */
  READABLE = 1,
  /** The socket can take more bytes after refusing some. */
  WRITABLE = 2,
  /**
   * The socket is gone: `a` is 0 for an orderly close by the peer, else an
   * ErrorCode; `b` says why. For a listener: binding failed or it died.
   */
  CLOSED = 3,
  /**
   * A peer reached a listener: `a` is its socket, `b` its address. Returns the
   * sink for that socket, or null to refuse it (the driver closes it at once).
   */
  ACCEPT = 4,
  /** The listener is bound to port `a` (Node binds a named host asynchronously, so port 0 is known only now). */
  BOUND = 5,
}

/**
 * What a driver reports to, for a socket or a listener: one method with the
 * kind of news as its first argument, so a sink costs one function object on
 * a device instead of one per kind.
 */
export interface Sink {
  notify(what: SinkEvent.ACCEPT, socket: DriverSocket, remote: Address): Sink | null;
  notify(what: SinkEvent.CLOSED, error: ErrorCode, message: string): void;
  notify(what: SinkEvent.CONNECTED, result: ErrorCode): void;
  notify(what: SinkEvent.BOUND, port: number): void;
  notify(what: SinkEvent.READABLE | SinkEvent.WRITABLE): void;
}

export interface DriverSocket {
  /**
   * Stream: moves up to `into.free` held bytes into the ring; returns how many.
   * Datagram: moves one whole datagram, or nothing when it does not fit
   * (returns 0 and leaves it queued); returns -1 for a datagram larger than the
   * ring's capacity, which is dropped.
   */
  readInto(into: Ring): number;
  /**
   * Stream: bytes received and not yet moved into a ring (the manager waits for them after the peer closes): the
   * core's chunk queue keeps it (src/core/chunks.ts). A field, not a method: on the device a method is a function
   * object more.
   */
  readonly heldBytes?: number;
  /**
   * Takes from the front of `from` what the socket accepts now, discarding
   * it there; returns how many payload bytes it took. Stream: any number of
   * bytes (`from.drainTo`). Datagram: whole datagrams, each stored behind its
   * length (`sendDatagrams`), or none.
   */
  write(from: Ring): number;
  /** The peer; for a datagram socket, the sender of the last datagram read. Writes go there. */
  remote: Address;
  /** Closes without waiting; no sink call follows. */
  close(): void;
}

export interface ListenHandle {
  /** The bound port (useful after listening on port 0). */
  port: number;
  close(): void;
}

export interface TlsOptions {
  /** PEM texts; a driver without TLS refuses a TLS connect. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Check the peer's certificate (default true). */
  verify?: boolean;
  servername?: string;
}

/** What a driver's `wake` calls: the manager. */
export interface Poller {
  poll(): void;
}

export interface Driver {
  readonly name: string;
  /**
   * Milliseconds on the driver's clock (virtual in the simulator): any origin, never stepping back or jumping when
   * the wall clock is set (every deadline and timer is kept on it). Wall time is the apps' (an SNTP clock).
   */
  now(): number;
  /** What `wake` polls (the manager: an object, so no closure is made for it); null detaches it. */
  setPoller(poller: Poller | null): void;
  /** Ask for one call of the poller within `ms` (0: as soon as possible). Pending requests merge: the earliest wins. */
  wake(ms: number): void;
  listen(host: string, port: number, sink: Sink, tls: TlsOptions | null): ListenHandle;
  connect(host: string, port: number, sink: Sink, tls: TlsOptions | null): DriverSocket;
  /**
   * A datagram socket bound to `port` (0: any); `remote`, if given, is where
   * writes go until a datagram arrives. Absent when the driver was built
   * without datagrams (a device app that needs none does not carry them).
   */
  udp?(host: string, port: number, remote: Address | null, sink: Sink): DriverSocket;
  /** Whether TLS sockets can be made. */
  readonly hasTls: boolean;
  /** Link state (Wi-Fi); drivers without a link say true. */
  linkUp(): boolean;
  /**
   * Fills `into` with unpredictable bytes from the runtime's best source
   * (Node: crypto; Espruino: the hardware RNG; the simulator: seeded). Used for
   * WebSocket masking keys and handshake nonces. Optional: protocols fall
   * back to Math.random where a driver has none.
   */
  randomBytes?(into: Uint8Array): void;
}
