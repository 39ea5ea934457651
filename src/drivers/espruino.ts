/**
 * The Espruino driver: `net` and `tls` (where the board has it) under the
 * core's driver contract, on ESP32, ESP8266 and Espruino's Linux build;
 * datagrams (./espruino-udp.js) and Wi-Fi supervision (./espruino-wifi.js)
 * are opt-in modules. Callbacks only record what happened and wake the manager.
 *
 * What the interpreter does (measured on 2v29) and what this file does about it:
 * - Received data comes as binary strings in `data` events, at most one network
 *   chunk each. The interpreter reads the network eagerly and has no pause().
 *   Its `available()`/`read(n)` alternative does not bound memory either (the
 *   interpreter keeps reading into a hidden string: a 100 KB burst ran an
 *   ESP8266-sized build out of memory) and it truncates what an accepted socket
 *   still holds when the peer closes. So this driver listens to `data` and
 *   holds at most `holdBytes` per socket for the manager; a peer that outruns
 *   the device past that fails with ERROR(TOO_BIG): bytes are never dropped
 *   silently from a live stream.
 * - `write()` takes strings only (a typed array is written as its toString()
 *   text), always returns false, and a `drain` follows when the interpreter's
 *   send buffer is empty. Bytes in flight are counted against `inFlightBytes`
 *   and reset by `drain`.
 * - A refused `net.connect` throws synchronously; the manager turns that into
 *   CONNECT(REFUSED). A connect callback together with on('connect') breaks
 *   the interpreter, and neither is needed: as it queues `connect` the
 *   interpreter queues `drain` too when nothing waits to be sent (the manager
 *   writes only once CONNECTED), so `drain` says connected. Without a
 *   `connect` listener a socket keeps 5 variables fewer (measured on 2v29).
 * - A throwing callback can be removed by the interpreter (a device that goes
 *   deaf), so every callback handed to it is guarded.
 * - A peer's half-close closes the whole socket: unsent bytes are lost there.
 * - The interpreter allocates a peer's socket and data before any JavaScript
 *   runs, so a peer is accepted only while what it may take at once
 *   (`peerVars`) is free beyond what the open peers may still grow by;
 *   otherwise it is closed at once. Running out of memory
 *   would stop the device; a refused peer can come back. A socket without a
 *   `data` listener keeps all it receives, even after end() (which waits for
 *   the peer to stop sending), so a refused one gets the shared handler,
 *   which drops it: a refused peer that kept sending ran an ESP8266-sized
 *   build out of memory.
 * - `E.toString` needs contiguous free memory for its flat string and gives
 *   undefined without it: a write then tries smaller pieces.
 * - From flash, every function object costs about 10 variables of RAM: the
 *   socket event handlers are shared by all sockets (they find their stream
 *   as `socket.ringnet`) instead of closures per socket.
 */
import { NO_ADDRESS } from '../core/address.js';
import { readChunks } from '../core/chunks.js';
import { wakeEarliest } from '../core/wake.js';
import type { Address } from '../core/address.js';
import type { Driver, DriverSocket, ListenHandle, Poller, Sink, TlsOptions } from '../core/driver.js';
import { SinkEvent } from '../core/driver.js';
import { ErrorCode } from '../core/events.js';
import type { Ring } from '../core/ring.js';
import type { EspruinoE, EspruinoProcess, EspruinoRequire, EspruinoSetTimeout } from './espruino-globals.js';

// Espruino's globals, declared for this module only (Node's `require` type does not apply here).
declare const require: EspruinoRequire;
declare const setTimeout: EspruinoSetTimeout;
declare function clearTimeout(id: number): void;
declare const process: EspruinoProcess;
declare const E: EspruinoE;

