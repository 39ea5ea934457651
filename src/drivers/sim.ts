/**
 * The simulator: an in-memory network of hosts on a virtual clock, driven by
 * a seeded random generator so the same seed replays the same run.
 *
 * Each host is a Driver; a Manager on it behaves as on a real network:
 * latency, bandwidth, random read chunking (down to 1 byte), bounded windows
 * (so a slow reader pushes back on its sender), refused connects, resets,
 * partitions and link down/up. Nothing here touches a real socket or timer.
 */
import { NO_ADDRESS } from '../core/address.js';
import type { Address } from '../core/address.js';
import type { Driver, DriverSocket, ListenHandle, Poller, Sink, TlsOptions } from '../core/driver.js';
import { SinkEvent } from '../core/driver.js';
import { ErrorCode } from '../core/events.js';
import { readChunks } from '../core/chunks.js';
import { wakeEarliest } from '../core/wake.js';
import { sendDatagrams, takeDatagram } from '../core/datagram.js';
import type { Datagram } from '../core/datagram.js';
import type { Ring } from '../core/ring.js';

export interface SimOptions {
  seed?: number;
  /** One-way latency, ms. */
  latencyMs?: number;
  /** Extra random latency per packet, 0..jitterMs. Reordering never happens on a stream. */
  jitterMs?: number;
  /** Bytes per ms on each direction of a link (0: unlimited). */
  bandwidth?: number;
  /** Random chunk size range a write is split into on the wire. */
  chunkMin?: number;
  chunkMax?: number;
  /** Bytes one direction of a connection holds unread before the writer is refused (the TCP window). */
  windowBytes?: number;
  /** Chance a UDP datagram is lost, 0..1. */
  datagramLoss?: number;
}

/** Mulberry32: tiny, fast and well spread; enough for a simulation. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
}

/** A binary min-heap of scheduled work, ordered by time then by insertion. */
class Agenda {
  private readonly heap: Scheduled[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  add(at: number, fn: () => void): void {
    const h = this.heap;
    h.push({ at: at, seq: this.seq++, fn: fn });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i], h[p])) break;
      const t = h[i];
      h[i] = h[p];
      h[p] = t;
      i = p;
    }
  }

  peekTime(): number {
    return this.heap.length ? this.heap[0].at : Infinity;
  }

  pop(): Scheduled | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        const t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
      }
    }
    return top;
  }

  private before(a: Scheduled, b: Scheduled): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

/** One direction of a stream: bytes written by one end, in flight or held unread by the other. */
class Flow {
  // The chunks that have arrived and wait for the reader's driver: the core's chunk queue (../core/chunks.js).
  chunks: Uint8Array[] = [];
  headMoved = 0;
  heldBytes = 0;
  /** Bytes written and not yet read (in flight + arrived). */
  outstanding = 0;
  /** Time the wire is busy until (bandwidth) and the last arrival (keeps order). */
  wireFree = 0;
  lastArrival = 0;
  writerBlocked = false;
}

class SimStream implements DriverSocket {
  remote: Address;
  sink: Sink | null = null;
  peer: SimStream | null = null;
  /** Bytes this end receives. */
  readonly inbound = new Flow();
  closed = false;
  finReceived = false;

  constructor(
    readonly host: SimHost,
    remote: Address,
  ) {
    this.remote = remote;
  }

  get heldBytes(): number {
    return this.inbound.heldBytes;
  }

  readInto(into: Ring): number {
    const flow = this.inbound;
    let budget = into.free;
    const limit = this.host.readBudget();
    if (limit < budget) budget = limit;
    // One arrived chunk per call at most, so chunk boundaries reach the handler as the wire made them.
    if (flow.chunks.length === 0 || budget <= 0) return 0;
    const n = readChunks.call(flow, into, Math.min(budget, flow.chunks[0].length - flow.headMoved));
    this.host.spendRead(n);
    flow.outstanding -= n;
    const writer = this.peer;
    if (n > 0 && flow.writerBlocked && writer) {
      flow.writerBlocked = false;
      this.host.net.after(this.host.net.latency(), function () {
        if (!writer.closed && writer.sink) writer.sink.notify(SinkEvent.WRITABLE); // the window opened: an ACK reaches the writer
      });
    }
    return n;
  }

  write(from: Ring): number {
    return from.drainTo(this);
  }

