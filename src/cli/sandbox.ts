/**
 * The runtime half of the Espruino compatibility gate: a Node `vm` context
 * shaped like Espruino 2v29, on a virtual clock, so CI can run device bundles
 * without the interpreter.
 *
 * What it reproduces (each measured on the real interpreter):
 * - only Espruino's globals: no Map/Set/WeakMap/Symbol/Proxy/Reflect/BigInt/
 *   Buffer/TextEncoder/RangeError, none of the missing built-ins (Number.isInteger,
 *   Math.imul, Array.from, Object.freeze, Promise.race …); an `E` object;
 *   `InternalError`; `Function.prototype.apply` limited to 256 arguments;
 *   `Uint8Array.prototype.slice` returning a plain Array; typed-array `set()`
 *   taking a binary string as char codes;
 * - `net`: data delivered as binary strings of at most the board's chunk size,
 *   one chunk per socket per interpreter loop; `write()` takes strings (a typed
 *   array is written as its toString() text), always returns false, and
 *   `drain` follows when everything written has gone out (and with `connect`,
 *   when nothing waits to be sent); events are queued,
 *   never synchronous; a connect to a port nobody listens on throws at once; a
 *   connect callback together with on('connect') is fatal (it asserts in the
 *   interpreter); the peer's half-close closes the whole socket and drops what
 *   was not sent; writing to a closed socket throws; at most `maxSockets`;
 * - `dgram` (string datagrams, `message` with rinfo), `Storage`, and `Wifi`
 *   when asked for (Espruino's Linux build has none: require throws);
 * - a callback that throws is reported (the interpreter prints it) and an
 *   interval whose callback throws is removed.
 * What it cannot reproduce is the parser (hoisting, regex quirks, `arr.length = n`):
 * the static gate (gate.ts) covers those.
 *
 * This file holds the sandbox's state and its loop; sandbox/realm.ts shapes
 * the realm and its globals, sandbox/network.ts is the fake network,
 * sandbox/timers.ts the timers, sandbox/storage.ts Storage, sandbox/wifi.ts
 * the Wi-Fi link. Each part declares what it uses of the sandbox (NetworkHost,
 * TimerHost …), so none imports this file and the modules form no cycle.
 */
import type { BoardProfile } from '../../boards/profile.js';
import vm from 'node:vm';
import { peerVars } from '../drivers/espruino.js';
import { connectPeer, networkPass, SandboxPeer, SandboxUdpPeer } from './sandbox/network.js';
import type { DeviceServer, Emitter, Listener, Pipe, UdpEndpoint } from './sandbox/network.js';
import { shapeRealm } from './sandbox/realm.js';
import { JITTER_EVERY, runTimers } from './sandbox/timers.js';
import type { TimerEntry } from './sandbox/timers.js';
import { setWifi, wifiModule } from './sandbox/wifi.js';

export { SandboxPeer, SandboxUdpPeer };

export interface SandboxOptions {
  /** Largest string one `data` event carries (the board's network chunk size). */
  chunkBytes: number;
  /** Sockets the network stack has, servers included. */
  maxSockets?: number;
  /** Whether `require('tls')` works (sockets stay plain inside the sandbox). */
  hasTls?: boolean;
  /** Provide a `Wifi` module whose link the test controls (default: none, like the Linux build). */
  wifi?: boolean;
  /** Initial Storage files. */
  storage?: { [name: string]: string };
  /** What `process.memory().free` reports at start, in 16-byte variables (default 1200); `freeVars` changes it later. */
  freeVars?: number;
}

/**
 * The sandbox shaped like `board`: its network chunk, its sockets, TLS where it
 * has it, and free memory for two peers' worst case (`peerVars`) or an
 * ESP8266's 1,200 variables, whichever is more.
 */
export function boardSandboxOptions(board: BoardProfile): SandboxOptions {
  return { chunkBytes: board.net.chunkBytes, maxSockets: board.maxSockets, hasTls: board.hasTls, freeVars: Math.max(1200, 2 * peerVars(board.net, 16)) };
}

