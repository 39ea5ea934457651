/**
 * The MQTT session: what outlives a connection. Packet identifiers, the
 * in-flight window over the outbox, the QoS 1/2 state machines in both
 * directions, resending with DUP after a reconnect, and the subscriptions to
 * renew when the broker kept no session.
 *
 * It writes packets straight into the connection's send ring and never waits:
 * what cannot be sent now stays in the outbox (or marked unsent) and `pump`
 * sends it on the next SEND event.
 */
import type { Connection } from '../../core/connection.js';
import type { Ring } from '../../core/ring.js';
import { encode, PacketType, validTopic } from './codec.js';
import type { Message, Packet, PublishPacket, QoS, Data } from './codec.js';
import { MqttEv } from './events.js';
import type { MqttEvents } from './events.js';
import { DropReason, Outbox } from './outbox.js';
import { utf8Length } from '../utf8.js';

/** Send-ring bytes a publish leaves free, so an ack or PINGREQ always fits behind it. */
const RESERVE = 8;

const enum Sub {
  TO_SUBSCRIBE = 0,
  SUBSCRIBE_SENT = 1,
  SUBSCRIBED = 2,
  TO_UNSUBSCRIBE = 3,
  UNSUBSCRIBE_SENT = 4,
}

interface Subscription {
  topic: string;
  qos: QoS;
  state: Sub;
  id: number;
}

export type Emit = <K extends keyof MqttEvents>(ev: K, data: MqttEvents[K]) => void;

export class Session {
  readonly outbox: Outbox;
  readonly maxInflight: number;
  /** Packet identifiers in flight (sent, not yet completed) and their outbox records. */
  private readonly flightId: number[] = [];
  private readonly flightAt: number[] = [];
  inFlight = 0;
  /** QoS 2 identifiers received and not yet released (PUBREL): a resent PUBLISH with one is not delivered twice. */
  private readonly rxIds: number[] = [];
  private rxCount = 0;
  private readonly maxRx: number;
  readonly subs: Subscription[] = [];
  private nextId = 1;
  /** When the last packet was queued for the broker (keepalive counts from it). */
  lastSend = 0;
  private readonly emit: Emit;

  constructor(outbox: Outbox, maxInflight: number, maxRx: number, emit: Emit) {
    this.outbox = outbox;
    this.maxInflight = maxInflight > 0 ? maxInflight : 1;
    this.maxRx = maxRx > 0 ? maxRx : 1;
    this.emit = emit;
    for (let i = 0; i < this.maxInflight; i++) {
      this.flightId.push(0);
      this.flightAt.push(0);
    }
    for (let i = 0; i < this.maxRx; i++) this.rxIds.push(0);
    if (outbox.restoredId) this.nextId = outbox.restoredId >= 65535 ? 1 : outbox.restoredId + 1;
    const self = this;
    outbox.onDrop = function (at, reason, topic, qos, id) {
      if (at >= 0) {
        const k = self.flightIndex(id);
        if (k >= 0 && self.flightAt[k] === at) self.forget(k);
      }
      self.emit(MqttEv.DROPPED, { reason: reason, topic: topic, qos: qos, id: id, total: outbox.dropped });
    };
  }

  // ------------------------------------------------------------ user calls

  /**
   * Publishes, or queues in the outbox when `c` is null (not connected), the
   * send ring is full, or the message needs an acknowledgement. Returns the
   * packet identifier (0 for QoS 0), or -1 when refused: invalid, or dropped
   * by the outbox (reported as DROPPED).
   */
  publish(c: Connection | null, topic: string, payload: Data, qos: QoS, retain: boolean): number {
    const p: PublishPacket = { type: PacketType.PUBLISH, topic: topic, payload: payload, qos: qos, retain: retain, dup: false, id: 0 };
    if (!qos && c && this.outbox.live === 0 && c.canSend(RESERVE)) {
      // Fast path: nothing waits ahead of it, so it can go straight into the send ring.
      const n = encode(p, c.unsent);
      if (n < 0) return -1;
      if (n > 0) {
        this.sent(c);
        return 0;
      }
    }
    if (qos) p.id = this.takeId();
    const at = this.outbox.add(p);
    if (at < 0) return -1;
    if (c) this.pump(c);
    return p.id;
  }

  subscribe(c: Connection | null, topic: string, qos: QoS): boolean {
    if (!validTopic(topic, true) || utf8Length(topic) < 0 || !(qos >= 0 && qos <= 2)) return false;
    const s = this.subscription(topic);
    s.qos = qos;
    s.state = Sub.TO_SUBSCRIBE;
    if (c) this.pump(c);
    return true;
  }

