/**
 * The MQTT session: what outlives a connection. Packet identifiers, the
 * in-flight window over the outbox, the QoS 1/2 state machines in both
 * directions, resending with DUP after a reconnect, and the subscriptions to
 * renew when the broker kept no session.
 *
 * It writes packets straight into the connection's send ring (`conn`, once
 * `open`) and never waits: what cannot be sent now stays in the outbox (or
 * marked unsent) and `ctl(PUMP)` sends it on the next SEND event. MqttClient
 * extends it with the connection's life; on its own it serves tests, on a
 * connection set by hand.
 *
 * On Espruino every function object costs RAM (about 7 variables for a
 * method), so related steps share one method with a switch (`ctl`, `ids`)
 * and helpers called from one place are written there.
 */
import type { Connection } from '../../core/connection.js';
import { encode, PacketType, validTopic } from './codec.js';
import type { Message, Packet, PublishPacket, QoS, Data } from './codec.js';
import { DropReason, MqttEv } from './events.js';
import type { MqttDropped, MqttEvents } from './events.js';
import { Field, Outbox } from './outbox.js';
import { utf8Length } from '../utf8.js';

/** Send-ring bytes a publish leaves free, so an ack or PINGREQ always fits behind it. */
const RESERVE = 8;

/** `ctl`'s type for bytes already written: only note the time and flush. */
export const SENT = 0;
/** `ctl`'s type for sending what waits: subscription changes, then the outbox (one method: each costs RAM on the device). */
export const PUMP = -1;

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

/**
 * What `ids` does: with the publishes in flight, or with the QoS 2
 * identifiers received and awaiting PUBREL. One method for both: on the
 * device each function object costs RAM.
 */
const enum Ids {
  /** The range of received identifiers holding `id`, or -1. */
  FIND = 0,
  /** Adds a received `id`: returns 1 when it is new, 0 when it was held already (a resend). */
  ADD = 1,
  /** Forgets a received `id` (its PUBREL came). */
  REMOVE = 2,
  /** Forgets range number `id`. */
  DROP = 3,
  /** The window slot of `id` in flight, or -1. */
  FLYING = 4,
  /** Whether `id` awaits an answer at all: its window slot, 65536 for a (un)subscribe sent, or -1. */
  AWAITED = 5,
  /** Slot `id` completed (or its record was dropped): it leaves the window. */
  LAND = 6,
}

/** Receives every event, narrowed by `ev` (MqttClient passes itself as `s`). */
export type SessionHandler = (s: any, ev: any, data: any) => void;

export class Session {
  readonly outbox: Outbox;
  readonly maxInflight: number;
  /** The broker connection, or null between connections. */
  conn: Connection | null = null;
  /** CONNACK accepted on `conn`: publishes go straight out. */
  open = false;
  handler: SessionHandler | null;
  /** The application's own value: a handler made once for every client finds its app here (undefined until set). */
  userData: any;
  /**
   * Publishes in flight (sent, not yet completed): their packet identifiers
   * and outbox records, in a ring in the order sent. A completed one leaves a
   * hole (id 0) until the head passes it; acknowledgements normally come in
   * order, so lookups hit the head. The window is full when the ring is.
   * Typed arrays: a few bytes per entry on Espruino. All three of the
   * session's are views of one Int32Array: an array type used nowhere else
   * (Uint16Array) makes Espruino keep its constructor and prototype, 8
   * variables, and each array its own header.
   */
  private readonly flightId: Int32Array;
  private readonly flightAt: Int32Array;
  private flightHead = 0;
  private flightSpan = 0;
  /** Publishes sent and not yet acknowledged: stats() answers it as `inFlight` (a name the device build keeps long). */
  flying = 0;
  /** The identifier sent last, and whether identifiers went out in increasing order (then one outside [oldest, last] is free without a scan). */
  private lastSentId = 0;
  /** 0 or 1, not a boolean: a variable less on the device. */
  private flightOrdered = 1;
  /**
   * QoS 2 identifiers received and not yet released (PUBREL), so a resent
   * PUBLISH is not delivered twice. Kept as ranges [lo, hi] of consecutive
   * identifiers: brokers number messages in sequence, and mosquitto can leave
   * hundreds awaiting PUBREL during a burst, which is then a single range.
   */
  private readonly rxIds: Int32Array;
  rxRanges = 0;
  private readonly maxRx: number;
  readonly subs: Subscription[] = [];
  private nextId = 1;
  /** QoS 2 publishes the broker completed with PUBACK, as QoS 1. */
  downgrades = 0;
  /** Messages received over the receive limit: acknowledged, not delivered. */
  oversized = 0;
  /** When the last packet was queued for the broker (keepalive counts from it, and from when the broker last sent). */
  lastSend = 0;

