/**
 * A small MQTT 3.1.1 broker for tests, on ringnet's own manager and codec, so
 * whole-app tests run in the simulator in milliseconds (it runs on any driver).
 *
 * Enough of a broker to test a client against: publish/subscribe with `+`/`#`,
 * QoS 0/1/2 both ways (QoS 2 delivered once, on PUBLISH), retained messages,
 * clean and persistent sessions (queued messages and unfinished exchanges are
 * kept and resent with DUP), wills, keepalive enforcement, client takeover.
 * Knobs let tests make it misbehave: no PINGRESP, no CONNACK, a refusing
 * CONNACK, QoS 2 downgraded to 1, frozen, raw bytes injected.
 */
import { Ev } from '../../src/core/events.js';
import type { Connection } from '../../src/core/connection.js';
import type { Manager } from '../../src/core/manager.js';
import { decode, encode, PacketType } from '../../src/protocols/mqtt/codec.js';
import type { Message, Packet, QoS, Will } from '../../src/protocols/mqtt/codec.js';
import { utf8Decode } from '../../src/protocols/utf8.js';

export interface BrokerOptions {
  /** Answer PINGREQ (default true). */
  answerPings?: boolean;
  /** Never send CONNACK (a broker that accepts TCP and hangs). */
  silent?: boolean;
  /** CONNACK return code to refuse with (default 0: accept). */
  refuseCode?: number;
  /** Outgoing QoS 1/2 messages in flight per client (default 20). */
  maxInflight?: number;
  /** Highest QoS granted to a subscription (default 2). */
  maxQos?: QoS;
  /** Answer a QoS 2 PUBLISH with PUBACK and handle it as QoS 1, as RabbitMQ does. */
  downgradeQos2?: boolean;
}

interface Outgoing {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  id: number;
  /** QoS 2: PUBREC came; PUBREL is what to (re)send. */
  released: boolean;
  /** Sent before: a resend says DUP. */
  dup: boolean;
}

interface BrokerSession {
  clientId: string;
  clean: boolean;
  subs: { [filter: string]: QoS };
  queue: Outgoing[];
  inflight: Outgoing[];
  /** QoS 2 ids received and not yet released. */
  rx: { [id: number]: boolean };
  conn: Connection | null;
  nextId: number;
}

interface ConnState {
  session: BrokerSession | null;
  will: Will | null;
  keepaliveMs: number;
  lastRecv: number;
  /** DISCONNECT came or the broker closed it on purpose: no will. */
  graceful: boolean;
}

export interface Received {
  clientId: string;
  topic: string;
  text: string;
  payload: Uint8Array;
  qos: QoS;
  dup: boolean;
  retain: boolean;
}

export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.charAt(0) === '$' && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

function copy(b: Uint8Array): Uint8Array {
  const c = new Uint8Array(b.length);
  c.set(b);
  return c;
}

export class SimBroker {
  readonly sessions: { [clientId: string]: BrokerSession } = {};
  readonly retained: { [topic: string]: { payload: Uint8Array; qos: QoS } } = {};
  /** Every PUBLISH received from any client, in arrival order (duplicates included). */
  readonly received: Received[] = [];
  /** Connections accepted, PINGREQs and SUBSCRIBE packets received, and protocol errors seen. */
  connects = 0;
  pings = 0;
  subscribes = 0;
  errors: string[] = [];
  readonly listener: Connection;
  readonly opts: BrokerOptions;
  /**
   * Stopped like a process under SIGSTOP: it reads nothing, answers nothing
   * and checks no keepalive, while the network still accepts connections and
   * what clients send piles up unread. Set it back to false to thaw.
   */
  frozen = false;

  constructor(mgr: Manager, url: string, opts?: BrokerOptions) {
    this.opts = opts || {};
    const self = this;
    const l = mgr.listen(url, function (c: Connection, ev: number, data: any) {
      self.onEvent(c, ev, data);
    });
    if (!l) throw new Error('broker could not listen on ' + url);
    this.listener = l;
  }

  get port(): number {
    return this.listener.remote.port;
  }

  /** Closes every client connection abruptly (wills are published). */
  dropClients(): void {
    const names = Object.keys(this.sessions);
    for (let i = 0; i < names.length; i++) {
      const c = this.sessions[names[i]].conn;
      if (c) c.close();
    }
  }

  /** Publishes as the broker itself would route a client's message. */
  publish(topic: string, payload: Uint8Array | string, qos: QoS, retain: boolean): void {
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    this.route(topic, bytes, qos, retain);
  }

