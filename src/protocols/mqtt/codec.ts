/**
 * MQTT 3.1.1 packets: a pure codec, no I/O and no timers.
 *
 * `decode` reads one packet in place from a Ring (a connection's `c.recv`, or
 * a ring the caller fills with chunks); with `fromServer` (a client's
 * decoder) it refuses the packets only servers receive. It is incremental by construction:
 * until a whole packet is held it returns null and consumes nothing, so any
 * split of the input gives the same packets. A packet whose declared size is
 * over the limit is refused from its fixed header, before its body is held;
 * a client's decoder instead hands over a PUBLISH's head, for the client to
 * acknowledge and skip. Malformed input is returned as a value (`type: 0`),
 * never thrown.
 *
 * `encode` writes one packet into a Ring, all or nothing, or only measures it.
 */
import { ErrorCode } from '../../core/events.js';
import type { Ring } from '../../core/ring.js';
import { utf8Length, utf8Read, utf8Write } from '../utf8.js';

export enum PacketType {
  CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  PUBREC = 5,
  PUBREL = 6,
  PUBCOMP = 7,
  SUBSCRIBE = 8,
  SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14,
}

export type QoS = 0 | 1 | 2;
/** Bytes, or a string sent as its UTF-8 encoding. Decoded packets always hold bytes. */
export type Data = Uint8Array | string;

export interface Will {
  topic: string;
  payload: Data;
  qos: QoS;
  retain: boolean;
}

export interface ConnectPacket {
  type: PacketType.CONNECT;
  clientId: string;
  clean: boolean;
  /** Seconds; 0 turns keepalive off. */
  keepalive: number;
  will: Will | null;
  username: string | null;
  password: Data | null;
}

export interface ConnackPacket {
  type: PacketType.CONNACK;
  sessionPresent: boolean;
  /** 0 accepted; 1–5 refused (protocol version, identifier, server unavailable, credentials, not authorized). */
  returnCode: number;
}

export interface PublishPacket {
  type: PacketType.PUBLISH;
  topic: string;
  payload: Data;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Packet identifier; 0 for QoS 0. */
  id: number;
}

/** A received PUBLISH: the payload is bytes. */
export interface Message extends PublishPacket {
  payload: Uint8Array;
  /** Only on a PUBLISH over the limit, from a client's decoder (`fromServer`): its packet's size. Its payload was not read (empty here) and nothing was consumed. */
  size?: number;
}

export interface AckPacket {
  type: PacketType.PUBACK | PacketType.PUBREC | PacketType.PUBREL | PacketType.PUBCOMP | PacketType.UNSUBACK;
  id: number;
}

export interface SubscribePacket {
  type: PacketType.SUBSCRIBE;
  id: number;
  topics: string[];
  /** Requested QoS per topic filter, same order. */
  qos: QoS[];
}

export interface SubackPacket {
  type: PacketType.SUBACK;
  id: number;
  /** Granted QoS per filter, or 0x80 for a refused one. */
  codes: number[];
}

export interface UnsubscribePacket {
  type: PacketType.UNSUBSCRIBE;
  id: number;
  topics: string[];
}

