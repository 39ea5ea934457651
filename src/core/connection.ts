/**
 * One connection: its two rings, its flags, and the state the manager keeps
 * between a driver callback and the next poll.
 */
import { NO_ADDRESS } from './address.js';
import type { Address } from './address.js';
import { SinkEvent } from './driver.js';
import type { DriverSocket, Sink } from './driver.js';
import { ErrorCode } from './events.js';
import type { CoreEvents, ErrorInfo } from './events.js';
import { DATAGRAM_HEADER } from './datagram.js';
import { Ring } from './ring.js';

/** Connection flags. Library layers use only the named bits; `USER_FLAGS` is the application's. */
export enum Flag {
  /** Close once `unsent` is empty. */
  SEND_AND_CLOSE = 1,
  /** Close at the next poll; unsent bytes are dropped. */
  CLOSE_IMMEDIATELY = 2,
  LISTENING = 4,
  CONNECTING = 8,
  UDP = 16,
  TLS = 32,
}

/**
 * @internal Where a connection is in its life: bits of `Connection.life`. One number, not four booleans: on the
 * device a boolean (or null) field costs two variables and a small number one.
 */
export enum Life {
  /** ACCEPT or CONNECT(0) has been delivered. */
  OPENED = 1,
  /** An ACCEPT waits to be delivered. */
  ACCEPT_PENDING = 2,
  /** The peer closed; close after reading what the socket still holds. */
  PEER_CLOSED = 4,
  /** CLOSE has been delivered; the slot is free for reuse. */
  RELEASED = 8,
}

/** Bits 16–23 belong to the application; no ringnet layer reads or writes them. */
export const USER_FLAGS = 0xff0000;

/** The argument lists a handler can receive, one tuple per event, from an event → payload map. */
export type HandlerArgs<M> = { [K in keyof M]: [Connection, K, M[K]] }[keyof M];

/**
 * An event handler. Switching on `ev` narrows `data` to that event's payload:
 *   (c, ev, data) => { if (ev === Ev.RECV) c.recv.discard(data); }
 */
export type Handler<M = CoreEvents> = (...args: HandlerArgs<M>) => void;

/** What every handler slot accepts, whatever events its protocol adds. */
export type AnyHandler = (c: Connection, ev: number, data: any) => void;

/** A connection whose protocol layer keeps `S` as its state. */
export type WithState<S> = Connection & { protocolState: S };

/**
 * A protocol layer (HTTP, MQTT …) that keeps `S` per connection: it sees every event before the handler, and
 * `c.protocolState` as `S`. `mgr.connect`/`listen` take it with its state in their options, checked together.
 */
export type Protocol<S> = (c: WithState<S>, ev: number, data: any) => void;

/** What a connection needs from its manager (the Manager implements it). */
export interface Owner {
  /** Asks for a poll soon: something for the socket is waiting. */
  wakeSoon(): void;
  /** Milliseconds on the manager's clock. */
  now(): number;
  /** Delivers an event to the protocol handler, then the user's. (Not `emit`: a bundle that calls no c.emit then carries none.) */
  deliver(c: Connection, ev: number, data: any): void;
  /** A peer reached `listener`: the connection that takes it, or null to refuse it. */
  adopt(listener: Connection, socket: DriverSocket, remote: Address): Connection | null;
}

/** A connection is the sink of its own socket, or of its listening socket when it listens. */
export class Connection implements Sink {
  // Every per-life field is set by reset(), which the constructor calls: one place, so the minified code says it once.
  /** Unique per manager, never reused. */
  id!: number;
  flags!: number;
  /** Bytes received and not yet consumed; a handler calls `recv.discard(n)` for what it parsed. */
  readonly recv: Ring;
  /** Bytes accepted by `send()` and not yet taken by the socket. */
  readonly unsent: Ring;
  /** The peer (for UDP: the sender of the last datagram, where replies go). */
  remote!: Address;
  // "No value" is undefined, not null, here and below: on the device an undefined field costs one variable, a null two.
  /** The application's own per-connection value. */
  userData: any;
  /** Sees every event before `handler` (a protocol layer: HTTP, MQTT …). */
  protocol?: AnyHandler;
  /** The protocol layer's own per-connection state (its `Protocol<S>` sees it as `S`). */
  protocolState: unknown;
  handler?: AnyHandler;
  /** Which pool the rings came from. */
  readonly pool: string;

  // --- manager state, written by driver callbacks and consumed by poll() ---
  /** @internal */ io?: DriverSocket;
  /** @internal Life bits: opened, accept pending, peer closed, released. */ life!: number;
  /** @internal CONNECT result waiting (-1: none). */ connectResult!: number;
  /** @internal When a pending connect gives up (-1: never). */ connectDeadline!: number;
  /** @internal `recv.length` when the last poll ended: less now means the handler is still consuming. */ recvAfterPoll!: number;
  /** @internal Since when a full ring has not been consumed after the peer closed (-1: it is moving). */ stalledSince!: number;
  /** @internal What will be reported as ERROR before CLOSE. (Not `error`: the device build keeps that name long, an event's.) */ failure?: ErrorInfo;
  /** @internal One-shot TIMER due time (-1: none). */ timerAt!: number;
  /** @internal Listener handle for a TCP listening connection. */ listenHandle?: { close(): void; port: number };

  private readonly owner: Owner;

  constructor(owner: Owner, pool: string, recv: Ring, unsent: Ring) {
    this.owner = owner;
    this.pool = pool;
    this.recv = recv;
    this.unsent = unsent;
    this.reset(0, 0, null, undefined, undefined);
    this.life = Life.RELEASED;
  }

