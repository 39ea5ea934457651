/**
 * The Node.js driver: node:net, node:tls and node:dgram under the core's
 * driver contract. Callbacks only queue what happened and wake the manager.
 */
import { randomFillSync } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { performance } from 'node:perf_hooks';
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

export interface NodeDriverOptions {
  /** Bytes a socket may hold for the manager before it is paused (default 16 KiB). */
  readAheadBytes?: number;
  /** Datagrams a UDP socket may hold before newer ones are dropped (default 64). */
  datagramQueue?: number;
}

function errorCode(err: NodeJS.ErrnoException): ErrorCode {
  switch (err.code) {
    case 'ECONNREFUSED':
      return ErrorCode.REFUSED;
    case 'ECONNRESET':
    case 'EPIPE':
      return ErrorCode.RESET;
    case 'ETIMEDOUT':
      return ErrorCode.TIMEOUT;
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return ErrorCode.UNREACHABLE;
    default:
      return ErrorCode.SOCKET;
  }
}

/** One TCP or TLS stream. */
class NodeStream implements DriverSocket {
  remote: Address;
  sink: Sink | null = null;
  // The received Buffers: the core's chunk queue (../core/chunks.js).
  chunks: Buffer[] = [];
  heldBytes = 0;
  headMoved = 0;
  private paused = false;
  private waitingDrain = false;
  private done = false;

  constructor(
    private readonly socket: net.Socket,
    remote: Address,
    private readonly readAhead: number,
  ) {
    this.remote = remote;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes >= this.readAhead && !this.paused) {
        this.paused = true; // the manager is behind: stop reading until it catches up
        socket.pause();
      }
      if (this.sink) this.sink.notify(SinkEvent.READABLE);
    });
    socket.on('drain', () => {
      this.waitingDrain = false;
      if (this.sink) this.sink.notify(SinkEvent.WRITABLE);
    });
    socket.on('end', () => this.finish(ErrorCode.OK, ''));
    socket.on('error', (err: NodeJS.ErrnoException) => this.finish(errorCode(err), err.message));
    socket.on('close', () => this.finish(ErrorCode.OK, ''));
  }

  private finish(code: ErrorCode, message: string): void {
    if (this.done) return;
    this.done = true;
    if (this.sink) this.sink.notify(SinkEvent.CLOSED, code, message);
  }

  readInto(into: Ring): number {
    const moved = readChunks.call(this, into);
    if (this.paused && this.heldBytes < this.readAhead) {
      this.paused = false;
      this.socket.resume();
    }
    return moved;
  }

  write(from: Ring): number {
    return from.drainTo(this);
  }

  put(src: Uint8Array, off: number, len: number): number {
    if (this.waitingDrain || this.done) return 0;
    // Copy: the ring's bytes are reused as soon as we return.
    const ok = this.socket.write(Buffer.from(src.subarray(off, off + len)));
    if (!ok) this.waitingDrain = true;
    return len;
  }

  close(): void {
    this.done = true;
    this.sink = null;
    const socket = this.socket;
    if (socket.destroyed) return;
    // Bytes the manager already handed over may still sit in Node's write
    // buffer, and destroying a socket with unread input makes the kernel send
    // RST, which can discard a response the peer has not read yet. So: send
    // FIN after what was written, drop whatever still arrives, and destroy
    // once the peer closes too (or after a grace period).
    socket.removeAllListeners('data');
    socket.on('data', function () {});
    socket.resume();
    socket.end();
    const timer = setTimeout(function () {
      socket.destroy();
    }, LINGER_MS);
    timer.unref();
    socket.once('close', function () {
      clearTimeout(timer);
    });
  }
}

/** How long a closed stream may linger to deliver its last bytes and read the peer's close. */
const LINGER_MS = 2000;

/** A UDP socket: each read is one whole datagram. */
class NodeDatagrams implements DriverSocket {
  remote: Address;
  private readonly queue: Datagram[] = [];
  private done = false;

  constructor(
    private readonly socket: dgram.Socket,
    remote: Address | null,
    sink: Sink,
    private readonly maxQueue: number,
  ) {
    this.remote = remote || NO_ADDRESS;
    socket.on('message', (msg: Buffer, info: dgram.RemoteInfo) => {
      if (this.done || this.queue.length >= this.maxQueue) return; // like a full socket buffer: the newest is lost
      this.queue.push({ bytes: msg, from: { host: info.address, port: info.port } });
      sink.notify(SinkEvent.READABLE);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.done) return;
      this.done = true;
      socket.close(); // close() below does nothing once done: a failed send (a name that does not resolve) would leave the socket open
      sink.notify(SinkEvent.CLOSED, errorCode(err), err.message);
    });
  }

  readInto(into: Ring): number {
    return takeDatagram(this.queue, into, this);
  }

  write(from: Ring): number {
    if (this.done || !this.remote.port) return 0;
    const socket = this.socket;
    const to = this.remote;
    return sendDatagrams(from, function (datagram: Uint8Array) {
      socket.send(Buffer.from(datagram), to.port, to.host);
      return true;
    });
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.socket.close();
  }
}

