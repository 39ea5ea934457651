/**
 * WebSocket framing (RFC 6455 section 5): a pure, incremental reader that
 * reassembles messages inside the receive ring, and frame-header writing.
 * No I/O, no timers.
 *
 * Reassembly needs no buffer of its own: a message's payload so far sits at
 * the ring's front, and the headers (and control frames) that came between
 * its fragments are left behind it as a gap, which each next fragment's
 * payload moves up over, once. The gap itself is never moved past the held
 * payload: it goes with the message, or, when the reader waits for more, the
 * few bytes of the frame in progress move back over it. So every byte is
 * moved at most about twice, however many frames a message has. Payloads are
 * unmasked in place. The declared length is checked before a payload is
 * waited for: over `maxMessage` is close code 1009 at once; a message in more
 * than `maxFragments` frames is 1008, as `ws` does.
 */
import type { Ring } from '../../core/ring.js';
import { ringIndex, ringMove, ringView } from '../../core/bytes.js';
import { Utf8Validator, utf8Text } from '../utf8.js';

export enum WsOp {
  CONTINUATION = 0,
  TEXT = 1,
  BINARY = 2,
  CLOSE = 8,
  PING = 9,
  PONG = 10,
}

/** Close codes (RFC 6455 7.4.1). */
export enum WsClose {
  NORMAL = 1000,
  GOING_AWAY = 1001,
  PROTOCOL_ERROR = 1002,
  UNSUPPORTED_DATA = 1003,
  /** Reported, never sent: the close frame had no code. */
  NO_STATUS = 1005,
  /** Reported, never sent: the connection ended without a close frame. */
  ABNORMAL = 1006,
  INVALID_DATA = 1007,
  POLICY = 1008,
  TOO_BIG = 1009,
  MANDATORY_EXTENSION = 1010,
  INTERNAL_ERROR = 1011,
}

/** What `WsReader.next()` found. */
export enum WsStep {
  MORE = 0,
  /** A whole message, `messageLength` bytes contiguous at the ring's front until the next call. */
  MESSAGE = 1,
  /** A ping: its payload is `control[0, controlLength)`. */
  PING = 2,
  PONG = 3,
  /** The peer's close frame: `closeCode` (1005 when it had none), `closeReason`. */
  CLOSE = 4,
  /** Refused: close with `errorCode` (1002, 1007, 1009); the reader stays in this state. */
  ERROR = 5,
}

/** The largest frame header: 2 + 8 (64-bit length) + 4 (mask). */
export const MAX_HEADER = 14;
/** Room a reader needs beyond `maxMessage`: a header plus a whole control frame arriving mid-message. */
export const READER_SLACK = MAX_HEADER + 6 + 125;

/** Frames one message may arrive in when the caller sets no bound (board profiles set their own). */
export const MAX_FRAGMENTS = 128;

/** Whether `code` may appear in a close frame on the wire. */
export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * XORs `len` bytes of a circular buffer (`bytes`, capacity `cap`) from
 * storage index `at` with the 4-byte `key`, starting at key position 0.
 */
export function maskInPlace(bytes: Uint8Array, cap: number, at: number, len: number, key: Uint8Array): void {
  const k0 = key[0];
  const k1 = key[1];
  const k2 = key[2];
  const k3 = key[3];
  let i = at;
  for (let n = 0; n < len; n++) {
    const m = n & 3;
    bytes[i] ^= m === 0 ? k0 : m === 1 ? k1 : m === 2 ? k2 : k3;
    if (++i === cap) i = 0;
  }
}

/**
 * Writes a frame header into `dst` (at least 14 bytes); returns its length.
 * `key`: the 4-byte masking key (a client's frames), or null.
 */
export function writeFrameHeader(dst: Uint8Array, op: WsOp, fin: boolean, len: number, key: Uint8Array | null): number {
  dst[0] = (fin ? 0x80 : 0) | op;
  const maskBit = key ? 0x80 : 0;
  let at: number;
  if (len < 126) {
    dst[1] = maskBit | len;
    at = 2;
  } else if (len < 65536) {
    dst[1] = maskBit | 126;
    dst[2] = len >> 8;
    dst[3] = len & 255;
    at = 4;
  } else {
    dst[1] = maskBit | 127;
    const hi = Math.floor(len / 4294967296);
    dst[2] = 0;
    dst[3] = 0;
    dst[4] = (hi >> 8) & 255;
    dst[5] = hi & 255;
    dst[6] = (len >>> 24) & 255;
    dst[7] = (len >>> 16) & 255;
    dst[8] = (len >>> 8) & 255;
    dst[9] = len & 255;
    at = 10;
  }
  if (key) {
    dst[at] = key[0];
    dst[at + 1] = key[1];
    dst[at + 2] = key[2];
    dst[at + 3] = key[3];
    at += 4;
  }
  return at;
}

