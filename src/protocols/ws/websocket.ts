/**
 * A WebSocket session on a connection (either end), after the handshake:
 * messages in and out, ping/pong with a deadline, the close handshake.
 *
 * Nothing is buffered outside the connection's rings. An outgoing message
 * larger than the send ring's free space is held by reference and sent as
 * fragments as the ring drains (`send` returns false, taking nothing, while
 * one is still going; WRITABLE follows). An incoming message the handler
 * cannot pass on yet can be left in the receive ring with
 * `msg.deferUntilWritable()`: reading stops, the ring fills, the driver stops
 * reading the socket, and the peer feels the backpressure.
 */
import type { Connection, Handler } from '../../core/connection.js';
import { Ev } from '../../core/events.js';
import type { CoreEvents } from '../../core/events.js';
import { utf8Text, utf8Binary } from '../utf8.js';
import { MAX_HEADER, READER_SLACK, WsClose, WsOp, WsReader, WsStep, frameHeaderLength, maskInPlace, writeFrameHeader } from './codec.js';
import { weakRandom } from './handshake.js';

const EMPTY = /*#__PURE__*/ new Uint8Array(0);

export enum WsEv {
  /** The handshake is done; `send` works from here. */
  OPEN = 200,
  /** A whole message (fragments joined): `msg.data`, `msg.binary`, `msg.text()`. */
  MESSAGE = 201,
  /** A pong arrived (an answer to `ping`). */
  PONG = 202,
  /** A message that `send` was still sending has gone out: `send` takes the next one. */
  WRITABLE = 203,
  /** The WebSocket closed: data `{code, reason, remote}`. CLOSE of the connection follows. */
  CLOSED = 204,
}

export interface WsCloseInfo {
  /** The close code (1005: the peer's close frame had none; 1006: no close frame at all). */
  code: number;
  reason: string;
  /** True when the peer started the close (or vanished), false when this end did. */
  remote: boolean;
}

/** A received message; the same object is reused for every message of a connection. */
export class WsMessage {
  binary = false;
  /** The message bytes: a view into the receive ring, valid during the event. */
  data: Uint8Array = EMPTY;
  /** @internal */ deferred = false;

  constructor(readonly ws: WebSocket) {}

  /** The message as text (decoded from UTF-8). */
  text(): string {
    return utf8Text(this.data, 0, this.data.length);
  }

  /** Keep this message in the receive ring and deliver it again once the send ring drains. */
  deferUntilWritable(): void {
    this.deferred = true;
  }
}

export interface WsEvents extends CoreEvents {
  [WsEv.OPEN]: WebSocket;
  [WsEv.MESSAGE]: WsMessage;
  [WsEv.PONG]: WebSocket;
  [WsEv.WRITABLE]: WebSocket;
  [WsEv.CLOSED]: WsCloseInfo;
}

export type WsHandler = Handler<WsEvents>;

export interface WsOptions {
  /** Largest message accepted (default and upper bound: the receive ring less framing room); larger is closed with 1009. */
  maxMessage?: number;
  /** Most frames one incoming message may come in, empty ones included (default MAX_FRAGMENTS, 128); more is closed with 1008. */
  maxFragments?: number;
  /** Largest payload per frame sent; longer messages go as fragments (default: as much as the send ring takes). */
  fragmentBytes?: number;
  /** Send a ping this often (0: never). */
  pingIntervalMs?: number;
  /** Close when a ping's pong takes longer than this (default: pingIntervalMs). */
  pongTimeoutMs?: number;
  /** How long to wait for the peer's close frame after sending ours (default 3000 ms). */
  closeTimeoutMs?: number;
  /** Random bytes for masking keys (a client's); default: the driver's source. */
  random?: (into: Uint8Array) => void;
}

const enum State {
  OPEN = 0,
  /** Our close frame is queued or sent; waiting for the peer's. */
  CLOSING = 1,
  CLOSED = 2,
}

/** Frames smaller than this are not worth splitting a message for; wait for more room instead. */
const MIN_FRAGMENT = 64;

