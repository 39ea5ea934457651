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
 *   `drain` follows when everything written has gone out; events are queued,
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
 */
import type { BoardProfile } from '../../boards/profile.js';
import { peerVars, STRING_BLOCK_OVERHEAD } from '../drivers/espruino.js';
import vm from 'node:vm';
import { regexProblems } from './gate.js';

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

/** Bytes waiting to cross the fake network in one direction. */
class ByteQueue {
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

function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
  return out;
}

function bytesToBinary(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 4096)));
  return s;
}

type Listener = (a?: unknown, b?: unknown) => void;

/** Espruino-style event emitter: `on` adds, `emit` queues (asynchronous, unlike Node). */
class Emitter {
  listeners: { [event: string]: Listener[] } = {};
  constructor(protected readonly sb: EspruinoSandbox) {}
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
class DeviceSocket extends Emitter {
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
interface Pipe {
  device: DeviceSocket;
  peer: SandboxPeer;
  /** Outbound connect not yet reported. */
  connecting: boolean;
  /** The device has its socket (accept callback ran / connect returned): data may flow. */
  ready: boolean;
  done: boolean;
}

class DeviceServer {
  port = -1;
  constructor(
    private readonly sb: EspruinoSandbox,
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

interface UdpEndpoint {
  port: number;
  deliver(data: Uint8Array, fromPort: number): void;
}

class DeviceDatagramSocket extends Emitter implements UdpEndpoint {
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
    private readonly sb: EspruinoSandbox,
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

interface TimerEntry {
  id: number;
  /** The loop pass that created it: a timer is never run in the pass that set it. */
  pass: number;
  due: number;
  period: number;
  fn: Listener;
  args: unknown[];
}

/**
 * One loop pass in this many skips its timers, as the interpreter's loop sometimes does (up to 3 chunks
 * between two polls). Matches the measured limits: an esp8266 echo keeps up with a 2 KB window, not 3 KB.
 */
const JITTER_EVERY = 8;

/** Globals the sandbox removes from V8's realm because Espruino does not have them. */
const REMOVED_GLOBALS = [
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'FinalizationRegistry',
  'Symbol',
  'Proxy',
  'Reflect',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'SharedArrayBuffer',
  'Atomics',
  'RangeError',
  'EvalError',
  'URIError',
  'AggregateError',
  'Intl',
  'WebAssembly',
  'escape',
  'unescape',
  'eval',
];
/** Members removed from built-ins, as `Global.member` or `Global.prototype.member`. */
const REMOVED_MEMBERS = (
  'Number.isInteger Number.isFinite Number.isNaN Number.isSafeInteger Number.parseInt Number.parseFloat Number.EPSILON ' +
  'Number.MAX_SAFE_INTEGER Number.MIN_SAFE_INTEGER Math.imul Math.trunc Math.log2 Math.log10 Math.log1p Math.expm1 ' +
  'Math.clz32 Math.fround Math.hypot Math.cbrt Math.sinh Math.cosh Math.tanh Math.asinh Math.acosh Math.atanh ' +
  'Array.from Array.of ArrayBuffer.isView Object.freeze Object.seal Object.is Object.isFrozen Object.isSealed ' +
  'Object.preventExtensions Object.getOwnPropertySymbols Promise.race Promise.allSettled Promise.any Date.UTC ' +
  'String.fromCodePoint String.raw Error.captureStackTrace Array.prototype.at Array.prototype.flat Array.prototype.flatMap ' +
  'Array.prototype.reduceRight Array.prototype.keys Array.prototype.entries Array.prototype.values ' +
  'Array.prototype.lastIndexOf Array.prototype.copyWithin Array.prototype.findLast Array.prototype.findLastIndex ' +
  'String.prototype.trimStart String.prototype.trimEnd String.prototype.trimLeft String.prototype.trimRight ' +
  'String.prototype.localeCompare String.prototype.normalize String.prototype.codePointAt String.prototype.at ' +
  'Promise.prototype.finally ArrayBuffer.prototype.slice'
).split(' ');

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
  private readonly pipes: Pipe[] = [];
  private readonly events: (() => void)[] = [];
  private timers: TimerEntry[] = [];
  private nextTimerId = 1;
  private pass = 0;
  private nextPort = 40000;
  private readonly peerServers: { [port: number]: (peer: SandboxPeer) => void } = {};
  private readonly storage: { [name: string]: string };
  private wifiUp = true;
  private readonly wifiModule: Emitter | null;
  /** True while load() runs a bundle's top level. */
  private booting = false;
  /**
   * Bytes of typed arrays the bundle allocated by length, from load() on: what
   * it fixes as it starts (ring arena, protocol buffers), and anything it
   * allocates later. Views over existing memory (subarray) do not count.
   */
  allocatedBytes = 0;
  /** What `process.memory().free` reports (16-byte variables); a test lowers it to put the device under memory pressure. */
  freeVars: number;
  /** Variables a garbage collection (`process.memory()` or `process.memory(true)`) would free. */
  garbageVars = 0;
  /** The longest flat string `E.toString` finds room for (contiguous free memory); longer ones give undefined. */
  largestFlatBytes = Infinity;
  private readonly maxSockets: number;

  constructor(private readonly options: SandboxOptions) {
    this.maxSockets = options.maxSockets || 10;
    this.freeVars = options.freeVars || 1200;
    this.storage = Object.assign({}, options.storage || {});
    this.context = vm.createContext({}, { name: 'espruino', codeGeneration: { strings: false, wasm: false } });
    this.realm = vm.runInContext(
      '({ Error: Error, Uint8Array: Uint8Array, JSON: JSON, Date: Date, RegExp: RegExp,' +
        ' InternalError: function InternalError(m) { this.message = m; this.type = "InternalError"; } })',
      this.context,
    );
    this.wifiModule = options.wifi ? this.makeWifi() : null;
    this.shapeRealm();
  }

  // ---------------------------------------------------------------- the realm

  private shapeRealm(): void {
    const ctx = this.context;
    const sb = this;
    // Strip what Espruino lacks, patch what it does differently; all inside the context's own realm.
    vm.runInContext(
      '(function (removedGlobals, removedMembers) {' +
        'var g = globalThis;' +
        'removedGlobals.forEach(function (n) { delete g[n]; });' +
        'var TA = Object.getPrototypeOf(Uint8Array);' +
        'removedMembers.forEach(function (path) {' +
        '  var parts = path.split("."); var o = g[parts[0]]; if (!o) return;' +
        '  if (parts[1] === "prototype") delete o.prototype[parts[2]]; else delete o[parts[1]];' +
        '});' +
        'delete TA.from; delete TA.of; delete TA.prototype.copyWithin; delete TA.prototype.at;' +
        'var set = TA.prototype.set;' +
        // Espruino copies a string's char codes into a typed array natively
        'TA.prototype.set = function (src, offset) {' +
        '  if (typeof src === "string") { var a = new Array(src.length); for (var i = 0; i < src.length; i++) a[i] = src.charCodeAt(i) & 255; src = a; }' +
        '  return set.call(this, src, offset || 0);' +
        '};' +
        // A view stores its byteOffset in 16 bits: a view that starts past 65,535 bytes into its buffer throws
        'var subarray = TA.prototype.subarray;' +
        'TA.prototype.subarray = function (a, b) {' +
        '  var view = subarray.call(this, a, b);' +
        '  if (view.byteOffset > 65535) throw new Error("byteOffset too large (or negative)");' +
        '  return view;' +
        '};' +
        // Uint8Array.prototype.slice returns a plain Array on Espruino
        'var slice = TA.prototype.slice;' +
        'TA.prototype.slice = function (a, b) { return Array.prototype.slice.call(slice.call(this, a, b)); };' +
        // 2v29's String indexOf also "finds" a needle when the string's tail is the start of it: "abc,".indexOf(",W") is 3
        'var indexOf = String.prototype.indexOf;' +
        'Object.defineProperty(String.prototype, "indexOf", { value: function (needle, from) {' +
        '  var s = String(this); needle = String(needle); var hit = indexOf.call(s, needle, from);' +
        '  if (hit >= 0 || needle.length > s.length) return hit;' +
        '  for (var i = Math.max(from | 0, s.length - needle.length + 1, 0); i < s.length; i++) if (indexOf.call(needle, s.substring(i)) === 0) return i;' +
        '  return -1;' +
        '}, writable: true, configurable: true });' +
        'var apply = Function.prototype.apply;' +
        'Object.defineProperty(Function.prototype, "apply", { value: function (self, args) {' +
        '  if (args && args.length > 256) throw new Error("Array passed to Function.apply is too big! Maximum 256 arguments, got " + args.length);' +
        '  return apply.call(this, self, args);' +
        '}, writable: true, configurable: true });' +
        '})',
      ctx,
    )(REMOVED_GLOBALS, REMOVED_MEMBERS);
    const RealRegExp = this.realm.RegExp;
    const CheckedRegExp = function (pattern: string | RegExp, flags?: string) {
      const src = typeof pattern === 'string' ? pattern : pattern.source;
      for (const p of regexProblems(src, flags || '')) sb.problem('new RegExp(' + JSON.stringify(src) + '): ' + p + ' on Espruino');
      return new RealRegExp(pattern, flags);
    } as unknown as RegExpConstructor;
    (CheckedRegExp as unknown as { prototype: RegExp }).prototype = RealRegExp.prototype;
    vm.runInContext('(function (R) { RegExp = R; })', ctx)(CheckedRegExp);
    // Counts allocations by length; instanceof and subarray keep the real constructor.
    const RealUint8Array = this.realm.Uint8Array;
    const CountedUint8Array: Uint8ArrayConstructor = new Proxy(RealUint8Array, {
      construct(target, args, newTarget): object {
        if (typeof args[0] === 'number') sb.allocatedBytes += args[0];
        return Reflect.construct(target, args, newTarget === CountedUint8Array ? target : newTarget);
      },
    });
    vm.runInContext('(function (U) { Uint8Array = U; })', ctx)(CountedUint8Array);
    ctx.InternalError = this.realm.InternalError;
    ctx.global = ctx;
    ctx.console = { log: (...a: unknown[]) => sb.print(a) };
    ctx.print = (...a: unknown[]) => sb.print(a);
    ctx.setTimeout = (fn: Listener, ms?: number, ...args: unknown[]) => sb.addTimer(fn, ms || 0, -1, args);
    ctx.setInterval = (fn: Listener, ms?: number, ...args: unknown[]) => sb.addTimer(fn, ms || 0, Math.max(ms || 0, 1), args);
    ctx.clearTimeout = ctx.clearInterval = (id: number) => {
      sb.timers = sb.timers.filter((t) => t.id !== id);
    };
    ctx.changeInterval = (id: number, ms: number) => {
      for (const t of sb.timers) if (t.id === id) t.period = ms;
    };
    ctx.getTime = () => sb.now / 1000;
    this.realm.Date.now = () => sb.now;
    ctx.process = {
      version: '2v29',
      env: { VERSION: '2v29', MODULES: this.modules().join(',') },
      memory: (collect?: boolean) => {
        if (collect !== false) {
          sb.freeVars += sb.garbageVars; // a collection frees what only it can (cycles)
          sb.garbageVars = 0;
        }
        return { free: sb.freeVars, usage: 400, total: 400 + sb.freeVars, blocksize: 16 };
      },
    };
    ctx.E = this.makeE();
    ctx.analogRead = () => 0.5; // mid-scale on every pin: apps read sensors through it
    ctx.require = (name: string) => sb.requireModule(name);
  }

  private makeE(): object {
    const sb = this;
    const toBytes = (args: unknown[]): number[] => {
      const out: number[] = [];
      const add = (x: unknown) => {
        if (typeof x === 'string') for (let i = 0; i < x.length; i++) out.push(x.charCodeAt(i) & 255);
        else if (typeof x === 'number') out.push(x & 255);
        else if (x && typeof (x as ArrayLike<unknown>).length === 'number') for (let i = 0; i < (x as ArrayLike<unknown>).length; i++) add((x as ArrayLike<unknown>)[i]);
        else if (x && (x as { byteLength?: number }).byteLength !== undefined) add(new Uint8Array(x as ArrayBuffer));
      };
      for (const a of args) add(a);
      return out;
    };
    const handlers: { [event: string]: Listener[] } = {};
    return {
      toString: (...args: unknown[]) => {
        const bytes = toBytes(args);
        return bytes.length > sb.largestFlatBytes ? undefined : bytesToBinary(Uint8Array.from(bytes));
      },
      toUint8Array: (...args: unknown[]) => new sb.realm.Uint8Array(toBytes(args)),
      toArrayBuffer: (s: string) => new sb.realm.Uint8Array(toBytes([s])).buffer,
      getSizeOf: () => 1,
      hwRand: () => (Math.random() * 4294967296) | 0,
      getTemperature: () => 24.5, // the chip's own sensor
      getErrorFlags: () => [],
      setFlags: () => undefined,
      on: (event: string, fn: Listener) => {
        (handlers[event] = handlers[event] || []).push(fn);
      },
    };
  }

  private makeWifi(): Emitter {
    const sb = this;
    const wifi = new Emitter(this) as Emitter & { [k: string]: unknown };
    wifi.getIP = () => ({ ip: sb.wifiUp ? '192.168.4.2' : '0.0.0.0' });
    wifi.connect = (ssid: string, opts: unknown, cb?: Listener) => {
      sb.wifiJoins.push(ssid);
      if (cb) sb.queueCall(cb, sb.wifiUp ? null : 'no network');
    };
    return wifi;
  }

  /** SSIDs the device asked to join, in order. */
  readonly wifiJoins: string[] = [];

  /** Wi-Fi goes down or comes up (needs `wifi: true`): `disconnected` / `connected` events. */
  setWifi(up: boolean): void {
    if (!this.wifiModule) throw new Error('sandbox created without wifi');
    if (this.wifiUp === up) return;
    this.wifiUp = up;
    this.wifiModule.emit(up ? 'connected' : 'disconnected', { ip: up ? '192.168.4.2' : '0.0.0.0' });
    if (!up) for (const p of this.pipes) if (!p.done) this.closePipe(p, true);
  }

  private requireModule(name: string): unknown {
    const sb = this;
    switch (name) {
      case 'net':
        return {
          createServer: (cb: Listener) => new DeviceServer(sb, cb),
          connect: (opts: { host: string; port: number }, cb?: Listener) => sb.deviceConnect(opts, cb),
        };
      case 'tls':
        if (!this.options.hasTls) break;
        return { connect: (opts: { host: string; port: number }, cb?: Listener) => sb.deviceConnect(opts, cb) };
      case 'dgram':
        return { createSocket: () => new DeviceDatagramSocket(sb) };
      case 'Storage':
        return {
          read: (f: string) => sb.storage[f],
          readJSON: (f: string, noExceptions?: boolean) => {
            if (sb.storage[f] === undefined) return undefined;
            try {
              return sb.realm.JSON.parse(sb.storage[f]);
            } catch (e) {
              if (noExceptions) return undefined;
              throw e;
            }
          },
          write: (f: string, data: string) => {
            sb.storage[f] = data;
            return true;
          },
        };
      case 'Wifi':
        if (this.wifiModule) return this.wifiModule;
        break;
    }
    if (this.booting)
      this.problem(
        'require("' + name + '") of a missing module while the bundle boots: on the interpreter that exception copies the code ' +
          'around it into RAM (more than an ESP8266 has); check process.env.MODULES first',
      );
    throw new this.realm.Error('Module "' + name + '" not found');
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

  /** The firmware's built-in modules, as `process.env.MODULES` lists them. */
  private modules(): string[] {
    const list = ['timer', 'Storage', 'heatshrink', 'net', 'dgram', 'http'];
    if (this.options.hasTls) list.push('tls');
    if (this.options.wifi) list.push('Wifi');
    return list;
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
    const busy = this.network();
    while (this.events.length && !this.fatalError) (this.events.shift() as () => void)();
    // Now and then the interpreter does one more network pass before its timers (3 chunks between polls).
    if (this.pass % JITTER_EVERY !== 0) this.runTimers();
    if (this.fatalError) return;
    if (busy || this.events.length) this.now += 1;
    else {
      let next = limit;
      for (const t of this.timers) if (t.due < next) next = t.due;
      this.now = Math.max(this.now + 1, Math.min(next, limit));
    }
  }

  private runTimers(): void {
    const due = this.timers.filter((t) => t.due <= this.now && t.pass < this.pass).sort((a, b) => a.due - b.due || a.id - b.id);
    for (const t of due) {
      if (this.timers.indexOf(t) < 0) continue; // cleared by an earlier one
      if (t.period < 0) this.timers = this.timers.filter((x) => x !== t);
      else {
        t.due += t.period;
        t.pass = this.pass;
      }
      const ok = this.call(t.fn, undefined, t.args, t.period < 0 ? 'timeout' : 'interval');
      if (!ok && t.period >= 0) {
        this.timers = this.timers.filter((x) => x !== t);
        this.problem('interval removed after its callback threw');
      }
    }
  }

  /** Moves one chunk per socket per direction, as the interpreter's idle loop does. Returns whether anything is in flight. */
  private network(): boolean {
    let busy = false;
    for (const p of this.pipes) {
      if (p.done || !p.ready) {
        busy = busy || !p.done;
        continue;
      }
      const d = p.device;
      if (p.connecting) {
        p.connecting = false;
        d.connected = true;
        if (d.connectCallback) this.queueCall(d.connectCallback, d);
        this.queue(d, 'connect', d);
        busy = true;
        continue;
      }
      const inbound = p.peer.toDevice;
      let received = false;
      if (inbound.length > 0) {
        const chunk = inbound.take(this.options.chunkBytes);
        if (d.has('data')) this.queue(d, 'data', bytesToBinary(chunk));
        else this.keepUnread(d, chunk.length);
        received = busy = true;
      } else if (p.peer.finSent) {
        this.closePipe(p, false); // no half-close on Espruino: the whole socket goes, unsent bytes too
        continue;
      }
      if (d.outbound.length > 0 && p.peer.reading) {
        const chunk = d.outbound.take(this.options.chunkBytes);
        this.later(() => p.peer.deliver(chunk));
        if (d.outbound.length === 0 && !d.ending) this.queue(d, 'drain', d);
        busy = true;
      } else if (d.ending && !received) {
        this.closePipe(p, false); // the interpreter closes once nothing is left to send or arriving
        continue;
      }
      if (inbound.length > 0 || (d.outbound.length > 0 && p.peer.reading)) busy = true;
    }
    for (let i = this.pipes.length - 1; i >= 0; i--) if (this.pipes[i].done) this.pipes.splice(i, 1);
    return busy;
  }

  /**
   * Data for a socket without a `data` listener: the interpreter keeps it in
   * the socket (read() would return it), in RAM, even after end(); the socket
   * stays open while the peer keeps sending. Charged to `freeVars` until the
   * socket closes; past it the interpreter is out of memory.
   */
  private keepUnread(d: DeviceSocket, bytes: number): void {
    if (!d.ending) this.problem('data arrived on a socket with no data listener');
    this.freeVars -= stringVars(d.unread + bytes) - stringVars(d.unread);
    d.unread += bytes;
    if (this.freeVars < 0) this.fatal('out of memory: ' + d.unread + ' bytes kept for a socket with no data listener');
  }

  private closePipe(p: Pipe, hadError: boolean): void {
    p.done = true;
    this.freeVars += stringVars(p.device.unread);
    p.device.unread = 0;
    p.device.isOpen = false;
    p.device.outbound.clear();
    p.peer.toDevice.clear();
    p.peer.closed = true;
    this.socketsInUse--;
    if (p.peer.onClose) this.later(p.peer.onClose);
    this.queue(p.device, 'end');
    this.queue(p.device, 'close', hadError);
  }

  // ---------------------------------------------------------------- the network, test side

  /** Connects the test to a device server on `port`; null when nothing listens there (refused) or no socket is free. */
  connect(port: number): SandboxPeer | null {
    const server = this.servers[port];
    if (!server || this.socketsInUse >= this.maxSockets) return null;
    const peer = new SandboxPeer();
    const device = new DeviceSocket(this);
    const pipe: Pipe = { device: device, peer: peer, connecting: false, ready: false, done: false };
    peer.pipe = pipe;
    this.pipes.push(pipe);
    this.socketsInUse++;
    this.events.push(() => {
      this.call(server.onConnection, undefined, [device], 'connection');
      pipe.ready = true;
    });
    return peer;
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

  // ---------------------------------------------------------------- the network, device side

  private deviceConnect(opts: { host: string; port: number }, cb?: Listener): DeviceSocket {
    const onPeer = this.peerServers[opts.port];
    const server = this.servers[opts.port];
    const local = opts.host === '127.0.0.1' || opts.host === 'localhost';
    if (!this.wifiUp || !local || (!onPeer && !server) || this.socketsInUse >= this.maxSockets) {
      this.print(['ERROR: Connect failed (err 111)']);
      throw new this.realm.InternalError('Unable to create socket');
    }
    const device = new DeviceSocket(this);
    device.connectCallback = cb || null;
    const peer = new SandboxPeer();
    const pipe: Pipe = { device: device, peer: peer, connecting: true, ready: true, done: false };
    peer.pipe = pipe;
    this.pipes.push(pipe);
    this.socketsInUse++;
    if (onPeer) this.later(() => onPeer(peer));
    else if (server) {
      // device to itself: bridge two device sockets through a relay peer pair
      this.fatal('device-to-device connections are not emulated');
    }
    return device;
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

  private addTimer(fn: Listener, ms: number, period: number, args: unknown[]): number {
    if (typeof fn !== 'function') throw new this.realm.Error('setTimeout needs a function');
    const id = this.nextTimerId++;
    this.timers.push({ id: id, pass: this.pass, due: this.now + Math.max(ms, 0), period: period, fn: fn, args: args });
    return id;
  }

  private call(fn: Listener, self: unknown, args: unknown[], what: string): boolean {
    try {
      fn.apply(self, args as [unknown, unknown]);
      return true;
    } catch (e) {
      this.problem('uncaught in ' + what + ': ' + describe(e));
      return false;
    }
  }

  private print(args: unknown[]): void {
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

/** 16-byte variables a string of `bytes` characters takes (as the Espruino driver counts them). */
function stringVars(bytes: number): number {
  return Math.ceil(bytes / (16 - STRING_BLOCK_OVERHEAD));
}

function describe(e: unknown): string {
  const err = e as { message?: unknown; stack?: string } | null;
  if (err && typeof err === 'object' && 'message' in err) return String(err.message) + (err.stack ? '\n' + err.stack.split('\n').slice(1, 4).join('\n') : '');
  return String(e);
}
