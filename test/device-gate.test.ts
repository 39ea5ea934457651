import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkBundle, formatViolations, regexProblems } from '../src/cli/gate.js';
import { internalNames } from '../src/cli/mangle.js';
import { pruneUnusedMethods } from '../src/cli/prune.js';
import { ROOT } from '../src/cli/bundle.js';

function reasons(code: string): string[] {
  return checkBundle(code, 'snippet.js').map((v) => v.reason);
}

/** Each rule: code that must be rejected (with a reason matching `why`) and a near miss that must pass. */
const RULES: { name: string; bad: string; why: RegExp; good: string }[] = [
  { name: 'ES2015 syntax', bad: 'let x = 1;', why: /not ES5/, good: 'var x = 1;' },
  { name: 'arrow functions', bad: 'var f = (a) => a;', why: /not ES5/, good: 'var f = function (a) { return a; };' },
  { name: 'function used before its declaration', bad: 'f(); function f() {}', why: /f is used before its function declaration/, good: 'function f() {} f();' },
  { name: 'var read before its declaration', bad: 'print(v); var v = 1;', why: /v is used before its var declaration/, good: 'var v = 1; print(v);' },
  {
    name: 'var declared in a branch, used outside it',
    bad: 'function g(a) { if (a) { var v = 1; } return v; }',
    why: /var v is declared inside a block and used outside it/,
    good: 'function g(a) { var v; if (a) { v = 1; } return v; }',
  },
  {
    // The block that counts is the innermost: the case, not the if around the switch (a leak terser's reuse of names made).
    name: 'var declared in a case inside a branch, used after the switch in that branch',
    bad: 'function g(a, k) { if (a) { switch (k) { case 1: var v = 1; break; } v = 2; return v; } }',
    why: /var v is declared inside a block and used outside it/,
    good: 'function g(a, k) { var v; if (a) { switch (k) { case 1: v = 1; break; } v = 2; return v; } }',
  },
  { name: 'function declared in a block', bad: 'if (x) { function h() {} }', why: /function h is declared inside a block/, good: 'var x; function h() {} if (x) { h(); }' },
  { name: 'labels', bad: 'outer: for (;;) { break outer; }', why: /labels/, good: 'for (;;) { break; }' },
  { name: 'regex {n} quantifier', bad: 'var r = /a{2}/;', why: /\{n,m\} quantifiers never match/, good: 'var r = /aa/;' },
  { name: 'regex \\b', bad: 'var r = /\\bword/;', why: /\\b never matches/, good: 'var r = /[\\b]word/;' },
  { name: 'regex (?:)', bad: 'var r = /(?:ab)+/;', why: /\(\?:…\) groups never match/, good: 'var r = /(ab)+/;' },
  { name: 'regex lazy quantifier', bad: 'var r = /a+?b/;', why: /lazy quantifiers/, good: 'var r = /a+b/;' },
  { name: 'RegExp from a literal string', bad: 'var r = new RegExp("x{3}");', why: /RegExp\("x\{3\}"\)/, good: 'var r = new RegExp("xxx");' },
  { name: 'missing global Map', bad: 'var m = new Map();', why: /Map does not exist on Espruino/, good: 'var m = {};' },
  { name: 'missing global Symbol', bad: 'var s = Symbol("x");', why: /Symbol does not exist/, good: 'var s = "x";' },
  { name: 'missing global Buffer', bad: 'var b = Buffer.from("x");', why: /Buffer does not exist/, good: 'var b = E.toUint8Array("x");' },
  { name: 'missing global RangeError', bad: 'throw new RangeError("x");', why: /RangeError does not exist/, good: 'throw new Error("x");' },
  { name: 'feature test with typeof', bad: 'var ok = Buffer;', why: /Buffer does not exist/, good: 'var ok = typeof Buffer !== "undefined";' },
  { name: 'missing static Number.isInteger', bad: 'var i = Number.isInteger(3);', why: /Number\.isInteger does not exist/, good: 'var i = 3 % 1 === 0;' },
  { name: 'missing static Math.imul', bad: 'var i = Math.imul(3, 4);', why: /Math\.imul does not exist/, good: 'var i = Math.floor(3 * 4);' },
  { name: 'missing static Array.from', bad: 'var a = Array.from("ab");', why: /Array\.from does not exist/, good: 'var a = "ab".split("");' },
  { name: 'missing static Object.freeze', bad: 'var o = Object.freeze({});', why: /Object\.freeze does not exist/, good: 'var o = Object.assign({}, {});' },
  { name: 'missing static Promise.race', bad: 'Promise.race([]);', why: /Promise\.race does not exist/, good: 'Promise.all([]);' },
  { name: 'missing static Uint8Array.from', bad: 'var u = Uint8Array.from([1]);', why: /Uint8Array\.from does not exist/, good: 'var u = new Uint8Array([1]);' },
  { name: 'shadowed names are not globals', bad: 'var x = Map;', why: /Map does not exist/, good: 'function f(Map) { return Map.from(1); }' },
  { name: 'missing method .at()', bad: 'var a = [1]; a.at(0);', why: /\.at\(\) does not exist/, good: 'var a = [1]; a[0];' },
  { name: 'array iterators', bad: 'var a = [1]; a.keys();', why: /\.keys\(\) iterators/, good: 'Object.keys({});' },
  { name: 'Promise finally', bad: 'Promise.resolve().finally(function () {});', why: /\.finally\(\) does not exist/, good: 'Promise.resolve().then(function () {});' },
  { name: 'built-in prototype reads', bad: 'var s = Array.prototype.slice;', why: /Array\.prototype\.slice reads as undefined/, good: 'var s = [].slice;' },
  { name: 'Function.prototype.apply', bad: 'var ap = Function.prototype.apply;', why: /Function\.prototype\.apply reads as undefined/, good: 'var has = Object.prototype.hasOwnProperty;' },
  { name: 'array holes', bad: 'var a = [1, , 2];', why: /array holes/, good: 'var a = [1, undefined, 2];' },
  {
    name: 'class extends Error (TypeScript ES5 output)',
    bad: 'var MyError = (function (_super) { function MyError() { _super.call(this); } return MyError; })(Error);',
    why: /extending Error does not work/,
    good: 'function MyError(code) { this.code = code; }',
  },
  { name: 'assigning .length', bad: 'var a = [1, 2]; a.length = 0;', why: /assigning \.length throws/, good: 'var a = [1, 2]; a.splice(0, a.length); function R() { this.length = 0; }' },
  { name: 'Object.create with descriptors', bad: 'var o = Object.create({}, { a: { value: 1 } });', why: /Object\.create with property descriptors/, good: 'var o = Object.create({});' },
  { name: 'a line too long', bad: 'var s = "' + 'x'.repeat(400) + '";', why: /line 1 is 411 characters/, good: 'var s = "x";' },
  { name: 'implicit globals', bad: 'function f() { leaked = 1; }', why: /assignment to undeclared leaked/, good: 'var kept; function f() { kept = 1; }' },
];