  put(src: Uint8Array, off: number, len: number): number {
    const peer = this.peer;
    if (this.closed || !peer || peer.closed) return 0;
    const net = this.host.net;
    const flow = peer.inbound;
    const room = net.windowBytes - flow.outstanding;
    const n = len < room ? len : room;
    if (n <= 0) {
      flow.writerBlocked = true;
      return 0;
    }
    if (n < len) flow.writerBlocked = true;
    flow.outstanding += n;
    let at = 0;
    while (at < n) {
      const size = Math.min(n - at, net.chunkSize());
      const chunk = new Uint8Array(size); // the ring is reused as soon as we return
      chunk.set(src.subarray(off + at, off + at + size));
      at += size;
      net.transmit(this.host, peer.host, flow, size, function () {
        if (peer.closed) return;
        flow.chunks.push(chunk);
        flow.heldBytes += chunk.length;
        if (peer.sink) peer.sink.notify(SinkEvent.READABLE);
      });
    }
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink = null;
    this.forget();
    const peer = this.peer;
    if (!peer || peer.closed) return;
    // FIN travels behind the data already sent.
    this.host.net.transmit(this.host, peer.host, peer.inbound, 0, function () {
      if (peer.closed || peer.finReceived) return;
      peer.finReceived = true;
      if (peer.sink) peer.sink.notify(SinkEvent.CLOSED, ErrorCode.OK, '');
    });
  }

  /** Kills this end with `code`, as a reset or a lost link does. */
  abort(code: ErrorCode, message: string): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
    const sink = this.sink;
    this.sink = null;
    if (sink) sink.notify(SinkEvent.CLOSED, code, message);
  }

  private forget(): void {
    const list = this.host.streams;
    const i = list.indexOf(this);
    if (i >= 0) list.splice(i, 1);
  }
}

class SimDatagrams implements DriverSocket {
  remote: Address;
  readonly queue: Datagram[] = [];
  closed = false;

  constructor(
    readonly host: SimHost,
    readonly port: number,
    remote: Address | null,
    readonly sink: Sink,
  ) {
    this.remote = remote || NO_ADDRESS;
  }

  readInto(into: Ring): number {
    return takeDatagram(this.queue, into, this);
  }

  write(out: Ring): number {
    if (this.closed || !this.remote.port) return 0;
    const self = this;
    return sendDatagrams(out, function (datagram: Uint8Array) {
      self.transmit(datagram);
      return true;
    });
  }

  private transmit(datagram: Uint8Array): void {
    const net = this.host.net;
    const target = net.resolve(this.host, this.remote.host);
    const bytes = new Uint8Array(datagram); // the ring is reused as soon as we return
    const from: Address = { host: this.host.address, port: this.port };
    const port = this.remote.port;
    if (!target || net.random() < net.datagramLoss) return; // sent into the void: UDP never says
    net.transmit(this.host, target, null, bytes.length, function () {
      const to = target.datagramSockets[port];
      if (!to || to.closed || to.queue.length >= 64) return;
      to.queue.push({ bytes: bytes, from: from });
      to.sink.notify(SinkEvent.READABLE);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.host.datagramSockets[this.port] === this) delete this.host.datagramSockets[this.port];
  }
}

interface SimListener {
  sink: Sink;
  port: number;
}

/** One machine on the simulated network: a Driver for one Manager. */
export class SimHost implements Driver {
  readonly name = 'sim';
  readonly hasTls = false;
  up = true;
  /** Bytes per ms this host's sockets may read (0: unlimited) — a slow reader. */
  readRate = 0;
  readonly listeners: { [port: number]: SimListener } = {};
  readonly datagramSockets: { [port: number]: SimDatagrams } = {};
  readonly streams: SimStream[] = [];
  /** @internal */ poller: Poller | null = null;
  /** @internal When the armed poll is due (../core/wake.js). */
  wakeDue?: number;
  private nextPort = 49152;
  private readCredit = 0;
  private creditTime = 0;
  /** Seeded per host, apart from the network's generator, so using it does not change the network's timing. */
  private readonly rng: () => number;

  constructor(
    readonly net: SimNetwork,
    readonly address: string,
  ) {
    let h = net.seed >>> 0;
    for (let i = 0; i < address.length; i++) h = (Math.imul(h, 31) + address.charCodeAt(i)) >>> 0;
    this.rng = seededRandom(h);
  }

  randomBytes(into: Uint8Array): void {
    for (let i = 0; i < into.length; i++) into[i] = Math.floor(this.rng() * 256);
  }

  now(): number {
    return this.net.now;
  }

