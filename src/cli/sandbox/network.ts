/**
 * The sandbox's fake network: device sockets, servers and datagram sockets as
 * Espruino's `net` and `dgram` present them, the test's ends of them, and the
 * pass of the interpreter's loop that moves one chunk per socket each way.
 */
import { STRING_BLOCK_OVERHEAD } from '../../drivers/espruino.js';

/** Bytes waiting to cross the fake network in one direction. */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private offset = 0;
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  take(max: number): Uint8Array {
    const n = Math.min(max, this.length);
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const k = Math.min(n - at, c.length - this.offset);
      out.set(c.subarray(this.offset, this.offset + k), at);
      at += k;
      this.offset += k;
      if (this.offset === c.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.length -= n;
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.offset = 0;
    this.length = 0;
  }
}

export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
  return out;
}

export function bytesToBinary(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 4096)));
  return s;
}

export type Listener = (a?: unknown, b?: unknown) => void;

/** What the fake network uses of the sandbox (NetworkHost in ../sandbox.ts): declared here so this module does not import it. */
export interface NetworkHost {
  readonly realm: { Error: ErrorConstructor; InternalError: new (m: string) => object };
  readonly options: { chunkBytes: number };
  readonly maxSockets: number;
  servers: { [port: number]: DeviceServer };
  udp: { [port: number]: UdpEndpoint };
  readonly peerServers: { [port: number]: (peer: SandboxPeer) => void };
  readonly pipes: Pipe[];
  readonly events: (() => void)[];
  socketsInUse: number;
  freeVars: number;
  wifiUp: boolean;
  queue(target: Emitter, event: string, a?: unknown, b?: unknown): void;
  queueCall(fn: Listener, a?: unknown, b?: unknown): void;
  later(fn: () => void): void;
  ephemeralPort(): number;
  call(fn: Listener, self: unknown, args: unknown[], what: string): boolean;
  print(args: unknown[]): void;
  problem(message: string): void;
  fatal(message: string): void;
}

/** Espruino-style event emitter: `on` adds, `emit` queues (asynchronous, unlike Node). */
export class Emitter {
  listeners: { [event: string]: Listener[] } = {};
  constructor(protected readonly sb: NetworkHost) {}
  on(event: string, fn: Listener): this {
    (this.listeners[event] = this.listeners[event] || []).push(fn);
    return this;
  }
  removeAllListeners(event?: string): void {
    if (event) delete this.listeners[event];
    else this.listeners = {};
  }
  emit(event: string, a?: unknown, b?: unknown): void {
    this.sb.queue(this, event, a, b);
  }
  has(event: string): boolean {
    return !!(this.listeners[event] && this.listeners[event].length);
  }
}

/** The test's end of a TCP connection to or from the device. */
export class SandboxPeer {
  /** Everything the device sent, in order. */
  private readonly got: Uint8Array[] = [];
  receivedBytes = 0;
  /** The connection is gone (either side closed it). */
  closed = false;
  /** False: this peer takes nothing from the device (a full receive window), so the device's sends back up. */
  reading = true;
  onData: ((chunk: Uint8Array) => void) | null = null;
  onClose: (() => void) | null = null;
  /** @internal */ toDevice = new ByteQueue();
  /** @internal */ finSent = false;
  /** @internal */ pipe: Pipe | null = null;

  write(data: Uint8Array | string): void {
    if (this.closed || this.finSent) throw new Error('sandbox peer: write after end/close');
    this.toDevice.push(typeof data === 'string' ? binaryToBytes(data) : data.slice());
  }

  /** Half-close (FIN) once what was written has been delivered. Espruino then closes the whole socket. */
  end(): void {
    this.finSent = true;
  }

  /** @internal */
  deliver(bytes: Uint8Array): void {
    this.got.push(bytes);
    this.receivedBytes += bytes.length;
    if (this.onData) this.onData(bytes);
  }