export class EspruinoSandbox {
  readonly context: vm.Context & { [name: string]: any };
  /** The context's own built-ins (a vm context does not show them as properties from outside). */
  readonly realm: { Error: ErrorConstructor; Uint8Array: Uint8ArrayConstructor; JSON: JSON; Date: DateConstructor; RegExp: RegExpConstructor; InternalError: new (m: string) => object };
  /** console.log/print output, one entry per call. */
  readonly output: string[] = [];
  /** Uncaught exceptions in callbacks and other problems the interpreter would print. */
  readonly errors: string[] = [];
  /** Set when the interpreter would have crashed or asserted; the loop stops. */
  fatalError: string | null = null;
  /** Virtual milliseconds since start. */
  now = 0;
  /** @internal */ servers: { [port: number]: DeviceServer } = {};
  /** @internal */ udp: { [port: number]: UdpEndpoint } = {};
  /** @internal */ socketsInUse = 0;
  /** @internal */ readonly pipes: Pipe[] = [];
  /** @internal */ readonly events: (() => void)[] = [];
  /** @internal */ timers: TimerEntry[] = [];
  /** @internal */ nextTimerId = 1;
  /** @internal */ pass = 0;
  /** @internal */ nextPort = 40000;
  /** @internal */ readonly peerServers: { [port: number]: (peer: SandboxPeer) => void } = {};
  /** @internal */ readonly storage: { [name: string]: string };
  /** @internal */ wifiUp = true;
  /** @internal */ readonly wifiModule: Emitter | null;
  /** True while load() runs a bundle's top level. */
  /** @internal */ booting = false;
  /**
   * Bytes of typed arrays the bundle allocated by length, from load() on: what
   * it fixes as it starts (ring arena, protocol buffers), and anything it
   * allocates later. Views over existing memory (subarray) do not count.
   */
  allocatedBytes = 0;
  /** TCP servers the code created: an app that makes none never accepts a peer. */
  serversMade = 0;
  /** What `process.memory().free` reports (16-byte variables); a test lowers it to put the device under memory pressure. */
  freeVars: number;
  /** Variables a garbage collection (`process.memory()` or `process.memory(true)`) would free. */
  garbageVars = 0;
  /** The longest flat string `E.toString` finds room for (contiguous free memory); longer ones give undefined. */
  largestFlatBytes = Infinity;
  /** @internal */ readonly maxSockets: number;
  /** @internal */ readonly options: SandboxOptions;

  constructor(options: SandboxOptions) {
    this.options = options;
    this.maxSockets = options.maxSockets || 10;
    this.freeVars = options.freeVars || 1200;
    this.storage = Object.assign({}, options.storage || {});
    this.context = vm.createContext({}, { name: 'espruino', codeGeneration: { strings: false, wasm: false } });
    this.realm = vm.runInContext(
      '({ Error: Error, Uint8Array: Uint8Array, JSON: JSON, Date: Date, RegExp: RegExp,' +
        ' InternalError: function InternalError(m) { this.message = m; this.type = "InternalError"; } })',
      this.context,
    );
    this.wifiModule = options.wifi ? wifiModule(this) : null;
    shapeRealm(this);
  }

  // ---------------------------------------------------------------- Wi-Fi (sandbox/wifi.ts)

  /** SSIDs the device asked to join, in order. */
  readonly wifiJoins: string[] = [];
  /** The servers each `Wifi.setSNTP` call named. */
  readonly sntpServers: string[] = [];
  /** @internal What the wall clock (`Date.now()`, `getTime()`) is ahead of virtual time. */
  wallOffset = 0;

  /** Sets the wall clock to `unixMs`, as `setTime()` or the firmware's SNTP does; timers keep their delays. */
  setWallClock(unixMs: number): void {
    this.wallOffset = unixMs - this.now;
  }

  /** Wi-Fi goes down or comes up (needs `wifi: true`): `disconnected` / `connected` events. */
  setWifi(up: boolean): void {
    setWifi(this, up);
  }

  // ---------------------------------------------------------------- running

  /** Runs a bundle's text (top level only; what it schedules runs in runFor/runUntil). */
  load(code: string, filename?: string): void {
    this.booting = true;
    try {
      vm.runInContext(code, this.context, { filename: filename || 'bundle.js' });
    } catch (e) {
      this.problem('uncaught at top level: ' + describe(e));
    } finally {
      this.booting = false;
    }
  }