/** Header length for a payload of `len` bytes. */
export function frameHeaderLength(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Reads frames for one direction of one connection.
 * @param maxMessage largest message accepted (the ring must hold it plus READER_SLACK)
 * @param expectMasked a server requires masked frames, a client unmasked ones
 * @param maxFragments most frames (empty ones too) per message; default MAX_FRAGMENTS
 */
export class WsReader {
  /** MESSAGE: its size, and whether it was binary (else text, already UTF-8 checked). */
  messageLength = 0;
  binary = false;
  /** PING / PONG / CLOSE payload. */
  readonly control = new Uint8Array(125);
  controlLength = 0;
  closeCode = 0;
  closeReason = '';
  /** ERROR: the close code to send and why. */
  errorCode = 0;
  errorText = '';
  /** Bytes of the message so far, at the ring's front. */
  private acc = 0;
  /** Framing bytes left between those and the next frame (0 whenever `acc` is). */
  private gap = 0;
  /** Data frames of the message so far. */
  private frames = 0;
  private inMessage = false;
  private messageOp = 0;
  private pending = 0;
  private failed = false;
  private readonly key = new Uint8Array(4);
  private readonly utf8 = new Utf8Validator();

  readonly maxFragments: number;

  constructor(
    readonly maxMessage: number,
    readonly expectMasked: boolean,
    maxFragments?: number,
  ) {
    this.maxFragments = maxFragments || MAX_FRAGMENTS;
  }

  /** Advances over what `ring` holds; see `WsStep`. */
  next(ring: Ring): WsStep {
    if (this.pending > 0) {
      ring.discard(this.pending);
      this.pending = 0;
    }
    if (this.failed) return WsStep.ERROR;
    for (;;) {
      const acc = this.acc;
      const at = acc + this.gap; // where the next frame starts
      const avail = ring.length - at;
      if (avail < 2) break;
      const b0 = ring.peek(at);
      const b1 = ring.peek(at + 1);
      const fin = (b0 & 0x80) !== 0;
      const op = b0 & 15;
      const masked = (b1 & 0x80) !== 0;
      const len7 = b1 & 127;
      if (b0 & 0x70) return this.fail(WsClose.PROTOCOL_ERROR, 'reserved bits set (no extension was agreed)');
      const control = op >= 8;
      if (op > 2 && op !== WsOp.CLOSE && op !== WsOp.PING && op !== WsOp.PONG) return this.fail(WsClose.PROTOCOL_ERROR, 'unknown opcode ' + op);
      if (control && !fin) return this.fail(WsClose.PROTOCOL_ERROR, 'fragmented control frame');
      if (control && len7 > 125) return this.fail(WsClose.PROTOCOL_ERROR, 'control frame over 125 bytes');
      if (masked !== this.expectMasked) return this.fail(WsClose.PROTOCOL_ERROR, masked ? 'masked frame from a server' : 'unmasked frame from a client');
      const hlen = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (avail < hlen) break;
      let len = len7;
      if (len7 === 126) {
        len = (ring.peek(at + 2) << 8) | ring.peek(at + 3);
      } else if (len7 === 127) {
        if (ring.peek(at + 2) & 0x80) return this.fail(WsClose.PROTOCOL_ERROR, 'length with the top bit set');
        const high = ring.peek(at + 2) | ring.peek(at + 3) | ring.peek(at + 4) | ring.peek(at + 5);
        if (high !== 0) return this.fail(WsClose.TOO_BIG, 'message larger than ' + this.maxMessage + ' bytes');
        len = ((ring.peek(at + 6) << 24) >>> 0) + ((ring.peek(at + 7) << 16) | (ring.peek(at + 8) << 8) | ring.peek(at + 9));
      }
      if (!control) {
        if (op === WsOp.CONTINUATION && !this.inMessage) return this.fail(WsClose.PROTOCOL_ERROR, 'continuation frame outside a message');
        if (op !== WsOp.CONTINUATION && this.inMessage) return this.fail(WsClose.PROTOCOL_ERROR, 'new message inside a fragmented one');
        if (acc + len > this.maxMessage) return this.fail(WsClose.TOO_BIG, 'message larger than ' + this.maxMessage + ' bytes');
        if (this.frames >= this.maxFragments) return this.fail(WsClose.POLICY, 'message in more than ' + this.maxFragments + ' fragments');
      }
      if (avail < hlen + len) break;
      if (masked) {
        for (let k = 0; k < 4; k++) this.key[k] = ring.peek(at + hlen - 4 + k);
        if (len > 0) maskInPlace(ring.bytes, ring.capacity, ringIndex(ring, at + hlen), len, this.key);
      }
      if (control) return this.controlFrame(ring, op, at + hlen, len);
      if (acc === 0) {
        ring.discard(hlen);
      } else {
        ringMove(ring, acc, at + hlen, len); // the payload moves up over the gap; the header joins it
        this.gap += hlen;
      }
      if (op !== WsOp.CONTINUATION) {
        this.inMessage = true;
        this.messageOp = op;
        this.utf8.reset();
      }
      this.frames++;
      if (this.messageOp === WsOp.TEXT && len > 0 && !this.checkText(ring, acc, len)) return this.fail(WsClose.INVALID_DATA, 'text is not valid UTF-8');
      this.acc = acc + len;
      if (!fin) continue;
      if (this.messageOp === WsOp.TEXT && !this.utf8.complete()) return this.fail(WsClose.INVALID_DATA, 'text ends inside a UTF-8 sequence');
      this.messageLength = this.acc;
      this.binary = this.messageOp === WsOp.BINARY;
      ringView(ring, this.acc); // make the message one contiguous run
      this.pending = this.acc + this.gap; // the gap goes with it
      this.acc = 0;
      this.gap = 0;
      this.frames = 0;
      this.inMessage = false;
      return WsStep.MESSAGE;
    }
    // Waiting for more: the part of a frame held moves back over the gap (it is
    // shorter than that frame, and the gap stays empty until that frame is in).
    const gap = this.gap;
    if (gap > 0) {
      const acc = this.acc;
      ringMove(ring, acc, acc + gap, ring.length - acc - gap);
      ring.commit(-gap); // the gap's bytes are now the last held: give them back
      this.gap = 0;
    }
    return WsStep.MORE;
  }

  /** The MESSAGE bytes (call right after `next` returned MESSAGE). */
  messageView(ring: Ring): Uint8Array {
    return ring.bytes.subarray(ring.start, ring.start + this.messageLength);
  }

  /** A control frame whose payload is at `offset`: copied out, and the frame dropped (or left in the gap). */
  private controlFrame(ring: Ring, op: number, offset: number, len: number): WsStep {
    ring.copyTo(this.control, 0, offset, len);
    this.controlLength = len;
    if (this.acc === 0) ring.discard(offset + len);
    else this.gap = offset + len - this.acc;
    if (op === WsOp.PING) return WsStep.PING;
    if (op === WsOp.PONG) return WsStep.PONG;
    const c = this.control;
    if (len === 0) {
      this.closeCode = WsClose.NO_STATUS;
      this.closeReason = '';
      return WsStep.CLOSE;
    }
    if (len === 1) return this.fail(WsClose.PROTOCOL_ERROR, 'close frame of one byte');
    const code = (c[0] << 8) | c[1];
    if (!validCloseCode(code)) return this.fail(WsClose.PROTOCOL_ERROR, 'invalid close code ' + code);
    const v = new Utf8Validator();
    if (!v.push(c, 2, len) || !v.complete()) return this.fail(WsClose.INVALID_DATA, 'close reason is not valid UTF-8');
    this.closeCode = code;
    this.closeReason = utf8Text(c, 2, len);
    return WsStep.CLOSE;
  }

  /** UTF-8 check of `len` ring bytes from `offset`, in at most two runs of storage. */
  private checkText(ring: Ring, offset: number, len: number): boolean {
    const i = ringIndex(ring, offset);
    const first = ring.capacity - i < len ? ring.capacity - i : len;
    if (!this.utf8.push(ring.bytes, i, i + first)) return false;
    return first === len || this.utf8.push(ring.bytes, 0, len - first);
  }

  private fail(code: number, text: string): WsStep {
    this.failed = true;
    this.errorCode = code;
    this.errorText = text;
    return WsStep.ERROR;
  }
}
