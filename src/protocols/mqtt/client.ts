/**
 * The MQTT client: one broker connection at a time on the manager, its
 * handler in the connection's protocol slot, and a supervisor that keeps it
 * connected: connect and CONNACK timeouts, keepalive (a PINGREQ when either
 * direction has been quiet for the period) with a PINGRESP deadline,
 * reconnects with exponential backoff and jitter, and no attempts while the
 * driver's link (Wi-Fi) is down.
 *
 *   const m = mqttConnect(mgr, 'mqtt://broker:1883', (m, ev, data) => {
 *     if (ev === MqttEv.MESSAGE) console.log(data.topic, utf8Decode(data.payload));
 *   }, { clientId: 'dev1' });
 *   m.subscribe('cmd/#', 1);
 *   m.publish('sensors/t', '21.5', 1);
 *
 * Publishing never waits: what cannot be sent now waits in the outbox.
 */
import { parseAddress } from '../../core/address.js';
import type { Endpoint } from '../../core/address.js';
import type { WithState } from '../../core/connection.js';
import type { TlsOptions } from '../../core/driver.js';
import { ErrorCode, Ev } from '../../core/events.js';
import type { ErrorInfo } from '../../core/events.js';
import type { Manager } from '../../core/manager.js';
import type { Timer } from '../../core/timer.js';
import { decode, encode, PacketType } from './codec.js';
import type { Data, Will } from './codec.js';
import { MqttEv } from './events.js';
import type { MqttEvents } from './events.js';
import { Outbox } from './outbox.js';
import type { OutboxStore } from './store.js';
import { PUMP, Session, SENT } from './session.js';
import type { SessionHandler } from './session.js';

export interface MqttOptions {
  /** Default: "ringnet-" and 8 random hex digits. Give a fixed one with `clean: false`. */
  clientId?: string;
  username?: string;
  password?: Data;
  /** Published by the broker when this client vanishes without DISCONNECT. */
  will?: Will;
  /** A new session on every connect (default true). With false the broker keeps subscriptions and unfinished QoS 1/2 exchanges across connections: exactly-once across reconnects needs it. */
  clean?: boolean;
  /** Seconds (default 60; 0: off). */
  keepalive?: number;
  /** How long to wait for PINGRESP (or anything else from the broker) before reconnecting (default: keepalive, at most 10 s). */
  pingTimeoutMs?: number;
  /** TCP (and TLS) connect deadline (default 10 s). */
  connectTimeoutMs?: number;
  /** CONNACK deadline after the connection is up (default 10 s). */
  connackTimeoutMs?: number;
  /** Reconnect backoff: doubles from min to max, then a random half of it is added (default 1 s … 60 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** While the link is down, how often to look whether it is back (default 1 s). */
  linkCheckMs?: number;
  /** 0 ≤ x < 1 for the backoff jitter and the default client id (default Math.random; the simulator passes its seeded one). */
  random?: () => number;
  /** QoS 1/2 publishes sent and not yet acknowledged, at most (default 16). */
  maxInflight?: number;
  /**
   * Runs of consecutive packet identifiers remembered for QoS 2 messages
   * received and awaiting PUBREL (default 8, 4 bytes each). Brokers number
   * messages in sequence, so a burst of any length is one run; if the runs
   * ever overflow, the oldest is forgotten and a resend of it could be
   * delivered twice.
   */
  qos2Ranges?: number;
  /**
   * Largest packet accepted from the broker (default and maximum: the
   * connection's receive ring). A larger PUBLISH is acknowledged and its bytes
   * discarded as they come (SKIPPED), so it cannot block the session.
   */
  maxPacket?: number;
  /** Outbox capacity in bytes (allocated once) and in messages (defaults 4096 and 64). */
  outboxBytes?: number;
  outboxCount?: number;
  /** When the outbox is full, refuse the new message instead of dropping the oldest. */
  refuseNew?: boolean;
  /** A new message replaces an unsent one with the same topic. */
  latestPerTopic?: boolean;
  /** Keeps unacknowledged QoS 1/2 publishes across restarts: `outboxStore(log)` over a driver's log (NodeFileStore, EspruinoStore, MemoryStore). */
  store?: OutboxStore;
  /** Connection pool for the broker connection (default "default"). */
  pool?: string;
  /** TLS options for mqtts:// (CA, client certificate, verification). */
  tls?: TlsOptions;
}