  private onEvent(c: Connection, ev: number, data: any): void {
    if (this.frozen && ev !== Ev.ACCEPT && ev !== Ev.CLOSE) return;
    switch (ev) {
      case Ev.ACCEPT:
        this.connects++;
        c.protocolState = { session: null, will: null, keepaliveMs: 0, lastRecv: c.now(), graceful: false } as ConnState;
        return;
      case Ev.RECV:
        (c.protocolState as ConnState).lastRecv = c.now();
        this.read(c);
        return;
      case Ev.SEND: {
        this.read(c);
        const st = c.protocolState as ConnState;
        if (st && st.session) this.pump(st.session);
        return;
      }
      case Ev.POLL: {
        const st = c.protocolState as ConnState;
        if (st && st.keepaliveMs > 0 && c.now() - st.lastRecv > st.keepaliveMs * 1.5) c.close();
        return;
      }
      case Ev.CLOSE:
        this.closed(c);
        return;
    }
  }

  private read(c: Connection): void {
    const st = c.protocolState as ConnState;
    if (!st) return;
    while (c.canSend(8)) {
      const p = decode(c.recv, c.recv.capacity);
      if (p === null) return;
      if (p.type === 0) {
        this.errors.push(p.message);
        c.close();
        return;
      }
      this.handle(c, st, p);
    }
  }

  private send(c: Connection, p: Packet): boolean {
    const n = encode(p, c.unsent);
    if (n < 0) throw new Error('broker built a bad packet');
    if (n === 0) return false;
    c.send();
    return true;
  }

  private handle(c: Connection, st: ConnState, p: Packet): void {
    if (p.type !== PacketType.CONNECT && !st.session) {
      this.errors.push('packet before CONNECT');
      c.close();
      return;
    }
    const s = st.session as BrokerSession;
    switch (p.type) {
      case PacketType.CONNECT: {
        if (st.session) {
          this.errors.push('second CONNECT');
          c.close();
          return;
        }
        if (this.opts.silent) return;
        if (this.opts.refuseCode) {
          this.send(c, { type: PacketType.CONNACK, sessionPresent: false, returnCode: this.opts.refuseCode });
          st.graceful = true;
          c.end();
          return;
        }
        let old = this.sessions[p.clientId];
        if (old && old.conn) {
          const oldConn = old.conn;
          old.conn = null;
          oldConn.close(); // takeover: the old connection goes (its will is published)
        }
        if (old && (p.clean || old.clean)) {
          delete this.sessions[p.clientId];
          old = undefined as unknown as BrokerSession;
        }
        const present = !!old && !p.clean;
        const sess: BrokerSession = old || { clientId: p.clientId, clean: p.clean, subs: {}, queue: [], inflight: [], rx: {}, conn: null, nextId: 1 };
        sess.clean = p.clean;
        sess.conn = c;
        sess.queue = sess.inflight.concat(sess.queue); // unfinished exchanges go first, with their ids
        sess.inflight = [];
        this.sessions[p.clientId] = sess;
        st.session = sess;
        st.will = p.will ? { topic: p.will.topic, payload: copy(p.will.payload as Uint8Array), qos: p.will.qos, retain: p.will.retain } : null;
        st.keepaliveMs = p.keepalive * 1000;
        this.send(c, { type: PacketType.CONNACK, sessionPresent: present, returnCode: 0 });
        this.pump(sess);
        return;
      }
      case PacketType.PUBLISH: {
        const m = p as Message;
        this.received.push({ clientId: s.clientId, topic: m.topic, text: utf8Decode(m.payload) || '', payload: copy(m.payload), qos: m.qos, dup: m.dup, retain: m.retain });
        if (m.qos === 0) {
          this.route(m.topic, m.payload, 0, m.retain);
        } else if (m.qos === 1 || this.opts.downgradeQos2) {
          this.route(m.topic, m.payload, 1, m.retain);
          this.send(c, { type: PacketType.PUBACK, id: m.id });
        } else {
          if (!s.rx[m.id]) {
            s.rx[m.id] = true;
            this.route(m.topic, m.payload, 2, m.retain);
          }
          this.send(c, { type: PacketType.PUBREC, id: m.id });
        }
        return;
      }
      case PacketType.PUBREL:
        delete s.rx[p.id];
        this.send(c, { type: PacketType.PUBCOMP, id: p.id });
        return;
      case PacketType.PUBACK:
      case PacketType.PUBCOMP: {
        const i = this.inflightIndex(s, p.id);
        if (i >= 0) s.inflight.splice(i, 1);
        this.pump(s);
        return;
      }
      case PacketType.PUBREC: {
        const i = this.inflightIndex(s, p.id);
        if (i >= 0) s.inflight[i].released = true;
        this.send(c, { type: PacketType.PUBREL, id: p.id });
        return;
      }
      case PacketType.SUBSCRIBE: {
        this.subscribes++;
        const codes: number[] = [];
        const max = this.opts.maxQos === undefined ? 2 : this.opts.maxQos;
        for (let i = 0; i < p.topics.length; i++) {
          const q = (p.qos[i] < max ? p.qos[i] : max) as QoS;
          s.subs[p.topics[i]] = q;
          codes.push(q);
        }
        this.send(c, { type: PacketType.SUBACK, id: p.id, codes: codes });
        const names = Object.keys(this.retained);
        for (let k = 0; k < p.topics.length; k++) {
          for (let i = 0; i < names.length; i++) {
            if (!topicMatches(p.topics[k], names[i])) continue;
            const r = this.retained[names[i]];
            const q = (r.qos < s.subs[p.topics[k]] ? r.qos : s.subs[p.topics[k]]) as QoS;
            this.deliver(s, { topic: names[i], payload: r.payload, qos: q, retain: true, id: 0, released: false, dup: false });
          }
        }
        return;
      }
      case PacketType.UNSUBSCRIBE:
        for (let i = 0; i < p.topics.length; i++) delete s.subs[p.topics[i]];
        this.send(c, { type: PacketType.UNSUBACK, id: p.id });
        return;
      case PacketType.PINGREQ:
        this.pings++;
        if (this.opts.answerPings !== false) this.send(c, { type: PacketType.PINGRESP });
        return;
      case PacketType.DISCONNECT:
        st.graceful = true;
        c.close();
        return;
      default:
        this.errors.push('unexpected packet type ' + p.type);
        c.close();
    }
  }

