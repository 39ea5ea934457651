/**
 * The device's realm: what the sandbox removes from and patches into V8's
 * built-ins so a bundle sees Espruino 2v29 (run inside the context, so the
 * patched built-ins are the context's own), the globals it adds (E, process,
 * timers, print), and `require` of the firmware's modules.
 */
import vm from 'node:vm';
import { regexProblems } from '../gate.js';
import { bytesToBinary, DeviceDatagramSocket, DeviceServer, deviceConnect } from './network.js';
import type { Emitter, Listener, NetworkHost } from './network.js';
import { storageModule } from './storage.js';
import type { StorageHost } from './storage.js';
import { addTimer } from './timers.js';
import type { TimerHost } from './timers.js';

/** What shaping the realm uses of the sandbox (EspruinoSandbox in ../sandbox.ts): all the parts', and its own. */
export type RealmHost = NetworkHost &
  TimerHost &
  StorageHost & {
    readonly context: vm.Context & { [name: string]: any };
    readonly realm: { Uint8Array: Uint8ArrayConstructor; Date: DateConstructor; RegExp: RegExpConstructor };
    readonly options: { hasTls?: boolean; wifi?: boolean };
    readonly wifiModule: Emitter | null;
    readonly booting: boolean;
    readonly wallOffset: number;
    allocatedBytes: number;
    serversMade: number;
    freeVars: number;
    garbageVars: number;
    largestFlatBytes: number;
  };

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

/** Strips and patches the context's built-ins, then installs Espruino's globals. */
export function shapeRealm(sb: RealmHost): void {
  const ctx = sb.context;
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
  const RealRegExp = sb.realm.RegExp;
  const CheckedRegExp = function (pattern: string | RegExp, flags?: string) {
    const src = typeof pattern === 'string' ? pattern : pattern.source;
    for (const p of regexProblems(src, flags || '')) sb.problem('new RegExp(' + JSON.stringify(src) + '): ' + p + ' on Espruino');
    return new RealRegExp(pattern, flags);
  } as unknown as RegExpConstructor;
  (CheckedRegExp as unknown as { prototype: RegExp }).prototype = RealRegExp.prototype;
  vm.runInContext('(function (R) { RegExp = R; })', ctx)(CheckedRegExp);
  // Counts allocations by length; instanceof and subarray keep the real constructor.
  const RealUint8Array = sb.realm.Uint8Array;
  const CountedUint8Array: Uint8ArrayConstructor = new Proxy(RealUint8Array, {
    construct(target, args, newTarget): object {
      if (typeof args[0] === 'number') sb.allocatedBytes += args[0];
      return Reflect.construct(target, args, newTarget === CountedUint8Array ? target : newTarget);
    },
  });
  vm.runInContext('(function (U) { Uint8Array = U; })', ctx)(CountedUint8Array);
  ctx.InternalError = sb.realm.InternalError;
  ctx.global = ctx;
  ctx.console = { log: (...a: unknown[]) => sb.print(a) };
  ctx.print = (...a: unknown[]) => sb.print(a);
  ctx.setTimeout = (fn: Listener, ms?: number, ...args: unknown[]) => addTimer(sb, fn, ms || 0, -1, args);
  ctx.setInterval = (fn: Listener, ms?: number, ...args: unknown[]) => addTimer(sb, fn, ms || 0, Math.max(ms || 0, 1), args);
  ctx.clearTimeout = ctx.clearInterval = (id: number) => {
    sb.timers = sb.timers.filter((t) => t.id !== id);
  };
  ctx.changeInterval = (id: number, ms: number) => {
    for (const t of sb.timers) if (t.id === id) t.period = ms;
  };
  // The wall clock: virtual time plus what setWallClock() (the firmware's SNTP answering) moved it by; timers run on
  // virtual time, as the interpreter's keep their delays when its clock is set.
  ctx.getTime = () => (sb.now + sb.wallOffset) / 1000;
  sb.realm.Date.now = () => sb.now + sb.wallOffset;
  ctx.process = {
    version: '2v29',
    env: { VERSION: '2v29', MODULES: modules(sb).join(',') },
    memory: (collect?: boolean) => {
      if (collect !== false) {
        sb.freeVars += sb.garbageVars; // a collection frees what only it can (cycles)
        sb.garbageVars = 0;
      }
      return { free: sb.freeVars, usage: 400, total: 400 + sb.freeVars, blocksize: 16 };
    },
  };
  ctx.E = makeE(sb);
  ctx.analogRead = () => 0.5; // mid-scale on every pin: apps read sensors through it
  ctx.require = (name: string) => requireModule(sb, name);
}

/** Espruino's `E` object, as far as bundles use it. */
function makeE(sb: RealmHost): object {
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

/** The firmware's built-in modules, as `process.env.MODULES` lists them. */
function modules(sb: RealmHost): string[] {
  const list = ['timer', 'Storage', 'heatshrink', 'net', 'dgram', 'http'];
  if (sb.options.hasTls) list.push('tls');
  if (sb.options.wifi) list.push('Wifi');
  return list;
}

/** `require(name)`: the firmware's modules; a missing one throws, and reports a problem during boot. */
export function requireModule(sb: RealmHost, name: string): unknown {
  switch (name) {
    case 'net':
      return {
        createServer: (cb: Listener) => {
          sb.serversMade++;
          return new DeviceServer(sb, cb);
        },
        connect: (opts: { host: string; port: number }, cb?: Listener) => deviceConnect(sb, opts, cb),
      };
    case 'tls':
      if (!sb.options.hasTls) break;
      return { connect: (opts: { host: string; port: number }, cb?: Listener) => deviceConnect(sb, opts, cb) };
    case 'dgram':
      return { createSocket: () => new DeviceDatagramSocket(sb) };
    case 'Storage':
      return storageModule(sb);
    case 'Wifi':
      if (sb.wifiModule) return sb.wifiModule;
      break;
  }
  if (sb.booting)
    sb.problem(
      'require("' + name + '") of a missing module while the bundle boots: on the interpreter that exception copies the code ' +
        'around it into RAM (more than an ESP8266 has); check process.env.MODULES first',
    );
  throw new sb.realm.Error('Module "' + name + '" not found');
}