export class WebSocket {
  /** The subprotocol agreed in the handshake ("" when none). */
  protocol = '';
  private state = State.OPEN;
  private readonly reader: WsReader;
  private readonly msg: WsMessage;
  private opened = false;
  private reported = false;
  private held = false;
  /** The message being sent: payload, bytes sent, opcode. */
  private out: string | Uint8Array | null = null;
  private outAt = 0;
  private outOp = WsOp.BINARY;
  /** The message being sent is a view into our own receive ring: read nothing more until it is out. */
  private outPinned = false;
  private wantWritable = false;
  private pongPending = false;
  private readonly pongPayload = new Uint8Array(125);
  private pongLength = 0;
  private closePayload: string | null = null;
  private endAfterClose = false;
  private readonly header = new Uint8Array(MAX_HEADER);
  private readonly key = new Uint8Array(4);
  private keyPool: Uint8Array | null = null;
  private keyAt = 0;
  private lastPing = 0;
  private pongDeadline = -1;
  private closeDeadline = -1;
  private readonly fragmentBytes: number;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly random: (into: Uint8Array) => void;

  /**
   * @param c the connection, handshake done
   * @param client true at the client end (frames sent are masked)
   */
  constructor(
    readonly c: Connection,
    readonly client: boolean,
    opts: WsOptions,
    driverRandom: ((into: Uint8Array) => void) | null,
  ) {
    const room = c.recv.capacity - READER_SLACK;
    const max = opts.maxMessage && opts.maxMessage < room ? opts.maxMessage : room;
    this.reader = new WsReader(max > 0 ? max : 0, !client, opts.maxFragments);
    this.msg = new WsMessage(this);
    this.fragmentBytes = opts.fragmentBytes || Infinity;
    this.pingIntervalMs = opts.pingIntervalMs || 0;
    this.pongTimeoutMs = opts.pongTimeoutMs || this.pingIntervalMs;
    this.closeTimeoutMs = opts.closeTimeoutMs || 3000;
    this.random = opts.random || driverRandom || weakRandom;
  }

  /** Whether messages can be sent (open, and not closing). */
  get isOpen(): boolean {
    return this.state === State.OPEN && !this.c.isClosing;
  }

  /** Largest message this end accepts. */
  get maxMessage(): number {
    return this.reader.maxMessage;
  }

  /**
   * Sends a message: a string as text (UTF-8 encoded) unless `binary`, bytes
   * as binary unless `binary` is false. Returns false, taking nothing, while
   * the previous message is still going out (WRITABLE follows) or when
   * closing. Data is held by reference until sent: `msg.data` stays in the
   * receive ring until then (nothing more is read meanwhile); a view into
   * another connection's ring is taken only if it fits now.
   */
  send(data: string | Uint8Array, binary?: boolean): boolean {
    if (!this.isOpen) return false;
    if (this.out !== null) {
      this.wantWritable = true;
      return false;
    }
    const isBinary = binary === undefined ? typeof data !== 'string' : binary;
    const payload = typeof data === 'string' && !isBinary ? utf8Binary(data) : data;
    const op = isBinary ? WsOp.BINARY : WsOp.TEXT;
    let pinned = false;
    if (typeof payload !== 'string' && payload.buffer === this.c.unsent.bytes.buffer) {
      const r = this.c.recv.bytes;
      pinned = payload.byteOffset >= r.byteOffset && payload.byteOffset + payload.length <= r.byteOffset + r.length;
      // bytes in another ring are reused once this event returns: all now, or nothing
      if (!pinned) {
        if (payload.length > this.fragmentBytes || !this.frame(op, true, payload, 0, payload.length)) {
          this.wantWritable = true;
          return false;
        }
        return true;
      }
    }
    this.out = payload;
    this.outAt = 0;
    this.outOp = op;
    this.outPinned = pinned;
    this.pumpMessage();
    return true;
  }

  /** Sends a ping (payload up to 125 bytes, a binary string); the pong deadline starts if one is set. */
  ping(payload?: string): boolean {
    const p = payload || '';
    if (!this.isOpen || p.length > 125) return false;
    if (!this.frame(WsOp.PING, true, p, 0, p.length)) return false;
    this.lastPing = this.c.now();
    if (this.pongTimeoutMs > 0 && this.pongDeadline < 0) this.pongDeadline = this.lastPing + this.pongTimeoutMs;
    return true;
  }