/** The part of the board profile this driver reads (plain data, see boards/profile.ts). */
export interface EspruinoDriverOptions {
  net: { chunkBytes: number; inFlightBytes: number; holdBytes: number };
  hasTls: boolean;
  /** `superviseWifi` (./espruino-wifi.js) on a board on Wi-Fi: the link state, joining and rejoining. Without it the link is always up. */
  wifi?: (driver: EspruinoDriver, wifiFile: string | undefined) => void;
  /** Storage file with `{"ssid", "password"}` that `wifi` joins with. */
  wifiFile?: string;
  /**
   * `espruinoDatagrams(board.udp)` (./espruino-udp.js) when the app uses UDP (SNTP does).
   * Without it the driver has no `udp` and an app that needs none does not carry it.
   */
  datagrams?: DatagramOpener;
}

/** Opens a datagram socket for the driver (see Driver.udp); it becomes the driver's `udp`, so the driver is its `this`. */
export type DatagramOpener = (this: EspruinoDriver, host: string, port: number, remote: Address | null, sink: Sink) => DriverSocket;

/** The interpreter's socket, as far as this driver uses it. @runtime */
interface EsSocket {
  write(data: string): boolean;
  end(): void;
  on(event: string, fn: (this: EsSocket, a: any) => void): void;
  /** The stream that owns this socket: the shared event handlers below find it here. */
  ringnet?: EspruinoStream;
}

/** The longest the driver waits between polls if a poll ever threw before scheduling the next one. */
const KEEPALIVE_MS = 1000;
/** A forward step of the interpreter's clock larger than this between two readings is taken as the clock being set. */
const CLOCK_SET_MS = 60000;

/**
 * The most one `data` event carries: 536 bytes on ESP32 and Espruino's Linux
 * build, 268 on ESP8266 (its network's chunkSize). The larger, so that the
 * Linux build given an ESP8266's memory, where this was measured, is covered.
 */
const NET_CHUNK = 536;
/** Bytes of each variable block a string cannot use for characters (a 16-byte block keeps about 13; measured on 2v29). */
export const STRING_BLOCK_OVERHEAD = 3;
/** Variables a served peer takes besides the strings it makes the interpreter hold (its stream, lists, events, timers). */
const PEER_OVERHEAD_VARS = 64;

/**
 * Interpreter variables one peer may take at once, for blocks of `blockSize`
 * bytes: what it may hold, the chunk that arrives over the hold, what is in
 * flight and the piece being written, as strings (a string keeps about
 * blockSize - STRING_BLOCK_OVERHEAD characters per block), plus its overhead. Measured on 2v29
 * with 1,600 variables: a peer held 1,120 B with 536 in flight while 234
 * variables fewer were free than when it arrived. `heldOnly`: the strings
 * alone, what an open connection (its stream already made) may still grow by.
 */
export function peerVars(net: EspruinoDriverOptions['net'], blockSize: number, heldOnly?: boolean): number {
  return Math.ceil((net.holdBytes + NET_CHUNK + net.inFlightBytes + net.chunkBytes) / (blockSize - STRING_BLOCK_OVERHEAD)) + (heldOnly ? 0 : PEER_OVERHEAD_VARS);
}

const enum SocketEvent {
  DATA,
  /** The interpreter's `drain`: the socket is connected and takes more. */
  DRAIN,
  CLOSE,
  ERROR,
}

// One handler for every event of every socket: a guarded closure per socket and event would be eight function
// objects per connection, and one function per event five for all, at about 4.5 variables each (measured on 2v29:
// docs/device-cost.md). The interpreter calls it on the socket, which names its stream, and tells the events
// apart by what it passes (measured on 2v29): `data` a string, `close` a boolean (whether it had an error),
// `drain` the socket itself, `error` an object with a code and a message.
function onSocketEvent(this: EsSocket, arg: any): void {
  const stream = this.ringnet;
  if (!stream) return;
  stream.handle(typeof arg === 'string' ? SocketEvent.DATA : typeof arg === 'boolean' ? SocketEvent.CLOSE : arg === this ? SocketEvent.DRAIN : SocketEvent.ERROR, arg);
}