  /**
   * Queues bytes (a Uint8Array, or a binary string: one byte per char code) for
   * the socket. All or nothing: returns false and queues nothing when `unsent`
   * lacks room or the connection is closing, so protocol framing never breaks.
   * For UDP each call is one datagram.
   *
   * With no argument it queues nothing and asks for a poll: for a protocol
   * that writes its framing into `unsent` itself (MQTT), so that the socket
   * takes it soon. (One method, not a `flush()` besides: each function object
   * costs RAM on the device.)
   */
  send(data?: Uint8Array | string): boolean {
    if (data === undefined) {
      this.owner.wakeSoon();
      return this.unsent.length > 0;
    }
    const n = data.length;
    if (!this.canSend(n)) return false;
    if (this.flags & Flag.UDP) {
      this.unsent.writeByte(n >> 8);
      this.unsent.writeByte(n & 255);
    }
    if (typeof data === 'string') this.unsent.writeString(data);
    else this.unsent.write(data);
    this.owner.wakeSoon();
    return true;
  }

  /** Delivers an event (core or protocol) to this connection's protocol handler, then its user handler. */
  emit(ev: number, data?: any): void {
    this.owner.deliver(this, ev, data);
  }

  /** Milliseconds on the manager's clock. */
  now(): number {
    return this.owner.now();
  }

  /** Whether `send()` of `n` bytes would be accepted now. */
  canSend(n: number): boolean {
    if (this.life & Life.RELEASED || this.flags & (Flag.CLOSE_IMMEDIATELY | Flag.SEND_AND_CLOSE)) return false;
    if (this.flags & Flag.UDP) return n <= 65535 && n + DATAGRAM_HEADER <= this.unsent.free;
    if (this.flags & Flag.LISTENING) return false;
    return n <= this.unsent.free;
  }

  /** A TIMER event after `ms` (replaces a pending one); a negative `ms` cancels it, as clearTimer() does. */
  setTimer(ms: number): void {
    if (ms < 0) {
      this.timerAt = -1;
      return;
    }
    this.timerAt = this.owner.now() + ms;
    this.owner.wakeSoon();
  }

  /** Cancels the pending TIMER event. (The protocols call setTimer(-1): a device bundle then carries no function for this.) */
  clearTimer(): void {
    this.setTimer(-1);
  }

  /** Closes at the next poll, dropping unsent bytes. */
  close(): void {
    this.flags |= Flag.CLOSE_IMMEDIATELY;
    this.owner.wakeSoon();
  }

  /** Closes once every queued byte has been taken by the socket. */
  end(): void {
    this.flags |= Flag.SEND_AND_CLOSE;
    this.owner.wakeSoon();
  }

  get isClosing(): boolean {
    return (this.flags & (Flag.CLOSE_IMMEDIATELY | Flag.SEND_AND_CLOSE)) !== 0 || this.failure !== undefined;
  }

  /**
   * @internal The driver's one entry (see Sink): records what happened and
   * asks for a poll; the events follow from poll(). One method, not one per
   * kind: on Espruino each function object costs RAM.
   */
  notify(what: SinkEvent, a?: any, b?: any): any {
    if (what === SinkEvent.ACCEPT) return this.owner.adopt(this, a, b);
    if (what === SinkEvent.BOUND) {
      this.remote = { host: this.remote.host, port: a }; // a new one: the address may be shared (see reset)
      return null;
    }
    if (what === SinkEvent.CONNECTED) {
      // Only while connecting: a driver may say CONNECTED again (Espruino's `drain` does, at every drain), and an
      // accepted socket is open. Then there is nothing new, and no poll to ask for.
      if (!(this.flags & Flag.CONNECTING) || this.connectResult >= 0 || this.life & Life.OPENED) return null;
      this.connectResult = a;
    } else if (what === SinkEvent.CLOSED) {
      let error: ErrorCode = a;
      this.life |= Life.PEER_CLOSED;
      if (this.flags & Flag.LISTENING && error === ErrorCode.OK) error = ErrorCode.SOCKET; // a listener never closes in order
      if (this.flags & Flag.CONNECTING && !(this.life & Life.OPENED)) {
        if (this.connectResult < 0) this.connectResult = error === ErrorCode.OK ? ErrorCode.RESET : error;
      } else if (error !== ErrorCode.OK && this.failure === undefined) {
        this.failure = { code: error, message: b };
      }
    }
    this.owner.wakeSoon();
    return null;
  }

  /** @internal Resets a pooled slot for a new life, with its handler and its protocol layer (see OpenOptions). */
  reset(id: number, flags: number, handler: AnyHandler | null | undefined, protocol: Protocol<any> | undefined, protocolState: unknown): void {
    this.id = id;
    this.flags = flags;
    this.recv.discard(this.recv.length);
    this.unsent.discard(this.unsent.length);
    this.remote = NO_ADDRESS; // until connect or accept gives the peer: one shared object, not one per idle slot
    // A field that would be undefined is written only when it holds something now: on the device a field set to
    // undefined still costs its name (a variable, two for a long one), so a slot never used carries none of them.
    if (this.userData !== undefined) this.userData = undefined;
    if (this.protocol !== protocol) this.protocol = protocol;
    if (this.protocolState !== protocolState) this.protocolState = protocolState;
    const given = handler || undefined;
    if (this.handler !== given) this.handler = given;
    if (this.io !== undefined) this.io = undefined;
    this.life = 0;
    this.connectResult = -1;
    this.connectDeadline = -1;
    this.recvAfterPoll = 0;
    this.stalledSince = -1;
    if (this.failure !== undefined) this.failure = undefined;
    this.timerAt = -1;
    if (this.listenHandle !== undefined) this.listenHandle = undefined;
  }
}