  unsubscribe(c: Connection | null, topic: string): boolean {
    if (!validTopic(topic, true) || utf8Length(topic) < 0) return false;
    this.subscription(topic).state = Sub.TO_UNSUBSCRIBE;
    if (c) this.pump(c);
    return true;
  }

  private subscription(topic: string): Subscription {
    for (let i = 0; i < this.subs.length; i++) if (this.subs[i].topic === topic) return this.subs[i];
    const s: Subscription = { topic: topic, qos: 0, state: Sub.TO_SUBSCRIBE, id: 0 };
    this.subs.push(s);
    return s;
  }

  // ------------------------------------------------------------ connection life

  /**
   * CONNACK accepted: resend what is unacknowledged (PUBLISH with DUP, or
   * PUBREL once PUBREC came), renew subscriptions the broker does not have.
   */
  start(c: Connection, sessionPresent: boolean): void {
    this.inFlight = 0;
    this.outbox.rewind();
    if (!sessionPresent) this.rxCount = 0; // a new session: old QoS 2 identifiers mean nothing now
    const subs = this.subs;
    for (let i = subs.length - 1; i >= 0; i--) {
      const s = subs[i];
      if (!sessionPresent) {
        if (s.state >= Sub.TO_UNSUBSCRIBE) subs.splice(i, 1);
        else s.state = Sub.TO_SUBSCRIBE;
      } else if (s.state === Sub.SUBSCRIBE_SENT || s.state === Sub.UNSUBSCRIBE_SENT) {
        s.state--; // the answer may have been lost with the connection: ask again
      }
    }
    this.pump(c);
  }