class EspruinoStream implements DriverSocket {
  remote: Address;
  // Unset fields are undefined, not null or false: on the device each such field costs a variable less.
  sink?: Sink;
  // The received strings: the core's chunk queue (../core/chunks.js), kept on the stream itself.
  chunks: string[] = [];
  heldBytes = 0;
  headMoved = 0;
  /** Bytes written since the last `drain` (not `inFlight`: the device build keeps that name long, the MQTT session's). */
  private awaitingDrain = 0;
  /** No more writes: the socket closed, failed, or was closed by us. */
  private dead?: boolean;
  /** @internal Counted in the driver's `peers` (an accepted socket) until it closes. */
  admitted?: boolean;

  constructor(
    private readonly socket: EsSocket,
    remote: Address,
    readonly driver: EspruinoDriver,
  ) {
    this.remote = remote;
    socket.ringnet = this;
    socket.on('data', onSocketEvent);
    socket.on('drain', onSocketEvent);
    socket.on('close', onSocketEvent);
    socket.on('error', onSocketEvent);
  }

  /**
   * @internal Runs one socket event for this stream, or with no event the
   * manager's close (it is `close()` too); an exception is counted by the
   * driver, never propagated. One method for all of them: each function
   * object costs RAM on the device.
   */
  handle(event?: SocketEvent, arg?: any): void {
    const driver = this.driver;
    try {
      let code = ErrorCode.OK;
      let message = '';
      if (event === SocketEvent.DRAIN) {
        // `drain` says the socket is connected (a connection already open ignores CONNECTED).
        this.awaitingDrain = 0;
        if (this.sink) {
          this.sink.notify(SinkEvent.CONNECTED, ErrorCode.OK);
          this.sink.notify(SinkEvent.WRITABLE);
        }
        return;
      }
      if (event === SocketEvent.DATA) {
        if (!this.sink) return; // closed by us or by the peer: nobody will read it
        if (this.heldBytes + arg.length <= driver.limits.holdBytes) {
          this.chunks.push(arg);
          this.heldBytes += arg.length;
          this.sink.notify(SinkEvent.READABLE);
          return;
        }
        // The interpreter cannot pause a socket: fail this connection rather than run the device out of memory.
        code = ErrorCode.TOO_BIG;
        message = 'peer sent more than ' + driver.limits.holdBytes + ' bytes ahead of the device';
      } else if (event === SocketEvent.ERROR) {
        // Espruino's negative socket error codes (socketerrors.h) as the core's codes.
        const c = arg && arg.code;
        code = c === -3 ? ErrorCode.TIMEOUT : c === -9 ? ErrorCode.RESET : c === -11 ? ErrorCode.REFUSED : c === -4 || c === -6 ? ErrorCode.UNREACHABLE : ErrorCode.SOCKET;
        message = (arg && arg.message) || 'socket error';
      }
      // The socket is finished: by the peer (CLOSE, ERROR), by a peer that outran us (DATA), or by us (no event).
      const sink = this.sink;
      this.dead = true;
      this.sink = undefined;
      if (this.admitted) driver.peers--;
      this.admitted = undefined;
      delete this.socket.ringnet; // socket and stream point at each other: only a collection would free the pair
      if (event === SocketEvent.CLOSE || event === SocketEvent.ERROR) {
        if (sink) sink.notify(SinkEvent.CLOSED, code, message);
        return;
      }
      this.chunks = [];
      this.heldBytes = 0;
      if (sink && event === SocketEvent.DATA) sink.notify(SinkEvent.CLOSED, code, message);
      try {
        this.socket.end();
      } catch (e) {
        // already closed by the interpreter
      }
    } catch (e) {
      driver.errors++;
      driver.lastError = String(e);
    }
  }

  /** The core's readChunks, installed on the prototype below. */
  declare readInto: (into: Ring) => number;


