/**
 * params.ts: parameters become locals read from `arguments`, only where that
 * is safe on Espruino. The same script runs in Node before and after the
 * rewrite and must print the same; where the esp8266 interpreter is present it
 * runs the rewritten script too, and what it frees is measured there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as vm from 'node:vm';
import { paramsFromArguments } from '../src/cli/params.js';
import { bootFromFlash } from './support/espruino.js';
import { interpreterSkip } from './support/interpreter.js';
import { sleep } from './support/wait.js';

const ESP8266 = process.env.ESPRUINO_ESP8266 || '';
const SKIP_ESP8266 = interpreterSkip('ESPRUINO_ESP8266', ESP8266, ' is not set: it names an Espruino interpreter built for Linux with an ESP8266\'s memory layout');

/** Leaves, a setter, a function reading `arguments`, closures, a leaf inside a function that reads `arguments`. */
const SCRIPT = [
  'var out=[];',
  'function add(t,i,s){return t+i+(s===undefined?0:s)}',
  'function one(t){t=t*2;return t}',
  'var o={v:1,set v2(t){this.v=t},get v2(){return this.v}};',
  'function sum(){var n=0;for(var i=0;i<arguments.length;i++)n+=arguments[i];return n}',
  'function outer(t,i){var f=function(s){return t+s};return f(i)}',
  'function spread(){var a=arguments;function leaf(t,i){return t*i}return leaf(2,a[0])}',
  'var IIFE=function(t){function inner(i,s){return i-s}return function(e,h){return inner(e,h)+t}}(100);',
  'out.push(add(1,2),add(1,2,3),one(4),sum(1,2,3),outer(1,2),spread(5),IIFE(9,4));',
  'o.v2=7;out.push(o.v2);',
  'print(JSON.stringify(out));',
].join('\n');

function runInNode(code: string): string {
  let printed = '';
  vm.runInNewContext(code, { print: (s: string) => (printed += s) });
  return printed;
}

test('params: leaves read their parameters from arguments and the script prints the same', () => {
  const r = paramsFromArguments(SCRIPT);
  assert.equal(runInNode(r.code), runInNode(SCRIPT));
  assert.equal(runInNode(SCRIPT), '[3,6,8,6,3,10,105,7]');
  assert.match(r.code, /function add\(\)\{var \$=arguments,t=\$\[0\],i=\$\[1\],s=\$\[2\];/);
  assert.match(r.code, /function one\(\)\{var t=arguments\[0\];/);
  assert.match(r.code, /function inner\(\)\{var \$=arguments,i=\$\[0\],s=\$\[1\];/);
  // Closures that are leaves too: nothing around them reads arguments.
  assert.match(r.code, /var f=function\(\)\{var s=arguments\[0\];/);
  assert.match(r.code, /return function\(\)\{var \$=arguments,e=\$\[0\],h=\$\[1\];/);
  assert.deepEqual({ functions: r.functions, params: r.params }, { functions: 5, params: 9 });
});

test('params: left alone are setters, functions that read arguments, functions with functions inside, and leaves inside a reader of arguments', () => {
  const code = paramsFromArguments(SCRIPT).code;
  assert.match(code, /set v2\(t\)/);
  assert.match(code, /function outer\(t,i\)/, 'a closure inside keeps its scope: the array would live as long');
  assert.match(code, /function leaf\(t,i\)/, 'Espruino finds the outer arguments first');
  assert.match(code, /function\(t\)\{function inner/);
});

test('params: the name for the arguments array is one the code does not use', () => {
  const src = 'var $=1,$1=2;function f(t,i){return t+i+$+$1}print(String(f(3,4)));';
  const r = paramsFromArguments(src);
  assert.match(r.code, /var \$2=arguments,t=\$2\[0\],i=\$2\[1\];/);
  assert.equal(runInNode(r.code), '10');
});

test('params: on the esp8266 interpreter the rewritten script prints the same and 50 two-parameter functions keep about 90 variables fewer', { skip: SKIP_ESP8266, timeout: 60000 }, async (t) => {
  const rewritten = paramsFromArguments(SCRIPT).code;
  const esp = await bootFromFlash({ bin: ESP8266, code: rewritten, env: {}, telnet: true });
  await sleep(300);
  const printed = esp.output;
  await esp.close(); // one interpreter at a time holds the telnet port
  assert.match(printed, /\[3,6,8,6,3,10,105,7\]/);
  // 50 leaves of two parameters: declared, then read from arguments.
  let fns = '';
  for (let i = 0; i < 50; i++) fns += 'function f' + i + '(a,b){return a+b+' + i + '}\n';
  const declared = await bootFromFlash({ bin: ESP8266, code: fns, env: {}, telnet: true });
  const declaredUse = (await declared.memory()).usage;
  await declared.close();
  const read = await bootFromFlash({ bin: ESP8266, code: paramsFromArguments(fns).code, env: {}, telnet: true });
  const readUse = (await read.memory()).usage;
  await read.close();
  t.diagnostic('50 two-parameter functions from flash: ' + declaredUse + ' variables in use with declared parameters, ' + readUse + ' reading arguments');
  assert.ok(declaredUse - readUse >= 80, declaredUse + ' -> ' + readUse);
});
