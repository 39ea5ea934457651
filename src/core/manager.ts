/**
 * The event manager: owns the connection pools, the timers and the driver, and
 * turns what drivers recorded into events, all inside poll().
 */
import { parseAddress } from './address.js';
import type { Address, Endpoint } from './address.js';
import { Connection, Flag, Life } from './connection.js';
import type { AnyHandler, Owner, Protocol } from './connection.js';
import { SinkEvent } from './driver.js';
import type { Driver, DriverSocket, TlsOptions } from './driver.js';
import { ErrorCode, Ev } from './events.js';
import { Ring } from './ring.js';
import { Timer } from './timer.js';

/** One pool of identical connection slots. */
export interface PoolSpec {
  conns: number;
  /** Capacity of each connection's `recv` ring. */
  recvBytes: number;
  /** Capacity of each connection's `unsent` ring. */
  sendBytes: number;
}

export interface ManagerOptions {
  /** Connection pools by name; `default` is used when a call names none. */
  pools?: { [name: string]: PoolSpec };
  /** Longest wait between polls under run() (POLL events and timers rely on it). */
  pollMs?: number;
}

export interface OpenOptions<S = unknown> {
  /** Which pool the connection's rings come from (default "default"). */
  pool?: string;
  /** Makes the socket TLS (the driver must have it). */
  tls?: TlsOptions;
  /** Outbound only: CONNECT(TIMEOUT) when not connected by then. */
  timeoutMs?: number;
  /**
   * A protocol layer (HTTP, MQTT …): it sees every event before `handler`, as `c.protocol`. The one way a
   * protocol plugs in; a listener's accepted connections get it too.
   */
  protocol?: Protocol<S>;
  /** The protocol's state for this connection, as `c.protocolState` (a listener's is its own, not its children's). */
  state?: S;
}

export interface ManagerStats {
  /** Inbound connections refused and outbound ones not made because a pool was full. */
  refused: number;
  /** Datagrams dropped because they were larger than the receiving ring. */
  datagramsDropped: number;
  /** Exceptions thrown by handlers (each also closed its connection). */
  handlerErrors: number;
  /** Exceptions thrown by timer functions and onLinkChange (they never stop the manager). */
  timerErrors: number;
  /** The last of those, as text. */
  lastTimerError: string;
}

/** How many read → RECV rounds one connection gets per poll, so one busy peer cannot starve the rest. */
const READS_PER_POLL = 4;
/** Likewise for write → SEND rounds (a SEND handler may refill `unsent` at once). */
const WRITES_PER_POLL = 4;
/** How long a full, unconsumed ring keeps a connection whose peer has closed. */
const PEER_GONE_GRACE_MS = 10000;

/** Largest arena: Espruino keeps a view's byteOffset (and, on small boards, a buffer's length) in 16 bits. */
const ARENA_MAX = 65535;

export class Manager implements Owner {
  readonly driver: Driver;
  /** Live connections, listeners included, in the order they were made. */
  readonly conns: Connection[] = [];
  readonly stats: ManagerStats = { refused: 0, datagramsDropped: 0, handlerErrors: 0, timerErrors: 0, lastTimerError: '' };
  /** Bytes of ring storage allocated at construction; never more. */
  readonly arenaBytes: number;
  /** Called from poll() when the driver's link (Wi-Fi) goes down or comes up. (Unset is undefined: a variable less on the device than null.) */
  onLinkChange?: ((up: boolean) => void) | null;
  // The three flags below are 0 or 1, not booleans: on the device a boolean field costs a variable more.
  private linkWasUp: number;
  private readonly timers: Timer[] = [];
  /** Free slots of each pool, by pool name. */
  private readonly pools: { [name: string]: Connection[] } = {};
  private readonly pollMs: number;
  private nextId = 1;
  private running = 0;
  private inPoll = 0;
  /** The ring of every TCP listener (it holds no bytes), made with the first: an app that only connects never has one. */
  private noRing?: Ring;