/** The client's counters (the telemetry app's status JSON carries them). @wire */
export interface MqttStats {
  /** Publishes waiting to be sent. */
  queued: number;
  /** Publishes sent and not yet acknowledged. */
  inFlight: number;
  /** Publishes dropped over the client's life. */
  dropped: number;
  /** Connections re-established after the first. */
  reconnects: number;
  /** The most outbox bytes ever in use, and in use now. */
  highWater: number;
  bytes: number;
  /** Store operations that failed (the outbox went on in RAM). */
  storeErrors: number;
  /** QoS 2 publishes the broker answered with PUBACK (it downgraded them to QoS 1, as RabbitMQ does): each completed as QoS 1. */
  downgraded: number;
  /** Messages from the broker over the receive limit: acknowledged and discarded (each reported as SKIPPED). */
  skipped: number;
}

/** The argument lists an MQTT handler can receive; switching on `ev` narrows `data`. */
export type MqttHandlerArgs = { [K in keyof MqttEvents]: [MqttClient, K, MqttEvents[K]] }[keyof MqttEvents];
export type MqttHandler = (...args: MqttHandlerArgs) => void;

/** Parses mqtt://host[:1883] or mqtts://host[:8883] into what the core connects to. */
export function mqttEndpoint(url: string): Endpoint {
  const ep = parseAddress(url, '127.0.0.1', { mqtt: 1883, tcp: 1883, mqtts: 8883, tls: 8883 });
  if (ep.scheme === 'mqtt' || ep.scheme === 'tcp') ep.scheme = 'tcp';
  else if (ep.scheme === 'mqtts' || ep.scheme === 'tls') ep.scheme = 'tls';
  else throw new Error('bad address "' + url + '": not mqtt:// or mqtts://');
  return ep;
}

/**
 * The client is its session (publish, subscribe, unsubscribe, the QoS state
 * machines: see Session) plus the connection's life. On Espruino every
 * function object costs RAM, so the connection's events go to one
 * module-level protocol function (`mqttProtocol`, the client in the
 * connection's `protocolState`) and the reconnect timer to another, made once
 * for every client.
 */
export class MqttClient extends Session {
  readonly mgr: Manager;
  declare handler: MqttHandler | null;
  readonly clientId: string;
  /** @internal */ reconnectCount = 0;
  /** @internal */ readonly ep: Endpoint;
  /** @internal */ readonly o: MqttOptions;
  /** @internal */ readonly keepaliveMs: number;
  /** @internal */ readonly pingTimeoutMs: number;
  /** @internal */ attempt = 0;
  /** @internal The reconnect timer while one is armed (undefined, not null: a variable less on the device). */ retry?: Timer;
  // 0 or 1, not booleans: on the device a boolean field costs a variable more.
  /** @internal */ stopped = 1;
  /** @internal */ everOpen = 0;
  /** @internal When PINGREQ went out (-1: no PINGRESP awaited). */
  pingAt = -1;
  /** @internal When the broker last sent us anything: sending alone proves nothing about a link that swallows it. */
  lastRecv = 0;
  /** @internal Bytes of a PUBLISH over the receive limit still to discard as they arrive. */
  skip = 0;

  constructor(mgr: Manager, url: string, handler: MqttHandler | null, opts?: MqttOptions) {
    const o = opts || {};
    const outbox = new Outbox({ bytes: o.outboxBytes || 4096, count: o.outboxCount || 64, refuseNew: o.refuseNew, latestPerTopic: o.latestPerTopic });
    if (o.store) outbox.journal = o.store.attach(outbox); // restores what the store kept
    super(outbox, o.maxInflight || 16, o.qos2Ranges || 8, handler as SessionHandler | null);
    this.mgr = mgr;
    this.ep = mqttEndpoint(url);
    this.o = o;
    this.clientId = o.clientId !== undefined ? o.clientId : 'ringnet-' + Math.floor((o.random || Math.random)() * 4294967296).toString(16);
    const ka = o.keepalive === undefined ? 60 : o.keepalive;
    this.keepaliveMs = ka * 1000;
    this.pingTimeoutMs = o.pingTimeoutMs || (this.keepaliveMs < 10000 ? this.keepaliveMs : 10000);
  }