  /** Starts the close handshake (code 1000 by default); CLOSED follows when the peer answers or the wait ends. */
  close(code?: number, reason?: string): void {
    if (this.state !== State.OPEN) return;
    this.state = State.CLOSING;
    this.out = null;
    this.closeDeadline = this.c.now() + this.closeTimeoutMs;
    this.queueClose(code || WsClose.NORMAL, reason || '');
    this.flush();
  }

  /** @internal every event of the connection, before the application's handler */
  handle(ev: number, data: any): void {
    const c = this.c;
    switch (ev) {
      case Ev.RECV:
      case Ev.SEND:
      case Ev.POLL:
        if (!this.opened) {
          this.opened = true;
          this.lastPing = c.now();
          c.emit(WsEv.OPEN, this);
        }
        if (ev === Ev.POLL) this.timers();
        this.flush();
        this.read();
        this.flush();
        if (this.wantWritable && this.out === null && this.isOpen) {
          this.wantWritable = false;
          c.emit(WsEv.WRITABLE, this);
        }
        break;
      case Ev.CLOSE:
        this.state = State.CLOSED;
        this.report(WsClose.ABNORMAL, 'connection closed without a close handshake', true);
        break;
    }
  }

  private read(): void {
    const c = this.c;
    const reader = this.reader;
    for (;;) {
      if (this.state === State.CLOSED || c.isClosing) return;
      if (this.out !== null && this.outPinned) return; // our answer is still being sent from the receive ring
      if (this.held) {
        // a deferred message: again, once the send ring has drained
        if (c.unsent.length > 0) return;
        this.held = false;
        if (!this.deliver()) return;
      }
      const st = reader.next(c.recv);
      switch (st) {
        case WsStep.MORE:
          return;
        case WsStep.MESSAGE:
          if (!this.deliver()) return;
          break;
        case WsStep.PING:
          if (this.state === State.OPEN) {
            this.pongPayload.set(reader.control.subarray(0, reader.controlLength));
            this.pongLength = reader.controlLength;
            this.pongPending = true; // only the latest ping is answered (RFC 6455 5.5.3)
            this.flush();
          }
          break;
        case WsStep.PONG:
          this.pongDeadline = -1;
          c.emit(WsEv.PONG, this);
          break;
        case WsStep.CLOSE:
          this.peerClosed(reader.closeCode, reader.closeReason);
          return;
        default:
          this.fail(reader.errorCode, reader.errorText);
          return;
      }
    }
  }

  /** Emits MESSAGE for the message at the ring's front; false when the handler deferred it. */
  private deliver(): boolean {
    const msg = this.msg;
    msg.binary = this.reader.binary;
    msg.data = this.reader.messageView(this.c.recv);
    msg.deferred = false;
    this.c.emit(WsEv.MESSAGE, msg);
    msg.data = EMPTY;
    if (msg.deferred) {
      this.held = true;
      return false;
    }
    return true;
  }

  private peerClosed(code: number, reason: string): void {
    if (this.state === State.OPEN) {
      // The peer starts: echo its code and reason (nothing if it sent none), then close.
      this.state = State.CLOSED;
      this.out = null;
      this.queueClose(code === WsClose.NO_STATUS ? 0 : code, reason);
      this.endAfterClose = true;
      this.report(code, reason, true);
    } else {
      this.state = State.CLOSED;
      this.report(code, reason, false);
      this.endAfterClose = true;
    }
    this.flush();
  }

  private fail(code: number, why: string): void {
    this.state = State.CLOSED;
    this.out = null;
    this.queueClose(code, why);
    this.endAfterClose = true;
    this.report(code, why, false);
    this.flush();
  }

  private report(code: number, reason: string, remote: boolean): void {
    if (this.reported) return;
    this.reported = true;
    this.c.emit(WsEv.CLOSED, { code: code, reason: reason, remote: remote });
  }

