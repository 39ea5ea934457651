/**
 * Faults on top of any driver, for fleets of simulated devices that talk to
 * real brokers: the link (Wi-Fi) goes down and up, inbound bytes are held back
 * by a latency or by the retransmission a lost segment costs, and streams are
 * reset. The wrapped driver does the real I/O.
 */
import type { Address } from '../core/address.js';
import type { Driver, DriverSocket, ListenHandle, Poller, Sink, TlsOptions } from '../core/driver.js';
import { SinkEvent } from '../core/driver.js';
import { ErrorCode } from '../core/events.js';
import type { Ring } from '../core/ring.js';

/** A socket whose reads wait out the latency and which the link can kill. */
class FaultySocket implements DriverSocket, Sink {
  /** When the oldest unread bytes may be read (-1: nothing pending). */
  private readyAt = -1;
  dead = false;

  constructor(
    private readonly owner: FaultyDriver,
    public inner: DriverSocket | null,
    public sink: Sink | null,
  ) {}

  get remote(): Address {
    return (this.inner as DriverSocket).remote;
  }

  set remote(a: Address) {
    (this.inner as DriverSocket).remote = a;
  }

  readInto(into: Ring): number {
    if (this.dead || !this.inner) return 0;
    const now = this.owner.now();
    if ((this.owner.latencyMs > 0 || this.owner.lossRate > 0) && (this.readyAt < 0 || now < this.readyAt)) return 0;
    const n = this.inner.readInto(into);
    this.readyAt = -1;
    return n;
  }

  write(from: Ring): number {
    return this.dead || !this.inner ? 0 : this.inner.write(from);
  }

  close(): void {
    this.dead = true;
    this.owner.forget(this);
    if (this.inner) this.inner.close();
  }

  /** Ends this socket as a lost link or a reset would. */
  kill(code: ErrorCode, message: string): void {
    if (this.dead) return;
    const sink = this.sink;
    this.close();
    if (sink) sink.notify(SinkEvent.CLOSED, code, message);
  }

  /** The inner socket's news, passed on unless the link killed this socket; inbound bytes wait out the latency. */
  notify(what: SinkEvent, a?: any, b?: any): any {
    if (this.dead) return null;
    if (what === SinkEvent.READABLE && this.readyAt < 0) {
      const o = this.owner;
      const delay = o.latencyMs + (o.lossRate > 0 && o.random() < o.lossRate ? o.retransmitMs : 0);
      this.readyAt = o.now() + delay;
      if (delay > 0) o.wake(delay);
    } else if (what === SinkEvent.CLOSED) {
      this.dead = true;
      this.owner.forget(this);
    }
    if (this.sink) this.sink.notify(what as SinkEvent.CLOSED, a, b);
    return null;
  }
}

export class FaultyDriver implements Driver {
  readonly name: string;
  readonly hasTls: boolean;
  /** Inbound bytes wait this long before the manager may read them. */
  latencyMs = 0;
  /**
   * Chance that an inbound segment is lost. TCP hides a loss as a
   * retransmission, so a lost segment arrives `retransmitMs` late.
   */
  lossRate = 0;
  retransmitMs = 200;
  /** 0 ≤ x < 1; seeded by a fleet so a run replays its faults. */
  random: () => number = Math.random;
  /** Only when the inner driver has datagrams: the manager then refuses UDP itself, before it takes a slot. */
  udp?: (host: string, port: number, remote: Address | null, sink: Sink) => DriverSocket;
  /** Only when the inner driver has a random source: without one, protocols use their own fallback, as with it unwrapped. */
  randomBytes?: (into: Uint8Array) => void;
  private up = true;
  private readonly sockets: FaultySocket[] = [];

  constructor(private readonly inner: Driver) {
    this.name = 'faulty-' + inner.name;
    this.hasTls = inner.hasTls;
    if (inner.udp) this.udp = this.openDatagrams;
    if (inner.randomBytes) this.randomBytes = this.innerRandomBytes;
  }

  now(): number {
    return this.inner.now();
  }

  setPoller(poller: Poller | null): void {
    this.inner.setPoller(poller);
  }

  wake(ms: number): void {
    this.inner.wake(ms);
  }

  linkUp(): boolean {
    return this.up && this.inner.linkUp();
  }

  /** The inner driver's random source, when it has one (this one's `random` is for its own faults). */
  private innerRandomBytes(into: Uint8Array): void {
    this.inner.randomBytes!(into);
  }

  /** Link down: every socket dies with UNREACHABLE at once, as on a device whose Wi-Fi drops. */
  setLink(up: boolean): void {
    this.up = up;
    if (!up) this.resetAll(ErrorCode.UNREACHABLE, 'link down');
    this.inner.wake(0);
  }

  /** Kills every socket (RESET by default). */
  resetAll(code?: ErrorCode, message?: string): void {
    const list = this.sockets.slice();
    for (let i = 0; i < list.length; i++) list[i].kill(code || ErrorCode.RESET, message || 'connection reset');
    this.inner.wake(0);
  }

  /** @internal */
  forget(s: FaultySocket): void {
    const i = this.sockets.indexOf(s);
    if (i >= 0) this.sockets.splice(i, 1);
  }

  private track(inner: DriverSocket | null, sink: Sink | null): FaultySocket {
    const s = new FaultySocket(this, inner, sink);
    this.sockets.push(s);
    return s;
  }

  listen(host: string, port: number, sink: Sink, tls: TlsOptions | null): ListenHandle {
    const self = this;
    return this.inner.listen(
      host,
      port,
      {
        notify: function (what: SinkEvent, a?: any, b?: any): any {
          if (what !== SinkEvent.ACCEPT) return sink.notify(what as SinkEvent.CLOSED, a, b);
          if (!self.up) return null;
          const s = new FaultySocket(self, a, null);
          const child = sink.notify(SinkEvent.ACCEPT, s, b); // the manager holds the wrapper, never the inner socket
          if (!child) return null;
          s.sink = child;
          self.sockets.push(s);
          return s;
        },
      },
      tls,
    );
  }

  connect(host: string, port: number, sink: Sink, tls: TlsOptions | null): DriverSocket {
    const s = this.track(null, sink);
    s.inner = this.inner.connect(host, port, s, tls);
    return s;
  }

  private openDatagrams(host: string, port: number, remote: Address | null, sink: Sink): DriverSocket {
    const s = this.track(null, sink);
    s.inner = this.inner.udp!(host, port, remote, s);
    return s;
  }
}