  private inflightIndex(s: BrokerSession, id: number): number {
    for (let i = 0; i < s.inflight.length; i++) if (s.inflight[i].id === id) return i;
    return -1;
  }

  private closed(c: Connection): void {
    const st = c.protocolState as ConnState;
    if (!st || !st.session) return;
    const s = st.session;
    if (s.conn === c) {
      s.conn = null;
      if (s.clean) delete this.sessions[s.clientId];
    }
    if (!st.graceful && st.will) this.route(st.will.topic, st.will.payload as Uint8Array, st.will.qos, st.will.retain);
  }

  private route(topic: string, payload: Uint8Array, qos: QoS, retain: boolean): void {
    if (retain) {
      if (payload.length === 0) delete this.retained[topic];
      else this.retained[topic] = { payload: copy(payload), qos: qos };
    }
    const names = Object.keys(this.sessions);
    for (let i = 0; i < names.length; i++) {
      const s = this.sessions[names[i]];
      let best = -1;
      const filters = Object.keys(s.subs);
      for (let k = 0; k < filters.length; k++) if (topicMatches(filters[k], topic) && s.subs[filters[k]] > best) best = s.subs[filters[k]];
      if (best < 0) continue;
      this.deliver(s, { topic: topic, payload: copy(payload), qos: (qos < best ? qos : best) as QoS, retain: false, id: 0, released: false, dup: false });
    }
  }

  private deliver(s: BrokerSession, m: Outgoing): void {
    if (m.qos === 0 && !s.conn) return; // QoS 0 is not kept for offline clients
    s.queue.push(m);
    this.pump(s);
  }

  /** Sends queued messages (resends first: they were put at the front) within the in-flight window. */
  private pump(s: BrokerSession): void {
    const c = s.conn;
    if (!c) return;
    const max = this.opts.maxInflight || 20;
    while (s.queue.length > 0) {
      const m = s.queue[0];
      if (m.qos > 0) {
        if (s.inflight.length >= max) return;
        if (!m.id) {
          m.id = s.nextId;
          s.nextId = s.nextId === 65535 ? 1 : s.nextId + 1;
        }
      }
      const ok = m.released
        ? this.send(c, { type: PacketType.PUBREL, id: m.id })
        : this.send(c, { type: PacketType.PUBLISH, topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup: m.dup, id: m.id });
      if (!ok) return;
      s.queue.shift();
      if (m.qos > 0) {
        m.dup = true;
        s.inflight.push(m);
      }
    }
  }
}