  /**
   * Writes from the front of the ring what the in-flight budget allows, in
   * small flat strings (large ones need contiguous free memory), and discards
   * what it wrote.
   */
  write(from: Ring): number {
    const limits = this.driver.limits;
    let done = 0;
    let piece = limits.chunkBytes;
    while (!this.dead && from.length > 0 && this.awaitingDrain < limits.inFlightBytes) {
      const run = from.contiguousLength();
      const room = limits.inFlightBytes - this.awaitingDrain;
      const n = run < piece ? (run < room ? run : room) : piece < room ? piece : room;
      const s = E.toString(from.bytes.subarray(from.start, from.start + n)); // a binary string, copied natively; undefined when no flat block is free
      if (s === undefined) {
        // No contiguous block that large free now: a smaller piece may fit; when not even 16 bytes do, the rest waits in the ring.
        if (piece < 32) break;
        piece >>= 1;
        continue;
      }
      try {
        this.socket.write(s);
      } catch (e) {
        this.dead = true; // "This socket is closed": its close event follows
        break;
      }
      from.discard(n);
      this.awaitingDrain += n;
      done += n;
    }
    return done;
  }

  /** The manager closes the socket: `handle` itself, installed on the prototype below (no event: closed by us). */
  declare close: () => void;
}

// The core's queue method as the stream's own: a method calling it would be one more function object on the device.
EspruinoStream.prototype.readInto = readChunks;
// close() is handle() with no event: a wrapper would be one more function object on the device.
EspruinoStream.prototype.close = EspruinoStream.prototype.handle as () => void;

export class EspruinoDriver implements Driver {
  readonly name = 'espruino';
  readonly hasTls: boolean;
  readonly limits: EspruinoDriverOptions['net'];
  /** Exceptions caught in interpreter callbacks (each would otherwise have been printed and its callback dropped). */
  errors = 0;
  /** Peers refused at accept because the interpreter lacked the memory one more may take (`peerVars`). */
  refusedLowMemory = 0;
  /** @internal Accepted sockets still open: each may grow to `peerVars`. */
  peers = 0;
  /** The last of those exceptions, as text; unset until one (on the device an empty string would cost a variable). */
  lastError?: string;
  udp?: (host: string, port: number, remote: Address | null, sink: Sink) => DriverSocket;
  /** @internal */ poller: Poller | null = null;
  /** @internal The setTimeout that runs the next poll, and when it is due (../core/wake.js). */
  pending: number | undefined = undefined;
  /** @internal */ wakeDue?: number;
  /** @internal Whether the link is up: Wi-Fi supervision (./espruino-wifi.js) keeps it; without it, always. */
  link = true;
  private noise = 0;
  /** @internal Free variables when the first of the open peers arrived (acceptPeer): what they took since is `freeBeforePeers - free`. */
  freeBeforePeers = 0;
  /** How far the interpreter's clock has jumped in all (see now()). */
  private clockShift = 0;
  /** The last reading of now(). */
  private lastNow = 0;

  constructor(options: EspruinoDriverOptions) {
    this.limits = options.net;
    this.hasTls = options.hasTls;
    if (options.datagrams) this.udp = options.datagrams;
    if (options.wifi) options.wifi(this, options.wifiFile);
  }

  /**
   * The manager's clock, ms: the interpreter's (`Date.now()`), less every jump of it. The firmware's SNTP sets that
   * clock (from 1970 at boot to today at its first answer, then small corrections), and the manager's deadlines must
   * not jump with it. A step back, or one forward of more than a minute between two readings (the driver polls at
   * least every second), is a set: this clock carries on from where it was.
   */
  now(): number {
    const t = Date.now() - this.clockShift;
    const step = t - this.lastNow;
    if (step < 0 || step > CLOCK_SET_MS) {
      this.clockShift += step;
      return this.lastNow;
    }
    return (this.lastNow = t);
  }

  setPoller(poller: Poller | null): void {
    this.poller = poller;
    if (!poller && this.pending !== undefined) {
      clearTimeout(this.pending);
      this.pending = this.wakeDue = undefined;
    }
  }

  /** The core's wakeEarliest, installed on the prototype below. */
  declare wake: (ms: number) => void;

  /** @internal Arms the poll timer (see ../core/wake.js). */
  armWake(ms: number): void {
    if (this.pending !== undefined) clearTimeout(this.pending);
    this.pending = setTimeout(runPoll, ms, this);
  }

  linkUp(): boolean {
    return this.link;
  }