  constructor(outbox: Outbox, maxInflight: number, maxRx: number, handler: SessionHandler | null) {
    this.outbox = outbox;
    this.maxInflight = maxInflight > 0 ? maxInflight : 1;
    this.maxRx = maxRx > 0 ? maxRx : 1;
    this.handler = handler;
    const max = this.maxInflight;
    const all = new Int32Array(2 * max + 2 * this.maxRx);
    this.flightId = all.subarray(0, max);
    this.flightAt = all.subarray(max, 2 * max);
    this.rxIds = all.subarray(2 * max);
    if (outbox.restoredId) this.nextId = outbox.restoredId >= 65535 ? 1 : outbox.restoredId + 1;
    outbox.sink = this; // drops come back through report()
  }

  // ------------------------------------------------------------ user calls

  /**
   * Publishes `payload` (bytes, or a string sent as UTF-8) to `topic`, or
   * queues it in the outbox when not open, the send ring is full, or the
   * message needs an acknowledgement. Returns the packet identifier (0 for
   * QoS 0), or -1 when refused: an invalid topic or packet, or dropped by a
   * full outbox (then also reported as DROPPED).
   */
  publish(topic: string, payload: Data, qos?: QoS, retain?: boolean): number {
    const c = this.open ? this.conn : null;
    const p: PublishPacket = { type: PacketType.PUBLISH, topic: topic, payload: payload, qos: qos || 0, retain: !!retain, dup: false, id: 0 };
    if (!qos && c && this.outbox.live === 0) {
      // Fast path: nothing waits ahead of it, so it can go straight into the send ring (within the limit every publish has).
      const n = encode(p, c.unsent, (c.canSend(RESERVE) ? c.unsent.free : 0) - RESERVE);
      if (n < 0) return -1;
      if (n > 0) {
        this.ctl(SENT, 0);
        return 0;
      }
    }
    if (qos) {
      // The next identifier in sequence (checked against use when it is sent).
      p.id = this.nextId;
      this.nextId = p.id >= 65535 ? 1 : p.id + 1;
    }
    const at = this.outbox.add(p);
    if (at < 0) return -1;
    if (c) this.ctl(PUMP, 0);
    return p.id;
  }

  /** Subscribes now or at the next connect; kept and renewed across connections. False for an invalid filter or QoS. */
  subscribe(topic: string, qos?: QoS): boolean {
    const q = qos || 0;
    if (!validTopic(topic, true) || utf8Length(topic) < 0 || !(q >= 0 && q <= 2)) return false;
    const subs = this.subs;
    let s: Subscription | null = null;
    for (let i = 0; i < subs.length; i++) if (subs[i].topic === topic) s = subs[i];
    if (!s) subs.push((s = { topic: topic, qos: 0, state: Sub.TO_SUBSCRIBE, id: 0 }));
    s.qos = q;
    s.state = Sub.TO_SUBSCRIBE;
    if (this.open) this.ctl(PUMP, 0);
    return true;
  }

  unsubscribe(topic: string): boolean {
    if (!validTopic(topic, true) || utf8Length(topic) < 0) return false;
    const subs = this.subs;
    let s: Subscription | null = null;
    for (let i = 0; i < subs.length; i++) if (subs[i].topic === topic) s = subs[i];
    if (!s) subs.push((s = { topic: topic, qos: 0, state: Sub.TO_UNSUBSCRIBE, id: 0 }));
    s.state = Sub.TO_UNSUBSCRIBE;
    if (this.open) this.ctl(PUMP, 0);
    return true;
  }