  /** Runs the interpreter loop for `ms` virtual milliseconds (or until a fatal error). */
  runFor(ms: number): void {
    const end = this.now + ms;
    while (this.now < end && !this.fatalError) this.loop(end);
  }

  /** Runs until `done()` is true; false if `maxMs` virtual milliseconds passed first. */
  runUntil(done: () => boolean, maxMs: number): boolean {
    const end = this.now + maxMs;
    while (!done()) {
      if (this.now >= end || this.fatalError) return false;
      this.loop(end);
    }
    return true;
  }

  /**
   * One pass of the interpreter's loop: sockets (one chunk each way), queued
   * events, then timers set in an earlier pass — so a `setTimeout(poll, 0)`
   * from a data event runs after the next network pass, and about two chunks
   * arrive per poll, as measured on 2v29. Then time moves on (1 ms when busy,
   * else to the next timer).
   */
  private loop(limit: number): void {
    this.pass++;
    const busy = networkPass(this);
    while (this.events.length && !this.fatalError) (this.events.shift() as () => void)();
    // Now and then the interpreter does one more network pass before its timers (3 chunks between polls).
    if (this.pass % JITTER_EVERY !== 0) runTimers(this);
    if (this.fatalError) return;
    if (busy || this.events.length) this.now += 1;
    else {
      let next = limit;
      for (const t of this.timers) if (t.due < next) next = t.due;
      this.now = Math.max(this.now + 1, Math.min(next, limit));
    }
  }

  // ---------------------------------------------------------------- the network, test side (sandbox/network.ts)

  /** Connects the test to a device server on `port`; null when nothing listens there (refused) or no socket is free. */
  connect(port: number): SandboxPeer | null {
    return connectPeer(this, port);
  }

  /** A test-side TCP server on `port` that device `net.connect` calls reach. */
  listen(port: number, onPeer: (peer: SandboxPeer) => void): void {
    this.peerServers[port] = onPeer;
  }

  /** A test-side UDP socket bound to `port`. */
  udpPeer(port: number): SandboxUdpPeer {
    const u = new SandboxUdpPeer(this, port);
    this.udp[port] = u;
    return u;
  }

  // ---------------------------------------------------------------- plumbing

  /** @internal Queues an event for the interpreter's next event pass. */
  queue(target: Emitter, event: string, a?: unknown, b?: unknown): void {
    this.events.push(() => {
      const fns = (target.listeners[event] || []).slice();
      for (const fn of fns) {
        const ok = this.call(fn, target, [a, b], event);
        if (!ok && event === 'data') target.listeners[event] = (target.listeners[event] || []).filter((f) => f !== fn); // the interpreter drops a throwing data handler
      }
    });
  }

  /** @internal */
  queueCall(fn: Listener, a?: unknown, b?: unknown): void {
    this.events.push(() => {
      this.call(fn, undefined, [a, b], 'callback');
    });
  }

  /** @internal Test-side work for the next event pass (outside the device's realm). */
  later(fn: () => void): void {
    this.events.push(fn);
  }

  /** @internal */
  ephemeralPort(): number {
    return this.nextPort++;
  }

  /** @internal */
  call(fn: Listener, self: unknown, args: unknown[], what: string): boolean {
    try {
      fn.apply(self, args as [unknown, unknown]);
      return true;
    } catch (e) {
      this.problem('uncaught in ' + what + ': ' + describe(e));
      return false;
    }
  }

  /** @internal */
  print(args: unknown[]): void {
    this.output.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  }

  /** @internal Something the interpreter would print as an error. */
  problem(message: string): void {
    this.errors.push(message);
  }

  /** @internal Something the interpreter would crash or assert on: the loop stops. */
  fatal(message: string): void {
    this.errors.push('FATAL: ' + message);
    if (!this.fatalError) this.fatalError = message;
  }
}

function describe(e: unknown): string {
  const err = e as { message?: unknown; stack?: string } | null;
  if (err && typeof err === 'object' && 'message' in err) return String(err.message) + (err.stack ? '\n' + err.stack.split('\n').slice(1, 4).join('\n') : '');
  return String(e);
}