for (const rule of RULES) {
  test('gate rejects ' + rule.name + ', and accepts the near miss', () => {
    const bad = reasons(rule.bad);
    assert.ok(
      bad.some((r) => rule.why.test(r)),
      'expected ' + rule.why + ' for `' + rule.bad + '`, got ' + JSON.stringify(bad),
    );
    assert.deepEqual(reasons(rule.good), [], '`' + rule.good + '` should pass');
  });
}

test('gate: a violation names bundle, line and column, with an excerpt', () => {
  const v = checkBundle('var a = 1;\nvar b = 2;\nvar m = new Map();\n', 'dist/esp8266/echo.js');
  assert.equal(v.length, 1);
  assert.equal(v[0].bundle, 'dist/esp8266/echo.js');
  assert.equal(v[0].line, 3);
  assert.equal(v[0].column, 13);
  assert.match(v[0].excerpt, /new Map\(\)/);
  assert.match(formatViolations(v), /^ {2}dist\/esp8266\/echo\.js:3:13 {2}Map does not exist on Espruino/);
});

test('gate: closures may use what is declared after them (they run later); the top level may not', () => {
  assert.deepEqual(reasons('function a() { return b(); } function b() { return 1; } a();'), []);
  assert.deepEqual(reasons('var t = function () { return later; }; var later = 1;'), []);
  assert.ok(reasons('var x = later; var later = 1;').length === 1);
});

test('gate: catch parameters, named function expressions and arguments are in scope', () => {
  assert.deepEqual(reasons('try { print(1); } catch (e) { print(e); }'), []);
  assert.deepEqual(reasons('var f = function self(n) { return n ? self(n - 1) + arguments.length : 0; };'), []);
});

test('gate: Espruino globals and pin names are known', () => {
  assert.deepEqual(reasons('require("net"); E.toString(new Uint8Array(1)); setTimeout(function () {}, 1); getTime(); digitalWrite(D2, 1); Pin("A0"); process.memory(); btoa("x");'), []);
});

test('regexProblems: escapes and classes are not quantifiers or boundaries', () => {
  assert.deepEqual(regexProblems('a\\{2\\}', ''), []);
  assert.deepEqual(regexProblems('[{2}]', ''), []);
  assert.deepEqual(regexProblems('[\\b]', ''), []);
  assert.deepEqual(regexProblems('a?b*c+', ''), []);
  assert.equal(regexProblems('x', 'y').length, 1);
  assert.equal(regexProblems('(?=a)(?!b)(?<n>c)', '').length, 3);
});