  // ------------------------------------------------------------ the connection and packets from the broker

  /**
   * Handles an accepted CONNACK, PUBLISH, the acknowledgements and
   * SUBACK/UNSUBACK from `conn`, or with null the connection's loss. The
   * caller made sure 4 bytes fit in the send ring. A PUBLISH over the receive
   * limit (with `size`) is acknowledged like any other and reported as
   * SKIPPED.
   */
  handle(p: Packet | null): void {
    if (!p || p.type === PacketType.CONNACK) {
      // Null: the connection is gone. Nothing is in flight any more; what was goes again after the next CONNACK.
      this.flying = this.flightSpan = this.flightHead = 0;
      this.flightOrdered = 1;
      if (!p) return;
      // CONNACK accepted on `conn`: resend what is unacknowledged (PUBLISH with
      // DUP, or PUBREL once PUBREC came), renew subscriptions the broker does not have.
      const sessionPresent = p.sessionPresent;
      const ob = this.outbox;
      ob.cursor = ob.head; // everything not done is to be sent again, in order
      ob.pending = ob.count;
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
      return void this.ctl(PUMP, 0);
    }
    switch (p.type) {
      case PacketType.PUBLISH: {
        const m = p as Message;
        if (m.qos === 1) {
          this.ctl(PacketType.PUBACK, m.id);
        } else if (m.qos === 2) {
          this.ctl(PacketType.PUBREC, m.id);
          if (!this.ids(Ids.ADD, m.id)) return; // already delivered; the broker resent it
        }
        if (m.size) this.oversized++;
        this.report(m.size ? MqttEv.SKIPPED : MqttEv.MESSAGE, m);
        return;
      }
      case PacketType.PUBACK:
      case PacketType.PUBCOMP: {
        const k = this.ids(Ids.FLYING, p.id);
        if (k < 0) return; // not ours (any more): dropped, or from before a restart
        const at = this.flightAt[k];
        let qos = this.outbox.info(at, Field.QOS);
        if (p.type === PacketType.PUBCOMP && qos !== 2) return;
        if (p.type === PacketType.PUBACK && qos === 2) {
          // The broker downgraded a QoS 2 publish to QoS 1 (RabbitMQ does): done at QoS 1, as other clients take it.
          this.downgrades++;
          qos = 1;
        }
        this.ids(Ids.LAND, k);
        this.outbox.finish(at);
        this.report(MqttEv.PUBACK, { id: p.id, qos: qos });
        this.ctl(PUMP, 0);
        return;
      }
      case PacketType.PUBREC: {
        const k = this.ids(Ids.FLYING, p.id);
        if (k >= 0 && this.outbox.info(this.flightAt[k], Field.QOS) === 2) this.outbox.release(this.flightAt[k]);
        this.ctl(PacketType.PUBREL, p.id); // even when unknown, so the broker can let go of it
        return;
      }
      case PacketType.PUBREL: {
        this.ids(Ids.REMOVE, p.id);
        this.ctl(PacketType.PUBCOMP, p.id);
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
            this.report(MqttEv.SUBACK, { topic: s.topic, qos: code });
          } else {
            subs.splice(i, 1);
            this.report(MqttEv.UNSUBACK, { topic: s.topic });
          }
          break;
        }
        this.ctl(PUMP, 0);
        return;
      }
    }
  }

  /**
   * Gives `data` to the handler. A DROPPED record that was in flight (the
   * outbox says which in `dropAt`; only QoS 1/2 ones fly) leaves the window first.
   * (Not `emit`: the device build keeps every method of a name called anywhere,
   * and a bundle that calls no `c.emit` then carries no Connection.emit.)
   */
  report<K extends keyof MqttEvents>(ev: K, data: MqttEvents[K]): void {
    if (ev === MqttEv.DROPPED && this.outbox.dropAt >= 0 && (data as MqttDropped).id) {
      const k = this.ids(Ids.FLYING, (data as MqttDropped).id);
      if (k >= 0 && this.flightAt[k] === this.outbox.dropAt) this.ids(Ids.LAND, k);
    }
    if (this.handler) this.handler(this, ev, data);
  }

  // ------------------------------------------------------------ helpers

  /**
   * Queues a control packet on `conn`: a 4-byte acknowledgement (PUBACK,
   * PUBREC, PUBREL, PUBCOMP) of `id`, or PINGREQ / DISCONNECT (no body); or,
   * with `type` SENT, nothing: bytes went into `conn.unsent` directly. Then
   * notes the time and sends nothing (''), which asks the manager to flush.
   * Returns false when the packet did not fit (only a closing connection, or
   * a full ring for PINGREQ).
   *
   * With `type` PUMP it sends what waits on `conn`: subscription changes
   * first, then outbox records within the in-flight window. Every publish (or
   * PUBREL) leaves RESERVE bytes of the send ring free behind it, whatever its
   * QoS, so an ack or PINGREQ always fits; it answers true.
   */
  ctl(type: PacketType | typeof SENT | typeof PUMP, id: number): boolean {
    const c = this.conn as Connection;
    if (type === PUMP) {
      const out = c.unsent;
      if (!c.canSend(RESERVE)) return true;
      let wrote = false;
      const subs = this.subs;
      for (let i = 0; i < subs.length; i++) {
        const s = subs[i];
        if (s.state !== Sub.TO_SUBSCRIBE && s.state !== Sub.TO_UNSUBSCRIBE) continue;
        let id: number; // the next identifier nothing in flight uses
        do {
          id = this.nextId;
          this.nextId = id >= 65535 ? 1 : id + 1;
        } while (this.ids(Ids.AWAITED, id) >= 0);
        const p: Packet =
          s.state === Sub.TO_SUBSCRIBE
            ? { type: PacketType.SUBSCRIBE, id: id, topics: [s.topic], qos: [s.qos] }
            : { type: PacketType.UNSUBSCRIBE, id: id, topics: [s.topic] };
        if (encode(p, out) <= 0) break;
        s.id = id;
        s.state++;
        wrote = true;
      }
      const ob = this.outbox;
      const max = this.maxInflight;
      for (;;) {
        const at = ob.next();
        if (at < 0) break;
        const qos = ob.info(at, Field.QOS);
        const id = ob.info(at, Field.ID);
        if (qos && (this.flightSpan >= max || this.ids(Ids.AWAITED, id) >= 0)) break;
        const released = ob.info(at, Field.RELEASED);
        const size = released ? 4 : ob.info(at, Field.SIZE) - 1;
        if (size > out.capacity - RESERVE) {
          ob.advance();
          ob.finish(at, DropReason.TOO_BIG); // could never be sent on this connection
          continue;
        }
        if (size > (c.canSend(RESERVE) ? out.free : 0) - RESERVE) break;
        if (released) this.ctl(PacketType.PUBREL, id);
        else out.write(ob.buf, at + 1, size);
        ob.advance();
        wrote = true;
        if (qos) {
          // In flight: into the window's ring, after the newest.
          if (this.flying === 0) this.flightOrdered = 1;
          else {
            const step = (id - this.lastSentId) & 0xffff;
            if (step === 0 || step >= 0x8000) this.flightOrdered = 0;
          }
          let k = this.flightHead + this.flightSpan;
          if (k >= max) k -= max;
          this.flightId[k] = id;
          this.flightAt[k] = at;
          this.flightSpan++;
          this.flying++;
          this.lastSentId = id;
          ob.buf[at + 1] |= 8; // every later send of it says DUP
        } else {
          ob.finish(at);
        }
      }
      if (wrote) this.ctl(SENT, 0);
      return true;
    }
    if (type !== SENT) {
      const n = type >= PacketType.PINGREQ ? 2 : 4;
      if (!c.canSend(n)) return false;
      const out = c.unsent;
      out.writeByte((type << 4) | (type === PacketType.PUBREL ? 2 : 0));
      out.writeByte(n - 2);
      if (n === 4) {
        out.writeByte(id >> 8);
        out.writeByte(id & 255);
      }
    }
    this.lastSend = c.now();
    c.send(); // wrote into the ring itself: asks for a poll
    return true;
  }

  /** The publishes in flight and the QoS 2 identifiers received, by `op` (see Ids). */
  private ids(op: Ids, id: number): number {
    const r = this.rxIds;
    const max = this.maxInflight;
    let k = this.flightHead;
    switch (op) {
      case Ids.LAND:
        this.flightId[id] = 0;
        this.flying--;
        while (this.flightSpan > 0 && this.flightId[k] === 0) {
          if (++k === max) k = 0;
          this.flightSpan--;
        }
        this.flightHead = k;
        return id;
      case Ids.FLYING:
      case Ids.AWAITED: {
        const any = op === Ids.AWAITED;
        // Identifiers sent in increasing order: one outside [oldest, last] is not in flight.
        const oldest = this.flightId[k];
        if (this.flying > 0 && !(any && this.flightOrdered && ((id - oldest) & 0xffff) > ((this.lastSentId - oldest) & 0xffff))) {
          for (let n = 0; n < this.flightSpan; n++) {
            if (this.flightId[k] === id) return k;
            if (++k === max) k = 0;
          }
        }
        if (any) {
          for (let i = 0; i < this.subs.length; i++) {
            const s = this.subs[i];
            if (s.id === id && (s.state === Sub.SUBSCRIBE_SENT || s.state === Sub.UNSUBSCRIBE_SENT)) return 65536;
          }
        }
        return -1;
      }
      case Ids.FIND:
        for (k = 0; k < this.rxRanges; k++) if (r[2 * k] <= id && id <= r[2 * k + 1]) return k;
        return -1;
      case Ids.DROP:
        this.rxRanges--;
        for (let i = 2 * id; i < 2 * this.rxRanges; i++) r[i] = r[i + 2];
        return 0;
      case Ids.ADD: {
        if (this.ids(Ids.FIND, id) >= 0) return 0;
        for (k = 0; k < this.rxRanges; k++) {
          if (r[2 * k + 1] + 1 === id) {
            r[2 * k + 1] = id; // the usual case: the next in sequence
            const j = this.ids(Ids.FIND, id + 1);
            if (j >= 0) {
              r[2 * k + 1] = r[2 * j + 1]; // it closed a gap: one range again
              this.ids(Ids.DROP, j);
            }
            return 1;
          }
          if (r[2 * k] - 1 === id) {
            r[2 * k] = id;
            const j = this.ids(Ids.FIND, id - 1);
            if (j >= 0) {
              r[2 * k] = r[2 * j];
              this.ids(Ids.DROP, j);
            }
            return 1;
          }
        }
        // Full: forget the oldest range (its PUBRELs are long overdue). A resend of one of its messages would be delivered again.
        if (this.rxRanges === this.maxRx) this.ids(Ids.DROP, 0);
        r[2 * this.rxRanges] = r[2 * this.rxRanges + 1] = id;
        this.rxRanges++;
        return 1;
      }
    }
    // Ids.REMOVE
    k = this.ids(Ids.FIND, id);
    if (k < 0) return 0;
    const lo = r[2 * k];
    const hi = r[2 * k + 1];
    if (lo === hi) this.ids(Ids.DROP, k);
    else if (id === lo) r[2 * k] = id + 1; // the usual case: released in order
    else if (id === hi) r[2 * k + 1] = id - 1;
    else {
      if (this.rxRanges === this.maxRx) {
        this.ids(Ids.DROP, 0);
        k = this.ids(Ids.FIND, id);
        if (k < 0) return 0;
      }
      r[2 * this.rxRanges] = id + 1;
      r[2 * this.rxRanges + 1] = hi;
      this.rxRanges++;
      r[2 * k + 1] = id - 1;
    }
    return 0;
  }
}