  setPoller(poller: Poller | null): void {
    this.poller = poller;
    if (!poller) this.wakeDue = undefined;
  }

  wake(ms: number): void {
    wakeEarliest.call(this, ms);
  }

  /** @internal Arms the poll on the network's agenda; a poll superseded by a sooner one finds `wakeDue` moved and does nothing. */
  armWake(): void {
    const self = this;
    const at = this.wakeDue as number;
    this.net.at(at, function () {
      if (self.wakeDue !== at || !self.poller) return;
      self.wakeDue = undefined;
      self.poller.poll();
    });
  }

  linkUp(): boolean {
    return this.up;
  }

  /** Brings the link (Wi-Fi) down or up. Down: every stream on this host dies now; its peers hear a reset one latency later. */
  setLink(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    if (up) return;
    const streams = this.streams.slice();
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i];
      const peer = s.peer;
      s.abort(ErrorCode.UNREACHABLE, 'link down');
      if (peer) {
        this.net.after(this.net.latency(), function () {
          peer.abort(ErrorCode.RESET, 'connection reset by peer');
        });
      }
    }
  }

  /** Resets every stream of this host (both ends see RESET). */
  resetAll(): void {
    const streams = this.streams.slice();
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i];
      if (s.peer) s.peer.abort(ErrorCode.RESET, 'connection reset by peer');
      s.abort(ErrorCode.RESET, 'connection reset');
    }
  }

  readBudget(): number {
    if (this.readRate <= 0) return Infinity;
    const now = this.net.now;
    this.readCredit = Math.min(this.readCredit + (now - this.creditTime) * this.readRate, this.net.windowBytes);
    this.creditTime = now;
    if (this.readCredit < 1 && this.poller) this.wake(Math.ceil(1 / this.readRate));
    return Math.floor(this.readCredit);
  }

  spendRead(n: number): void {
    if (this.readRate > 0) this.readCredit -= n;
  }

  allocatePort(): number {
    while (this.listeners[this.nextPort] || this.datagramSockets[this.nextPort]) this.nextPort++;
    return this.nextPort++;
  }

  listen(host: string, port: number, sink: Sink, tls: TlsOptions | null): ListenHandle {
    const self = this;
    const bound = port || this.allocatePort();
    if (this.listeners[bound] || tls) {
      this.net.after(0, function () {
        sink.notify(SinkEvent.CLOSED, ErrorCode.SOCKET, tls ? 'the simulator has no TLS' : 'address in use: port ' + bound);
      });
      return { port: bound, close: function () {} };
    }
    const entry: SimListener = { sink: sink, port: bound };
    this.listeners[bound] = entry;
    return {
      port: bound,
      close: function () {
        if (self.listeners[bound] === entry) delete self.listeners[bound];
      },
    };
  }

  connect(host: string, port: number, sink: Sink, tls: TlsOptions | null): DriverSocket {
    const net = this.net;
    const local = new SimStream(this, { host: host, port: port });
    local.sink = sink;
    const target = net.resolve(this, host);
    const localPort = this.allocatePort();
    const self = this;
    if (!target || tls) {
      net.after(net.latency(), function () {
        local.abort(tls ? ErrorCode.SOCKET : ErrorCode.UNREACHABLE, tls ? 'the simulator has no TLS' : 'no route to ' + host);
      });
      return local;
    }
    net.transmit(this, target, null, 0, function () {
      // SYN arrives at the target.
      if (local.closed) return;
      const listener = target.up ? target.listeners[port] : undefined;
      if (!listener) {
        net.transmit(target, self, null, 0, function () {
          local.abort(ErrorCode.REFUSED, 'connection refused');
        });
        return;
      }
      const remote = new SimStream(target, { host: self.address, port: localPort });
      remote.peer = local;
      local.peer = remote;
      const child = listener.sink.notify(SinkEvent.ACCEPT, remote, remote.remote);
      if (child) {
        remote.sink = child;
        target.streams.push(remote);
        self.streams.push(local);
      }
      net.transmit(target, self, null, 0, function () {
        // SYN-ACK back: connected (and at once closed if the server refused it).
        if (local.closed) return;
        if (local.sink) local.sink.notify(SinkEvent.CONNECTED, ErrorCode.OK);
        if (!child) local.abort(ErrorCode.RESET, 'connection reset by peer');
      });
    });
    return local;
  }

  udp(host: string, port: number, remote: Address | null, sink: Sink): DriverSocket {
    const bound = port || this.allocatePort();
    const d = new SimDatagrams(this, bound, remote, sink);
    if (this.datagramSockets[bound]) {
      this.net.after(0, function () {
        sink.notify(SinkEvent.CLOSED, ErrorCode.SOCKET, 'address in use: port ' + bound);
      });
    } else {
      this.datagramSockets[bound] = d;
    }
    return d;
  }
}

