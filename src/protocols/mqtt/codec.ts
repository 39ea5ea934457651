/**
 * MQTT 3.1.1 packets: a pure codec, no I/O and no timers.
 *
 * `decode` reads one packet in place from a Ring (a connection's `c.recv`, or
 * a ring the caller fills with chunks); `decodeFromServer` is the same for a
 * client, without the packets only servers receive. It is incremental by construction:
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

export const enum PacketType {
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
  /** Only on a PUBLISH over the limit, from `decodeFromServer`: its packet's size. Its payload was not read (empty here) and nothing was consumed. */
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
// One packet is read at a time, so the reader's state lives in module
// variables: no reader object per packet.

let rBuf: Uint8Array = new Uint8Array(0);
let rWrap = 0;
let rPos = 0;
let rLeft = 0;
let rBad = '';

function u8(): number {
  if (rLeft <= 0) {
    rBad = rBad || 'packet shorter than its fields';
    return 0;
  }
  rLeft--;
  const b = rBuf[rPos];
  if (++rPos === rWrap) rPos = 0;
  return b;
}

function u16(): number {
  return (u8() << 8) | u8();
}

function skip(n: number): void {
  rLeft -= n;
  rPos += n;
  if (rPos >= rWrap) rPos -= rWrap;
}

/** The next `n` bytes: a view when they are contiguous in the ring, else a copy. */
function take(n: number): Uint8Array {
  if (n > rLeft) {
    rBad = rBad || 'packet shorter than its fields';
    return new Uint8Array(0);
  }
  let v: Uint8Array;
  if (rPos + n <= rWrap) {
    v = rBuf.subarray(rPos, rPos + n);
  } else {
    v = new Uint8Array(n);
    const first = rWrap - rPos;
    v.set(rBuf.subarray(rPos, rWrap), 0);
    v.set(rBuf.subarray(0, n - first), first);
  }
  skip(n);
  return v;
}

function str(): string {
  const n = u16();
  if (n > rLeft) {
    rBad = rBad || 'string longer than its packet';
    return '';
  }
  const s = utf8Read(rBuf, rPos, n, rWrap);
  skip(n);
  if (s === null) {
    rBad = rBad || 'invalid UTF-8';
    return '';
  }
  return s;
}

function topic(filter: boolean): string {
  const t = str();
  if (!rBad && !validTopic(t, filter)) rBad = filter ? 'invalid topic filter' : 'invalid topic name';
  return t;
}

function packetId(): number {
  const id = u16();
  if (id === 0) rBad = rBad || 'packet identifier 0';
  return id;
}

function refuse(code: ErrorCode, message: string): DecodeError {
  return { type: 0, code: code, message: message };
}

/** Fixed header flags each type must carry (PUBLISH's vary and are checked apart). */
const FLAGS = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, -1];

/** Reads the body of a packet only a server receives (CONNECT, SUBSCRIBE, UNSUBSCRIBE). */
export type ServerBodies = (type: number) => Decoded;

/**
 * Decodes the packet at the front of `r`, of any of the 14 types: returns it
 * and discards its bytes; null when more bytes are needed (nothing consumed);
 * a DecodeError when the input is malformed or declares more than `limit`
 * bytes (nothing consumed: the caller disconnects). A received payload is a
 * view into `r` when it lies contiguously there: valid until `r` is written
 * again; copy it to keep it.
 */
export function decode(r: Ring, limit: number): Decoded | null {
  return decodeWith(r, limit, serverBodies);
}

/**
 * As `decode`, for a client: packets only a server receives are protocol
 * errors. (It keeps their parsing out of a client's bundle.) A PUBLISH over
 * the limit is not refused, since a client cannot refuse one message without
 * its session suffering (a broker resends it on every reconnect): once its
 * topic and packet identifier are held it is returned with an empty payload
 * and `size` set, and nothing consumed; the caller acknowledges it and
 * discards `size` bytes as they arrive. Only one whose head alone could never
 * be held in `r` is refused as TOO_BIG.
 */
export function decodeFromServer(r: Ring, limit: number): Decoded | null {
  return decodeWith(r, limit, null);
}

