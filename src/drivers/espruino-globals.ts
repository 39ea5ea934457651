/**
 * Espruino's globals as ringnet's device code reads them: one description.
 * Each module declares the ones it uses with these types
 * (`declare const E: EspruinoE;`): a global declaration would clash with
 * Node's own in the same TypeScript program. Types only: nothing of this
 * reaches a bundle. Their members are the interpreter's names (`@runtime`),
 * which the device build never shortens.
 */

/** The `E` object (the interpreter's utilities). @runtime */
export interface EspruinoE {
  /** A flat binary string of the bytes (undefined when no flat block that large is free). */
  toString(bytes: Uint8Array): string | undefined;
  toUint8Array(s: string): Uint8Array;
  /** Bits from the hardware noise source, where the board has one. */
  hwRand?: () => number;
  /** The chip's temperature, °C. */
  getTemperature(): number;
}

/** The `process` object. @runtime */
export interface EspruinoProcess {
  /** `MODULES`: the firmware's built-in modules, comma-separated. */
  env: { MODULES?: string };
  /** Variables free and in use (a collection first, unless `gc` is false), and the size of one. */
  memory(gc?: boolean): { free: number; usage: number; total: number; blocksize?: number };
}

/** `require(name)`: a built-in module (net, dgram, Wifi, Storage …). */
export type EspruinoRequire = (module: string) => any;

/** `setTimeout(fn, ms, arg)`: Espruino passes the extra argument to `fn`. */
export type EspruinoSetTimeout = (fn: (arg: any) => void, ms: number, arg?: any) => number;