export class NodeDriver implements Driver {
  readonly name = 'node';
  readonly hasTls = true;
  /** @internal */ poller: Poller | null = null;
  /** @internal When the armed poll is due (../core/wake.js). */
  wakeDue?: number;
  private immediate: NodeJS.Immediate | null = null;
  private timeout: NodeJS.Timeout | null = null;
  private readonly readAhead: number;
  private readonly datagramQueue: number;
  private readonly fire = () => {
    this.cancelTimers();
    this.wakeDue = undefined;
    if (this.poller) this.poller.poll();
  };

  constructor(options?: NodeDriverOptions) {
    this.readAhead = (options && options.readAheadBytes) || 16384;
    this.datagramQueue = (options && options.datagramQueue) || 64;
  }

  now(): number {
    return performance.now();
  }

  setPoller(poller: Poller | null): void {
    this.poller = poller;
    if (!poller) {
      this.cancelTimers();
      this.wakeDue = undefined;
    }
  }

  wake(ms: number): void {
    wakeEarliest.call(this, ms);
  }

  /** @internal Arms the poll: the next turn of the event loop for 0 ms, else a timeout. */
  armWake(ms: number): void {
    this.cancelTimers();
    if (ms <= 0) this.immediate = setImmediate(this.fire);
    else this.timeout = setTimeout(this.fire, ms);
  }

  private cancelTimers(): void {
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timeout) clearTimeout(this.timeout);
    this.immediate = null;
    this.timeout = null;
  }

  linkUp(): boolean {
    return true;
  }

  randomBytes(into: Uint8Array): void {
    randomFillSync(into);
  }

  listen(host: string, port: number, sink: Sink, tlsOpts: TlsOptions | null): ListenHandle {
    const onSocket = (socket: net.Socket) => {
      const stream = new NodeStream(socket, { host: socket.remoteAddress || '', port: socket.remotePort || 0 }, this.readAhead);
      const child = sink.notify(SinkEvent.ACCEPT, stream, stream.remote);
      if (!child) socket.destroy();
      else stream.sink = child;
    };
    // allowHalfOpen: a peer that sends its request and then shuts down its side
    // must still get the answer; the manager closes our side when it is done.
    const server = tlsOpts
      ? tls.createServer({ cert: tlsOpts.cert, key: tlsOpts.key, ca: tlsOpts.ca, allowHalfOpen: true }, onSocket)
      : net.createServer({ allowHalfOpen: true }, onSocket);
    server.on('error', (err: NodeJS.ErrnoException) => sink.notify(SinkEvent.CLOSED, errorCode(err), err.message));
    server.on('listening', () => {
      const bound = server.address();
      if (bound && typeof bound === 'object') sink.notify(SinkEvent.BOUND, bound.port);
    });
    server.listen(port, host === '0.0.0.0' ? undefined : host);
    const address = server.address(); // known now unless a host name must be resolved first
    return {
      port: address && typeof address === 'object' ? address.port : port,
      close: () => {
        server.close();
      },
    };
  }

  connect(host: string, port: number, sink: Sink, tlsOpts: TlsOptions | null): DriverSocket {
    const socket = tlsOpts
      ? tls.connect({
          host: host,
          port: port,
          ca: tlsOpts.ca,
          cert: tlsOpts.cert,
          key: tlsOpts.key,
          rejectUnauthorized: tlsOpts.verify !== false,
          servername: tlsOpts.servername || (net.isIP(host) ? undefined : host),
        })
      : net.connect({ host: host, port: port });
    const stream = new NodeStream(socket, { host: host, port: port }, this.readAhead);
    stream.sink = sink;
    socket.once(tlsOpts ? 'secureConnect' : 'connect', () => sink.notify(SinkEvent.CONNECTED, ErrorCode.OK));
    return stream;
  }

  udp(host: string, port: number, remote: Address | null, sink: Sink): DriverSocket {
    const socket = dgram.createSocket(host.indexOf(':') >= 0 ? 'udp6' : 'udp4');
    const d = new NodeDatagrams(socket, remote, sink, this.datagramQueue);
    socket.bind(port, host === '0.0.0.0' ? undefined : host);
    return d;
  }
}
