/**
 * The TypeScript helpers device bundles use instead of the `tslib` package
 * (the build compiles with `importHelpers` + `noEmitHelpers` and points
 * `tslib` here). Each one stays inside what Espruino runs:
 * - `__extends` copies static members itself (Espruino does not inherit them)
 *   and never reads a built-in prototype;
 * - `__spreadArray` pushes item by item (`Array.prototype.slice` reads as
 *   undefined through the prototype on Espruino).
 * A helper that is not here (async, generators, iterators, private fields …)
 * fails the build with "… is not exported by src/device/tslib.ts": those
 * constructs cannot run on Espruino.
 */

export function __extends(derived: any, base: any): void {
  for (const key in base) if (base.hasOwnProperty(key)) derived[key] = base[key];
  // Object.create with one argument runs on Espruino; a constructor function made here would cost a function object.
  derived.prototype = Object.create(base.prototype);
  derived.prototype.constructor = derived;
}

export function __assign(target: any): any {
  for (let i = 1; i < arguments.length; i++) {
    const source = arguments[i];
    for (const key in source) if (source.hasOwnProperty(key)) target[key] = source[key];
  }
  return target;
}

export function __spreadArray(to: any[], from: ArrayLike<any>, pack?: boolean): any[] {
  for (let i = 0; i < from.length; i++) to.push(from[i]);
  return to;
}