  /** Bytes from the hardware noise source (E.hwRand reads the voltage reference), for nonces and masking keys. */
  randomBytes(into: Uint8Array): void {
    for (let i = 0; i < into.length; i++) {
      if ((i & 3) === 0) this.noise = E.hwRand ? E.hwRand() : (Math.random() * 4294967296) | 0;
      into[i] = (this.noise >>> ((i & 3) * 8)) & 255;
    }
  }

  listen(host: string, port: number, sink: Sink, tls: TlsOptions | null): ListenHandle {
    if (tls) throw new Error('Espruino has no TLS server');
    // The handler is one module-level function that finds its driver and sink on the server (the interpreter calls it
    // with the server as `this`): a closure here would keep listen()'s whole scope, 12 variables on 2v29.
    const server: EsServer = require('net').createServer(acceptPeer);
    server.sink = sink;
    server.drv = this;
    server.listen(port); // Espruino binds every interface: the port is all it takes
    server.port = port; // the server has close(): with its port it is the ListenHandle
    return server;
  }

  connect(host: string, port: number, sink: Sink, tls: TlsOptions | null): DriverSocket {
    const options: { [key: string]: string | number | undefined } = { host: host, port: port };
    if (tls) {
      options.ca = tls.ca;
      options.cert = tls.cert;
      options.key = tls.key;
    }
    // Throws at once when the connection is refused; the manager reports CONNECT(REFUSED).
    const socket: EsSocket = require(tls ? 'tls' : 'net').connect(options);
    // The options are the peer's address too (the interpreter keeps them as the socket's `opt`): one object, not two.
    const stream = new EspruinoStream(socket, options as unknown as Address, this);
    stream.sink = sink;
    return stream;
  }
}

/** A listening server as the driver leaves it: its port, and what acceptPeer needs. */
interface EsServer extends ListenHandle {
  listen(port: number): void;
  sink: Sink;
  drv: EspruinoDriver;
}

/** A peer came to a server: admitted when memory allows, its stream handed to the server's sink. */
function acceptPeer(this: EsServer, socket: EsSocket): void {
  const driver = this.drv; // `this` is the server
  try {
    // The interpreter allocates a peer's data before any JavaScript runs, so memory is guarded at the door: what is
    // free must cover this peer's worst case and what the open peers may still grow by, `need` each less what they
    // took since the first came (counting all of it refused a second ESP8266 echo client that fitted). A
    // collection runs only before a refusal: it takes time.
    let m = process.memory(false);
    const need = peerVars(driver.limits, m.blocksize || 16);
    let room = 0;
    for (let pass = 0; pass < 2 && room < need; pass++) {
      if (pass) m = process.memory(true);
      if (driver.peers === 0) driver.freeBeforePeers = m.free;
      const taken = driver.freeBeforePeers - m.free;
      const growth = driver.peers * need - (taken > 0 ? taken : 0);
      room = m.free - (growth > 0 ? growth : 0);
    }
    if (room < need) {
      driver.refusedLowMemory++;
      // Without a data listener the interpreter would keep all the peer still sends (and end() waits for it to stop):
      // the shared handler drops it, as the socket has no stream.
      socket.on('data', onSocketEvent);
      socket.end();
      return;
    }
    const stream = new EspruinoStream(socket, NO_ADDRESS, driver); // Espruino does not report an accepted peer's address
    stream.admitted = true;
    driver.peers++;
    const child = this.sink.notify(SinkEvent.ACCEPT, stream, stream.remote);
    if (child) stream.sink = child;
    else stream.close();
  } catch (e) {
    driver.errors++;
    driver.lastError = String(e);
  }
}

// The core's wake rule as the driver's own method, as readChunks above.
EspruinoDriver.prototype.wake = wakeEarliest;

/** The poll timer's function: runs the manager's poll, and never leaves the driver without a next one. */
function runPoll(d: EspruinoDriver): void {
  d.pending = d.wakeDue = undefined;
  const poller = d.poller;
  if (!poller) return;
  try {
    poller.poll();
  } catch (e) {
    d.errors++;
    d.lastError = String(e);
  }
  if (d.pending === undefined && d.poller) d.wake(KEEPALIVE_MS);
}