  received(): Uint8Array {
    const out = new Uint8Array(this.receivedBytes);
    let at = 0;
    for (const c of this.got) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** A device-side socket (what `net.connect` returns and servers hand to their callback). */
export class DeviceSocket extends Emitter {
  /** @internal */ outbound = new ByteQueue();
  /** @internal */ isOpen = true;
  /** @internal */ ending = false;
  /** @internal Bytes received while no `data` listener was attached: the interpreter keeps them in the socket's memory. */
  unread = 0;
  /** @internal */ connectCallback: Listener | null = null;
  /** @internal */ connected = false;

  write(data: unknown): boolean {
    if (!this.isOpen) throw new this.sb.realm.Error('This socket is closed');
    const s = typeof data === 'string' ? data : String(data); // like jsvAsString: a Uint8Array is written as "1,2,3"
    this.outbound.push(binaryToBytes(s));
    return false;
  }

  end(): void {
    this.ending = true;
  }

  on(event: string, fn: Listener): this {
    if (event === 'connect' && this.connectCallback)
      this.sb.fatal("net.connect was given a callback AND on('connect'): Espruino 2v25–2v29 asserts (or runs neither)");
    return super.on(event, fn);
  }

  available(): number {
    this.sb.fatal('socket.available()/read() are not emulated: on 2v29 they truncate what an accepted socket holds when the peer closes');
    return 0;
  }

  read(): string {
    return this.available() as unknown as string;
  }
}

/** One TCP connection: a device socket and the test's peer. */
export interface Pipe {
  device: DeviceSocket;
  peer: SandboxPeer;
  /** Outbound connect not yet reported. */
  connecting: boolean;
  /** The device has its socket (accept callback ran / connect returned): data may flow. */
  ready: boolean;
  done: boolean;
}

export class DeviceServer {
  port = -1;
  constructor(
    private readonly sb: NetworkHost,
    readonly onConnection: Listener,
  ) {}
  listen(port: number): this {
    if (this.sb.servers[port]) return this; // like the interpreter: a second bind fails silently
    this.port = port;
    this.sb.servers[port] = this;
    this.sb.socketsInUse++;
    return this;
  }
  close(): void {
    if (this.port >= 0 && this.sb.servers[this.port] === this) {
      delete this.sb.servers[this.port];
      this.sb.socketsInUse--;
    }
  }
}

export interface UdpEndpoint {
  port: number;
  deliver(data: Uint8Array, fromPort: number): void;
}

export class DeviceDatagramSocket extends Emitter implements UdpEndpoint {
  port = 0;
  bind(port: number, cb?: Listener): this {
    this.port = port || this.sb.ephemeralPort();
    this.sb.udp[this.port] = this;
    if (cb) this.sb.queueCall(cb, this);
    return this;
  }
  send(data: unknown, port: number, host: string): void {
    if (typeof data !== 'string') this.sb.fatal('dgram send() of a ' + typeof data + ': the interpreter asserts the buffer is a string');
    if (!this.port) this.bind(0);
    const target = this.sb.udp[port];
    if (target && (host === '127.0.0.1' || host === 'localhost' || host === '0.0.0.0')) {
      const bytes = binaryToBytes(data as string);
      const from = this.port;
      this.sb.later(() => target.deliver(bytes, from));
    }
  }
  close(): void {
    if (this.sb.udp[this.port] === this) delete this.sb.udp[this.port];
    this.emit('close');
  }
  deliver(data: Uint8Array, fromPort: number): void {
    this.emit('message', bytesToBinary(data), { address: '127.0.0.1', port: fromPort, size: data.length });
  }
}

/** The test's UDP socket. */
export class SandboxUdpPeer implements UdpEndpoint {
  readonly messages: { data: Uint8Array; fromPort: number }[] = [];
  constructor(
    private readonly sb: NetworkHost,
    readonly port: number,
  ) {}
  send(data: Uint8Array | string, port: number): void {
    const target = this.sb.udp[port];
    const bytes = typeof data === 'string' ? binaryToBytes(data) : data.slice();
    if (target) this.sb.later(() => target.deliver(bytes, this.port));
  }
  deliver(data: Uint8Array, fromPort: number): void {
    this.messages.push({ data: data, fromPort: fromPort });
  }
}

/** Moves one chunk per socket per direction, as the interpreter's idle loop does. Returns whether anything is in flight. */
export function networkPass(sb: NetworkHost): boolean {
  let busy = false;
  for (const p of sb.pipes) {
    if (p.done || !p.ready) {
      busy = busy || !p.done;
      continue;
    }
    const d = p.device;
    if (p.connecting) {
      p.connecting = false;
      d.connected = true;
      if (d.connectCallback) sb.queueCall(d.connectCallback, d);
      sb.queue(d, 'connect', d);
      if (d.outbound.length === 0) sb.queue(d, 'drain', d); // the interpreter's drain with connect when nothing waits to be sent
      busy = true;
      continue;
    }
    const inbound = p.peer.toDevice;
    let received = false;
    if (inbound.length > 0) {
      const chunk = inbound.take(sb.options.chunkBytes);
      if (d.has('data')) sb.queue(d, 'data', bytesToBinary(chunk));
      else keepUnread(sb, d, chunk.length);
      received = busy = true;
    } else if (p.peer.finSent) {
      closePipe(sb, p, false); // no half-close on Espruino: the whole socket goes, unsent bytes too
      continue;
    }
    if (d.outbound.length > 0 && p.peer.reading) {
      const chunk = d.outbound.take(sb.options.chunkBytes);
      sb.later(() => p.peer.deliver(chunk));
      if (d.outbound.length === 0 && !d.ending) sb.queue(d, 'drain', d);
      busy = true;
    } else if (d.ending && !received) {
      closePipe(sb, p, false); // the interpreter closes once nothing is left to send or arriving
      continue;
    }
    if (inbound.length > 0 || (d.outbound.length > 0 && p.peer.reading)) busy = true;
  }
  for (let i = sb.pipes.length - 1; i >= 0; i--) if (sb.pipes[i].done) sb.pipes.splice(i, 1);
  return busy;
}

/**
 * Data for a socket without a `data` listener: the interpreter keeps it in
 * the socket (read() would return it), in RAM, even after end(); the socket
 * stays open while the peer keeps sending. Charged to `freeVars` until the
 * socket closes; past it the interpreter is out of memory.
 */
function keepUnread(sb: NetworkHost, d: DeviceSocket, bytes: number): void {
  if (!d.ending) sb.problem('data arrived on a socket with no data listener');
  sb.freeVars -= stringVars(d.unread + bytes) - stringVars(d.unread);
  d.unread += bytes;
  if (sb.freeVars < 0) sb.fatal('out of memory: ' + d.unread + ' bytes kept for a socket with no data listener');
}

export function closePipe(sb: NetworkHost, p: Pipe, hadError: boolean): void {
  p.done = true;
  sb.freeVars += stringVars(p.device.unread);
  p.device.unread = 0;
  p.device.isOpen = false;
  p.device.outbound.clear();
  p.peer.toDevice.clear();
  p.peer.closed = true;
  sb.socketsInUse--;
  if (p.peer.onClose) sb.later(p.peer.onClose);
  sb.queue(p.device, 'end');
  sb.queue(p.device, 'close', hadError);
}

/** Connects the test to a device server on `port`; null when nothing listens there (refused) or no socket is free. */
export function connectPeer(sb: NetworkHost, port: number): SandboxPeer | null {
  const server = sb.servers[port];
  if (!server || sb.socketsInUse >= sb.maxSockets) return null;
  const peer = new SandboxPeer();
  const device = new DeviceSocket(sb);
  const pipe: Pipe = { device: device, peer: peer, connecting: false, ready: false, done: false };
  peer.pipe = pipe;
  sb.pipes.push(pipe);
  sb.socketsInUse++;
  sb.events.push(() => {
    sb.call(server.onConnection, server, [device], 'connection'); // the interpreter calls it with the server as `this`
    pipe.ready = true;
  });
  return peer;
}

/** `net.connect`/`tls.connect` from the device: reaches a test-side server, or throws as the interpreter does. */
export function deviceConnect(sb: NetworkHost, opts: { host: string; port: number }, cb?: Listener): DeviceSocket {
  const onPeer = sb.peerServers[opts.port];
  const server = sb.servers[opts.port];
  const local = opts.host === '127.0.0.1' || opts.host === 'localhost';
  if (!sb.wifiUp || !local || (!onPeer && !server) || sb.socketsInUse >= sb.maxSockets) {
    sb.print(['ERROR: Connect failed (err 111)']);
    throw new sb.realm.InternalError('Unable to create socket');
  }
  const device = new DeviceSocket(sb);
  device.connectCallback = cb || null;
  const peer = new SandboxPeer();
  const pipe: Pipe = { device: device, peer: peer, connecting: true, ready: true, done: false };
  peer.pipe = pipe;
  sb.pipes.push(pipe);
  sb.socketsInUse++;
  if (onPeer) sb.later(() => onPeer(peer));
  else if (server) {
    // device to itself: bridge two device sockets through a relay peer pair
    sb.fatal('device-to-device connections are not emulated');
  }
  return device;
}

/** 16-byte variables a string of `bytes` characters takes (as the Espruino driver counts them). */
function stringVars(bytes: number): number {
  return Math.ceil(bytes / (16 - STRING_BLOCK_OVERHEAD));
}