  private timers(): void {
    const now = this.c.now();
    if (this.state === State.CLOSING && now > this.closeDeadline) {
      this.state = State.CLOSED;
      this.report(WsClose.ABNORMAL, 'no close frame from the peer in time', false);
      this.c.close();
      return;
    }
    if (this.state !== State.OPEN || this.pingIntervalMs <= 0) return;
    if (this.pongDeadline >= 0 && now > this.pongDeadline) {
      this.state = State.CLOSED;
      this.report(WsClose.ABNORMAL, 'no pong within ' + this.pongTimeoutMs + ' ms', false);
      this.c.close();
      return;
    }
    if (now - this.lastPing >= this.pingIntervalMs && this.pongDeadline < 0) this.ping();
  }

  /** A close frame with `code` (0: none) and a reason cut to fit 125 bytes on a character boundary. */
  private queueClose(code: number, reason: string): void {
    if (code === 0) {
      this.closePayload = '';
      return;
    }
    let r = utf8Binary(reason);
    if (r.length > 123) {
      let cut = 123;
      while (cut > 0 && (r.charCodeAt(cut) & 0xc0) === 0x80) cut--;
      r = r.substring(0, cut);
    }
    this.closePayload = String.fromCharCode(code >> 8, code & 255) + r;
  }

  /** Sends what waits: a pong, the close frame, fragments of the current message. */
  private flush(): void {
    const c = this.c;
    if (this.pongPending && this.closePayload === null && this.state !== State.CLOSED) {
      if (this.frame(WsOp.PONG, true, this.pongPayload, 0, this.pongLength)) this.pongPending = false;
    }
    if (this.closePayload !== null) {
      if (!this.frame(WsOp.CLOSE, true, this.closePayload, 0, this.closePayload.length)) return;
      this.closePayload = null;
      this.pongPending = false;
    }
    if (this.endAfterClose && this.closePayload === null) {
      this.endAfterClose = false;
      c.end();
      return;
    }
    if (this.out !== null && this.state === State.OPEN) this.pumpMessage();
  }

  private pumpMessage(): void {
    while (this.out !== null) {
      const out = this.out;
      const left = out.length - this.outAt;
      let n = this.c.unsent.free - MAX_HEADER;
      if (n > left) n = left;
      if (n > this.fragmentBytes) n = this.fragmentBytes;
      if (n < left && n < MIN_FRAGMENT && n < this.fragmentBytes) return; // wait for SEND to make room
      const fin = this.outAt + n === out.length;
      if (!this.frame(this.outAt === 0 ? this.outOp : WsOp.CONTINUATION, fin, out, this.outAt, n)) return;
      this.outAt += n;
      if (fin) {
        this.out = null;
        this.outPinned = false;
      }
    }
  }

  /** One frame into the send ring, all or nothing; a client's payload is masked in the ring. */
  private frame(op: WsOp, fin: boolean, payload: string | Uint8Array, off: number, len: number): boolean {
    const c = this.c;
    const hlen = frameHeaderLength(len, this.client);
    if (!c.canSend(hlen + len)) return false;
    const key = this.client ? this.nextKey() : null;
    writeFrameHeader(this.header, op, fin, len, key);
    c.send(this.header.subarray(0, hlen));
    if (len > 0) {
      const at = c.unsent.commit(0);
      if (typeof payload === 'string') c.send(off === 0 && len === payload.length ? payload : payload.substring(off, off + len));
      else c.send(off === 0 && len === payload.length ? payload : payload.subarray(off, off + len));
      if (key) maskInPlace(c.unsent.bytes, c.unsent.capacity, at, len, key);
    }
    return true;
  }

  /** Four fresh random bytes; taken from a pool refilled 64 bytes at a time. */
  private nextKey(): Uint8Array {
    let pool = this.keyPool;
    if (!pool || this.keyAt >= pool.length) {
      if (!pool) pool = this.keyPool = new Uint8Array(64);
      this.random(pool);
      this.keyAt = 0;
    }
    const k = this.key;
    for (let i = 0; i < 4; i++) k[i] = pool[this.keyAt + i];
    this.keyAt += 4;
    return k;
  }
}

/** The protocol handler a WebSocket connection runs under (`c.protocol`). */
export function wsProtocol(c: Connection, ev: number, data: any): void {
  const ws = c.protocolState;
  if (ws instanceof WebSocket) ws.handle(ev, data);
}

/** The WebSocket on a connection, or null. */
export function wsOf(c: Connection): WebSocket | null {
  return c.protocolState instanceof WebSocket ? c.protocolState : null;
}