test('prune: drops methods nothing names, keeps the rest, and repeats until stable', () => {
  const code =
    'var A = (function () { function A() {} ' +
    'A.prototype.used = function () { return this.helper(); }; ' +
    'A.prototype.helper = function () { return 1; }; ' +
    'A.prototype.unused = function () { return this.onlyFromUnused(); }; ' +
    'A.prototype.onlyFromUnused = function () { return 2; }; ' +
    'A.prototype.named = function () { return 3; }; ' +
    'Object.defineProperty(A.prototype, "size", { get: function () { return 0; }, enumerable: false, configurable: true }); ' +
    'Object.defineProperty(A.prototype, "free", { get: function () { return 1; }, enumerable: false, configurable: true }); ' +
    'return A; }()); var a = new A(); print(a.used(), a.free, "named");';
  const r = pruneUnusedMethods(code);
  assert.deepEqual(r.removed.sort(), ['onlyFromUnused', 'size', 'unused']);
  assert.match(r.code, /prototype\.used/);
  assert.match(r.code, /prototype\.helper/);
  assert.match(r.code, /prototype\.named/); // a string naming it keeps it
  assert.match(r.code, /"free"/);
  assert.doesNotMatch(r.code, /unused|onlyFromUnused|"size"/);
});

test('prune: a name used only inside a method of that name, or as an object key, does not keep the method', () => {
  const code =
    'var D = (function () { function D() {} ' +
    'D.prototype.connect = function () { return require("net").connect({ port: 1 }); }; ' +
    'D.prototype.random = function () { return Math.random(); }; ' +
    'D.prototype.send = function () { return 1; }; ' +
    'D.prototype.kept = function () { return 2; }; ' +
    'return D; }()); var d = new D(); var spec = { send: 512 }; print(d.kept(), spec);';
  const r = pruneUnusedMethods(code);
  assert.deepEqual(r.removed.sort(), ['connect', 'random', 'send']);
  assert.match(r.code, /prototype\.kept/);
});

test('prune: a field of the same name, written or read through, does not keep a method; a call through call/apply/bind does', () => {
  const code =
    'var M = (function () { function M() { this.stats = { n: 0 }; this.count = 0; } ' +
    'M.prototype.stats = function () { return 1; }; ' +
    'M.prototype.count = function () { return 2; }; ' +
    'M.prototype.random = function () { return 3; }; ' +
    'M.prototype.peek = function () { return 4; }; ' +
    'return M; }()); var m = new M(); m.stats.n++; m.count += 1; m.count++; m.stats.n = m.random.call(m); print(m.peek);';
  const r = pruneUnusedMethods(code);
  assert.deepEqual(r.removed.sort(), ['count', 'stats']);
  assert.match(r.code, /prototype\.random/);
  assert.match(r.code, /prototype\.peek/); // a read of the method itself (a value) keeps it
});

test('prune: a member of a runtime module does not keep our method of that name; names in keep stay', () => {
  const code =
    'var W = (function () { function W() {} ' +
    'W.prototype.connect = function () { return 1; }; ' +
    'W.prototype.ready = function () { return 2; }; ' +
    'return W; }()); new W(); require("Wifi").connect("ssid", {});';
  assert.deepEqual(pruneUnusedMethods(code).removed.sort(), ['connect', 'ready']);
  const kept = pruneUnusedMethods(code, ['ready']);
  assert.deepEqual(kept.removed, ['connect']);
  assert.match(kept.code, /prototype\.ready/);
});

test('mangle: class, interface and type members are shortened unless the name crosses out of the bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringnet-mangle-'));
  try {
    mkdirSync(join(dir, 'core'));
    mkdirSync(join(dir, 'app'));
    writeFileSync(
      join(dir, 'core', 'a.ts'),
      'export class A {\n  private secretField = 1;\n  visibleField = 2;\n  written = 3;\n  looked = 4;\n  write = 5;\n  getTemperature = 6;\n  ab = 7;\n  pump(): void {}\n  snapshot(): Status { return { uptime: 1 }; }\n}\n' +
        'export interface Options { poolSize: number }\n/** Sent as JSON. @wire */\nexport interface Status { uptime: number }\n',
    );
    writeFileSync(join(dir, 'app', 'b.ts'), 'declare const board: { pinName: string };\nexport const s = JSON.stringify({ written: 1 });\nexport const k = "looked";\nexport const o = { method() { return 2; } };\n');
    assert.deepEqual(internalNames(dir, ['core', 'app']), ['poolSize', 'pump', 'secretField', 'snapshot', 'visibleField']);
    // A folder outside the list does not count: its JSON and strings are not this bundle's.
    assert.deepEqual(internalNames(dir, ['core']), ['looked', 'poolSize', 'pump', 'secretField', 'snapshot', 'visibleField', 'written']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // On the project: the runtime's names, JSON fields and names looked up by string never qualify.
  const names = internalNames(ROOT, ['src/core', 'src/protocols', 'src/drivers/espruino.ts', 'boards', 'examples/telemetry']);
  assert.ok(names.length > 50, names.join(' '));
  for (const n of ['capacity', 'writeByte', 'unsent']) assert.ok(names.indexOf(n) >= 0, n);
  for (const n of ['length', 'write', 'on', 'end', 'port', 'host', 'mqtt', 'udp', 'default', 'freeMem', 'deviceId', 'periodMs', 'reconnects', 'inFlight', 'ssid', 'password', 'readJSON', 'getTemperature', 'hwRand'])
    assert.ok(names.indexOf(n) < 0, n);
});