function decodeWith(r: Ring, limit: number, server: ServerBodies | null): Decoded | null {
  const held = r.length;
  if (held < 1) return null;
  const b0 = r.peek(0);
  const type = b0 >> 4;
  const flags = b0 & 15;
  if (FLAGS[type] < 0 && type !== PacketType.PUBLISH) return refuse(ErrorCode.PROTOCOL, 'reserved packet type ' + type);
  if (type === PacketType.PUBLISH) {
    if ((flags & 6) === 6) return refuse(ErrorCode.PROTOCOL, 'PUBLISH with QoS 3');
    if ((flags & 14) === 8) return refuse(ErrorCode.PROTOCOL, 'DUP set on QoS 0');
  } else if (flags !== FLAGS[type]) {
    return refuse(ErrorCode.PROTOCOL, 'reserved flags set');
  }
  if (!server && (type === PacketType.CONNECT || type === PacketType.SUBSCRIBE || type === PacketType.UNSUBSCRIBE || type === PacketType.PINGREQ || type === PacketType.DISCONNECT)) {
    return refuse(ErrorCode.PROTOCOL, 'packet type ' + type + ' from a server');
  }
  let rl = 0;
  let mul = 1;
  let at = 1;
  let b: number;
  do {
    if (at > 4) return refuse(ErrorCode.PROTOCOL, 'remaining length over 4 bytes');
    b = r.peek(at++);
    if (b < 0) return null;
    rl += (b & 127) * mul;
    mul *= 128;
  } while (b & 128);
  const fixed = type === PacketType.CONNACK || (type >= PacketType.PUBACK && type <= PacketType.PUBCOMP) || type === PacketType.UNSUBACK ? 2 : type >= PacketType.PINGREQ ? 0 : -1;
  if (fixed >= 0 && rl !== fixed) return refuse(ErrorCode.PROTOCOL, 'wrong remaining length for type ' + type);
  const size = at + rl;
  const big = size > limit;
  let need = size;
  if (big) {
    if (server || type !== PacketType.PUBLISH) return refuse(ErrorCode.TOO_BIG, 'packet of ' + size + ' bytes over the limit of ' + limit);
    if (held < at + 2) return null;
    need = at + 2 + ((r.peek(at) << 8) | r.peek(at + 1)) + (flags & 6 ? 2 : 0); // fixed header, topic, packet identifier
    if (need > size) return refuse(ErrorCode.PROTOCOL, 'string longer than its packet');
    if (need > r.capacity) return refuse(ErrorCode.TOO_BIG, 'packet of ' + size + ' bytes over the limit of ' + limit + ', its topic over the ring');
  }
  if (held < need) return null;

  rBuf = r.bytes;
  rWrap = r.capacity;
  rPos = r.start + at;
  if (rPos >= rWrap) rPos -= rWrap;
  rLeft = rl;
  rBad = '';
  let p: Decoded;
  switch (type) {
    case PacketType.CONNACK: {
      const ack = u8();
      const code = u8();
      if (ack & 0xfe) rBad = 'reserved CONNACK flags set';
      else if (code > 5) rBad = 'unknown CONNACK return code';
      p = { type: type, sessionPresent: (ack & 1) === 1, returnCode: code };
      break;
    }
    case PacketType.PUBLISH: {
      const qos = ((flags >> 1) & 3) as QoS;
      const t = topic(false);
      const id = qos ? packetId() : 0;
      p = { type: type, topic: t, payload: take(big || rLeft < 0 ? 0 : rLeft), qos: qos, retain: (flags & 1) === 1, dup: (flags & 8) === 8, id: id };
      if (big) {
        p.size = size;
        rLeft = 0; // the payload is the caller's to discard
      }
      break;
    }
    case PacketType.SUBACK: {
      const id = packetId();
      const codes: number[] = [];
      while (rLeft > 0) {
        const c = u8();
        if (c > 2 && c !== 0x80) rBad = rBad || 'bad SUBACK return code';
        codes.push(c);
      }
      if (codes.length === 0) rBad = rBad || 'SUBACK without return codes';
      p = { type: type, id: id, codes: codes };
      break;
    }
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
    case PacketType.DISCONNECT:
      p = { type: type };
      break;
    case PacketType.CONNECT:
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE:
      p = (server as ServerBodies)(type);
      break;
    default:
      // PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: just the packet identifier.
      p = { type: type as AckPacket['type'], id: packetId() };
  }
  if (!rBad && rLeft !== 0) rBad = 'bytes left over in packet';
  if (rBad) return refuse(ErrorCode.PROTOCOL, rBad);
  if (!big) r.discard(size);
  return p;
}

