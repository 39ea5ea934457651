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
  /**
   * Publishes in flight (sent, not yet completed): their packet identifiers
   * and outbox records, in a ring in the order sent. A completed one leaves a
   * hole (id 0) until the head passes it; acknowledgements normally come in
   * order, so lookups hit the head. The window is full when the ring is.
   * Typed arrays: a few bytes per entry on Espruino.
   */
  private readonly flightId: Uint16Array;
  private readonly flightAt: Int32Array;
  private flightHead = 0;
  private flightSpan = 0;
  inFlight = 0;
  /** The identifier sent last, and whether identifiers went out in increasing order (then one outside [oldest, last] is free without a scan). */
  private lastSentId = 0;
  private flightOrdered = true;
  /**
   * QoS 2 identifiers received and not yet released (PUBREL), so a resent
   * PUBLISH is not delivered twice. Kept as ranges [lo, hi] of consecutive
   * identifiers: brokers number messages in sequence, and mosquitto can leave
   * hundreds awaiting PUBREL during a burst, which is then a single range.
   */
  private readonly rx: Uint16Array;
  rxRanges = 0;
  private readonly maxRx: number;
  readonly subs: Subscription[] = [];
  private nextId = 1;
  /** QoS 2 publishes the broker completed with PUBACK, as QoS 1. */
  downgraded = 0;
  /** Messages received over the receive limit: acknowledged, not delivered. */
  skipped = 0;
  /** When the last packet was queued for the broker (keepalive counts from it, and from when the broker last sent). */
  lastSend = 0;
  private readonly emit: Emit;

  constructor(outbox: Outbox, maxInflight: number, maxRx: number, emit: Emit) {
    this.outbox = outbox;
    this.maxInflight = maxInflight > 0 ? maxInflight : 1;
    this.maxRx = maxRx > 0 ? maxRx : 1;
    this.emit = emit;
    this.flightId = new Uint16Array(this.maxInflight);
    this.flightAt = new Int32Array(this.maxInflight);
    this.rx = new Uint16Array(2 * this.maxRx);
    if (outbox.restoredId) this.nextId = outbox.restoredId >= 65535 ? 1 : outbox.restoredId + 1;
    const self = this;
    outbox.onDrop = function (at, reason, topic, qos, id) {
      if (at >= 0) {
        const k = self.flightIndex(id);
        if (k >= 0 && self.flightAt[k] === at) self.land(k);
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
    if (!qos && c && this.outbox.live === 0) {
      // Fast path: nothing waits ahead of it, so it can go straight into the send ring (within the limit every publish has).
      const n = encode(p, c.unsent, this.room(c, false));
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
    this.stop();
    this.outbox.rewind();
    if (!sessionPresent) this.rxRanges = 0; // a new session: old QoS 2 identifiers mean nothing now
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

  /** The connection is gone: nothing is in flight any more; what was goes again after the next CONNACK. */
  stop(): void {
    this.inFlight = this.flightSpan = this.flightHead = 0;
    this.flightOrdered = true;
  }

  /** Sends what waits: subscription changes first, then outbox records within the in-flight window. */
  pump(c: Connection): void {
    if (this.room(c, false) < 0) return;
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
      if (qos && (this.flightSpan >= this.maxInflight || this.inUse(id))) break;
      const released = ob.isReleased(at);
      const size = released ? 4 : ob.size(at) - 1;
      if (size > this.room(c, true)) {
        ob.advance();
        ob.drop(at, DropReason.TOO_BIG); // could never be sent on this connection
        continue;
      }
      if (size > this.room(c, false)) break;
      if (released) this.writeAck(out, PacketType.PUBREL, id);
      else out.write(ob.buf, at + 1, size);
      ob.advance();
      wrote = true;
      if (qos) {
        this.fly(id, at);
        ob.setDup(at);
      } else {
        ob.finish(at);
      }
    }
    if (wrote) this.sent(c);
  }

  // ------------------------------------------------------------ packets from the broker

  /**
   * Handles PUBLISH, the acknowledgements and SUBACK/UNSUBACK. The caller made
   * sure 4 bytes fit in the send ring. A PUBLISH over the receive limit (with
   * `size`) is acknowledged like any other and reported as SKIPPED.
   */
  handle(c: Connection, p: Packet): void {
    switch (p.type) {
      case PacketType.PUBLISH: {
        const m = p as Message;
        if (m.qos === 1) {
          this.ack(c, PacketType.PUBACK, m.id);
        } else if (m.qos === 2) {
          this.ack(c, PacketType.PUBREC, m.id);
          if (this.rxFind(m.id) >= 0) return; // already delivered; the broker resent it
          this.rxAdd(m.id);
        }
        if (m.size) this.skipped++;
        this.emit(m.size ? MqttEv.SKIPPED : MqttEv.MESSAGE, m);
        return;
      }
      case PacketType.PUBACK:
      case PacketType.PUBCOMP: {
        const k = this.flightIndex(p.id);
        if (k < 0) return; // not ours (any more): dropped, or from before a restart
        const at = this.flightAt[k];
        let qos = this.outbox.qos(at);
        if (p.type === PacketType.PUBCOMP && qos !== 2) return;
        if (p.type === PacketType.PUBACK && qos === 2) {
          // The broker downgraded a QoS 2 publish to QoS 1 (RabbitMQ does): done at QoS 1, as other clients take it.
          this.downgraded++;
          qos = 1;
        }
        this.land(k);
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
        this.rxRemove(p.id);
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

  /**
   * The one limit on a publish (or PUBREL) going into the send ring, whatever
   * its QoS: the bytes it may take now, or with `ever` on this connection at
   * all, so that RESERVE bytes stay free behind it. Negative: nothing may go now.
   */
  private room(c: Connection, ever: boolean): number {
    return (ever ? c.unsent.capacity : c.canSend(RESERVE) ? c.unsent.free : 0) - RESERVE;
  }

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
    if (this.inFlight > 0) {
      const oldest = this.flightId[this.flightHead];
      const outside = this.flightOrdered && ((id - oldest) & 0xffff) > ((this.lastSentId - oldest) & 0xffff);
      if (!outside && this.flightIndex(id) >= 0) return true;
    }
    for (let i = 0; i < this.subs.length; i++) {
      const s = this.subs[i];
      if (s.id === id && (s.state === Sub.SUBSCRIBE_SENT || s.state === Sub.UNSUBSCRIBE_SENT)) return true;
    }
    return false;
  }

  /** The ring slot of `id` in flight, or -1. */
  private flightIndex(id: number): number {
    const max = this.maxInflight;
    let k = this.flightHead;
    for (let n = 0; n < this.flightSpan; n++) {
      if (this.flightId[k] === id) return k;
      if (++k === max) k = 0;
    }
    return -1;
  }

  private fly(id: number, at: number): void {
    if (this.inFlight === 0) this.flightOrdered = true;
    else {
      const step = (id - this.lastSentId) & 0xffff;
      if (step === 0 || step >= 0x8000) this.flightOrdered = false;
    }
    let k = this.flightHead + this.flightSpan;
    if (k >= this.maxInflight) k -= this.maxInflight;
    this.flightId[k] = id;
    this.flightAt[k] = at;
    this.flightSpan++;
    this.inFlight++;
    this.lastSentId = id;
  }

  /** Slot `k` completed (or its record was dropped). */
  private land(k: number): void {
    this.flightId[k] = 0;
    this.inFlight--;
    while (this.flightSpan > 0 && this.flightId[this.flightHead] === 0) {
      if (++this.flightHead === this.maxInflight) this.flightHead = 0;
      this.flightSpan--;
    }
  }

  private rxFind(id: number): number {
    const r = this.rx;
    for (let k = 0; k < this.rxRanges; k++) if (r[2 * k] <= id && id <= r[2 * k + 1]) return k;
    return -1;
  }

  private rxAdd(id: number): void {
    const r = this.rx;
    for (let k = 0; k < this.rxRanges; k++) {
      if (r[2 * k + 1] + 1 === id) {
        r[2 * k + 1] = id; // the usual case: the next in sequence
        const j = this.rxFind(id + 1);
        if (j >= 0) {
          r[2 * k + 1] = r[2 * j + 1]; // it closed a gap: one range again
          this.rxDrop(j);
        }
        return;
      }
      if (r[2 * k] - 1 === id) {
        r[2 * k] = id;
        const j = this.rxFind(id - 1);
        if (j >= 0) {
          r[2 * k] = r[2 * j];
          this.rxDrop(j);
        }
        return;
      }
    }
    // Full: forget the oldest range (its PUBRELs are long overdue). A resend of one of its messages would be delivered again.
    if (this.rxRanges === this.maxRx) this.rxDrop(0);
    r[2 * this.rxRanges] = r[2 * this.rxRanges + 1] = id;
    this.rxRanges++;
  }

  private rxRemove(id: number): void {
    const r = this.rx;
    let k = this.rxFind(id);
    if (k < 0) return;
    const lo = r[2 * k];
    const hi = r[2 * k + 1];
    if (lo === hi) this.rxDrop(k);
    else if (id === lo) r[2 * k] = id + 1; // the usual case: released in order
    else if (id === hi) r[2 * k + 1] = id - 1;
    else {
      if (this.rxRanges === this.maxRx) {
        this.rxDrop(0);
        k = this.rxFind(id);
        if (k < 0) return;
      }
      r[2 * this.rxRanges] = id + 1;
      r[2 * this.rxRanges + 1] = hi;
      this.rxRanges++;
      r[2 * k + 1] = id - 1;
    }
  }

  private rxDrop(k: number): void {
    const r = this.rx;
    this.rxRanges--;
    for (let i = 2 * k; i < 2 * this.rxRanges; i++) r[i] = r[i + 2];
  }
}