  constructor(driver: Driver, options?: ManagerOptions) {
    this.driver = driver;
    this.linkWasUp = driver.linkUp() ? 1 : 0;
    const opts = options || {};
    const specs = opts.pools || { default: { conns: 8, recvBytes: 2048, sendBytes: 2048 } };
    this.pollMs = opts.pollMs || 100;
    const names = Object.keys(specs);
    // Every ring comes from arenas allocated here, once, and sliced; never grown. An arena holds whole
    // connections and at most ARENA_MAX bytes (Espruino cannot view a buffer past 64 KB), so a small
    // board's pools are one allocation.
    let arena: Uint8Array | null = null;
    let at = 0;
    let total = 0;
    for (let i = 0; i < names.length; i++) {
      const s = specs[names[i]];
      const free: Connection[] = [];
      const each = s.recvBytes + s.sendBytes;
      for (let k = 0; k < s.conns; k++) {
        if (!arena || at + each > arena.length) {
          // A new arena for this connection and the ones after it that fit in ARENA_MAX together (at least one).
          // Written here, not as a function: on the device a function object stays in RAM after the start.
          let size = 0;
          let full = 0;
          for (let n = i, m = k; n < names.length && !full; n++, m = 0) {
            const t = specs[names[n]];
            const both = t.recvBytes + t.sendBytes;
            for (; m < t.conns; m++) {
              if (size > 0 && size + both > ARENA_MAX) {
                full = 1;
                break;
              }
              size += both;
            }
          }
          arena = new Uint8Array(size);
          at = 0;
        }
        const recv = new Ring(arena.subarray(at, (at += s.recvBytes)));
        free.push(new Connection(this, names[i], recv, new Ring(arena.subarray(at, (at += s.sendBytes)))));
        total += each;
      }
      this.pools[names[i]] = free;
    }
    this.arenaBytes = total;
  }

  /** Free slots left in a pool. */
  freeSlots(pool?: string): number {
    const p = this.pools[pool || 'default'];
    return p ? p.length : 0;
  }

  /**
   * Listens on `tcp://host:port`, `udp://…`, `tls://…`, `:port` or `port`.
   * The listener's `remote` is its own bound address; with port 0 the port
   * is filled in once the driver has bound it (at once, or before the next poll).
   * Accepted connections get `handler` and rings from `opts.pool`. A bad
   * address throws; a failed bind is ERROR then CLOSE on the returned listener.
   * Returns null only for a UDP listener when its pool is full.
   */
  listen<S>(url: string | Endpoint, handler: AnyHandler | null, opts?: OpenOptions<S>): Connection | null {
    const o = opts || {};
    const pool = o.pool || 'default';
    const ep = this.open(url, '0.0.0.0', pool);
    if (ep.scheme === 'udp') {
      const u = this.take(pool, Flag.UDP | Flag.LISTENING, handler, o.protocol, o.state);
      if (u) {
        u.life |= Life.OPENED;
        u.io = this.driver.udp!(ep.host, ep.port, null, u);
      }
      return u;
    }
    const tls = o.tls || (ep.scheme === 'tls' ? {} : null);
    // A TCP listener holds no rings: its own slot, outside the pools.
    const none = this.noRing || (this.noRing = new Ring(0));
    const c = new Connection(this, pool, none, none);
    c.reset(this.nextId++, Flag.LISTENING | (tls ? Flag.TLS : 0), handler, o.protocol, o.state);
    c.life |= Life.OPENED;
    c.remote = { host: ep.host, port: ep.port };
    this.conns.push(c);
    try {
      c.listenHandle = this.driver.listen(ep.host, ep.port, c, tls);
      if (c.listenHandle.port) c.remote.port = c.listenHandle.port;
    } catch (e) {
      c.notify(SinkEvent.CLOSED, ErrorCode.SOCKET, String(e));
    }
    return c;
  }

  /** @internal A peer reached `listener` (Connection.notify(ACCEPT)). */
  adopt(listener: Connection, socket: DriverSocket, remote: Address): Connection | null {
    if (listener.life & Life.RELEASED || listener.flags & (Flag.CLOSE_IMMEDIATELY | Flag.SEND_AND_CLOSE) || listener.failure !== undefined) return null;
    // The listener's protocol, not its state: the protocol makes each accepted connection's own at ACCEPT.
    const child = this.take(listener.pool, listener.flags & Flag.TLS, listener.handler, listener.protocol, undefined);
    if (!child) return null;
    child.io = socket;
    child.remote = remote;
    child.life |= Life.ACCEPT_PENDING;
    child.userData = listener.userData;
    this.wakeSoon();
    return child;
  }