export interface EmptyPacket {
  type: PacketType.PINGREQ | PacketType.PINGRESP | PacketType.DISCONNECT;
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | EmptyPacket;

/** Why input was refused: PROTOCOL (malformed) or TOO_BIG (declared size over the limit). */
export interface DecodeError {
  type: 0;
  code: ErrorCode;
  message: string;
}

export type Decoded = Exclude<Packet, PublishPacket> | Message | DecodeError;

/** Largest remaining length the 4-byte varint can express. */
export const MAX_REMAINING = 268435455;

/**
 * Whether `t` is a valid topic name (`filter` false: no wildcards) or topic
 * filter (`+` fills a whole level, `#` is the whole last level). Empty is invalid.
 */
export function validTopic(t: string, filter: boolean): boolean {
  const n = t.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c === 43 || c === 35) {
      if (!filter || (i > 0 && t.charCodeAt(i - 1) !== 47)) return false;
      if (c === 35 ? i !== n - 1 : i < n - 1 && t.charCodeAt(i + 1) !== 47) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- decoding
// The reader's state is one object per decode call, passed to `rd`: decoding
// is re-entrant, and the device keeps no reader state between packets. On
// Espruino every function object costs RAM, so the reader is one function
// (`rd`) and the decoder another.

/** Where `rd` reads: the ring's bytes, its capacity, the next index, bytes left in the packet, the first fault. */
interface Reader {
  buf: Uint8Array;
  wrap: number;
  pos: number;
  left: number;
  bad: string;
}

/** What `rd` reads. */
const enum R {
  U8 = 0,
  U16 = 1,
  /** A packet identifier (not 0). */
  ID = 2,
  /** A length-prefixed UTF-8 string. */
  STR = 3,
  /** A topic name (no wildcards), or with FILTER a topic filter. */
  TOPIC = 4,
  FILTER = 5,
  /** `n` bytes: a view when they are contiguous in the ring, else a copy. */
  BYTES = 6,
  /** A 2-byte length, then that many bytes. */
  PBYTES = 7,
}

/** Reads the next field; on short or bad input sets `s.bad` (first reason kept) and returns 0, '' or no bytes. */
function rd(s: Reader, what: R, n?: number): any {
  if (what <= R.ID) {
    let v = 0;
    for (let k = what === R.U8 ? 1 : 2; k > 0; k--) {
      if (s.left <= 0) {
        s.bad = s.bad || 'packet shorter than its fields';
        return 0;
      }
      s.left--;
      v = (v << 8) | s.buf[s.pos];
      if (++s.pos === s.wrap) s.pos = 0;
    }
    if (what === R.ID && v === 0) s.bad = s.bad || 'packet identifier 0';
    return v;
  }
  if (what !== R.BYTES) n = rd(s, R.U16);
  let v: any;
  if (what >= R.BYTES) {
    if ((n as number) > s.left) {
      s.bad = s.bad || 'packet shorter than its fields';
      return new Uint8Array(0);
    }
    if (s.pos + (n as number) <= s.wrap) {
      v = s.buf.subarray(s.pos, s.pos + (n as number));
    } else {
      v = new Uint8Array(n as number);
      const first = s.wrap - s.pos;
      v.set(s.buf.subarray(s.pos, s.wrap), 0);
      v.set(s.buf.subarray(0, (n as number) - first), first);
    }
  } else {
    if ((n as number) > s.left) {
      s.bad = s.bad || 'string longer than its packet';
      return '';
    }
    v = utf8Read(s.buf, s.pos, n as number, s.wrap);
  }
  s.left -= n as number;
  s.pos += n as number;
  if (s.pos >= s.wrap) s.pos -= s.wrap;
  if (v === null) {
    s.bad = s.bad || 'invalid UTF-8';
    return '';
  }
  if (what === R.TOPIC || what === R.FILTER) {
    if (!s.bad && !validTopic(v, what === R.FILTER)) s.bad = what === R.FILTER ? 'invalid topic filter' : 'invalid topic name';
  }
  return v;
}

/**
 * Decodes the packet at the front of `r`, of any of the 14 types: returns it
 * and discards its bytes; null when more bytes are needed (nothing consumed);
 * a DecodeError when the input is malformed or declares more than `limit`
 * bytes (nothing consumed: the caller disconnects). A received payload is a
 * view into `r` when it lies contiguously there: valid until `r` is written
 * again; copy it to keep it.
 *
 * With `fromServer` (a client's decoder) the packets only a server receives
 * are protocol errors, and a PUBLISH over the limit is not refused, since a
 * client cannot refuse one message without its session suffering (a broker
 * resends it on every reconnect): once its topic and packet identifier are
 * held it is returned with an empty payload and `size` set, and nothing
 * consumed; the caller acknowledges it and discards `size` bytes as they
 * arrive. Only one whose head alone could never be held in `r` is refused as
 * TOO_BIG.
 */
export function decode(r: Ring, limit: number, fromServer?: boolean): Decoded | null {
  const held = r.length;
  if (held < 1) return null;
  const b0 = r.peek(0);
  const type = b0 >> 4;
  const flags = b0 & 15;
  let bad = '';
  // The fixed header flags each type must carry (PUBLISH's vary and are checked apart); -1: a reserved type.
  // Computed, not a table: on the device an array of 16 numbers costs 17 variables for as long as the program runs.
  const must = type === 0 || type === 15 ? -1 : type === PacketType.PUBREL || type === PacketType.SUBSCRIBE || type === PacketType.UNSUBSCRIBE ? 2 : 0;
  if (must < 0) bad = 'reserved packet type ' + type;
  else if (type === PacketType.PUBLISH) {
    if ((flags & 6) === 6) bad = 'PUBLISH with QoS 3';
    else if ((flags & 14) === 8) bad = 'DUP set on QoS 0';
  } else if (flags !== must) {
    bad = 'reserved flags set';
  }
  if (!bad && fromServer && (type === PacketType.CONNECT || type === PacketType.SUBSCRIBE || type === PacketType.UNSUBSCRIBE || type === PacketType.PINGREQ || type === PacketType.DISCONNECT)) {
    bad = 'packet type ' + type + ' from a server';
  }
  let rl = 0;
  let mul = 1;
  let at = 1;
  let b = 128;
  while (!bad && b & 128) {
    if (at > 4) bad = 'remaining length over 4 bytes';
    else {
      b = r.peek(at++);
      if (b < 0) return null;
      rl += (b & 127) * mul;
      mul *= 128;
    }
  }
  const fixed = type === PacketType.CONNACK || (type >= PacketType.PUBACK && type <= PacketType.PUBCOMP) || type === PacketType.UNSUBACK ? 2 : type >= PacketType.PINGREQ ? 0 : -1;
  if (!bad && fixed >= 0 && rl !== fixed) bad = 'wrong remaining length for type ' + type;
  const size = at + rl;
  const big = size > limit;
  let need = size;
  let code = ErrorCode.PROTOCOL;
  if (!bad && big) {
    code = ErrorCode.TOO_BIG;
    const over = 'packet of ' + size + ' bytes over the limit of ' + limit;
    if (!fromServer || type !== PacketType.PUBLISH) bad = over;
    else if (held < at + 2) return null;
    else {
      need = at + 2 + ((r.peek(at) << 8) | r.peek(at + 1)) + (flags & 6 ? 2 : 0); // fixed header, topic, packet identifier
      if (need > size) {
        code = ErrorCode.PROTOCOL;
        bad = 'string longer than its packet';
      } else if (need > r.capacity) bad = over + ', its topic over the ring';
    }
  }
  if (bad) return { type: 0, code: code, message: bad };
  if (held < need) return null;

  const s: Reader = { buf: r.bytes, wrap: r.capacity, pos: r.start + at, left: rl, bad: '' };
  if (s.pos >= s.wrap) s.pos -= s.wrap;
  let p: Decoded;
  switch (type) {
    case PacketType.CONNACK: {
      const ack = rd(s, R.U8);
      const rc = rd(s, R.U8);
      if (ack & 0xfe) s.bad = 'reserved CONNACK flags set';
      else if (rc > 5) s.bad = 'unknown CONNACK return code';
      p = { type: type, sessionPresent: (ack & 1) === 1, returnCode: rc };
      break;
    }
    case PacketType.PUBLISH: {
      const qos = ((flags >> 1) & 3) as QoS;
      const t: string = rd(s, R.TOPIC);
      const id: number = qos ? rd(s, R.ID) : 0;
      p = { type: type, topic: t, payload: rd(s, R.BYTES, big || s.left < 0 ? 0 : s.left), qos: qos, retain: (flags & 1) === 1, dup: (flags & 8) === 8, id: id };
      if (big) {
        p.size = size;
        s.left = 0; // the payload is the caller's to discard
      }
      break;
    }
    case PacketType.SUBACK: {
      const id: number = rd(s, R.ID);
      const codes: number[] = [];
      while (s.left > 0) {
        const c: number = rd(s, R.U8);
        if (c > 2 && c !== 0x80) s.bad = s.bad || 'bad SUBACK return code';
        codes.push(c);
      }
      if (codes.length === 0) s.bad = s.bad || 'SUBACK without return codes';
      p = { type: type, id: id, codes: codes };
      break;
    }
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
    case PacketType.DISCONNECT:
      p = { type: type };
      break;
    case PacketType.CONNECT: {
      const name: string = rd(s, R.STR);
      const level: number = rd(s, R.U8);
      const cf: number = rd(s, R.U8);
      const keepalive: number = rd(s, R.U16);
      if (!s.bad && (name !== 'MQTT' || level !== 4)) s.bad = 'not MQTT 3.1.1';
      if (cf & 1) s.bad = s.bad || 'reserved CONNECT flag set';
      const willQos = (cf >> 3) & 3;
      if (!(cf & 4) && cf & 0x38) s.bad = s.bad || 'will flags without a will';
      if (willQos === 3) s.bad = s.bad || 'will QoS 3';
      if (cf & 0x40 && !(cf & 0x80)) s.bad = s.bad || 'password without user name';
      const clientId: string = rd(s, R.STR);
      let will: Will | null = null;
      if (cf & 4) {
        const wt: string = rd(s, R.TOPIC);
        will = { topic: wt, payload: rd(s, R.PBYTES), qos: willQos as QoS, retain: (cf & 0x20) !== 0 };
      }
      const username: string | null = cf & 0x80 ? rd(s, R.STR) : null;
      const password: Uint8Array | null = cf & 0x40 ? rd(s, R.PBYTES) : null;
      p = { type: type, clientId: clientId, clean: (cf & 2) !== 0, keepalive: keepalive, will: will, username: username, password: password };
      break;
    }
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE: {
      const id: number = rd(s, R.ID);
      const topics: string[] = [];
      const qos: QoS[] = [];
      while (s.left > 0 && !s.bad) {
        topics.push(rd(s, R.FILTER));
        if (type === PacketType.SUBSCRIBE) {
          const q: number = rd(s, R.U8);
          if (q > 2) s.bad = 'bad requested QoS';
          qos.push(q as QoS);
        }
      }
      if (topics.length === 0) s.bad = s.bad || 'no topic filters';
      p = type === PacketType.SUBSCRIBE ? { type: type, id: id, topics: topics, qos: qos } : { type: PacketType.UNSUBSCRIBE, id: id, topics: topics };
      break;
    }
    default:
      // PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: just the packet identifier.
      p = { type: type as AckPacket['type'], id: rd(s, R.ID) };
  }
  if (!s.bad && s.left !== 0) s.bad = 'bytes left over in packet';
  if (s.bad) return { type: 0, code: ErrorCode.PROTOCOL, message: s.bad };
  if (!big) r.discard(size);
  return p;
}

/** `decode` for a client: `decode(r, limit, true)`. */
export function decodeFromServer(r: Ring, limit: number): Decoded | null {
  return decode(r, limit, true);
}

// ---------------------------------------------------------------- encoding
// The body is walked twice: once to count its bytes (no ring), once to write
// them after the fixed header, so no packet is assembled anywhere else.

/** What `wr` writes to: the ring (null while counting), the bytes counted, whether a value MQTT cannot carry was seen. One per encode call. */
interface Writer {
  out: Ring | null;
  count: number;
  bad: boolean;
}

/** What `wr` writes. */
const enum W {
  BYTE = 0,
  U16 = 1,
  /** A packet identifier (1–65535). */
  ID = 2,
  /** Bytes or UTF-8 text, as they are. */
  DATA = 3,
  /** Bytes or UTF-8 text behind a 2-byte length. */
  PDATA = 4,
  /** A topic name, or with FILTER a topic filter, behind its length. */
  TOPIC = 5,
  FILTER = 6,
  /** Only checks a QoS (writes nothing). */
  QOS = 7,
}

/** Counts (and, with `o.out` set, writes) one field; a value MQTT cannot carry sets `o.bad`. */
function wr(o: Writer, what: W, v: any): void {
  switch (what) {
    case W.QOS:
      if (v !== 0 && v !== 1 && v !== 2) o.bad = true;
      return;
    case W.BYTE:
      o.count++;
      if (o.out) o.out.writeByte(v);
      return;
    case W.ID:
    case W.U16:
      if (v < (what === W.ID ? 1 : 0) || v > 65535) o.bad = true;
      o.count += 2;
      if (o.out) {
        o.out.writeByte(v >> 8);
        o.out.writeByte(v & 255);
      }
      return;
  }
  if (what >= W.TOPIC && !validTopic(v, what === W.FILTER)) o.bad = true;
  const n = typeof v === 'string' ? utf8Length(v) : v.length;
  if (n < 0 || (what !== W.DATA && n > 65535)) {
    o.bad = true;
    return;
  }
  if (what !== W.DATA) wr(o, W.U16, n);
  o.count += n;
  if (o.out) {
    if (typeof v === 'string') utf8Write(v, o.out);
    else o.out.write(v);
  }
}

/**
 * Encodes `p`. With `out` null it only measures; with a ring it writes the
 * whole packet or, when the ring lacks room (or the packet is larger than
 * `room`, when given), nothing. Returns the packet's size, 0 when it was not
 * written for want of room, or -1 when `p` cannot be encoded (bad topic, QoS,
 * packet identifier, string, or a packet over the varint's range).
 */
export function encode(p: Packet, out: Ring | null, room?: number): number {
  const o: Writer = { out: null, count: 0, bad: false };
  let size = 0;
  // Pass 0 counts the body; pass 1 writes the fixed header, then the body.
  for (let pass = 0; pass < 2; pass++) {
    if (pass === 1) {
      const rl = o.count;
      if (o.bad || rl > MAX_REMAINING) return -1;
      size = 1 + (rl < 128 ? 1 : rl < 16384 ? 2 : rl < 2097152 ? 3 : 4) + rl;
      if (!out) return size;
      if (out.free < size || (room !== undefined && room < size)) return 0;
      let b0 = p.type << 4;
      if (p.type === PacketType.PUBLISH) b0 |= (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
      else if (p.type === PacketType.PUBREL || p.type === PacketType.SUBSCRIBE || p.type === PacketType.UNSUBSCRIBE) b0 |= 2;
      out.writeByte(b0);
      let n = rl;
      do {
        out.writeByte(n > 127 ? (n & 127) | 128 : n);
        n = n >> 7;
      } while (n > 0);
      o.out = out;
    }
    switch (p.type) {
      case PacketType.CONNECT: {
        const w = p.will;
        let cf = p.clean ? 2 : 0;
        if (w) {
          wr(o, W.QOS, w.qos);
          cf |= 4 | (w.qos << 3) | (w.retain ? 0x20 : 0);
        }
        if (p.username !== null && p.username !== undefined) cf |= 0x80;
        if (p.password !== null && p.password !== undefined) {
          if (!(cf & 0x80)) o.bad = true;
          cf |= 0x40;
        }
        wr(o, W.PDATA, 'MQTT');
        wr(o, W.BYTE, 4);
        wr(o, W.BYTE, cf);
        wr(o, W.U16, p.keepalive);
        wr(o, W.PDATA, p.clientId);
        if (w) {
          wr(o, W.TOPIC, w.topic);
          wr(o, W.PDATA, w.payload);
        }
        if (cf & 0x80) wr(o, W.PDATA, p.username);
        if (cf & 0x40) wr(o, W.PDATA, p.password);
        break;
      }
      case PacketType.CONNACK:
        if (p.returnCode < 0 || p.returnCode > 255) o.bad = true;
        wr(o, W.BYTE, p.sessionPresent ? 1 : 0);
        wr(o, W.BYTE, p.returnCode);
        break;
      case PacketType.PUBLISH:
        wr(o, W.QOS, p.qos);
        if (p.dup && !p.qos) o.bad = true;
        wr(o, W.TOPIC, p.topic);
        if (p.qos) wr(o, W.ID, p.id);
        wr(o, W.DATA, p.payload);
        break;
      case PacketType.SUBSCRIBE:
      case PacketType.UNSUBSCRIBE: {
        wr(o, W.ID, p.id);
        if (p.topics.length === 0) o.bad = true;
        for (let i = 0; i < p.topics.length; i++) {
          wr(o, W.FILTER, p.topics[i]);
          if (p.type === PacketType.SUBSCRIBE) {
            wr(o, W.QOS, p.qos[i]);
            wr(o, W.BYTE, p.qos[i]);
          }
        }
        break;
      }
      case PacketType.SUBACK:
        wr(o, W.ID, p.id);
        if (p.codes.length === 0) o.bad = true;
        for (let i = 0; i < p.codes.length; i++) {
          const c = p.codes[i];
          if (c !== 0x80) wr(o, W.QOS, c);
          wr(o, W.BYTE, c);
        }
        break;
      case PacketType.PINGREQ:
      case PacketType.PINGRESP:
      case PacketType.DISCONNECT:
        break;
      default:
        wr(o, W.ID, p.id);
    }
  }
  return size;
}