  /** Sends what waits: subscription changes first, then outbox records within the in-flight window. */
  pump(c: Connection): void {
    if (!c.canSend(RESERVE)) return;
    let wrote = false;
    const subs = this.subs;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i];
      if (s.state !== Sub.TO_SUBSCRIBE && s.state !== Sub.TO_UNSUBSCRIBE) continue;
      const id = this.freeId();
      const p: Packet =
        s.state === Sub.TO_SUBSCRIBE
          ? { type: PacketType.SUBSCRIBE, id: id, topics: [s.topic], qos: [s.qos] }
          : { type: PacketType.UNSUBSCRIBE, id: id, topics: [s.topic] };
      if (encode(p, c.unsent) <= 0) break;
      s.id = id;
      s.state++;
      wrote = true;
    }
    const ob = this.outbox;
    const out = c.unsent;
    for (;;) {
      const at = ob.next();
      if (at < 0) break;
      const qos = ob.qos(at);
      const id = ob.id(at);
      if (qos && (this.inFlight >= this.maxInflight || this.inUse(id))) break;
      const released = ob.isReleased(at);
      const size = released ? 4 : ob.size(at) - 1;
      if (size + RESERVE > out.capacity) {
        ob.advance();
        ob.drop(at, DropReason.TOO_BIG); // could never be sent on this connection
        continue;
      }
      if (!c.canSend(size + RESERVE)) break;
      if (released) this.writeAck(out, PacketType.PUBREL, id);
      else out.write(ob.buf, at + 1, size);
      ob.advance();
      wrote = true;
      if (qos) {
        this.flightId[this.inFlight] = id;
        this.flightAt[this.inFlight++] = at;
        ob.setDup(at);
      } else {
        ob.finish(at);
      }
    }
    if (wrote) this.sent(c);
  }

  // ------------------------------------------------------------ packets from the broker

  /** Handles PUBLISH, the acknowledgements and SUBACK/UNSUBACK. The caller made sure 4 bytes fit in the send ring. */
  handle(c: Connection, p: Packet): void {
    switch (p.type) {
      case PacketType.PUBLISH: {
        const m = p as Message;
        if (m.qos === 1) {
          this.ack(c, PacketType.PUBACK, m.id);
        } else if (m.qos === 2) {
          this.ack(c, PacketType.PUBREC, m.id);
          if (this.rxIndex(m.id) >= 0) return; // already delivered; the broker resent it
          if (this.rxCount === this.maxRx) this.rxRemove(0); // full: forget the oldest (its PUBREL is long overdue)
          this.rxIds[this.rxCount++] = m.id;
        }
        this.emit(MqttEv.MESSAGE, m);
        return;
      }
      case PacketType.PUBACK:
      case PacketType.PUBCOMP: {
        const k = this.flightIndex(p.id);
        if (k < 0) return; // not ours (any more): dropped, or from before a restart
        const at = this.flightAt[k];
        const qos = this.outbox.qos(at);
        if ((p.type === PacketType.PUBACK) !== (qos === 1)) return;
        this.forget(k);
        this.outbox.finish(at);
        this.emit(MqttEv.PUBACK, { id: p.id, qos: qos });
        this.pump(c);
        return;
      }
      case PacketType.PUBREC: {
        const k = this.flightIndex(p.id);
        if (k >= 0 && this.outbox.qos(this.flightAt[k]) === 2) this.outbox.release(this.flightAt[k]);
        this.ack(c, PacketType.PUBREL, p.id); // even when unknown, so the broker can let go of it
        return;
      }
      case PacketType.PUBREL: {
        const k = this.rxIndex(p.id);
        if (k >= 0) this.rxRemove(k);
        this.ack(c, PacketType.PUBCOMP, p.id);
        return;
      }
      case PacketType.SUBACK:
      case PacketType.UNSUBACK: {
        const subs = this.subs;
        const want = p.type === PacketType.SUBACK ? Sub.SUBSCRIBE_SENT : Sub.UNSUBSCRIBE_SENT;
        for (let i = 0; i < subs.length; i++) {
          const s = subs[i];
          if (s.state !== want || s.id !== p.id) continue;
          if (p.type === PacketType.SUBACK) {
            const code = p.codes[0];
            if (code === 0x80) subs.splice(i, 1);
            else s.state = Sub.SUBSCRIBED;
            this.emit(MqttEv.SUBACK, { topic: s.topic, qos: code });
          } else {
            subs.splice(i, 1);
            this.emit(MqttEv.UNSUBACK, { topic: s.topic });
          }
          break;
        }
        this.pump(c);
        return;
      }
    }
  }

  // ------------------------------------------------------------ helpers

  /** Writes a 4-byte acknowledgement. */
  private writeAck(out: Ring, type: PacketType, id: number): void {
    out.writeByte((type << 4) | (type === PacketType.PUBREL ? 2 : 0));
    out.writeByte(2);
    out.writeByte(id >> 8);
    out.writeByte(id & 255);
  }

  private ack(c: Connection, type: PacketType, id: number): void {
    if (!c.canSend(4)) return; // the caller checked; only a closing connection gets here
    this.writeAck(c.unsent, type, id);
    this.sent(c);
  }

  /** Queues a packet with no body (PINGREQ, DISCONNECT). */
  sendEmpty(c: Connection, type: PacketType): boolean {
    if (!c.canSend(2)) return false;
    c.unsent.writeByte(type << 4);
    c.unsent.writeByte(0);
    this.sent(c);
    return true;
  }

  /** Bytes went into `c.unsent` directly: an empty send asks the manager to flush them. */
  sent(c: Connection): void {
    this.lastSend = c.now();
    c.send('');
  }

  /** The next identifier in sequence, for a publish being queued (checked against use when it is sent). */
  private takeId(): number {
    const id = this.nextId;
    this.nextId = id >= 65535 ? 1 : id + 1;
    return id;
  }

  /** An identifier nothing in flight uses (for SUBSCRIBE / UNSUBSCRIBE). */
  private freeId(): number {
    for (;;) {
      const id = this.takeId();
      if (!this.inUse(id)) return id;
    }
  }

  /** Whether `id` is awaiting an answer: a publish in flight or a (un)subscribe sent. */
  private inUse(id: number): boolean {
    if (this.flightIndex(id) >= 0) return true;
    for (let i = 0; i < this.subs.length; i++) {
      const s = this.subs[i];
      if (s.id === id && (s.state === Sub.SUBSCRIBE_SENT || s.state === Sub.UNSUBSCRIBE_SENT)) return true;
    }
    return false;
  }

  private flightIndex(id: number): number {
    for (let k = 0; k < this.inFlight; k++) if (this.flightId[k] === id) return k;
    return -1;
  }

  private forget(k: number): void {
    const last = --this.inFlight;
    this.flightId[k] = this.flightId[last];
    this.flightAt[k] = this.flightAt[last];
  }

  /** Removes entry `k`, keeping the rest in arrival order. */
  private rxRemove(k: number): void {
    const ids = this.rxIds;
    this.rxCount--;
    for (let i = k; i < this.rxCount; i++) ids[i] = ids[i + 1];
  }

  private rxIndex(id: number): number {
    for (let k = 0; k < this.rxCount; k++) if (this.rxIds[k] === id) return k;
    return -1;
  }
}