  /**
   * Connects to `tcp://host:port`, `udp://…` or `tls://…`. The result arrives
   * as CONNECT (0 or an ErrorCode) from a later poll; a failed connect is then
   * closed. A bad address throws. Returns null when the pool is full (counted).
   */
  connect<S>(url: string | Endpoint, handler: AnyHandler | null, opts?: OpenOptions<S>): Connection | null {
    const o = opts || {};
    const pool = o.pool || 'default';
    const ep = this.open(url, '127.0.0.1', pool);
    const udp = ep.scheme === 'udp';
    const tls = !udp && (!!o.tls || ep.scheme === 'tls');
    const c = this.take(pool, (udp ? Flag.UDP : 0) | (tls ? Flag.TLS : 0) | Flag.CONNECTING, handler, o.protocol, o.state);
    if (!c) return null;
    // A TCP peer's address is the endpoint itself (nothing writes it; the MQTT client's is kept for every
    // reconnect: an object less on the device); a datagram socket's changes with each sender.
    c.remote = udp ? { host: ep.host, port: ep.port } : ep;
    if (o.timeoutMs) c.connectDeadline = this.driver.now() + o.timeoutMs;
    if (!this.driver.linkUp()) {
      c.connectResult = ErrorCode.UNREACHABLE; // fail fast while Wi-Fi is down
    } else if (tls && !this.driver.hasTls) {
      c.connectResult = ErrorCode.SOCKET;
    } else {
      try {
        if (udp) {
          c.io = this.driver.udp!('0.0.0.0', 0, c.remote, c);
          c.connectResult = ErrorCode.OK;
        } else {
          c.io = this.driver.connect(ep.host, ep.port, c, tls ? o.tls || {} : null);
        }
      } catch (e) {
        c.connectResult = ErrorCode.REFUSED;
      }
    }
    this.wakeSoon();
    return c;
  }

  /** Runs `fn(arg)` every `ms` (or once, when `repeat` is false) from poll(). */
  timer<T>(ms: number, fn: (arg: T) => void, repeat: boolean, arg?: T): Timer {
    const t = new Timer(this.driver.now() + ms, repeat ? (ms > 0 ? ms : 1) : 0, fn, arg);
    this.timers.push(t);
    this.wakeSoon();
    return t;
  }