  /** Starts connecting (and reconnecting until `close()`); also what the reconnect timer runs. */
  start(): void {
    this.stopped = 0;
    if (this.conn || this.retry) return;
    const o = this.o;
    if (!this.mgr.driver.linkUp()) {
      this.attempt = 0; // the broker is not at fault: connect as soon as the link is back
      this.retry = this.mgr.timer(o.linkCheckMs || 1000, restart, false, this);
      return;
    }
    // The client works on the protocol slot (its events go to the client's handler, not the connection's).
    const c = this.mgr.connect(this.ep, null, { pool: o.pool, tls: o.tls, timeoutMs: o.connectTimeoutMs || 10000, protocol: mqttProtocol, state: this });
    if (!c) {
      this.report(MqttEv.ERROR, { code: ErrorCode.SOCKET, message: 'no free connection in the pool' });
      if (!this.stopped && !this.retry) this.retry = this.mgr.timer(restart(this, 1), restart, false, this);
      return;
    }
    this.conn = c;
  }

  stats(): MqttStats {
    const ob = this.outbox;
    return {
      queued: ob.live - this.flying,
      inFlight: this.flying,
      dropped: ob.dropCount,
      reconnects: this.reconnectCount,
      highWater: ob.mostUsed,
      bytes: ob.used,
      storeErrors: ob.journalErrors,
      downgraded: this.downgrades,
      skipped: this.oversized,
    };
  }

  /** Sends DISCONNECT (the broker then drops the will), closes, and stops reconnecting. The outbox is kept. */
  close(): void {
    this.stopped = 1;
    if (this.retry) this.retry.cancel();
    this.retry = undefined;
    const c = this.conn;
    if (!c) return;
    if (this.open) this.ctl(PacketType.DISCONNECT, 0);
    c.end();
  }
}

/**
 * The reconnect timer's function; with `delay` it answers how long to wait
 * before the next attempt instead: exponential backoff with "equal jitter",
 * half the step fixed, half random, so clients that fell together spread out.
 * One function for both: each costs RAM on the device.
 */
function restart(m: MqttClient, delay?: 1): number {
  if (!delay) {
    m.retry = undefined;
    m.start();
    return 0;
  }
  const min = m.o.reconnectMinMs || 1000;
  const max = m.o.reconnectMaxMs || 60000;
  let step = min * Math.pow(2, m.attempt < 20 ? m.attempt : 20);
  if (step > max) step = max;
  m.attempt++;
  const random = m.o.random || Math.random; // read here, not kept: a field is 2 variables on the device
  return Math.floor(step / 2 + (random() * step) / 2);
}

/**
 * The broker connection's protocol handler. RECV and SEND decode what
 * `c.recv` holds, while an acknowledgement would still fit in the send ring.
 *
 * The one connection timer is the CONNACK deadline before open, keepalive
 * after. PINGREQ goes when we sent nothing for the keepalive period (the
 * broker needs to hear from us) or heard nothing (we need to hear from it: a
 * client that keeps publishing QoS 0 into a dead link would otherwise never
 * ask). Anything from the broker after the PINGREQ answers it.
 */
