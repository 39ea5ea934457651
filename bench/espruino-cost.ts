/**
 * The device cost model, remeasured: what a function, a property, an object
 * or a buffer costs in variables on the ESP8266 build of the Espruino
 * interpreter (12-byte variables) when the code runs from flash.
 *
 *   npm run compile
 *   ESPRUINO_ESP8266=<the interpreter> node build/bench/espruino-cost.js
 *
 * Each case is a small program generated twice, with N items and with none
 * (the same scaffolding: class wrapper, object, buffer), each saved to flash
 * and booted as a board boots (test/support/espruino.ts). The difference in
 * `process.memory().usage` after a garbage collection, divided by N, is what
 * one item costs. Every item is held by a global of a short name (one
 * variable, counted in the item's cost) unless it is a property.
 * docs/device-cost.md has the table and what follows from it.
 */
import { bootFromFlash } from '../test/support/espruino.js';

interface Case {
  name: string;
  /** Items per program (fewer where 50 would not fit in 1,600 variables). */
  n: number;
  /** The program with `n` items. */
  make(n: number): string;
  /** The figure is the whole difference, not per item. */
  total?: boolean;
}

/** `f(i)` for i in [0, n), joined. */
function each(n: number, f: (i: number) => string, sep = ''): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(f(i));
  return out.join(sep);
}

/** `k` parameter names. */
function params(k: number): string {
  return 'abcd'.slice(0, k).split('').join(',');
}

const N = 50;

const CASES: Case[] = [
  { name: 'top-level function, 0 parameters', n: N, make: (n) => each(n, (i) => 'function f' + i + '(){return ' + i + '}\n') },
  { name: 'top-level function, 2 parameters', n: N, make: (n) => each(n, (i) => 'function f' + i + '(' + params(2) + '){return a+b+' + i + '}\n') },
  { name: 'top-level function, 4 parameters', n: N, make: (n) => each(n, (i) => 'function f' + i + '(' + params(4) + '){return a+b+c+d+' + i + '}\n') },
  {
    name: 'function made in an IIFE, 2 parameters (scope link)',
    n: N,
    make: (n) => '(function(){\n' + each(n, (i) => 'f' + i + '=function(a,b){return a+b+' + i + '};\n') + '})();\n',
  },
  {
    name: 'prototype method, 2 parameters, in a TypeScript-style class IIFE',
    n: N,
    make: (n) => 'var K=(function(){function K(){this.x=0}\n' + each(n, (i) => 'K.prototype.m' + i + '=function(a,b){return a+b+' + i + '};\n') + 'return K})();\n',
  },
  {
    name: 'closure made per call (2 parameters, over 1 argument)',
    n: N,
    make: (n) => 'function mk(x){return function(a,b){return a+b+x}}\n' + each(n, (i) => 'c' + i + '=mk(' + i + ');\n'),
  },
  { name: 'object property, short name (<= 4 chars), int value', n: N, make: (n) => 'var o={};\n' + each(n, (i) => 'o.p' + i + '=' + i + ';\n') },
  { name: 'object property, long name (10 chars), int value', n: N, make: (n) => 'var o={};\n' + each(n, (i) => 'o.property' + String(i).padStart(2, '0') + '=' + i + ';\n') },
  { name: 'object property, short name, float value', n: N, make: (n) => 'var o={};\n' + each(n, (i) => 'o.p' + i + '=' + i + '.5;\n') },
  { name: 'object property, short name, 8-char string value', n: N, make: (n) => 'var o={};\n' + each(n, (i) => 'o.p' + i + '="value' + String(i).padStart(3, '0') + '";\n') },
  { name: 'object property, short name, boolean value', n: N, make: (n) => 'var o={};\n' + each(n, (i) => 'o.p' + i + '=' + (i % 2 ? '!0' : '!1') + ';\n') },
  { name: 'object property, short name, null value', n: N, make: (n) => 'var o={};\n' + each(n, (i) => 'o.p' + i + '=null;\n') },
  { name: 'object property, short name, undefined value', n: N, make: (n) => 'var o={};\n' + each(n, (i) => 'o.p' + i + '=void 0;\n') },
  { name: 'object of 10 fields (short names, int values)', n: N, make: (n) => each(n, (i) => 'q' + i + '={a:0,b:1,c:2,d:3,e:4,f:5,g:6,h:7,i:8,j:' + i + '};\n') },
  { name: 'Int32Array(10)', n: N, make: (n) => each(n, (i) => 't' + i + '=new Int32Array(10);\n') },
  { name: 'Array of 10 ints', n: N, make: (n) => each(n, (i) => 'a' + i + '=[0,1,2,3,4,5,6,7,8,' + i + '];\n') },
  { name: 'Uint8Array(1024)', n: 10, make: (n) => each(n, (i) => 'u' + i + '=new Uint8Array(1024);\n') },
  { name: 'subarray view of a Uint8Array', n: N, make: (n) => 'var B=new Uint8Array(1024);\n' + each(n, (i) => 's' + i + '=B.subarray(' + i + ',' + (i + 10) + ');\n') },
  {
    name: 'one function with a 50-case switch (in all)',
    n: 1,
    total: true,
    make: (n) => (n ? 'function sw(x){switch(x){\n' + each(50, (i) => 'case ' + i + ':return ' + (i * 3) + ';\n') + 'default:return -1}}\n' : ''),
  },
];

async function usage(bin: string, code: string): Promise<{ usage: number; flags: string; output: string }> {
  // An empty .bootcde is no boot code: a comment stands for nothing.
  const esp = await bootFromFlash({ bin, code: code || '// nothing\n', telnet: true });
  try {
    const m = await esp.memory();
    const flags = await esp.command('E.getErrorFlags()');
    return { usage: m.usage, flags, output: esp.output };
  } finally {
    await esp.close();
  }
}

async function main(): Promise<void> {
  const bin = process.argv[2] || process.env.ESPRUINO_ESP8266;
  if (!bin) {
    console.error('usage: ESPRUINO_ESP8266=<the ESP8266 interpreter built for Linux> node build/bench/espruino-cost.js  (or pass its path)');
    process.exit(2);
  }
  console.log('variables per item on the esp8266 build (12-byte variables), code run from flash; each item is held by a global unless it is a property\n');
  console.log('| what | items | variables per item | in use without / with the items |');
  console.log('|---|---:|---:|---:|');
  let failed = 0;
  for (const c of CASES) {
    const none = await usage(bin, c.make(0));
    const some = await usage(bin, c.make(c.n));
    const bad = [none, some].find((r) => r.flags !== '[]' || /Uncaught|OUT OF MEMORY|ERROR/.test(r.output));
    if (bad) {
      failed++;
      console.log('| ' + c.name + ' | ' + c.n + ' | failed: ' + bad.flags + ' ' + JSON.stringify(bad.output.slice(-300)) + ' |');
      continue;
    }
    const d = some.usage - none.usage;
    console.log('| ' + c.name + ' | ' + c.n + ' | ' + (c.total ? d + ' in all' : (d / c.n).toFixed(2)) + ' | ' + none.usage + ' / ' + some.usage + ' |');
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