export class SimNetwork {
  now = 0;
  readonly random: () => number;
  readonly seed: number;
  readonly windowBytes: number;
  readonly datagramLoss: number;
  private readonly agenda = new Agenda();
  private readonly hosts: { [address: string]: SimHost } = {};
  private readonly partitions: { [pair: string]: boolean } = {};
  private readonly stalled: (() => void)[] = [];
  private readonly opts: SimOptions;

  constructor(options?: SimOptions) {
    this.opts = options || {};
    this.seed = this.opts.seed === undefined ? 1 : this.opts.seed;
    this.random = seededRandom(this.seed);
    this.windowBytes = this.opts.windowBytes || 8192;
    this.datagramLoss = this.opts.datagramLoss || 0;
  }

  /** A host with this address (a name or an IP-like string); loopback names resolve to the host itself. */
  host(address: string): SimHost {
    if (this.hosts[address]) throw new Error('sim host ' + address + ' exists');
    const h = new SimHost(this, address);
    this.hosts[address] = h;
    return h;
  }

  resolve(from: SimHost, address: string): SimHost | undefined {
    if (address === '127.0.0.1' || address === 'localhost' || address === '::1' || address === from.address) return from;
    return this.hosts[address];
  }

  /** Cuts (or heals) the path between two hosts: packets wait, as TCP retransmits would, until it heals. */
  partition(a: string, b: string, cut: boolean): void {
    this.partitions[a < b ? a + '|' + b : b + '|' + a] = cut;
    if (!cut) {
      const waiting = this.stalled.splice(0, this.stalled.length);
      for (let i = 0; i < waiting.length; i++) this.after(this.latency(), waiting[i]);
    }
  }

  latency(): number {
    const base = this.opts.latencyMs === undefined ? 1 : this.opts.latencyMs;
    const jitter = this.opts.jitterMs || 0;
    return base + (jitter > 0 ? this.random() * jitter : 0);
  }

  chunkSize(): number {
    const lo = this.opts.chunkMin || 1460;
    const hi = this.opts.chunkMax || lo;
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  at(time: number, fn: () => void): void {
    this.agenda.add(time < this.now ? this.now : time, fn);
  }

  after(ms: number, fn: () => void): void {
    this.at(this.now + ms, fn);
  }

  /**
   * Carries `size` bytes from one host to another and runs `deliver` on
   * arrival. On a stream flow, arrivals keep their order and share the wire.
   */
  transmit(from: SimHost, to: SimHost, flow: Flow | null, size: number, deliver: () => void): void {
    const bw = this.opts.bandwidth || 0;
    let start = this.now;
    if (flow && flow.wireFree > start) start = flow.wireFree;
    const sent = start + (bw > 0 ? size / bw : 0);
    let arrive = sent + this.latency();
    if (flow) {
      flow.wireFree = sent;
      if (arrive < flow.lastArrival) arrive = flow.lastArrival;
      flow.lastArrival = arrive;
    }
    const self = this;
    this.at(arrive, function () {
      if (!from.up || !to.up) return; // lost with the link
      if (self.partitions[from.address < to.address ? from.address + '|' + to.address : to.address + '|' + from.address]) {
        self.stalled.push(deliver);
        return;
      }
      deliver();
    });
  }

  /** Runs everything scheduled up to `now + ms`; returns how many steps ran. */
  runFor(ms: number): number {
    return this.runUntil(this.now + ms);
  }

  runUntil(time: number): number {
    let steps = 0;
    while (this.agenda.peekTime() <= time) {
      const s = this.agenda.pop() as Scheduled;
      this.now = s.at;
      s.fn();
      steps++;
    }
    if (time > this.now) this.now = time;
    return steps;
  }

  /** Runs until `done()` is true or `maxMs` of simulated time pass; returns whether it became true. */
  runWhile(done: () => boolean, maxMs: number): boolean {
    const end = this.now + maxMs;
    while (!done()) {
      if (this.agenda.peekTime() > end) {
        this.now = end;
        return done();
      }
      const s = this.agenda.pop() as Scheduled;
      this.now = s.at;
      s.fn();
    }
    return true;
  }
}