/** The bodies of CONNECT, SUBSCRIBE and UNSUBSCRIBE, read with the reader `decodeWith` set up. */
function serverBodies(type: number): Decoded {
  if (type === PacketType.CONNECT) {
    const name = str();
    const level = u8();
    const cf = u8();
    const keepalive = u16();
    if (!rBad && (name !== 'MQTT' || level !== 4)) rBad = 'not MQTT 3.1.1';
    if (cf & 1) rBad = rBad || 'reserved CONNECT flag set';
    const willQos = (cf >> 3) & 3;
    if (!(cf & 4) && cf & 0x38) rBad = rBad || 'will flags without a will';
    if (willQos === 3) rBad = rBad || 'will QoS 3';
    if (cf & 0x40 && !(cf & 0x80)) rBad = rBad || 'password without user name';
    const clientId = str();
    let will: Will | null = null;
    if (cf & 4) {
      const wt = topic(false);
      will = { topic: wt, payload: take(u16()), qos: willQos as QoS, retain: (cf & 0x20) !== 0 };
    }
    const username = cf & 0x80 ? str() : null;
    const password = cf & 0x40 ? take(u16()) : null;
    return { type: type, clientId: clientId, clean: (cf & 2) !== 0, keepalive: keepalive, will: will, username: username, password: password };
  }
  const id = packetId();
  const topics: string[] = [];
  const qos: QoS[] = [];
  while (rLeft > 0 && !rBad) {
    topics.push(topic(true));
    if (type === PacketType.SUBSCRIBE) {
      const q = u8();
      if (q > 2) rBad = 'bad requested QoS';
      qos.push(q as QoS);
    }
  }
  if (topics.length === 0) rBad = rBad || 'no topic filters';
  return type === PacketType.SUBSCRIBE ? { type: type, id: id, topics: topics, qos: qos } : { type: PacketType.UNSUBSCRIBE, id: id, topics: topics };
}

// ---------------------------------------------------------------- encoding
// The body is walked twice: once to count its bytes (no ring), once to write
// them after the fixed header, so no packet is assembled anywhere else.

let wOut: Ring | null = null;
let wCount = 0;
let wBad = false;

function wb(b: number): void {
  wCount++;
  if (wOut) wOut.writeByte(b);
}

function w16(n: number): void {
  if (n < 0 || n > 65535) wBad = true;
  wb(n >> 8);
  wb(n & 255);
}

/** Bytes or UTF-8 text, behind a 2-byte length when `prefixed`. */
function wdata(d: Data, prefixed: boolean): void {
  const n = typeof d === 'string' ? utf8Length(d) : d.length;
  if (n < 0 || (prefixed && n > 65535)) {
    wBad = true;
    return;
  }
  if (prefixed) w16(n);
  wCount += n;
  if (wOut) {
    if (typeof d === 'string') utf8Write(d, wOut);
    else wOut.write(d);
  }
}

function wtopic(t: string, filter: boolean): void {
  if (!validTopic(t, filter)) wBad = true;
  wdata(t, true);
}

function wid(id: number): void {
  if (id < 1 || id > 65535) wBad = true;
  w16(id);
}

function wqos(q: number): void {
  if (q !== 0 && q !== 1 && q !== 2) wBad = true;
}

function body(p: Packet): void {
  switch (p.type) {
    case PacketType.CONNECT: {
      const w = p.will;
      let cf = p.clean ? 2 : 0;
      if (w) {
        wqos(w.qos);
        cf |= 4 | (w.qos << 3) | (w.retain ? 0x20 : 0);
      }
      if (p.username !== null && p.username !== undefined) cf |= 0x80;
      if (p.password !== null && p.password !== undefined) {
        if (!(cf & 0x80)) wBad = true;
        cf |= 0x40;
      }
      wdata('MQTT', true);
      wb(4);
      wb(cf);
      w16(p.keepalive);
      wdata(p.clientId, true);
      if (w) {
        wtopic(w.topic, false);
        wdata(w.payload, true);
      }
      if (cf & 0x80) wdata(p.username as string, true);
      if (cf & 0x40) wdata(p.password as Data, true);
      break;
    }
    case PacketType.CONNACK:
      if (p.returnCode < 0 || p.returnCode > 255) wBad = true;
      wb(p.sessionPresent ? 1 : 0);
      wb(p.returnCode);
      break;
    case PacketType.PUBLISH:
      wqos(p.qos);
      if (p.dup && !p.qos) wBad = true;
      wtopic(p.topic, false);
      if (p.qos) wid(p.id);
      wdata(p.payload, false);
      break;
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE: {
      wid(p.id);
      if (p.topics.length === 0) wBad = true;
      for (let i = 0; i < p.topics.length; i++) {
        wtopic(p.topics[i], true);
        if (p.type === PacketType.SUBSCRIBE) {
          wqos(p.qos[i]);
          wb(p.qos[i]);
        }
      }
      break;
    }
    case PacketType.SUBACK:
      wid(p.id);
      if (p.codes.length === 0) wBad = true;
      for (let i = 0; i < p.codes.length; i++) {
        const c = p.codes[i];
        if (c !== 0x80) wqos(c);
        wb(c);
      }
      break;
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
    case PacketType.DISCONNECT:
      break;
    default:
      wid(p.id);
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
  wOut = null;
  wCount = 0;
  wBad = false;
  body(p);
  const rl = wCount;
  if (wBad || rl > MAX_REMAINING) return -1;
  const size = 1 + (rl < 128 ? 1 : rl < 16384 ? 2 : rl < 2097152 ? 3 : 4) + rl;
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
  wOut = out;
  body(p);
  wOut = null;
  return size;
}