function mqttProtocol(c: WithState<MqttClient>, ev: number, data: any): void {
  const self = c.protocolState;
  if (c !== self.conn) return;
  let arm = false; // (re)set the keepalive timer at the end: after CONNACK, and on TIMER
  let err: ErrorInfo | null = null; // a failure: reported, then the connection is closed
  switch (ev) {
    case Ev.CONNECT: {
      if (data !== ErrorCode.OK) return self.report(MqttEv.ERROR, { code: data, message: 'connect to the broker failed' });
      const n = encode(
        {
          type: PacketType.CONNECT,
          clientId: self.clientId,
          clean: self.o.clean !== false,
          keepalive: self.keepaliveMs / 1000,
          will: self.o.will || null,
          username: self.o.username === undefined ? null : self.o.username,
          password: self.o.password === undefined ? null : self.o.password,
        },
        c.unsent,
      );
      if (n <= 0) {
        err = { code: n < 0 ? ErrorCode.PROTOCOL : ErrorCode.TOO_BIG, message: n < 0 ? 'invalid CONNECT options' : 'CONNECT larger than the send ring' };
        break;
      }
      self.ctl(SENT, 0);
      c.setTimer(self.o.connackTimeoutMs || 10000);
      return;
    }
    case Ev.RECV:
    case Ev.SEND: {
      if (ev === Ev.RECV) self.lastRecv = c.now();
      const max = self.o.maxPacket;
      const limit = max && max < c.recv.capacity ? max : c.recv.capacity;
      while (c.canSend(4)) {
        if (self.skip > 0) {
          self.skip -= c.recv.discard(self.skip);
          if (self.skip > 0) break;
        }
        const p = decode(c.recv, limit, true);
        if (p === null) break;
        if (p.type === 0) {
          err = { code: p.code, message: p.message };
          break;
        }
        if (!self.open) {
          if (p.type !== PacketType.CONNACK) {
            err = { code: ErrorCode.PROTOCOL, message: 'expected CONNACK, got packet type ' + p.type };
            break;
          }
          c.setTimer(-1);
          if (p.returnCode !== 0) {
            self.report(MqttEv.CONNACK, { returnCode: p.returnCode, sessionPresent: p.sessionPresent });
            err = { code: ErrorCode.REFUSED, message: 'broker refused the connection: return code ' + p.returnCode };
            break;
          }
          self.open = true;
          if (self.everOpen) self.reconnectCount++;
          self.everOpen = 1;
          self.attempt = 0;
          self.pingAt = -1;
          self.handle(p);
          arm = true;
          self.report(MqttEv.CONNACK, { returnCode: 0, sessionPresent: p.sessionPresent });
        } else if (p.type === PacketType.PINGRESP) {
          self.pingAt = -1;
        } else if (p.type === PacketType.PUBLISH || (p.type >= PacketType.PUBACK && p.type <= PacketType.PUBCOMP) || p.type === PacketType.SUBACK || p.type === PacketType.UNSUBACK) {
          if (p.type === PacketType.PUBLISH && p.size) self.skip = p.size; // too big to hold: acknowledged below, then discarded
          self.handle(p);
        } else {
          err = { code: ErrorCode.PROTOCOL, message: 'unexpected packet type ' + p.type + ' from the broker' };
          break;
        }
      }
      if (!err && ev === Ev.SEND && self.open) self.ctl(PUMP, 0); // acknowledgements may have been waiting for room
      break;
    }
    case Ev.POLL:
      if (self.mgr.driver.linkUp()) return;
      err = { code: ErrorCode.UNREACHABLE, message: 'link down' };
      break;
    case Ev.TIMER: {
      if (!self.open) {
        err = { code: ErrorCode.TIMEOUT, message: 'no CONNACK in time' };
        break;
      }
      const now = c.now();
      const ka = self.keepaliveMs;
      if (self.pingAt >= 0 && self.lastRecv > self.pingAt) self.pingAt = -1;
      if (self.pingAt >= 0) {
        if (now - self.pingAt >= self.pingTimeoutMs) {
          err = { code: ErrorCode.TIMEOUT, message: 'no PINGRESP in time' };
          break;
        }
      } else if (now - self.lastSend >= ka || now - self.lastRecv >= ka) {
        self.ctl(PacketType.PINGREQ, 0); // when the ring is full this is not sent, and the deadline below ends the stuck connection
        self.pingAt = now;
      }
      arm = true;
      break;
    }
    case Ev.ERROR:
      return self.report(MqttEv.ERROR, data);
    case Ev.CLOSE: {
      self.conn = null;
      self.open = false;
      self.pingAt = -1;
      self.skip = 0;
      self.handle(null); // unacknowledged publishes count as queued again until resent
      if (self.stopped) return self.report(MqttEv.CLOSE, { reconnectMs: -1 });
      const wait = self.mgr.driver.linkUp() ? restart(self, 1) : self.o.linkCheckMs || 1000;
      self.report(MqttEv.CLOSE, { reconnectMs: wait });
      if (!self.stopped && !self.retry) self.retry = self.mgr.timer(wait, restart, false, self);
      return;
    }
  }
  if (err) {
    self.report(MqttEv.ERROR, err);
    return c.close();
  }
  if (arm && self.keepaliveMs) {
    const last = self.lastSend < self.lastRecv ? self.lastSend : self.lastRecv;
    const due = self.pingAt >= 0 ? self.pingAt + self.pingTimeoutMs : last + self.keepaliveMs;
    const wait = due - c.now();
    c.setTimer(wait > 1 ? wait : 1);
  }
}

/** Creates a client and starts connecting to `url` (mqtt://host:port or mqtts://host:port). The handler comes before the options, as in every entry point. */
export function mqttConnect(mgr: Manager, url: string, handler: MqttHandler | null, opts?: MqttOptions): MqttClient {
  const m = new MqttClient(mgr, url, handler, opts);
  m.start();
  return m;
}