  /** Calls `fn` for every open, non-listening connection; a throw closes that connection only. */
  broadcast(fn: (c: Connection) => void): void {
    const list = this.conns;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (!(c.life & Life.OPENED) || c.flags & (Flag.LISTENING | Flag.CLOSE_IMMEDIATELY | Flag.SEND_AND_CLOSE) || c.failure !== undefined) continue;
      try {
        fn(c);
      } catch (e) {
        this.deliver(c, -1, e);
      }
    }
  }

  /** Polls whenever the driver has something, and at least every `pollMs`. */
  run(): void {
    if (this.running) return;
    this.running = 1;
    this.driver.setPoller(this);
    this.driver.wake(0);
  }

  stop(): void {
    this.running = 0;
    this.driver.setPoller(null);
  }

  /** Closes every connection and listener (their CLOSE events run now) and stops run(). */
  shutdown(): void {
    for (let i = 0; i < this.conns.length; i++) this.conns[i].flags |= Flag.CLOSE_IMMEDIATELY;
    this.poll();
    this.stop();
  }

  /**
   * Does all pending I/O and delivers the events, per connection: TIMER, POLL,
   * CONNECT/ACCEPT, RECV, SEND, CLOSE. One function on purpose: on Espruino
   * every function object costs RAM, and these steps only ever run here.
   */
  poll(): void {
    if (this.inPoll) return; // a handler calling poll() must not re-enter
    this.inPoll = 1;
    const driver = this.driver;
    const now = driver.now();
    /** Bytes moved during this poll: the driver may hold more that fit now, so poll again at once. */
    let moved = false;
    try {
      const up = driver.linkUp();
      if (+up !== this.linkWasUp) {
        this.linkWasUp = +up;
        if (this.onLinkChange) {
          try {
            this.onLinkChange(up);
          } catch (e) {
            this.stats.timerErrors++;
            this.stats.lastTimerError = String(e);
          }
        }
      }
      const timers = this.timers;
      const due = timers.length; // timers made by timer functions run from the next poll
      for (let i = 0; i < due; i++) {
        const t = timers[i];
        if (!t.live || t.due > now) continue;
        if (t.period > 0) {
          t.due += t.period;
          if (t.due <= now) t.due = now + t.period; // fell behind: skip missed runs, never burst
        } else {
          t.live = 0;
        }
        try {
          t.fn(t.arg);
        } catch (e) {
          this.stats.timerErrors++; // a timer function's throw is counted, never propagated
          this.stats.lastTimerError = String(e);
        }
      }
      for (let i = timers.length - 1; i >= 0; i--) if (!timers[i].live) timers.splice(i, 1);
      const list = this.conns;
      const n = list.length; // connections made by handlers during this poll start next poll
      for (let i = 0; i < n; i++) {
        const c = list[i];
        if (c.life & Life.RELEASED) continue;
        if (c.life & Life.OPENED) {
          if (c.timerAt >= 0 && now >= c.timerAt) {
            c.timerAt = -1;
            this.deliver(c, Ev.TIMER, undefined);
          }
          this.deliver(c, Ev.POLL, undefined);
        } else if (c.life & Life.ACCEPT_PENDING) {
          c.life = (c.life & ~Life.ACCEPT_PENDING) | Life.OPENED;
          this.deliver(c, Ev.ACCEPT, c.remote);
        } else {
          if (c.connectResult < 0 && c.connectDeadline >= 0 && now >= c.connectDeadline) c.connectResult = ErrorCode.TIMEOUT;
          if (c.connectResult >= 0) {
            const result = c.connectResult;
            c.flags &= ~Flag.CONNECTING;
            c.connectDeadline = -1; // decided: a stale deadline would make the next wake-up come at once, forever
            if (result === ErrorCode.OK) c.life |= Life.OPENED;
            else c.flags |= Flag.CLOSE_IMMEDIATELY; // a failed connect is followed by CLOSE only
            this.deliver(c, Ev.CONNECT, result);
          }
        }
        const io = c.io;
        if (c.life & Life.OPENED && io && !(c.flags & Flag.CLOSE_IMMEDIATELY) && !(c.flags & Flag.LISTENING && !(c.flags & Flag.UDP))) {
          const consumed = c.recv.length < c.recvAfterPoll;
          // Receive. Stream: a RECV per read while `recv` has room. Datagram: a RECV per datagram, with `recv`
          // holding exactly it (what the handler leaves is cleared).
          const udp = c.flags & Flag.UDP;
          let got = 0;
          for (let round = 0; round < (udp ? READS_PER_POLL * 4 : READS_PER_POLL) && !(c.flags & (Flag.CLOSE_IMMEDIATELY | Flag.SEND_AND_CLOSE)) && c.failure === undefined; round++) {
            if (udp) c.recv.discard(c.recv.length);
            const r = io.readInto(c.recv);
            if (r < 0) {
              this.stats.datagramsDropped++;
              continue;
            }
            if (r === 0) break;
            got += r;
            this.deliver(c, Ev.RECV, r);
          }
          if (udp) c.recv.discard(c.recv.length);
          if (c.life & Life.PEER_CLOSED && got === 0) {
            // The peer closed: close once the driver holds nothing more for us. A handler that keeps a full ring
            // unconsumed for PEER_GONE_GRACE_MS is not going to, and waiting would then be forever.
            if (!io.heldBytes) c.flags |= Flag.SEND_AND_CLOSE;
            else if (consumed || c.recv.free > 0) c.stalledSince = -1;
            else if (c.stalledSince < 0) c.stalledSince = now;
            else if (now - c.stalledSince >= PEER_GONE_GRACE_MS) c.flags |= Flag.SEND_AND_CLOSE;
          }
          if (got > 0) moved = true;
          // Wake-ups asked for inside poll() are ignored, so bytes a SEND handler queues are written here, while the socket takes them all.
          for (let round = 0; round < WRITES_PER_POLL && c.unsent.length > 0 && !(c.flags & Flag.CLOSE_IMMEDIATELY); round++) {
            const sent = io.write(c.unsent);
            const pushedBack = c.unsent.length > 0; // the socket's WRITABLE wakes us
            if (sent > 0) {
              moved = true; // more may fit after this: the next poll comes at once
              this.deliver(c, Ev.SEND, sent);
            }
            if (pushedBack) break;
          }
        } else if ((c.life & (Life.PEER_CLOSED | Life.OPENED | Life.ACCEPT_PENDING)) === Life.PEER_CLOSED && c.connectResult < 0) {
          c.flags |= Flag.CLOSE_IMMEDIATELY;
        }
        if (c.flags & Flag.CLOSE_IMMEDIATELY || c.failure !== undefined || (c.flags & Flag.SEND_AND_CLOSE && (c.unsent.length === 0 || c.life & Life.PEER_CLOSED))) {
          // Release: ERROR (if any) and CLOSE, then the socket closes and the slot goes back to its pool.
          if (c.failure !== undefined) this.deliver(c, Ev.ERROR, c.failure);
          this.deliver(c, Ev.CLOSE, undefined);
          c.life |= Life.RELEASED;
          if (c.io) c.io.close();
          if (c.listenHandle) c.listenHandle.close();
          // What the slot's life held goes now, not at its next use: an idle slot keeps nothing alive.
          c.io = c.listenHandle = c.protocol = c.protocolState = c.handler = undefined;
          if (c.recv !== this.noRing) this.pools[c.pool].push(c); // a listener's slot is its own, not the pool's
        } else {
          c.recvAfterPoll = c.recv.length;
        }
      }
      for (let i = list.length - 1; i >= 0; i--) if (list[i].life & Life.RELEASED) list.splice(i, 1);
    } finally {
      // Even if a driver throws, the next poll must run: a manager stuck "in poll" would leave the device deaf.
      this.inPoll = 0;
      if (this.running) {
        let next = now + this.pollMs;
        if (!moved) {
          for (let i = 0; i < this.timers.length; i++) {
            const t = this.timers[i];
            if (t.live && t.due < next) next = t.due;
          }
          for (let i = 0; i < this.conns.length; i++) {
            const c = this.conns[i];
            // A TIMER waits for CONNECT/ACCEPT; a deadline only matters while connecting.
            if (c.life & Life.OPENED && c.timerAt >= 0 && c.timerAt < next) next = c.timerAt;
            if (!(c.life & Life.OPENED) && c.connectDeadline >= 0 && c.connectDeadline < next) next = c.connectDeadline;
          }
        }
        driver.wake(moved || next <= now ? 0 : next - now);
      }
    }
  }

  /** @internal Asks the driver for a poll soon (inside poll() the next one is scheduled anyway). */
  wakeSoon(): void {
    if (this.running && !this.inPoll) this.driver.wake(0);
  }

  /** Milliseconds on the driver's clock. */
  now(): number {
    return this.driver.now();
  }

  /**
   * Calls the protocol handler, then the user's; a throw becomes ERROR then
   * CLOSE for this connection only. Event -1 is such a throw from elsewhere
   * (broadcast), `data` being what was thrown. @internal (the Owner's; c.emit is the public way)
   */
  deliver(c: Connection, ev: number, data: any): void {
    try {
      if (ev < 0) throw data;
      if (c.protocol) c.protocol(c, ev, data);
      if (c.handler) c.handler(c, ev, data);
    } catch (e) {
      this.stats.handlerErrors++;
      if (ev === Ev.CLOSE || ev === Ev.ERROR) return;
      if (c.failure === undefined) c.failure = { code: ErrorCode.HANDLER, message: e instanceof Error ? e.message : String(e) };
      c.flags |= Flag.CLOSE_IMMEDIATELY;
    }
  }

  /**
   * The endpoint of `url`, checked before anything is taken: a bad address, an
   * unknown pool, or datagrams on a driver made without them throw an Error
   * that names the cause.
   */
  private open(url: string | Endpoint, defaultHost: string, pool: string): Endpoint {
    const ep = typeof url === 'string' ? parseAddress(url, defaultHost) : url;
    // The core's own schemes, compared, not looked up in a table: on the device a table of them was 8 variables for good.
    const s = ep.scheme;
    if (typeof url === 'string' && s !== 'tcp' && s !== 'udp' && s !== 'tls') throw new Error('bad address "' + url + '": scheme ' + s + ' needs its protocol module');
    if (!this.pools[pool]) throw new Error('no connection pool named "' + pool + '"');
    if (s === 'udp' && !this.driver.udp) throw new Error('driver ' + this.driver.name + ' was made without datagrams (UDP)');
    return ep;
  }

  /** A slot from `pool` made ready for a new life, or null (counted) when the pool is empty. */
  private take(pool: string, flags: number, handler: AnyHandler | null | undefined, protocol: Protocol<any> | undefined, state: unknown): Connection | null {
    const c = this.pools[pool].pop();
    if (!c) {
      this.stats.refused++;
      return null;
    }
    c.reset(this.nextId++, flags, handler, protocol, state);
    this.conns.push(c);
    return c;
  }
}
